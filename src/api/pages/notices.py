"""How each signed-in person is told (every role): straight away, one email for each notice, or once a day,
one email with everything. The rule and what changing it does to held notices are in
matching/notifications.py (`set_choice`); the change is audited (entity `user`, action `notices`)."""

from typing import Annotated, Literal

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.response import Redirect, Template
from pydantic import BaseModel, Field

from api import forms
from api.deps import UnitOfWork, actor_id
from api.forms import Form, Posted
from api.pages.common import EVERY_ROLE, done, page, roles, tell
from api.pages.mentor import needed, said
from api.records import audit_change
from matching import notifications
from matching.errors import DomainError, NotFound

EVERYONE = roles(*EVERY_ROLE)
SAVED = {"immediate": "We will email you straight away, one email for each thing that needs you",
         "daily": "We will email you once a day, at 7am, with everything that needs you"}


class NoticeChoice(BaseModel):
    notices: Annotated[Literal[tuple(notifications.CHOICES)] | None,  # type: ignore[valid-type]
                       needed("Select how we tell you")] = Field(default=None, title="How we tell you",
                                                                  validate_default=True)


def _choice_page(request: Request, form: Form) -> Template:
    return page(request, "notices/choose.html", "How we tell you", form=form, choices=notifications.CHOICES,
                digest_at=f"{notifications.DIGEST_AT:%-I%p}".lower())


@get("/notices", sync_to_thread=True, opt=EVERYONE)
def choice_form(request: Request, uow: NamedDependency[UnitOfWork]) -> Template:
    with uow.read() as session:
        stored = _found(lambda: notifications.choice(session, actor_id(request)))
    return _choice_page(request, forms.filled(NoticeChoice, {"notices": stored}))


@post("/notices", sync_to_thread=True, opt=EVERYONE)
def choose(request: Request, uow: NamedDependency[UnitOfWork], data: Posted) -> Template | Redirect:
    form = forms.read(NoticeChoice, data)
    if not form.ok:
        return _choice_page(request, form)
    chosen = form.model.notices
    with uow.write() as session:
        try:
            if _found(lambda: notifications.choice(session, actor_id(request))) == chosen:
                return tell(request, "/notices", f"Nothing changed: {SAVED[chosen][0].lower()}{SAVED[chosen][1:]}")
            notifications.set_choice(session, actor_id(request), chosen)
            audit_change(request, session, "user", [actor_id(request)], "notices")
        except DomainError as error:
            session.rollback()
            return _choice_page(request, said(form, error))
    return done(request, "/notices", SAVED[chosen])


def _found(look):
    try:
        return look()
    except NotFound as error:
        raise NotFoundException("No such person") from error


ROUTES = [choice_form, choose]
