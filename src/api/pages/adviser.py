"""An adviser's pages: their caseload, each young person's record, contacts, closing or re-opening a case, and
the two records the 21st and 25th birthdays ask for (a request for support; a reason to keep the case open).

The queries and rules live in the domain (matching/caseload.py, matching/cases.py); the forms are the JSON
API's own models (api/cases.py), with the words the pages' error messages need.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath
from litestar.response import Redirect, Template
from pydantic import BaseModel, Field, field_validator
from sqlmodel import Session

from api import forms
from api.cases import CloseCase, ContactIn, KeptOpen, ReopenCase, SupportRequest
from api.deps import UnitOfWork, actor_id
from api.forms import Posted
from api.pages.common import done, page, pagination, query_of, roles, today, version
from api.records import audit_care_leaver_access, audit_care_leaver_reads
from matching import birthdays, cases, offer, vocab
from matching import caseload as caseloads
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


# How a young person asked for support: kept at the start of the request's note ("By phone. ...").
HOW_ASKED = {"phone": "By phone", "in_person": "In person", "message": "By email, text message or letter",
             "someone_else": "Through someone else, such as a worker, friend or relative"}


class SupportRequestForm(SupportRequest):
    asked_on: date = Field(title="The date they asked for support")
    how: str | None = Field(None, validate_default=True, title="How they asked")
    note: str = Field(default="", max_length=900, title="Note")

    _how = field_validator("how")(_one_of(HOW_ASKED, "Select how they asked for support"))


class KeptOpenForm(KeptOpen):
    reason: str = Field(min_length=3, max_length=1000, title="Why the case stays open")


def _not_found() -> NotFoundException:
    return NotFoundException("No such young person on your caseload")


@get("/caseload", sync_to_thread=True, opt=roles("adviser"))
def caseload(request: Request, uow: NamedDependency[UnitOfWork]) -> Template:
    data = query_of(request)
    form = forms.read(caseloads.CaseloadQuery, data)
    form.values.setdefault("status", "open")
    form.values.setdefault("sort", "last_contact")
    query = form.model or caseloads.CaseloadQuery()
    with uow.read() as session:
        found = caseloads.search(session, request.user, query, today=today())
        audit_care_leaver_reads(request, uow, session, [row["id"] for row in found.rows], "list")
    filtered = any(data.get(name) for name in ("in_touch", "activity", "age_band", "has_match", "review", "q"))
    return page(request, "adviser/caseload.html", "My caseload", form=form, found=found, query=query,
                filtered=filtered, choices=caseloads,
                pagination=pagination("/caseload", data, found.page, found.pages, "Pages of the caseload"))


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
                choices_statuses=offer.STATUSES, closure_reasons=cases.CLOSURE_REASONS,
                stage=cases.closure_rule(found["person"], today()).stage, **found)


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


@dataclass(frozen=True)
class CaseStep:
    """Closing or re-opening a case: the same two steps (the answers, checked against the statutory rule
    with nothing changed; then "Are you sure?", which makes the change), with what differs named here."""

    action: str  # "close" or "reopen": the pages' paths, and the case event of a refused attempt
    verb: str  # "close" or "re-open", in the pages' words
    form: type[BaseModel]
    refused_on: str  # the field a refusal by the rule is shown beside
    refused_words: str
    done_words: str  # with {name}
    check: Callable[[UnitOfWork, int, Any], None]  # raises what the change would raise, changing nothing
    change: Callable[[Session, int, Any, int | None], Any]

    def title(self, name: str) -> str:
        return f"{self.verb.capitalize()} {name}’s case"

    def question(self, name: str) -> str:
        return f"Are you sure you want to {self.verb} {name}’s case?"

    @property
    def confirm_label(self) -> str:
        return f"Yes, {self.verb} this case"


def _closure(chosen: CloseForm) -> cases.Closure:
    return cases.Closure(chosen.reason_code, chosen.version, chosen.note, chosen.support_offered_on)


def _closure_refusal(uow: UnitOfWork, person_id: int, chosen: CloseForm) -> None:
    with uow.read() as session:
        cases.closure_refusal(session, person_id, _closure(chosen), today=today())


def _close(session: Session, person_id: int, chosen: CloseForm, actor: int | None) -> None:
    cases.close_case(session, person_id, _closure(chosen), today=today(), actor_id=actor)


def _reopen(session: Session, person_id: int, chosen: ReopenForm, actor: int | None) -> None:
    cases.reopen_case(session, person_id, version=chosen.version, note=chosen.note, today=today(), actor_id=actor)


def _reopening_refusal(uow: UnitOfWork, person_id: int, chosen: ReopenForm) -> None:
    with uow.read() as session:
        cases.reopening_refusal(session, person_id, version=chosen.version, today=today())


CLOSE = CaseStep("close", "close", CloseForm, refused_on="reason_code",
                 refused_words="This case cannot be closed for that reason today.",
                 done_words="{name}’s case is closed", check=_closure_refusal, change=_close)
REOPEN = CaseStep("reopen", "re-open", ReopenForm, refused_on=forms.PAGE,
                  refused_words="This case cannot be re-opened.",
                  done_words="{name}’s case is open again", check=_reopening_refusal, change=_reopen)


def _answers(step: CaseStep, data: Posted) -> forms.Form:
    form = forms.read(step.form, data, version=version(data))
    form.values["version"] = str(version(data))
    return form


def _audited(request: Request, uow: UnitOfWork, person_id: int) -> None:
    """A form page shows the young person's name and record: the view is audited."""
    with uow.read() as session:
        audit_care_leaver_reads(request, uow, session, [person_id], "read")


