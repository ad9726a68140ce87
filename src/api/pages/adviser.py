"""An adviser's pages: their caseload, each young person's record, contacts, and closing or re-opening a case.

The queries and rules live in the domain (matching/caseload.py, matching/cases.py); the forms are the JSON
API's own models (api/cases.py), with the words the pages' error messages need.
"""

from datetime import date
from typing import Any
from urllib.parse import urlencode

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Template
from pydantic import Field, field_validator

from api import forms
from api.cases import CloseCase, ContactIn, ReopenCase
from api.deps import UnitOfWork, actor_id
from api.forms import Posted
from api.pages.common import done, page, roles, today, version
from api.records import audit_care_leaver_access, audit_care_leaver_reads
from matching import caseload as caseloads
from matching import cases, offer, vocab
from matching.errors import DomainError, NotFound, StaleVersion
from matching.vocab import ContactKind, InTouch

ADVISERS = roles("adviser", "manager")


def _one_of(vocabulary: dict[str, str], message: str):
    def check(value: str | None) -> str:
        if value is None:
            raise ValueError(message)
        if value not in vocabulary:
            raise ValueError(f"{message} from the list")
        return value
    return check


class ContactForm(ContactIn):
    """The API's contact, with the 903 in-touch status the adviser records after it."""

    contact_on: date = Field(title="The date of the contact")
    kind: ContactKind | None = Field(None, validate_default=True, title="How you were in touch")
    in_touch: InTouch | None = Field(None, validate_default=True, title="In touch after this contact")
    note: str = Field(default="", max_length=4000, title="Note")

    _kind = field_validator("kind")(_one_of(vocab.CONTACT_KINDS, "Select how you were in touch"))
    _in_touch = field_validator("in_touch")(_one_of(cases.CONTACT_IN_TOUCH,
                                                    "Select whether the young person is in touch after this contact"))


class CloseForm(CloseCase):
    reason_code: str | None = Field(None, validate_default=True, title="Why the case is closing")
    note: str = Field(default="", max_length=1000, title="Note")
    support_offered_on: date | None = Field(None, title="The date continued support was offered")

    _reason = field_validator("reason_code")(_one_of(cases.CLOSURE_REASONS, "Select why the case is closing"))


class ReopenForm(ReopenCase):
    note: str = Field(min_length=3, max_length=1000, title="Who asked for support, and how")


def _not_found() -> NotFoundException:
    return NotFoundException("No such young person on your caseload")


def _query_data(request: Request) -> dict[str, Any]:
    params = request.query_params
    return {key: params.getall(key) for key in params}


def _page_link(data: dict[str, Any], number: int) -> str:
    pairs = [(key, value) for key, values in data.items() if key != "page" for value in values if value != ""]
    return "/caseload?" + urlencode([*pairs, ("page", str(number))])


def _pagination(data: dict[str, Any], found: caseloads.CaseloadPage) -> dict[str, Any] | None:
    """GOV.UK pagination: previous, next, the first, last and nearby pages, and ellipses between."""
    if found.pages <= 1:
        return None
    near = {1, found.pages, found.page - 1, found.page, found.page + 1}
    items: list[dict[str, Any]] = []
    for number in range(1, found.pages + 1):
        if number in near:
            items.append({"number": number, "href": _page_link(data, number), "current": number == found.page})
        elif items and not items[-1].get("ellipsis"):
            items.append({"ellipsis": True})
    return {"items": items,
            "previous": {"href": _page_link(data, found.page - 1)} if found.page > 1 else None,
            "next": {"href": _page_link(data, found.page + 1)} if found.page < found.pages else None,
            "landmarkLabel": "Pages of the caseload"}


@get("/caseload", sync_to_thread=True, opt=roles("adviser"))
def caseload(request: Request, uow: NamedDependency[UnitOfWork]) -> Template:
    data = _query_data(request)
    form = forms.read(caseloads.CaseloadQuery, data)
    form.values.setdefault("status", "open")
    form.values.setdefault("sort", "last_contact")
    query = form.model or caseloads.CaseloadQuery()
    with uow.read() as session:
        found = caseloads.search(session, request.user, query, today=today())
        audit_care_leaver_reads(request, uow, session, [row["id"] for row in found.rows], "list")
    filtered = any(data.get(name) for name in ("in_touch", "activity", "age_band", "has_match", "review", "q"))
    return page(request, "adviser/caseload.html", "My caseload", form=form, found=found, query=query,
                filtered=filtered, pagination=_pagination(data, found), choices=caseloads)


def _young_person_page(request: Request, uow: UnitOfWork, person_id: int) -> dict[str, Any]:
    with uow.read() as session:
        try:
            found = caseloads.record(session, request.user, person_id, today=today())
            alternatives = caseloads.alternatives(session, person_id, today=today(), limit=5)
        except NotFound as missing:
            raise _not_found() from missing
        audit_care_leaver_reads(request, uow, session, [person_id], "read")
    return {**found, "alternatives": alternatives}


