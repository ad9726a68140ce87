"""A young person's housing register applications: the list, recording one, and recording what came of it.
For their adviser and managers; every view is a read of the young person's record, and audited."""

from typing import Any

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Template

from api import forms
from api.deps import UnitOfWork, actor_id
from api.forms import Posted
from api.pages.common import done, page, roles, today, version
from api.records import audit_care_leaver_access, audit_care_leaver_reads
from matching import caseload as caseloads
from matching import housing, vocab
from matching.errors import DomainError, NotFound
from matching.models.housing import HousingApplication, HousingApplicationBase

ADVISERS = roles("adviser", "manager")
CHOICES = {"bands": vocab.HOUSING_BANDS, "outcomes": vocab.HOUSING_OUTCOMES}


def _person(request: Request, uow: UnitOfWork, person_id: int, audit: bool = True) -> dict[str, Any]:
    with uow.read() as session:
        try:
            person = caseloads.in_scope(session, request.user, person_id)
        except NotFound as missing:
            raise NotFoundException("No young person of yours has that number") from missing
        found = {"person": person, "name": caseloads.full_name(person),
                 "applications": housing.applications(session, person_id)}
        if audit:
            audit_care_leaver_reads(request, uow, session, [person_id], "read")
    return found


@get("/young-people/{person_id:int}/housing", sync_to_thread=True, opt=ADVISERS)
def housing_applications(request: Request, uow: NamedDependency[UnitOfWork], person_id: FromPath[int]) -> Template:
    found = _person(request, uow, person_id)
    return page(request, "housing/list.html", f"Housing register: {found['name']}", **CHOICES, **found)


def _form_page(request: Request, found: dict[str, Any], form: forms.Form, application: Any = None) -> Template:
    title = "What has come of the application" if application else "Record a housing register application"
    return page(request, "housing/form.html", title, form=form, application=application, **CHOICES, **found)


@get("/young-people/{person_id:int}/housing/new", sync_to_thread=True, opt=ADVISERS)
def new_application(request: Request, uow: NamedDependency[UnitOfWork], person_id: FromPath[int]) -> Template:
    return _form_page(request, _person(request, uow, person_id), forms.Form())


def _save(request: Request, uow: UnitOfWork, person_id: int, form: forms.Form, application_id: int | None = None,
          expected: int = -1) -> DomainError | None:
    with uow.write() as session:
        try:
            if application_id is None:
                housing.record(session, person_id, form.model, today=today(), actor_id=actor_id(request))
            else:
                housing.change(session, application_id, form.model, version=expected, today=today(),
                               actor_id=actor_id(request))
            audit_care_leaver_access(request, session, [person_id], "update")
        except DomainError as error:
            session.rollback()
            return error
    return None


FIELDS = {"applied_on": "The date of the application", "housed_on": "The date they moved in"}


@post("/young-people/{person_id:int}/housing/new", sync_to_thread=True, opt=ADVISERS)
def record_application(request: Request, uow: NamedDependency[UnitOfWork], person_id: FromPath[int],
                       data: Posted) -> Template | Redirect:
    found = _person(request, uow, person_id, audit=False)
    form = forms.read(HousingApplicationBase, data)
    if form.ok and not (error := _save(request, uow, person_id, form)):
        return done(request, f"/young-people/{person_id}/housing", "The application is recorded")
    if form.ok:
        form.refuse(error, FIELDS)
    return _form_page(request, found, form)


def _application(request: Request, uow: UnitOfWork, application_id: int) -> tuple[dict[str, Any], Any]:
    with uow.read() as session:
        application = session.get(HousingApplication, application_id)
    if application is None:
        raise NotFoundException("No housing application has that number")
    found = _person(request, uow, application.care_leaver_id)  # the viewer's own young people only
    return found, application


@get("/housing-applications/{application_id:int}", sync_to_thread=True, opt=ADVISERS)
def change_application(request: Request, uow: NamedDependency[UnitOfWork],
                       application_id: FromPath[int]) -> Template:
    found, application = _application(request, uow, application_id)
    return _form_page(request, found, forms.filled(HousingApplicationBase, application.model_dump()), application)


@post("/housing-applications/{application_id:int}", sync_to_thread=True, opt=ADVISERS)
def save_application(request: Request, uow: NamedDependency[UnitOfWork], application_id: FromPath[int],
                     data: Posted) -> Template | Redirect:
    found, application = _application(request, uow, application_id)
    form = forms.read(HousingApplicationBase, data)
    person_id = application.care_leaver_id
    if form.ok and not (error := _save(request, uow, person_id, form, application_id, version(data))):
        return done(request, f"/young-people/{person_id}/housing", "The application is updated")
    if form.ok:
        form.refuse(error, FIELDS)
    return _form_page(request, found, form, application)


ROUTES = [housing_applications, new_application, record_application, change_application, save_application]
