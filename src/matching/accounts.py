"""An administrator's work on accounts: inviting people, their role and department, deactivating and
re-activating, unlocking, password links, departments and API tokens.

Plain functions taking a session; the caller's unit of work commits (with its audit row). The rules that
keep the service usable are named functions checked wherever the step can happen (pages and command):
nobody deactivates themselves, and the last active administrator is never deactivated or given another role.

Set-password links (an invitation, or a password reset) are one-time and expire. Nothing new is stored for
them: each is a row of `stored_values` (the table that keeps web sessions) under `set-password:<user id>`,
holding only a digest of the link's secret, so issuing a new link replaces the old one and using it deletes
it. The link itself exists only in the notice sent to the person (the outbox, matching/notifications.py).
"""

import hmac
import json
import secrets
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from matching import cases, notifications, passwords
from matching.clock import ZONE, utcnow
from matching.dates import in_words
from matching.errors import Conflict, InvalidInput, NotFound, StaleVersion
from matching.models import (
    ApiToken,
    ApiTokenCreate,
    Department,
    DepartmentCreate,
    DepartmentUpdate,
    StoredValue,
    User,
    UserCreate,
)
from matching.paging import Page
from matching.services import records, users
from matching.vocab import ROLES

# Mentors sign up and are vetted on their own pages (api/pages/mentor_signup.py, vetting.py), with a
# mentor profile to match on; an administrator gives or takes away every other role.
ASSIGNABLE_ROLES = {code: words for code, words in ROLES.items() if code != "mentor"}
NEEDS_A_DEPARTMENT = {"department", "mentor"}
STATUSES = {"active": "Active", "invited": "Invited", "locked": "Locked", "deactivated": "Deactivated"}
INVITATION_VALID = timedelta(days=7)
RESET_VALID = timedelta(hours=24)
LINK_KEY = "set-password:"
# Where the web layer keeps sessions (api/app.py: DatabaseStore(engine, "session")), each a JSON object
# holding the signed-in person's user_id.
SESSION_KEY = "session:"
STORED = StoredValue.__table__


# --- Reading ----------------------------------------------------------------------------------------------

def status_of(user: User, now: datetime) -> str:
    if not user.active:
        return "deactivated"
    if user.locked_until and user.locked_until > now:
        return "locked"
    if not user.password_hash and user.last_login_at is None:
        return "invited"
    return "active"


PeoplePage = Page  # a page of people, by name


def _status_condition(status: str, now: datetime) -> Any:
    locked = sa.and_(User.locked_until.is_not(None), User.locked_until > now)
    invited = sa.and_(User.password_hash.is_(None), User.last_login_at.is_(None))
    return {"deactivated": ~User.active,
            "locked": sa.and_(User.active, locked),
            "invited": sa.and_(User.active, ~locked, invited),
            "active": sa.and_(User.active, ~locked, ~invited)}[status]


def people(session: Session, *, role: str | None = None, status: str | None = None, q: str | None = None,
           page: int = 1, per_page: int = 50) -> PeoplePage:
    """People who sign in, by name, with their department's name and their status in words."""
    now = utcnow()
    conditions = []
    if role:
        conditions.append(User.role == role)
    if status:
        conditions.append(_status_condition(status, now))
    if q:
        term = q.strip().lower()
        conditions.append(sa.or_(sa.func.lower(User.full_name).contains(term, autoescape=True),
                                 User.email.contains(term, autoescape=True)))
    total = session.exec(select(sa.func.count()).select_from(User).where(*conditions)).one()
    pages = max(1, -(-total // per_page))
    page = min(max(page, 1), pages)
    found = session.exec(select(User, Department.name).outerjoin(Department, Department.id == User.department_id)
                         .where(*conditions).order_by(sa.func.lower(User.full_name), User.id)
                         .limit(per_page).offset((page - 1) * per_page)).all()
    rows = [person_row(user, department, now) for user, department in found]
    return PeoplePage(rows, total, page, per_page)


def person_row(user: User, department: str | None, now: datetime) -> dict[str, Any]:
    return {"id": user.id, "full_name": user.full_name, "email": user.email, "role": user.role,
            "department_id": user.department_id, "department": department, "status": status_of(user, now),
            "version": user.version, "last_login_at": user.last_login_at, "locked_until": user.locked_until,
            "created_at": user.created_at}


def person(session: Session, user_id: int) -> dict[str, Any]:
    user = _user(session, user_id)
    department = session.get(Department, user.department_id) if user.department_id else None
    return person_row(user, department.name if department else None, utcnow()) | {
        "tokens": session.exec(select(sa.func.count()).select_from(ApiToken)
                               .where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))).one()}