@get("/young-people/{person_id:int}", sync_to_thread=True, opt=ADVISERS)
def young_person(request: Request, uow: NamedDependency[UnitOfWork], person_id: FromPath[int]) -> Template:
    found = _young_person_page(request, uow, person_id)
    return page(request, "adviser/young_person.html", found["name"], back=_back(request),
                choices_statuses=offer.STATUSES, closure_reasons=cases.CLOSURE_REASONS, **found)


def _back(request: Request) -> tuple[str, str] | None:
    return ("/caseload", "Back to my caseload") if request.user.role == "adviser" else None


def _person(request: Request, uow: UnitOfWork, person_id: int, audit: bool = True) -> dict[str, Any]:
    """The young person a form is about, if they are the viewer's (a form page shows their name: audited)."""
    with uow.read() as session:
        try:
            person = caseloads.in_scope(session, request.user, person_id)
        except NotFound as missing:
            raise _not_found() from missing
        if audit:
            audit_care_leaver_reads(request, uow, session, [person_id], "read")
    return {"person": person, "name": caseloads.full_name(person),
            "closure": cases.closure_rule(person, today()), "reopen_refusal": cases.reopen_refusal(person, today()),
            "reasons": cases.CLOSURE_REASONS, "reopen_rule": cases.RULE_REOPEN}


# Recording a contact -------------------------------------------------------------------------------------


@get("/young-people/{person_id:int}/contacts/new", sync_to_thread=True, opt=ADVISERS)
def new_contact(request: Request, uow: NamedDependency[UnitOfWork], person_id: FromPath[int]) -> Template:
    found = _person(request, uow, person_id)
    return _contact_page(request, found, forms.Form())


def _contact_page(request: Request, found: dict[str, Any], form: forms.Form) -> Template:
    return page(request, "adviser/contact.html", f"Record a contact with {found['name']}", form=form,
                in_touch_choices=cases.CONTACT_IN_TOUCH,
                back=(f"/young-people/{found['person'].id}", f"Back to {found['name']}"), **found)


@post("/young-people/{person_id:int}/contacts/new", sync_to_thread=True, opt=ADVISERS)
def record_contact(request: Request, uow: NamedDependency[UnitOfWork], person_id: FromPath[int],
                   data: Posted) -> Template | Redirect:
    found = _person(request, uow, person_id, audit=False)
    form = forms.read(ContactForm, data)
    if form.ok:
        contact = form.model
        with uow.write() as session:
            try:
                cases.record_contact(session, person_id, contact_on=contact.contact_on, kind=contact.kind,
                                     note=contact.note, in_touch=contact.in_touch, today=today(),
                                     actor_id=actor_id(request))
                audit_care_leaver_access(request, session, [person_id], "update")
            except DomainError as error:
                session.rollback()
                form.refuse(error, {"contact_on": "The date of the contact", "in_touch": "In touch"})
            else:
                last = found["person"].last_contact_on
                newest = last is None or contact.contact_on >= last
                said = "" if newest else (" A later contact is already recorded, so the in-touch status "
                                          "was left as it was.")
                return done(request, f"/young-people/{person_id}#contacts", f"Contact recorded.{said}")
    with uow.read() as session:
        audit_care_leaver_reads(request, uow, session, [person_id], "read")
    return _contact_page(request, found, form)


# Closing and re-opening a case ---------------------------------------------------------------------------


def _close_page(request: Request, found: dict[str, Any], form: forms.Form) -> Template:
    return page(request, "adviser/close.html", f"Close {found['name']}’s case", form=form,
                back=(f"/young-people/{found['person'].id}", f"Back to {found['name']}"), **found)


@get("/young-people/{person_id:int}/close", sync_to_thread=True, opt=ADVISERS)
def close_case(request: Request, uow: NamedDependency[UnitOfWork], person_id: FromPath[int]) -> Template:
    found = _person(request, uow, person_id)
    return _close_page(request, found, forms.Form())


def _closure(form: forms.Form) -> cases.Closure:
    chosen = form.model
    return cases.Closure(chosen.reason_code, chosen.version, chosen.note, chosen.support_offered_on)


def _refused(request: Request, uow: UnitOfWork, person_id: int, action: str, reason_code: str,
             refused: cases.ClosureRefused) -> None:
    """The attempt is kept although the change is refused (as the JSON API does)."""
    with uow.write() as session:
        cases.record_refusal(session, person_id, action=action, rule=refused.rule, reason_code=reason_code,
                             actor_id=actor_id(request))


def _refuse(form: forms.Form, error: DomainError, found: dict[str, Any]) -> None:
    """A refusal on the form, in words; a stale version takes the record's current one for the next try."""
    if isinstance(error, StaleVersion):
        form.values["version"] = str(found["person"].version)
        form.errors[forms.PAGE] = ("Someone else changed this young person’s record since you opened the page. "
                                   "Check the details and submit again.")
        form.model = None
    else:
        form.refuse(error)


