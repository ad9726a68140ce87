"""Accounts, tokens, the audit trail, and the narrow views mentors and departments have of young people."""

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

import sqlalchemy as sa
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.pagination import OffsetPagination
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from sqlmodel import Session, select

from api.access import Access
from api.deps import UnitOfWork, actor_id
from api.matches import MeetingIn, meeting_view
from api.records import audit_care_leaver_reads, audit_change
from api.resources import IdFilter, Limit, Offset
from matching import accounts, clock, lifecycle
from matching.errors import NotFound
from matching.models import (
    ApiToken,
    ApiTokenCreate,
    ApiTokenPublic,
    AuditEventPublic,
    Match,
    Meeting,
    Mentor,
    User,
    UserCreate,
    UserPublic,
)
from matching.services import audit, users, views

ADMIN = {"admin": Access(frozenset({"list", "create", "update"}))}
MANAGER = {"manager": Access(frozenset({"list"}))}
ANYONE = {role: Access(frozenset({"read"})) for role in ("admin", "manager", "adviser", "mentor", "department")}


def rule(policy: dict[str, Access], action: str) -> dict[str, Any]:
    return {"policy": policy, "action": action}


class AccountsController(Controller):
    path = "/"
    tags = ["Accounts"]

    @get("/users", sync_to_thread=True, opt=rule(ADMIN, "list"), summary="List users")
    def list_users(self, uow: NamedDependency[UnitOfWork], limit: Limit = 20,
                   offset: Offset = 0) -> OffsetPagination[UserPublic]:
        with uow.read() as session:
            total = session.exec(select(sa.func.count()).select_from(User)).one()
            rows = session.exec(select(User).order_by(User.id).limit(limit).offset(offset)).all()
            return OffsetPagination[UserPublic](items=[UserPublic.model_validate(u) for u in rows], limit=limit,
                                                offset=offset, total=total)

    @post("/users", sync_to_thread=True, opt=rule(ADMIN, "create"), summary="Create a user")
    def create_user(self, request: Request, uow: NamedDependency[UnitOfWork], data: JSONBody[UserCreate]) -> UserPublic:
        with uow.write() as session:
            accounts.check_department(session, data.role, data.department_id)  # as the admin pages check it
            user = users.create_user(session, data)
            audit_change(request, session, "user", [user.id], "create")
            return UserPublic.model_validate(user)

    @get("/tokens", sync_to_thread=True, opt=rule(ADMIN, "list"), summary="List API tokens (never the token)")
    def list_tokens(self, uow: NamedDependency[UnitOfWork]) -> list[ApiTokenPublic]:
        with uow.read() as session:
            return [ApiTokenPublic.model_validate(t) for t in session.exec(select(ApiToken).order_by(ApiToken.id))]

    @post("/tokens", sync_to_thread=True, opt=rule(ADMIN, "create"), summary="Create an API token (shown once)")
    def create_token(self, request: Request, uow: NamedDependency[UnitOfWork],
                     data: JSONBody[ApiTokenCreate]) -> dict[str, Any]:
        with uow.write() as session:
            record, token = users.create_token(session, data, created_by_id=actor_id(request))
            audit_change(request, session, "api_token", [record.id], "create")
            return ApiTokenPublic.model_validate(record).model_dump() | {"token": token}

    @post("/tokens/{token_id:int}/revoke", sync_to_thread=True, status_code=200, opt=rule(ADMIN, "update"),
          summary="Revoke an API token")
    def revoke_token(self, request: Request, uow: NamedDependency[UnitOfWork],
                     token_id: FromPath[int]) -> ApiTokenPublic:
        with uow.write() as session:
            revoked = users.revoke_token(session, token_id, revoked_by_id=actor_id(request))
            audit_change(request, session, "api_token", [token_id], "revoke")
            return ApiTokenPublic.model_validate(revoked)

    @get("/audit-events", sync_to_thread=True, opt=rule(MANAGER, "list"),
         summary="Who read or changed which care leaver's record (identifiers only)")
    def audit_events(self, uow: NamedDependency[UnitOfWork],
                     actor_id: IdFilter = None, entity_id: IdFilter = None,
                     action: Annotated[str | None, QueryParameter(max_length=12)] = None,
                     since: FromQuery[datetime | None] = None, until: FromQuery[datetime | None] = None,
                     limit: Limit = 20, offset: Offset = 0) -> OffsetPagination[AuditEventPublic]:
        wanted = audit.EventFilter(actor_id=actor_id, entity_id=entity_id, action=action, since=since, until=until)
        with uow.read() as session:
            rows, total = audit.find_events(session, wanted, limit=limit, offset=offset)
            return OffsetPagination[AuditEventPublic](items=[AuditEventPublic.model_validate(r) for r in rows],
                                                      limit=limit, offset=offset, total=total)