def _user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("person", user_id)
    return user


def active_departments(session: Session) -> dict[str, str]:
    """Choices for a department field: id (as text) -> name."""
    found = session.exec(select(Department.id, Department.name).where(Department.status == "active")
                         .order_by(Department.name))
    return {str(department_id): name for department_id, name in found}


# --- The rules that keep the service usable -----------------------------------------------------------------

def refuse_acting_on_yourself(user: User, actor_id: int | None, what: str) -> None:
    if actor_id is not None and user.id == actor_id:
        raise Conflict(f"You cannot {what} yourself: ask another administrator")


def refuse_removing_the_last_admin(session: Session, user: User) -> None:
    """An administrator leaving (deactivated, or given another role) must leave another active one behind."""
    if user.role != "admin" or not user.active:
        return
    # The other administrators' rows are locked (PostgreSQL) so two admins removing each other at once
    # cannot each count the other and both succeed; SQLite's writers already take turns.
    others = session.exec(select(User.id).where(User.role == "admin", User.active, User.id != user.id)
                          .with_for_update()).all()
    if not others:
        raise Conflict(f"{user.full_name} is the only active administrator: make someone else an "
                       f"administrator first")


def check_department(session: Session, role: str, department_id: int | None) -> int | None:
    """A department contact belongs to an active department; other roles belong to none."""
    if role not in NEEDS_A_DEPARTMENT:
        return None
    if department_id is None:
        raise InvalidInput("department_id", "select the department they work for")
    department = session.get(Department, department_id)
    if department is None or department.status != "active":
        raise InvalidInput("department_id", "select an active department from the list")
    return department_id


# --- Inviting and password links ----------------------------------------------------------------------------

def invite(session: Session, *, full_name: str, email: str, role: str, department_id: int | None,
           service_url: str) -> User:
    """A new account with no password, and a notice carrying its one-time set-password link."""
    if role not in ASSIGNABLE_ROLES:
        raise InvalidInput("role", "mentors sign up themselves and are vetted; choose another role")
    department_id = check_department(session, role, department_id)
    user = users.create_user(session, UserCreate(email=email, full_name=full_name, role=role,
                                                 department_id=department_id))
    send_password_link(session, user, purpose="invitation", service_url=service_url)
    return user


def reset_password(session: Session, user_id: int, *, service_url: str) -> User:
    """A new one-time link by notice; the password they have keeps working until they use it. Someone who
    never chose one is sent their invitation again."""
    user = _user(session, user_id)
    if not user.active:
        raise Conflict(f"{user.full_name} is deactivated: re-activate them first")
    purpose = "reset" if user.password_hash else "invitation"
    send_password_link(session, user, purpose=purpose, service_url=service_url)
    return user


def send_password_link(session: Session, user: User, *, purpose: str, service_url: str) -> None:
    secret = secrets.token_urlsafe(32)
    digest = users.token_digest(secret)
    valid = INVITATION_VALID if purpose == "invitation" else RESET_VALID
    expires_at = utcnow() + valid
    _store_link(session, user.id, {"digest": digest, "purpose": purpose}, expires_at)
    url = notifications.link(service_url, f"/set-password/{user.id}-{secret}")
    local = expires_at.astimezone(ZONE)  # as the person reading the notice tells the time
    until = f"{in_words(local)} at {local:%H:%M}"
    if purpose == "invitation":
        subject = "Springboard: you have been given an account"
        lines = [f"An administrator has given you a Springboard account ({user.email}).",
                 f"Choose your password with the link below. It works once, until {until}."]
    else:
        subject = "Springboard: choose a new password"
        lines = ["An administrator has asked for you to choose a new Springboard password.",
                 f"Choose it with the link below. It works once, until {until}. Until then your "
                 "current password keeps working."]
    notifications.notify(session, key=f"set-password:{user.id}:{digest[:24]}", kind=f"password_{purpose}",
                         user=user, subject=subject, lines=lines, url=url)


