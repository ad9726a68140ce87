"""Matches: read them with their history and allowed next states, and move them along their lifecycle."""

from datetime import date
from typing import Annotated, Any

import sqlalchemy as sa
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.pagination import OffsetPagination
from litestar.params import FromPath, JSONBody, QueryParameter
from pydantic import BaseModel, Field
from sqlmodel import Session, select

from api.access import Access
from api.auth import Principal
from api.deps import UnitOfWork, actor_id
from api.records import audit_care_leaver_reads
from api.resources import IdFilter, Limit, Offset
from matching import clock, lifecycle, scopes
from matching.errors import InvalidInput, NotFound
from matching.models import CheckIn, Match, MatchEvent, Meeting
from matching.vocab import MeetingKind

POLICY = {"manager": Access(frozenset({"list", "read", "update"})),
          "adviser": Access(frozenset({"list", "read", "update"})),
          "department": Access(frozenset({"list", "read", "update"}))}


def rule(action: str) -> dict[str, Any]:
    return {"policy": POLICY, "action": action}


class TransitionRequest(BaseModel):
    to: str = Field(description="The next state")
    version: int = Field(description="The match version you read; a stale one is refused with 409")
    reason: str = Field(default="", max_length=1000)
    reason_code: str | None = Field(default=None, description="For a rejection: one of the listed reasons")


class MeetingIn(BaseModel):
    met_on: date
    kind: MeetingKind
    note: str = Field(default="", max_length=2000, description="A line about how it went; no case notes")


def meeting_view(meeting: Meeting) -> dict[str, Any]:
    return {"id": meeting.id, "match_id": meeting.match_id, "met_on": meeting.met_on, "kind": meeting.kind,
            "note": meeting.note, "logged_by_id": meeting.logged_by_id}


class CheckInDone(BaseModel):
    note: str = Field(min_length=3, max_length=2000, description="What was found; any action agreed")


def _view(session: Session, match: Match) -> dict[str, Any]:
    history = session.exec(select(MatchEvent).where(MatchEvent.match_id == match.id).order_by(MatchEvent.id)).all()
    checks = session.exec(select(CheckIn).where(CheckIn.match_id == match.id).order_by(CheckIn.due_on)).all()
    meetings = session.exec(select(Meeting).where(Meeting.match_id == match.id).order_by(Meeting.met_on)).all()
    return {"id": match.id, "version": match.version, "kind": match.kind, "state": match.state,
            "care_leaver_id": match.care_leaver_id, "mentor_id": match.mentor_id,
            "opportunity_id": match.opportunity_id, "score": match.score, "reasons": match.reasons,
            "model_version": match.model_version, "allowed_next": lifecycle.allowed_next(match),
            "history": [{"at": e.at, "from": e.from_state, "to": e.to_state, "by": e.actor_id, "reason": e.reason}
                        for e in history],
            "check_ins": [{"id": c.id, "label": c.label, "due_on": c.due_on, "done_on": c.done_on} for c in checks],
            "meetings": [meeting_view(m) for m in meetings]}


def _find(session: Session, user: Principal, match_id: int) -> Match:
    match = session.exec(select(Match).where(Match.id == match_id, *scopes.matches(user))).first()
    if match is None:
        raise NotFound("match", match_id)
    return match


class MatchController(Controller):
    path = "/matches"
    tags = ["Matches"]

    @get("/", sync_to_thread=True, opt=rule("list"), summary="List matches I may see")
    def list_matches(self, request: Request, uow: NamedDependency[UnitOfWork],
                     in_state: Annotated[str | None, QueryParameter(name="state", max_length=20)] = None,
                     care_leaver_id: IdFilter = None,
                     limit: Limit = 20, offset: Offset = 0) -> OffsetPagination[dict[str, Any]]:
        conditions = scopes.matches(request.user) + [column == value for column, value in (
            (Match.state, in_state), (Match.care_leaver_id, care_leaver_id)) if value is not None]
        with uow.read() as session:
            total = session.exec(select(sa.func.count()).select_from(Match).where(*conditions)).one()
            rows = session.exec(select(Match).where(*conditions).order_by(Match.id.desc()).limit(limit).offset(offset))
            items = [{"id": m.id, "version": m.version, "kind": m.kind, "state": m.state, "score": m.score,
                      "care_leaver_id": m.care_leaver_id, "mentor_id": m.mentor_id,
                      "opportunity_id": m.opportunity_id} for m in rows]
            audit_care_leaver_reads(request, uow, session, list(dict.fromkeys(m["care_leaver_id"] for m in items)),
                                    "list")
        return OffsetPagination[dict[str, Any]](items=items, limit=limit, offset=offset, total=total)

    @get("/{match_id:int}", sync_to_thread=True, opt=rule("read"), summary="A match, its history and next states")
    def read(self, request: Request, uow: NamedDependency[UnitOfWork], match_id: FromPath[int]) -> dict[str, Any]:
        with uow.read() as session:
            found = _view(session, _find(session, request.user, match_id))
            audit_care_leaver_reads(request, uow, session, [found["care_leaver_id"]], "read")
        return found

    @post("/{match_id:int}/transitions", sync_to_thread=True, status_code=200, opt=rule("update"),
          summary="Move a match to its next state (409 names the allowed ones)")
    def move(self, request: Request, uow: NamedDependency[UnitOfWork], match_id: FromPath[int],
             data: JSONBody[TransitionRequest]) -> dict[str, Any]:
        if request.user.role == "department" and data.to not in lifecycle.DEPARTMENT_STEPS:
            raise InvalidInput("to", f"a department records only: {', '.join(sorted(lifecycle.DEPARTMENT_STEPS))}")
        with uow.write() as session:
            _find(session, request.user, match_id)
            match = lifecycle.transition(session, match_id, lifecycle.Change(
                to=data.to, version=data.version, reason=data.reason, reason_code=data.reason_code),
                actor_id=actor_id(request), today=clock.today())
            return _view(session, match)

    @post("/{match_id:int}/check-ins/{check_in_id:int}/done", sync_to_thread=True, status_code=200,
          opt=rule("update"), summary="Record that a follow-up check-in happened")
    def check_in_done(self, request: Request, uow: NamedDependency[UnitOfWork], match_id: FromPath[int],
                      check_in_id: FromPath[int], data: JSONBody[CheckInDone]) -> dict[str, Any]:
        with uow.write() as session:
            _find(session, request.user, match_id)
            check = lifecycle.complete_check_in(session, match_id, check_in_id, note=data.note,
                                                today=clock.today(), actor_id=actor_id(request))
            return {"id": check.id, "match_id": match_id, "label": check.label, "due_on": check.due_on,
                    "done_on": check.done_on, "done_by_id": check.done_by_id}

    @post("/{match_id:int}/meetings", sync_to_thread=True,
          opt={"policy": {role: POLICY[role] for role in ("manager", "adviser")}, "action": "update"},
          summary="Log a mentoring meeting on the young person's behalf (mentors use /me/mentees)")
    def log_meeting(self, request: Request, uow: NamedDependency[UnitOfWork], match_id: FromPath[int],
                    data: JSONBody[MeetingIn]) -> dict[str, Any]:
        with uow.write() as session:
            _find(session, request.user, match_id)
            return meeting_view(lifecycle.log_meeting(session, match_id, met_on=data.met_on, kind=data.kind,
                                                      note=data.note, today=clock.today(),
                                                      actor_id=actor_id(request)))
