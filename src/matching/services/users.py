"""People who sign in: creation with an argon2 password hash, and lookup."""

import hashlib
import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import VerifyMismatchError
from sqlmodel import Session, select

from matching import passwords
from matching.clock import utcnow
from matching.errors import Conflict, InvalidInput, NotFound
from matching.models import ApiToken, ApiTokenCreate, Department, User, UserCreate
from matching.services import audit

hasher = PasswordHasher()


def create_user(session: Session, data: UserCreate) -> User:
    data = UserCreate.model_validate(data)
    if session.exec(select(User).where(User.email == data.email)).first():
        raise InvalidInput("email", f"{data.email} already has an account")
    if data.department_id is not None and session.get(Department, data.department_id) is None:
        raise InvalidInput("department_id", f"no department with id {data.department_id}")
    if data.role in {"department", "mentor"} and data.department_id is None:
        raise InvalidInput("department_id", f"a {data.role} user belongs to a department")
    if data.password:
        passwords.check(data.password, email=data.email, full_name=data.full_name)
    user = User(**data.model_dump(exclude={"password"}),
                password_hash=hasher.hash(data.password) if data.password else None)
    session.add(user)
    session.flush()
    return user


def by_email(session: Session, email: str) -> User | None:
    return session.exec(select(User).where(User.email == email.strip().lower())).first()


TOKEN_PREFIX = "sb_"
MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)


def token_digest(token: str) -> str:
    """What is stored of a token. Tokens are 256 random bits, so a fast hash is enough (unlike passwords,
    which get argon2)."""
    return hashlib.sha256(token.encode()).hexdigest()


# Counts the commits in this process that changed a user or a token. Caches of who a credential belongs to
# (api/auth.py) remember the count they read at, so such a change is seen at once in this process; other
# processes see it when their cache entry expires.
identities_changed = 0


@sa.event.listens_for(Session, "after_flush")
def _note_identity_change(session: Session, _context) -> None:
    if any(isinstance(row, (User, ApiToken)) for row in (*session.new, *session.dirty, *session.deleted)):
        session.info["identities_changed"] = True


@sa.event.listens_for(Session, "after_commit")
def _count_identity_change(session: Session) -> None:
    global identities_changed
    if session.info.pop("identities_changed", False):
        identities_changed += 1


@sa.event.listens_for(Session, "after_rollback")
def _forget_identity_change(session: Session) -> None:
    session.info.pop("identities_changed", None)


def create_token(session: Session, data: ApiTokenCreate, *, created_by_id: int | None) -> tuple[ApiToken, str]:
    """The token itself is returned once and never stored."""
    data = ApiTokenCreate.model_validate(data)
    user = session.get(User, data.user_id)
    if user is None or not user.active:
        raise InvalidInput("user_id", f"no active user with id {data.user_id}")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    record = ApiToken(user_id=user.id, name=data.name, token_hash=token_digest(token), created_by_id=created_by_id)
    session.add(record)
    session.flush()
    return record, token


def revoke_token(session: Session, token_id: int, *, revoked_by_id: int | None) -> ApiToken:
    record = session.get(ApiToken, token_id)
    if record is None:
        raise NotFound("API token", token_id)
    if record.revoked_at is not None:
        raise Conflict(f"API token {token_id} is already revoked")
    record.revoked_at, record.revoked_by_id = utcnow(), revoked_by_id
    session.flush()
    return record


def identity_for_token(connection: sa.Connection, token: str) -> sa.Row | None:
    """(id, role, department_id) of the active user a live token belongs to. Every API request asks, so it
    is one indexed query on a plain connection (no ORM objects)."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    users, tokens = User.__table__.c, ApiToken.__table__.c
    return connection.execute(
        sa.select(users.id, users.role, users.department_id).join_from(User.__table__, ApiToken.__table__,
                                                                       tokens.user_id == users.id)
        .where(tokens.token_hash == token_digest(token), tokens.revoked_at.is_(None), users.active)).first()


def identity_for_user(connection: sa.Connection, user_id: int) -> sa.Row | None:
    """(id, role, department_id) of an active user: what a signed-in page request needs, in one query."""
    users = User.__table__.c
    return connection.execute(sa.select(users.id, users.role, users.department_id)
                              .where(users.id == user_id, users.active)).first()


def authenticate(session: Session, email: str, password: str, *, now: datetime | None = None, route: str = "",
                 client: str = "") -> User | None:
    """A person signing in. Repeated failures lock the account for a while; the reason is never told, and
    every refusal does the password hasher's work, so its timing does not reveal whether an account exists
    or is locked. Each attempt on a known account is audited (signed in, refused, locked out); a password
    hashed with older argon2 parameters is hashed again with today's."""
    now = now or utcnow()
    user = by_email(session, email)
    if user is None or not user.active or not user.password_hash:
        hasher.hash(password)
        return None
    locked = user.locked_until is not None and user.locked_until > now
    try:
        hasher.verify(user.password_hash, password)
    except VerifyMismatchError:
        action = "sign_in_fail"
        if not locked:
            user.failed_logins += 1
            if user.failed_logins >= MAX_FAILED_LOGINS:
                user.locked_until, user.failed_logins, action = now + LOCKOUT, 0, "locked_out"
        _audit_sign_in(session, user, action, route, client)
        return None
    if locked:
        _audit_sign_in(session, user, "sign_in_fail", route, client)
        return None
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hasher.hash(password)
    user.failed_logins, user.locked_until, user.last_login_at = 0, None, now
    _audit_sign_in(session, user, "sign_in", route, client)
    return user


def _audit_sign_in(session: Session, user: User, action: str, route: str, client: str) -> None:
    audit.record_access(session, actor_id=user.id, action=action, entity="user", ids=[user.id], route=route,
                        client=client)
