"""A mentor's pages: their mentees and the meetings they log."""

from datetime import date

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlmodel import select

from api.deps import UnitOfWork, actor_id
from api.forms import Posted
from api.pages.common import done, page, roles, tell, today
from api.records import audit_care_leaver_reads
from matching import lifecycle
from matching.errors import DomainError
from matching.models import Match, Mentor
from matching.services import views
from matching.vocab import MEETING_KINDS


@get("/mentees", sync_to_thread=True, opt=roles("mentor"))
def mentees(request: Request, uow: NamedDependency[UnitOfWork]) -> Template:
    with uow.read() as session:
        found = views.mentees(session, request.user.id)
        audit_care_leaver_reads(request, uow, session, [item["care_leaver_id"] for item in found], "list")
    return page(request, "mentees.html", "My mentees", mentees=found, kinds=MEETING_KINDS, today=today())


@post("/mentees/{match_id:int}/meetings", sync_to_thread=True, opt=roles("mentor"))
def log_meeting(request: Request, uow: NamedDependency[UnitOfWork], match_id: FromPath[int], data: Posted) -> Redirect:
    try:
        met_on = date.fromisoformat(data.get("met_on", ""))
    except ValueError:
        return tell(request, "/mentees", "Nothing was logged: enter the date you met, for example 2026-11-20")
    with uow.write() as session:
        mine = session.exec(select(Match.id).join(Mentor, Mentor.id == Match.mentor_id)
                            .where(Match.id == match_id, Mentor.user_id == request.user.id)).first()
        if mine is None:
            raise NotFoundException("No such mentee of yours")
        try:
            lifecycle.log_meeting(session, match_id, met_on=met_on, kind=data.get("kind", ""),
                                  note=data.get("note", "")[:2000], today=today(), actor_id=actor_id(request))
        except DomainError as error:
            session.rollback()
            return tell(request, "/mentees", f"Nothing was logged: {error}")
    return done(request, "/mentees", "Meeting logged")



ROUTES = [mentees, log_meeting]