def _step_page(request: Request, step: CaseStep, found: dict[str, Any], form: forms.Form) -> Template:
    return page(request, f"adviser/{step.action}.html", step.title(found["name"]), form=form,
                back=(f"/young-people/{found['person'].id}", f"Back to {found['name']}"), **found)


def _confirm_page(request: Request, step: CaseStep, found: dict[str, Any], form: forms.Form, chosen: Any) -> Template:
    return page(request, f"adviser/{step.action}_confirm.html", step.question(found["name"]), form=form,
                chosen=chosen, step=step, back=(f"/young-people/{found['person'].id}/{step.action}", "Back"), **found)


def _refused(request: Request, uow: UnitOfWork, step: CaseStep, person_id: int, chosen: Any,
             refused: cases.ClosureRefused) -> None:
    """The attempt is kept although the change is refused (as the JSON API does)."""
    with uow.write() as session:
        cases.record_refusal(session, person_id, action=step.action, rule=refused.rule,
                             reason_code=getattr(chosen, "reason_code", ""), actor_id=actor_id(request))


def _refuse(request: Request, uow: UnitOfWork, step: CaseStep, form: forms.Form, error: DomainError,
            found: dict[str, Any]) -> None:
    """A refusal on the form, in words: the statutory rule by its field; a stale version takes the record's
    current one for the next try."""
    if isinstance(error, cases.ClosureRefused):
        _refused(request, uow, step, found["person"].id, form.model, error)
        form.errors[step.refused_on] = f"{step.refused_words} {error.rule}"
        form.model = None
    elif isinstance(error, StaleVersion):
        form.values["version"] = str(found["person"].version)
        form.errors[forms.PAGE] = ("Someone else changed this young person’s record since you opened the page. "
                                   "Check the details and submit again.")
        form.model = None
    else:
        form.refuse(error)


def _checked_step(request: Request, uow: UnitOfWork, step: CaseStep, person_id: int, data: Posted) -> Template:
    """The answers checked against the rule, nothing changed: refused here in words, or on to confirm."""
    found = _person(request, uow, person_id, audit=False)
    form = _answers(step, data)
    if form.ok:
        try:
            step.check(uow, person_id, form.model)
        except DomainError as error:
            _refuse(request, uow, step, form, error, found)
        else:
            _audited(request, uow, person_id)
            return _confirm_page(request, step, found, forms.Form(form.values), form.model)
    _audited(request, uow, person_id)
    return _step_page(request, step, found, form)


def _confirmed_step(request: Request, uow: UnitOfWork, step: CaseStep, person_id: int,
                    data: Posted) -> Template | Redirect:
    """The change, once "Yes" is ticked; the rule is checked again, as things may have moved since."""
    found = _person(request, uow, person_id, audit=False)
    form = _answers(step, data)
    if form.ok and data.get("confirm") not in ("yes", ["yes"]):
        _audited(request, uow, person_id)
        unsure = forms.Form(form.values, {"confirm": f"Select ‘{step.confirm_label}’ to {step.verb} it"})
        return _confirm_page(request, step, found, unsure, form.model)
    if form.ok:  # otherwise the hidden answers were changed: start again from the first step
        try:
            with uow.write() as session:
                step.change(session, person_id, form.model, actor_id(request))
                audit_care_leaver_access(request, session, [person_id], "update")
        except DomainError as error:
            _refuse(request, uow, step, form, error, found)
        else:
            return done(request, f"/young-people/{person_id}", step.done_words.format(name=found["name"]))
    _audited(request, uow, person_id)
    return _step_page(request, step, found, form)