def _store_link(session: Session, user_id: int, value: dict[str, str], expires_at: datetime) -> None:
    session.execute(sa.delete(STORED).where(STORED.c.key == f"{LINK_KEY}{user_id}"))
    session.execute(sa.insert(STORED).values(key=f"{LINK_KEY}{user_id}", value=json.dumps(value).encode(),
                                             expires_at=expires_at))


def link_holder(session: Session, link: str) -> tuple[User, str] | None:
    """The active person a set-password link (`<user id>-<secret>`) was sent to, and what for; None if the
    link is unknown, used, replaced by a newer one or expired."""
    user_part, _, secret = link.partition("-")
    if not user_part.isdigit() or not secret or int(user_part) > 2**31 - 1:
        return None
    row = session.execute(sa.select(STORED.c.value, STORED.c.expires_at)
                          .where(STORED.c.key == f"{LINK_KEY}{int(user_part)}")).first()
    if row is None or row.expires_at is None or row.expires_at <= utcnow():
        return None
    stored = json.loads(row.value)
    if not hmac.compare_digest(stored["digest"], users.token_digest(secret)):
        return None
    user = session.get(User, int(user_part))
    return (user, stored["purpose"]) if user is not None and user.active else None


def set_password(session: Session, link: str, password: str) -> User:
    """Use a set-password link once: the new password (if the password rules allow it: InvalidInput naming
    `password` otherwise, and the link still works), and any lockout lifted."""
    found = link_holder(session, link)
    if found is None:
        raise Conflict("This link has expired or has already been used: ask an administrator for a new one")
    user, _ = found
    passwords.check(password, email=user.email, full_name=user.full_name)
    user.password_hash = users.hasher.hash(password)
    user.failed_logins, user.locked_until = 0, None
    session.execute(sa.delete(STORED).where(STORED.c.key == f"{LINK_KEY}{user.id}"))
    session.flush()
    return user


# --- Role, deactivation, lockout ----------------------------------------------------------------------------

def change_role(session: Session, user_id: int, *, role: str, department_id: int | None, version: int,
                actor_id: int | None) -> User:
    user = _user(session, user_id)
    if version != user.version:
        raise StaleVersion("person", user_id, version, user.version)
    if user.role == "mentor":
        raise Conflict(f"{user.full_name} is a mentor: a mentor's role is not changed here")
    if role not in ASSIGNABLE_ROLES:
        raise InvalidInput("role", "choose a role from the list (mentors sign up themselves)")
    if role != user.role:
        refuse_acting_on_yourself(user, actor_id, "change the role of")
        refuse_removing_the_last_admin(session, user)
    department_id = check_department(session, role, department_id)
    if (role, department_id) == (user.role, user.department_id):
        raise Conflict(f"Nothing changed: {user.full_name} already has that role and department")
    if user.role == "adviser" and role != "adviser":  # their young people go to the unallocated list
        cases.release_caseload(session, user.id, actor_id=actor_id)
    user.role, user.department_id = role, department_id
    session.flush()
    return user


def deactivate(session: Session, user_id: int, *, actor_id: int | None, reason: str = "") -> User:
    """They can no longer sign in or use an API token, and every session they have open ends now."""
    user = _user(session, user_id)
    if not user.active:
        raise Conflict(f"{user.full_name} is already deactivated")
    refuse_acting_on_yourself(user, actor_id, "deactivate")
    refuse_removing_the_last_admin(session, user)
    user.active = False
    user.closed_at, user.closed_by_id, user.closed_reason = utcnow(), actor_id, reason[:500] or None
    session.flush()
    end_sessions(session, user.id)
    session.execute(sa.delete(STORED).where(STORED.c.key == f"{LINK_KEY}{user.id}"))  # no way back in by link
    if user.role == "adviser":  # their young people go to the manager's unallocated list, not out of sight
        cases.release_caseload(session, user.id, actor_id=actor_id)
    return user


def end_sessions(session: Session, user_id: int) -> int:
    """Delete every web session of `user_id`, in every instance of the service at once (they share the
    sessions in the database): the account check of each request (api/auth.py) may be cached for a few
    seconds in another process, but a session that no longer exists signs nobody in. How many ended."""
    found = session.execute(sa.select(STORED.c.key, STORED.c.value).where(STORED.c.key.startswith(SESSION_KEY)))
    ended = [key for key, value in found if _session_user(value) == user_id]
    if ended:
        session.execute(sa.delete(STORED).where(STORED.c.key.in_(ended)))
    return len(ended)


