"""An administrator's pages: the people who use the service."""


from litestar import Request, get
from litestar.di import NamedDependency
from litestar.response import Template
from sqlmodel import select

from api.deps import UnitOfWork
from api.pages.common import page, roles
from matching.models import User


@get("/people", sync_to_thread=True, opt=roles("admin"))
def people_page(request: Request, uow: NamedDependency[UnitOfWork]) -> Template:
    with uow.read() as session:
        accounts = session.exec(select(User).order_by(User.role, User.email)).all()
    return page(request, "people.html", "People", accounts=accounts)



ROUTES = [people_page]
