"""An adviser's pages: their caseload, each young person's record, contacts, and closing or re-opening a case."""


from litestar import Request, get
from litestar.di import NamedDependency
from litestar.response import Template
from sqlmodel import select

from api.deps import UnitOfWork
from api.pages.common import page, roles, today
from api.records import audit_care_leaver_reads
from matching import cases, offer
from matching.models import CareLeaver


@get("/caseload", sync_to_thread=True, opt=roles("adviser"))
def caseload(request: Request, uow: NamedDependency[UnitOfWork]) -> Template:
    with uow.read() as session:
        people = session.exec(select(CareLeaver).where(CareLeaver.personal_adviser_id == request.user.id,
                                                       CareLeaver.case_status == "open")
                              .order_by(CareLeaver.last_contact_on.asc().nulls_first())).all()
        quiet = {item["care_leaver_id"] for item in cases.not_in_touch(session, today=today(),
                                                                        adviser_id=request.user.id)}
        entitlements = offer.missed(session, today=today(), adviser_id=request.user.id)
        audit_care_leaver_reads(request, uow, session, [p.id for p in people], "list")
    return page(request, "caseload.html", "My caseload", people=people, quiet=quiet,
                entitlements=len(entitlements))


ROUTES = [caseload]