def _session_user(value: bytes) -> Any:
    try:
        data = json.loads(value)
    except ValueError:
        return None
    return data.get("user_id") if isinstance(data, dict) else None


def activate(session: Session, user_id: int) -> User:
    user = _user(session, user_id)
    if user.active:
        raise Conflict(f"{user.full_name} is already active")
    user.active, user.failed_logins, user.locked_until = True, 0, None
    user.closed_at = user.closed_by_id = user.closed_reason = None
    session.flush()
    return user


def unlock(session: Session, user_id: int) -> User:
    """Lift the lockout that repeated wrong passwords set (services/users.authenticate)."""
    user = _user(session, user_id)
    if not (user.locked_until and user.locked_until > utcnow()) and not user.failed_logins:
        raise Conflict(f"{user.full_name}'s account is not locked")
    user.failed_logins, user.locked_until = 0, None
    session.flush()
    return user


# --- Departments ------------------------------------------------------------------------------------------

def departments(session: Session) -> list[dict[str, Any]]:
    """Every department, active first, with how many active people belong to it."""
    counts = dict(session.execute(sa.select(User.department_id, sa.func.count()).where(User.active)
                                  .group_by(User.department_id)).all())
    found = session.exec(select(Department).order_by(Department.status, Department.name))
    return [{"id": d.id, "name": d.name, "code": d.code, "contact_email": d.contact_email, "status": d.status,
             "version": d.version, "people": counts.get(d.id, 0)} for d in found]


def department(session: Session, department_id: int) -> dict[str, Any]:
    found = session.get(Department, department_id)
    if found is None:
        raise NotFound("department", department_id)
    people_in_it = session.exec(select(sa.func.count()).select_from(User)
                                .where(User.department_id == department_id, User.active)).one()
    return found.model_dump() | {"people": people_in_it}


def add_department(session: Session, *, name: str, code: str, contact_email: str | None) -> Department:
    return records.create(session, records.DEPARTMENTS,
                          DepartmentCreate(name=name, code=code, contact_email=contact_email))


def rename_department(session: Session, department_id: int, *, name: str, version: int) -> Department:
    return records.update(session, records.DEPARTMENTS, department_id,
                          DepartmentUpdate(name=name, version=version))


def deactivate_department(session: Session, department_id: int, *, version: int, reason: str,
                          actor_id: int | None) -> Department:
    """Only an empty department closes: its people would otherwise belong nowhere."""
    found = department(session, department_id)
    if found["people"]:
        raise Conflict(f"{found['name']} still has {found['people']} active "
                       f"{'person' if found['people'] == 1 else 'people'}: move or deactivate them first")
    return records.close(session, records.DEPARTMENTS, department_id, version=version, reason=reason,
                         actor_id=actor_id)


# --- API tokens -------------------------------------------------------------------------------------------

def tokens(session: Session, *conditions: Any) -> list[dict[str, Any]]:
    """Every token (never the token itself): live ones first, with whose it is."""
    found = session.exec(select(ApiToken, User.full_name, User.email, User.active)
                         .join(User, User.id == ApiToken.user_id).where(*conditions)
                         .order_by(ApiToken.revoked_at.is_not(None), ApiToken.id.desc()))
    return [{"id": t.id, "name": t.name, "user_id": t.user_id, "full_name": name, "email": email,
             "user_active": active, "created_at": t.created_at, "revoked_at": t.revoked_at}
            for t, name, email, active in found]


def token(session: Session, token_id: int) -> dict[str, Any]:
    found = tokens(session, ApiToken.id == token_id)
    if not found:
        raise NotFound("API token", token_id)
    return found[0]


def create_token(session: Session, *, user_id: int, name: str, actor_id: int | None) -> tuple[ApiToken, str]:
    return users.create_token(session, ApiTokenCreate(user_id=user_id, name=name), created_by_id=actor_id)


def active_people(session: Session) -> dict[str, str]:
    """Choices for whose a new token is: id (as text) -> "name (email)"."""
    found = session.exec(select(User.id, User.full_name, User.email).where(User.active)
                         .order_by(sa.func.lower(User.full_name)))
    return {str(user_id): f"{name} ({email})" for user_id, name, email in found}


def revoke_token(session: Session, token_id: int, *, actor_id: int | None) -> ApiToken:
    return users.revoke_token(session, token_id, revoked_by_id=actor_id)
