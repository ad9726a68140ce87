"""A department's pages: the young people referred to its opportunities, and what happened next."""


import sqlalchemy as sa
from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Template

from api.deps import UnitOfWork, actor_id
from api.forms import Posted
from api.pages.common import done, page, roles, tell, today, version
from api.records import audit_care_leaver_reads
from matching import lifecycle
from matching.errors import DomainError
from matching.lifecycle import DEPARTMENT_STEPS
from matching.models import Match, Opportunity
from matching.services import views


@get("/referrals", sync_to_thread=True, opt=roles("department"))
def referrals(request: Request, uow: NamedDependency[UnitOfWork]) -> Template:
    with uow.read() as session:
        found = views.referrals(session, request.user.department_id)
        versions = dict(session.execute(sa.select(Match.id, Match.version).where(
            Match.id.in_([item["match_id"] for item in found]))).all())
        audit_care_leaver_reads(request, uow, session, [item["care_leaver_id"] for item in found], "list")
    for item in found:
        item["version"] = versions[item["match_id"]]
        item["next"] = sorted(set(lifecycle.OPPORTUNITY[item["state"]]) & DEPARTMENT_STEPS)
    return page(request, "referrals.html", "Referrals", referrals=found)


@post("/referrals/{match_id:int}", sync_to_thread=True, opt=roles("department"))
def record_outcome(request: Request, uow: NamedDependency[UnitOfWork], match_id: FromPath[int],
                   data: Posted) -> Redirect:
    to = data.get("to", "")
    with uow.write() as session:
        match = session.get(Match, match_id)
        job = session.get(Opportunity, match.opportunity_id) if match and match.opportunity_id else None
        if job is None or job.department_id != request.user.department_id or to not in DEPARTMENT_STEPS:
            raise NotFoundException("No such referral to your department")
        try:
            lifecycle.transition(session, match_id, lifecycle.Change(to=to, version=version(data),
                                                                     reason=data.get("note", "")),
                                 actor_id=actor_id(request), today=today())
        except DomainError as error:
            session.rollback()
            return tell(request, "/referrals", f"Nothing was changed: {error}")
    return done(request, "/referrals", f"Recorded: {to.replace('_', ' ')}")



ROUTES = [referrals, record_outcome]
