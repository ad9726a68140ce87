"""Matches in the pages: proposals waiting for a decision, each match's own page and next steps, and the
follow-ups due. For advisers (their caseload's matches) and managers (every match)."""

from typing import Any

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlmodel import select

from api.deps import UnitOfWork, actor_id
from api.forms import Posted
from api.pages.common import done, page, roles, tell, today, version
from api.records import audit_care_leaver_access, audit_care_leaver_reads
from matching import lifecycle
from matching.errors import DomainError
from matching.models import CareLeaver, Match, Mentor, Opportunity


def _proposals(session, user) -> list[dict[str, Any]]:
    query = (select(Match, CareLeaver).join(CareLeaver, CareLeaver.id == Match.care_leaver_id)
             .where(Match.state == "proposed").order_by(CareLeaver.id, Match.kind, Match.score.desc()))
    if user.role == "adviser":
        query = query.where(CareLeaver.personal_adviser_id == user.id)
    rows = session.exec(query.limit(100)).all()
    mentors = {m.id: m.job_title for m in session.exec(select(Mentor).where(
        Mentor.id.in_([m.mentor_id for m, _ in rows if m.mentor_id])))}
    jobs = {o.id: o.title for o in session.exec(select(Opportunity).where(
        Opportunity.id.in_([m.opportunity_id for m, _ in rows if m.opportunity_id])))}
    return [{"match": m, "person": p, "what": f"Mentor: {mentors[m.mentor_id]}" if m.mentor_id
             else f"Opportunity: {jobs[m.opportunity_id]}"} for m, p in rows]


@get("/proposals", sync_to_thread=True, opt=roles("adviser", "manager"))
def proposals(request: Request, uow: NamedDependency[UnitOfWork]) -> Template:
    with uow.read() as session:
        found = _proposals(session, request.user)
        audit_care_leaver_reads(request, uow, session, sorted({item["person"].id for item in found}), "list")
    return page(request, "proposals.html", "Proposals to review", proposals=found,
                reasons=lifecycle.REJECTION_REASONS, errors={})


@post("/proposals/{match_id:int}", sync_to_thread=True, opt=roles("adviser", "manager"))
def decide(request: Request, uow: NamedDependency[UnitOfWork], match_id: FromPath[int], data: Posted) -> Redirect:
    approve = data.get("decision") == "approve"
    change = lifecycle.Change(to="approved" if approve else "rejected", version=version(data),
                              reason=data.get("note", "") or ("" if approve else "Rejected on review"),
                              reason_code=None if approve else data.get("reason_code"))
    with uow.write() as session:
        match = session.get(Match, match_id)
        person = session.get(CareLeaver, match.care_leaver_id) if match else None
        if person is None or (request.user.role == "adviser" and person.personal_adviser_id != request.user.id):
            raise NotFoundException("No such proposal on your caseload")
        try:
            lifecycle.transition(session, match_id, change, actor_id=actor_id(request), today=today())
        except DomainError as error:
            session.rollback()
            return tell(request, "/proposals", f"Nothing was changed: {error}")
        audit_care_leaver_access(request, session, [person.id], "update")
    return done(request, "/proposals", f"Proposal {'approved' if approve else 'rejected'}")



ROUTES = [proposals, decide]