def _step_routes(step: CaseStep) -> list[HTTPRouteHandler]:
    """A step's three pages: its form, the check of the answers, and the confirmation that makes the change."""
    path = f"/young-people/{{person_id:int}}/{step.action}"

    @get(path, sync_to_thread=True, opt=ADVISERS, name=f"{step.action}_case")
    def form(request: Request, uow: NamedDependency[UnitOfWork], person_id: FromPath[int]) -> Template:
        return _step_page(request, step, _person(request, uow, person_id), forms.Form())

    @post(path, sync_to_thread=True, opt=ADVISERS, name=f"check_{step.action}")
    def check(request: Request, uow: NamedDependency[UnitOfWork], person_id: FromPath[int],
              data: Posted) -> Template:
        return _checked_step(request, uow, step, person_id, data)

    @post(f"{path}/confirm", sync_to_thread=True, opt=ADVISERS, name=f"confirm_{step.action}")
    def confirm(request: Request, uow: NamedDependency[UnitOfWork], person_id: FromPath[int],
                data: Posted) -> Template | Redirect:
        return _confirmed_step(request, uow, step, person_id, data)

    return [form, check, confirm]


# Records on the case: a request for support (21 to 25), a reason to keep it open (from 25) ---------------------


@dataclass(frozen=True)
class CaseRecord:
    """A one-page record on the case, as a contact is: a form, the domain's refusal beside its field (what was
    typed kept), and on success the young person's page with a banner; the record is in their case history.
    Neither ends or closes anything, so neither asks "Are you sure?" first."""

    path: str  # under /young-people/N/
    template: str
    form: type[BaseModel]
    title: str  # with {name}
    labels: dict[str, str]  # a refusal's field in the page's words
    done_words: str
    write: Callable[[Session, int, Any, int | None], Any]


def _request_support(session: Session, person_id: int, chosen: SupportRequestForm, actor: int | None) -> None:
    note = ". ".join(part for part in (HOW_ASKED[chosen.how], chosen.note.strip()) if part)
    cases.request_support(session, person_id, asked_on=chosen.asked_on, note=note, today=today(), actor_id=actor)


def _keep_open(session: Session, person_id: int, chosen: KeptOpenForm, actor: int | None) -> None:
    birthdays.keep_open(session, person_id, reason=chosen.reason, today=today(), actor_id=actor)


SUPPORT_REQUEST = CaseRecord("support-requests/new", "adviser/support_request.html", SupportRequestForm,
                             "Record that {name} asked for support", {"asked_on": "The date they asked"},
                             "Request for support recorded", _request_support)
KEPT_OPEN = CaseRecord("kept-open/new", "adviser/kept_open.html", KeptOpenForm,
                       "Record why {name}’s case stays open", {"reason": "Why the case stays open"},
                       "The reason the case stays open is recorded", _keep_open)


def _record_page(request: Request, record: CaseRecord, found: dict[str, Any], form: forms.Form) -> Template:
    return page(request, record.template, record.title.format(name=found["name"]), form=form, how_asked=HOW_ASKED,
                from_25_rule=cases.RULE_FROM_25,
                back=(f"/young-people/{found['person'].id}", f"Back to {found['name']}"), **found)


def _recorded(request: Request, uow: UnitOfWork, record: CaseRecord, person_id: int,
              data: Posted) -> Template | Redirect:
    found = _person(request, uow, person_id, audit=False)
    form = forms.read(record.form, data)
    if form.ok:
        with uow.write() as session:
            try:
                record.write(session, person_id, form.model, actor_id(request))
                audit_care_leaver_access(request, session, [person_id], "update")
            except DomainError as error:
                session.rollback()
                form.refuse(error, record.labels)
            else:
                return done(request, f"/young-people/{person_id}#history", f"{record.done_words}.")
    _audited(request, uow, person_id)
    return _record_page(request, record, found, form)


def _record_routes(record: CaseRecord) -> list[HTTPRouteHandler]:
    path = f"/young-people/{{person_id:int}}/{record.path}"
    name = record.path.split("/")[0].replace("-", "_")

    @get(path, sync_to_thread=True, opt=ADVISERS, name=f"new_{name}")
    def form(request: Request, uow: NamedDependency[UnitOfWork], person_id: FromPath[int]) -> Template:
        return _record_page(request, record, _person(request, uow, person_id), forms.Form())

    @post(path, sync_to_thread=True, opt=ADVISERS, name=f"record_{name}")
    def write(request: Request, uow: NamedDependency[UnitOfWork], person_id: FromPath[int],
              data: Posted) -> Template | Redirect:
        return _recorded(request, uow, record, person_id, data)

    return [form, write]


ROUTES = [caseload, young_person, new_contact, record_contact, *_step_routes(CLOSE), *_step_routes(REOPEN),
          *_record_routes(SUPPORT_REQUEST), *_record_routes(KEPT_OPEN)]
