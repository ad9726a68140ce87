"""Vetting new mentors (managers and administrators): the mentors waiting, and for each the DBS check and
safeguarding training dates that activate them, or a reason to decline them. Every change is audited."""

from datetime import date
from typing import Annotated

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Template
from pydantic import BaseModel, Field

from api import forms
from api.deps import UnitOfWork, actor_id
from api.forms import Form, Posted
from api.pages.common import done, page, roles, tell, today, version
from api.pages.mentor import needed, said
from api.records import audit_mentor_change
from matching import mentoring
from matching.errors import DomainError, NotFound, StaleVersion
from matching.vocab import MENTOR_STATUSES

VETTERS = roles("manager", "admin")


class Vetting(BaseModel):
    dbs_checked_on: Annotated[date | None, needed("Enter the date of the DBS check")] = Field(
        default=None, title="The date of the DBS check", validate_default=True)
    safeguarding_trained_on: Annotated[date | None, needed("Enter the date of safeguarding training")] = Field(
        default=None, title="The date of safeguarding training", validate_default=True)


class Decline(BaseModel):
    reason: str = Field(min_length=3, max_length=500, title="Why you are declining")


@get("/mentors/pending", sync_to_thread=True, opt=VETTERS)
def pending(request: Request, uow: NamedDependency[UnitOfWork]) -> Template:
    with uow.read() as session:
        waiting = mentoring.pending(session, today())
    return page(request, "mentor/pending.html", "Mentors to vet", waiting=waiting)


def _mentor(session, mentor_id: int) -> dict:
    """The mentor as plain values, so the page can still show them after a refused change is rolled back."""
    try:
        found = mentoring.mentor_for_vetting(session, mentor_id)
    except NotFound as error:
        raise NotFoundException("No such mentor") from error
    return found | {"mentor": found["mentor"].model_dump()}


def _vetting_page(request: Request, found: dict, form: Form, mentor_version: int) -> Template:
    return page(request, "mentor/vet.html", f"Vet {found['full_name']}", form=form, version=mentor_version,
                valid_from=mentoring.dbs_valid_from(today()), years=mentoring.DBS_VALID_YEARS,
                back=("/mentors/pending", "Back to mentors to vet"), **found)


def _not_pending(request: Request, found: dict) -> Redirect:
    status = MENTOR_STATUSES.get(found["mentor"]["status"], found["mentor"]["status"]).lower()
    return tell(request, "/mentors/pending",
                f"{found['full_name']} is not waiting for vetting: their profile is {status}")


def _blank_form(request: Request, uow: UnitOfWork, mentor_id: int, render) -> Template | Redirect:
    """A vetting or declining form for a mentor still waiting; anyone else goes back to the list."""
    with uow.read() as session:
        found = _mentor(session, mentor_id)
    if found["mentor"]["status"] != "pending":
        return _not_pending(request, found)
    return render(request, found, Form(), found["mentor"]["version"])


@get("/mentors/{mentor_id:int}/vetting", sync_to_thread=True, opt=VETTERS)
def vetting_form(request: Request, uow: NamedDependency[UnitOfWork], mentor_id: FromPath[int]) -> Template | Redirect:
    return _blank_form(request, uow, mentor_id, _vetting_page)


@post("/mentors/{mentor_id:int}/vetting", sync_to_thread=True, opt=VETTERS)
def activate(request: Request, uow: NamedDependency[UnitOfWork], mentor_id: FromPath[int],
             data: Posted) -> Template | Redirect:
    form = forms.read(Vetting, data)
    with uow.write() as session:
        found = _mentor(session, mentor_id)
        if form.ok:
            try:
                mentoring.activate(session, mentor_id, version=version(data), today=today(),
                                   dbs_checked_on=form.model.dbs_checked_on,
                                   safeguarding_trained_on=form.model.safeguarding_trained_on)
                audit_mentor_change(request, session, [mentor_id], "activate")
            except StaleVersion:
                session.rollback()
                return tell(request, f"/mentors/{mentor_id}/vetting", "Nothing was saved: someone changed this "
                                                                      "mentor since you opened the page")
            except DomainError as error:
                session.rollback()
                said(form, error)
        if not form.ok:
            if found["mentor"]["status"] != "pending":
                return _not_pending(request, found)
            return _vetting_page(request, found, form, version(data))
    return done(request, "/mentors/pending", f"{found['full_name']} is now an active mentor")


def _decline_page(request: Request, found: dict, form: Form, mentor_version: int) -> Template:
    return page(request, "mentor/decline.html", f"Decline {found['full_name']}", form=form, version=mentor_version,
                back=(f"/mentors/{found['mentor']['id']}/vetting", "Back"), **found)


@get("/mentors/{mentor_id:int}/decline", sync_to_thread=True, opt=VETTERS)
def decline_form(request: Request, uow: NamedDependency[UnitOfWork], mentor_id: FromPath[int]) -> Template | Redirect:
    return _blank_form(request, uow, mentor_id, _decline_page)


@post("/mentors/{mentor_id:int}/decline", sync_to_thread=True, opt=VETTERS)
def decline(request: Request, uow: NamedDependency[UnitOfWork], mentor_id: FromPath[int],
            data: Posted) -> Template | Redirect:
    form = forms.read(Decline, data)
    with uow.write() as session:
        found = _mentor(session, mentor_id)
        if form.ok:
            try:
                mentoring.decline(session, mentor_id, version=version(data), reason=form.model.reason,
                                  actor_id=actor_id(request))
                audit_mentor_change(request, session, [mentor_id], "decline")
            except DomainError as error:
                session.rollback()
                said(form, error)
        if not form.ok:
            if found["mentor"]["status"] != "pending":
                return _not_pending(request, found)
            return _decline_page(request, found, form, version(data))
    return done(request, "/mentors/pending", f"{found['full_name']} was declined and will not be matched")


ROUTES = [pending, vetting_form, activate, decline_form, decline]