MENTOR = {"mentor": Access(frozenset({"list", "update"}))}


def _my_mentee_match(session: Session, mentor_user_id: int, match_id: int) -> None:
    """Only the mentor's own mentoring matches; anyone else's is "not found", so ids cannot be probed."""
    mine = session.exec(select(Match.id).join(Mentor, Mentor.id == Match.mentor_id)
                        .where(Match.id == match_id, Mentor.user_id == mentor_user_id)).first()
    if mine is None:
        raise NotFound("mentoring match", match_id)


class MeController(Controller):
    path = "/me"
    tags = ["Me"]

    @get("/", sync_to_thread=True, opt=rule(ANYONE, "read"), summary="Who I am signed in as")
    def me(self, request: Request, uow: NamedDependency[UnitOfWork]) -> UserPublic:
        with uow.read() as session:
            return UserPublic.model_validate(session.get(User, request.user.id))

    @get("/mentees", sync_to_thread=True, opt=rule(MENTOR, "list"),
         summary="My mentees: first name, interests, goals and our contact arrangements")
    def mentees(self, request: Request, uow: NamedDependency[UnitOfWork]) -> list[dict[str, Any]]:
        return _audited_view(request, uow, lambda session: views.mentees(session, request.user.id))

    @post("/mentees/{match_id:int}/meetings", sync_to_thread=True, opt=rule(MENTOR, "update"),
          summary="Log a meeting with one of my mentees")
    def log_meeting(self, request: Request, uow: NamedDependency[UnitOfWork], match_id: FromPath[int],
                    data: JSONBody[MeetingIn]) -> dict[str, Any]:
        with uow.write() as session:
            _my_mentee_match(session, request.user.id, match_id)
            return meeting_view(lifecycle.log_meeting(session, match_id, met_on=data.met_on, kind=data.kind,
                                                      note=data.note, today=clock.today(),
                                                      actor_id=actor_id(request)))

    @get("/mentees/{match_id:int}/meetings", sync_to_thread=True, opt=rule(MENTOR, "list"),
         summary="The meetings I have logged with one of my mentees")
    def meetings(self, request: Request, uow: NamedDependency[UnitOfWork], match_id: FromPath[int]) -> list[dict]:
        with uow.read() as session:
            _my_mentee_match(session, request.user.id, match_id)
            rows = session.exec(select(Meeting).where(Meeting.match_id == match_id).order_by(Meeting.met_on))
            return [meeting_view(m) for m in rows]

    @get("/referrals", sync_to_thread=True, opt=rule({"department": Access(frozenset({"list"}))}, "list"),
         summary="Young people referred to my department's opportunities (what an employer needs)")
    def referrals(self, request: Request, uow: NamedDependency[UnitOfWork]) -> list[dict[str, Any]]:
        return _audited_view(request, uow, lambda session: views.referrals(session, request.user.department_id))


View = Callable[[Session], list[dict[str, Any]]]


def _audited_view(request: Request, uow: UnitOfWork, view: View) -> list[dict[str, Any]]:
    """A narrow view of young people, each of whom is audited as read by the caller."""
    with uow.read() as session:
        found = view(session)
        audit_care_leaver_reads(request, uow, session, [item["care_leaver_id"] for item in found], "list")
    return found
