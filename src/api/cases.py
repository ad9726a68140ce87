"""A care leaver's case under the statutory rules, contacts, and the lists of who needs attention."""

from collections.abc import Callable
from datetime import date
from typing import Annotated, Any

from litestar import Controller, Request, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter
from pydantic import BaseModel, Field
from sqlmodel import Session

from api.access import Access, ensure_in_scope, own_caseload, scope_of
from api.deps import UnitOfWork, actor_id
from api.records import audit_care_leaver_access, audit_care_leaver_reads
from matching import birthdays, cases, clock, council_settings, mentoring, offer, pipeline
from matching.errors import NotFound
from matching.models import CareLeaver, CareLeaverPublic, OfferItem, OfferItemCreate
from matching.vocab import ContactKind, InTouch

POLICY = {"manager": Access(frozenset({"list", "read", "update"})),
          "adviser": Access(frozenset({"list", "read", "update"}), own_caseload)}
Weeks = Annotated[int | None, QueryParameter(ge=1, le=104)]


def rule(action: str) -> dict[str, Any]:
    return {"policy": POLICY, "action": action}


class CloseCase(BaseModel):
    reason_code: str = Field(description=", ".join(cases.CLOSURE_REASONS))
    version: int
    note: str = Field(default="", max_length=1000)
    support_offered_on: date | None = Field(default=None, description="Needed from 21 to 25")


class ReopenCase(BaseModel):
    version: int
    note: str = Field(min_length=3, max_length=1000, description="Who asked, and how")


class SupportRequest(BaseModel):
    asked_on: date = Field(description="The day the young person (21 to 25) asked for advice and support")
    note: str = Field(default="", max_length=1000, description="How they asked")


class KeptOpen(BaseModel):
    reason: str = Field(min_length=3, max_length=1000, description="Why the case stays open after 25")


class ContactIn(BaseModel):
    contact_on: date
    kind: ContactKind
    note: str = Field(default="", max_length=4000)
    in_touch: InTouch | None = Field(default=None, description="The 903 IN_TOUCH status found at this contact")


def today(request: Request) -> date:
    return clock.today()


def _in_scope(request: Request, session: Session, care_leaver_id: int) -> CareLeaver:
    person = session.get(CareLeaver, care_leaver_id)
    if person is None:
        raise NotFound("care leaver", care_leaver_id)
    ensure_in_scope(person, scope_of(request, POLICY), "care leaver", care_leaver_id)
    return person


def _attention(request: Request, uow: UnitOfWork, listing: Callable[..., list[dict]],
               interval: int | None = None) -> list[dict]:
    """One attention list, for today, confined to an adviser's own caseload when an adviser asks; its interval
    is the request's or the manager's (cases.INTERVALS). Each young person listed is audited as read."""
    with uow.read() as session:
        follow_up = council_settings.load(session, council_settings.FollowUpSettings)
        found = cases.attention(session, listing, today=today(request), follow_up=follow_up,
                                adviser_id=_mine(request), interval=interval)
        audit_care_leaver_reads(request, uow, session, list(dict.fromkeys(r["care_leaver_id"] for r in found)), "list")
    return found


def _mine(request: Request) -> int | None:
    return request.user.id if request.user.role == "adviser" else None