@post("/young-people/{person_id:int}/close", sync_to_thread=True, opt=ADVISERS)
def check_closure(request: Request, uow: NamedDependency[UnitOfWork], person_id: FromPath[int],
                  data: Posted) -> Template:
    """The first step: the reason and what the rule needs. Refused here in words, or on to confirm."""
    found = _person(request, uow, person_id, audit=False)
    form = forms.read(CloseForm, data, version=version(data))
    form.values["version"] = str(version(data))
    if form.ok:
        try:
            with uow.read() as session:
                cases.closure_refusal(session, person_id, _closure(form), today=today())
        except cases.ClosureRefused as refused:
            _refused(request, uow, person_id, "close", form.model.reason_code, refused)
            form.errors["reason_code"] = f"This case cannot be closed for that reason today. {refused.rule}"
            form.model = None
        except DomainError as error:
            _refuse(form, error, found)
        else:
            with uow.read() as session:
                audit_care_leaver_reads(request, uow, session, [person_id], "read")
            return _confirm_page(request, found, forms.Form(form.values), form.model)
    with uow.read() as session:
        audit_care_leaver_reads(request, uow, session, [person_id], "read")
    return _close_page(request, found, form)


def _confirm_page(request: Request, found: dict[str, Any], form: forms.Form, chosen: CloseForm) -> Template:
    return page(request, "adviser/close_confirm.html", f"Are you sure you want to close {found['name']}’s case?",
                form=form, chosen=chosen, back=(f"/young-people/{found['person'].id}/close", "Back"), **found)


@post("/young-people/{person_id:int}/close/confirm", sync_to_thread=True, opt=ADVISERS)
def confirm_closure(request: Request, uow: NamedDependency[UnitOfWork], person_id: FromPath[int],
                    data: Posted) -> Template | Redirect:
    found = _person(request, uow, person_id, audit=False)
    form = forms.read(CloseForm, data, version=version(data))
    form.values["version"] = str(version(data))
    if not form.ok:  # the hidden answers were changed: start again from the first step
        return _close_page(request, found, form)
    if data.get("confirm") not in ("yes", ["yes"]):
        confirm = forms.Form(form.values, {"confirm": "Select ‘Yes, close this case’ to close it"})
        return _confirm_page(request, found, confirm, form.model)
    try:
        with uow.write() as session:
            cases.close_case(session, person_id, _closure(form), today=today(), actor_id=actor_id(request))
            audit_care_leaver_access(request, session, [person_id], "update")
    except cases.ClosureRefused as refused:
        _refused(request, uow, person_id, "close", form.model.reason_code, refused)
        form.errors["reason_code"] = f"This case cannot be closed for that reason today. {refused.rule}"
        form.model = None
        return _close_page(request, found, form)
    except DomainError as error:
        _refuse(form, error, found)
        return _close_page(request, found, form)
    return done(request, f"/young-people/{person_id}", f"{found['name']}’s case is closed")


def _reopen_page(request: Request, found: dict[str, Any], form: forms.Form) -> Template:
    return page(request, "adviser/reopen.html", f"Re-open {found['name']}’s case", form=form,
                back=(f"/young-people/{found['person'].id}", f"Back to {found['name']}"), **found)


@get("/young-people/{person_id:int}/reopen", sync_to_thread=True, opt=ADVISERS)
def reopen_case(request: Request, uow: NamedDependency[UnitOfWork], person_id: FromPath[int]) -> Template:
    found = _person(request, uow, person_id)
    return _reopen_page(request, found, forms.Form())


@post("/young-people/{person_id:int}/reopen", sync_to_thread=True, opt=ADVISERS)
def record_reopening(request: Request, uow: NamedDependency[UnitOfWork], person_id: FromPath[int],
                     data: Posted) -> Template | Redirect:
    found = _person(request, uow, person_id, audit=False)
    form = forms.read(ReopenForm, data, version=version(data))
    form.values["version"] = str(version(data))
    if form.ok:
        try:
            with uow.write() as session:
                cases.reopen_case(session, person_id, version=form.model.version, note=form.model.note,
                                  today=today(), actor_id=actor_id(request))
                audit_care_leaver_access(request, session, [person_id], "update")
        except cases.ClosureRefused as refused:
            _refused(request, uow, person_id, "reopen", "", refused)
            form.errors[forms.PAGE] = f"This case cannot be re-opened. {refused.rule}"
            form.model = None
        except DomainError as error:
            _refuse(form, error, found)
        else:
            return done(request, f"/young-people/{person_id}", f"{found['name']}’s case is open again")
    with uow.read() as session:
        audit_care_leaver_reads(request, uow, session, [person_id], "read")
    return _reopen_page(request, found, form)


ROUTES = [caseload, young_person, new_contact, record_contact, close_case, check_closure, confirm_closure,
          reopen_case, record_reopening]