class CaseController(Controller):
    path = "/care-leavers/{care_leaver_id:int}"
    tags = ["Cases"]

    def _in_scope(self, request: Request, uow: UnitOfWork, care_leaver_id: int) -> None:
        with uow.read() as session:
            _in_scope(request, session, care_leaver_id)

    def _refusable(self, request: Request, uow: UnitOfWork, care_leaver_id: int, action: str, reason_code: str,
                   change: Callable[[Any], CareLeaver]) -> dict[str, Any]:
        self._in_scope(request, uow, care_leaver_id)
        try:
            with uow.write() as session:
                person = change(session)
                audit_care_leaver_access(request, session, [care_leaver_id], action)
                return CareLeaverPublic.of(person)
        except cases.ClosureRefused as refused:
            with uow.write() as session:  # the attempt is kept although the change is refused
                cases.record_refusal(session, care_leaver_id, action=action, rule=refused.rule,
                                     reason_code=reason_code, actor_id=actor_id(request))
            raise

    @post("/close", sync_to_thread=True, status_code=200, opt=rule("update"),
          summary="Close a case, if the statutory rules allow it (the refusal quotes the rule)")
    def close(self, request: Request, uow: NamedDependency[UnitOfWork], care_leaver_id: FromPath[int],
              data: JSONBody[CloseCase]) -> CareLeaverPublic:
        closure = cases.Closure(data.reason_code, data.version, data.note, data.support_offered_on)

        def close_it(session: Session) -> CareLeaver:
            return cases.close_case(session, care_leaver_id, closure, today=today(request), actor_id=actor_id(request))

        return self._refusable(request, uow, care_leaver_id, "close", data.reason_code, close_it)

    @post("/reopen", sync_to_thread=True, status_code=200, opt=rule("update"),
          summary="Re-open a closed case at the young person's request (before their 25th birthday)")
    def reopen(self, request: Request, uow: NamedDependency[UnitOfWork], care_leaver_id: FromPath[int],
               data: JSONBody[ReopenCase]) -> CareLeaverPublic:
        return self._refusable(request, uow, care_leaver_id, "reopen", "", lambda session: cases.reopen_case(
            session, care_leaver_id, version=data.version, note=data.note, today=today(request),
            actor_id=actor_id(request)))

    @post("/contacts", sync_to_thread=True, opt=rule("update"),
          summary="Record a contact; it moves the last contact, and the 903 in-touch status when one is given")
    def contact(self, request: Request, uow: NamedDependency[UnitOfWork], care_leaver_id: FromPath[int],
                data: JSONBody[ContactIn]) -> dict[str, Any]:
        self._in_scope(request, uow, care_leaver_id)
        with uow.write() as session:
            contact = cases.record_contact(session, care_leaver_id, contact_on=data.contact_on, kind=data.kind,
                                           note=data.note, today=today(request), actor_id=actor_id(request),
                                           in_touch=data.in_touch)
            audit_care_leaver_access(request, session, [care_leaver_id], "update")
            return {"id": contact.id, "care_leaver_id": care_leaver_id, "contact_on": contact.contact_on,
                    "kind": contact.kind, "by_id": contact.by_id}

    @post("/support-requests", sync_to_thread=True, opt=rule("update"),
          summary="Record that a young person aged 21 to 25 asked for support, and when (s.23CZB)")
    def support_request(self, request: Request, uow: NamedDependency[UnitOfWork], care_leaver_id: FromPath[int],
                        data: JSONBody[SupportRequest]) -> dict[str, Any]:
        return self._case_event(request, uow, care_leaver_id, lambda session: cases.request_support(
            session, care_leaver_id, asked_on=data.asked_on, note=data.note, today=today(request),
            actor_id=actor_id(request)))

    @post("/kept-open", sync_to_thread=True, opt=rule("update"),
          summary="From the 25th birthday, record the reason the case stays open")
    def kept_open(self, request: Request, uow: NamedDependency[UnitOfWork], care_leaver_id: FromPath[int],
                  data: JSONBody[KeptOpen]) -> dict[str, Any]:
        return self._case_event(request, uow, care_leaver_id, lambda session: birthdays.keep_open(
            session, care_leaver_id, reason=data.reason, today=today(request), actor_id=actor_id(request)))

    def _case_event(self, request: Request, uow: UnitOfWork, care_leaver_id: int,
                    write: Callable[[Session], Any]) -> dict[str, Any]:
        self._in_scope(request, uow, care_leaver_id)
        with uow.write() as session:
            event = write(session)
            audit_care_leaver_access(request, session, [care_leaver_id], "update")
            return {"id": event.id, "care_leaver_id": care_leaver_id, "action": event.action,
                    "on": event.at.astimezone(clock.ZONE).date(), "note": event.note, "actor_id": event.actor_id}


class EntitlementStatus(BaseModel):
    status: str = Field(description=", ".join(offer.STATUSES))


class EntitlementController(Controller):
    path = "/care-leavers/{care_leaver_id:int}/entitlements"
    tags = ["Cases"]

    @get("/", sync_to_thread=True, opt=rule("read"),
         summary="Each entitlement of the local offer: eligible or not, and what has been done")
    def standing(self, request: Request, uow: NamedDependency[UnitOfWork], care_leaver_id: FromPath[int]) -> list[dict]:
        with uow.read() as session:
            person = _in_scope(request, session, care_leaver_id)
            found = offer.standing(session, person, today(request))
            audit_care_leaver_reads(request, uow, session, [care_leaver_id], "read")
        return found

    @put("/{code:str}", sync_to_thread=True, opt=rule("update"),
         summary="Record that the young person was told, applied, took it up, or is not eligible")
    def record(self, request: Request, uow: NamedDependency[UnitOfWork], care_leaver_id: FromPath[int],
               code: FromPath[str], data: JSONBody[EntitlementStatus]) -> dict[str, Any]:
        with uow.write() as session:
            _in_scope(request, session, care_leaver_id)
            entry = offer.record(session, care_leaver_id, code, data.status, actor_id=actor_id(request))
            audit_care_leaver_access(request, session, [care_leaver_id], "update")
            return {"care_leaver_id": care_leaver_id, "code": code, "status": entry.status,
                    "updated_at": entry.updated_at, "updated_by_id": entry.updated_by_id}


OFFER_POLICY = {role: Access(frozenset({"list"})) for role in ("admin", "adviser", "mentor", "department")} | {
    "manager": Access(frozenset({"list", "create"}))}


class LocalOfferController(Controller):
    path = "/local-offer"
    tags = ["Local offer"]

    @get("/", sync_to_thread=True, opt={"policy": OFFER_POLICY, "action": "list"}, summary="The council's local offer")
    def list_offer(self, uow: NamedDependency[UnitOfWork]) -> list[OfferItem]:
        with uow.read() as session:
            return offer.active_items(session)

    @post("/", sync_to_thread=True, opt={"policy": OFFER_POLICY, "action": "create"},
          summary="Add an entitlement to the local offer (eligibility by age)")
    def add(self, uow: NamedDependency[UnitOfWork], data: JSONBody[OfferItemCreate]) -> OfferItem:
        with uow.write() as session:
            return offer.add_item(session, data)


class AttentionController(Controller):
    path = "/attention"
    tags = ["Cases"]

    @get("/not-in-touch", sync_to_thread=True, opt=rule("list"),
         summary="Open cases not contacted within the interval (settings: 8 weeks by default), longest first")
    def not_in_touch(self, request: Request, uow: NamedDependency[UnitOfWork], weeks: Weeks = None) -> list[dict]:
        return _attention(request, uow, cases.not_in_touch, weeks)

    @get("/pathway-reviews", sync_to_thread=True, opt=rule("list"),
         summary="Pathway-plan reviews overdue or due soon (settings: within 28 days by default)")
    def pathway_reviews(self, request: Request, uow: NamedDependency[UnitOfWork]) -> list[dict]:
        return _attention(request, uow, cases.pathway_reviews)

    @get("/check-ins", sync_to_thread=True, opt=rule("list"),
         summary="Follow-up check-ins overdue on matches still under way, longest overdue first")
    def check_ins(self, request: Request, uow: NamedDependency[UnitOfWork]) -> list[dict]:
        return _attention(request, uow, cases.overdue_check_ins)

    @get("/entitlements", sync_to_thread=True, opt=rule("list"),
         summary="Eligible for an entitlement and not told, or told and not applied")
    def entitlements(self, request: Request, uow: NamedDependency[UnitOfWork]) -> list[dict]:
        return _attention(request, uow, offer.missed)

    @get("/waiting", sync_to_thread=True, opt=rule("list"),
         summary="Open cases waiting longer than the interval (settings) with no approved or live match")
    def waiting(self, request: Request, uow: NamedDependency[UnitOfWork], weeks: Weeks = None) -> list[dict]:
        return _attention(request, uow, cases.waiting, weeks)

    @get("/no-meetings", sync_to_thread=True, opt=rule("list"),
         summary="Mentoring matches with no meeting logged for longer than the interval (settings: 90 days)")
    def no_meetings(self, request: Request, uow: NamedDependency[UnitOfWork],
                    days: Annotated[int | None, QueryParameter(ge=1, le=365)] = None) -> list[dict]:
        return _attention(request, uow, cases.no_recent_meeting, days)

    @get("/birthdays", sync_to_thread=True, opt=rule("list"),
         summary="Birthday tasks not yet done (18: review the plan; 21: offer support to 25; 25: close or say why "
                 "not), oldest first")
    def birthday_tasks(self, request: Request, uow: NamedDependency[UnitOfWork]) -> list[dict]:
        return _attention(request, uow, birthdays.tasks)

    @get("/unallocated", sync_to_thread=True, opt=rule("list"),
         summary="Open cases with no active personal adviser (none, or one who left): the manager's to allocate")
    def unallocated(self, request: Request, uow: NamedDependency[UnitOfWork]) -> list[dict]:
        return _attention(request, uow, cases.unallocated)

    @get("/stale-matches", sync_to_thread=True, opt=rule("list"),
         summary="Approved matches with no next step or outcome past the manager's interval, most overdue first")
    def stale_matches(self, request: Request, uow: NamedDependency[UnitOfWork]) -> list[dict]:
        return _attention(request, uow, pipeline.stale_matches)

    @get("/lapsed-vetting", sync_to_thread=True, opt=rule("list"),
         summary="Live mentoring whose mentor's DBS check or safeguarding training no longer counts")
    def lapsed_vetting(self, request: Request, uow: NamedDependency[UnitOfWork]) -> list[dict]:
        return _attention(request, uow, mentoring.lapsed_vetting)
