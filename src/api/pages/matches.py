"""Matches in the pages: proposals waiting for a decision, each match's own page and next steps, the meetings
logged on a mentoring match, and the follow-ups due. For advisers (their caseload's matches) and managers
(every match).

Handlers read the form, call matching/pipeline.py (which holds the queries, the scope and the rules of
each step) and render. A refusal re-renders the form with the GOV.UK error summary, keeping what was typed.
"""

from typing import Any, Literal

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Template
from pydantic import BaseModel, Field, ValidationInfo, field_validator

from api import forms
from api.deps import UnitOfWork
from api.forms import PAGE, Posted
from api.pages.common import done, page, roles, today, version
from api.pages.mentor import MeetingPages, meeting_routes
from api.records import audit_care_leaver_access, audit_care_leaver_reads
from matching import lifecycle, mentoring, pipeline
from matching.errors import DomainError, InvalidInput, NotFound, StaleVersion
from matching.models import CareLeaver

ADVISERS = roles("adviser", "manager")
ReasonCode = Literal[tuple(lifecycle.REJECTION_REASONS)]  # type: ignore[valid-type]


class Rejection(BaseModel):
    """Rejecting a proposal: why (one of the reasons), and a note, needed when the reason is 'other'."""

    reason_code: ReasonCode = Field(title="Why you are rejecting it")
    note: str = Field(default="", max_length=1000, title="Note", validate_default=True)

    @field_validator("note")
    @classmethod
    def _explained(cls, note: str, info: ValidationInfo) -> str:
        if info.data.get("reason_code") == "other" and len(note.strip()) < 3:
            raise ValueError("Explain in the note why you are rejecting it")
        return note


class NextStep(BaseModel):
    to: str = Field(min_length=1, title="What happens next")


class Confirmation(BaseModel):
    """The second page of a step that ends a match or needs a reason."""

    reason: str = Field(default="", max_length=1000, title="Why")
    reason_code: str = ""


class CheckInDone(BaseModel):
    note: str = Field(min_length=3, max_length=2000, title="What you found")


def _chosen(form: forms.Form, name: str, message: str) -> forms.Form:
    """A radio question left unanswered says "Select ...", as GOV.UK words it (forms.py says "Enter" for
    any missing field that is not a list or yes/no)."""
    if name in form.errors and not form.values.get(name):
        form.errors[name] = message
    return form


def _number(raw: Any) -> int | None:
    raw = raw[-1] if isinstance(raw, list) and raw else raw
    return int(raw) if isinstance(raw, str) and raw.isdigit() and int(raw) > 0 else None


def _adviser_filter(request: Request, raw: Any) -> int | None:
    return _number(raw) if request.user.role == "manager" else None


def _refusal(error: DomainError, state_now: str | None) -> str:
    """A refusal in words, for the error summary."""
    if isinstance(error, StaleVersion):
        now = f": it is now {lifecycle.STATE_LABELS.get(state_now, state_now).lower()}" if state_now else ""
        return f"it has changed since you opened this page{now}. Check it and try again"
    if isinstance(error, NotFound):
        return "it is no longer there"
    text = str(error)
    return text.removeprefix("Not allowed: ")


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


# Proposals --------------------------------------------------------------------------------------------

def _query(page_number: int, adviser_id: int | None) -> str:
    parts = [f"adviser={adviser_id}"] if adviser_id else []
    parts += [f"page={page_number}"] if page_number > 1 else []
    return "/proposals" + ("?" + "&".join(parts) if parts else "")


def _page_numbers(current: int, last: int) -> list[int | None]:
    """GOV.UK pagination: the first, the last, and those beside the current page; None for a gap."""
    shown = sorted({1, last, current - 1, current, current + 1} & set(range(1, last + 1)))
    numbers: list[int | None] = []
    for n in shown:
        if numbers and n - numbers[-1] > 1:
            numbers.append(None)
        numbers.append(n)
    return numbers


def _proposals_page(request: Request, uow: UnitOfWork, *, page_number: int, adviser_id: int | None,
                    errors: dict[str, str] | None = None, rejecting: dict[str, Any] | None = None,
                    status_code: int | None = None) -> Template:
    with uow.read() as session:
        found = pipeline.proposals(session, request.user, page=page_number, adviser_id=adviser_id)
        advisers = pipeline.advisers(session) if request.user.role == "manager" else {}
        audit_care_leaver_reads(request, uow, session, [person["id"] for person in found.people], "list")
    numbers = _page_numbers(found.page, found.pages)
    pages = [{"ellipsis": True} if n is None else
             {"number": n, "href": _query(n, adviser_id), "current": n == found.page} for n in numbers]
    approved = request.session.pop("approved_match", None) if isinstance(request.scope.get("session"), dict) else None
    return page(request, "matches/proposals.html", "Proposals to review", status_code=status_code,
                found=found, pages=pages, adviser_id=adviser_id, advisers=advisers,
                filter_form=forms.Form({"adviser": str(adviser_id or "")}), reasons=lifecycle.REJECTION_REASONS,
                errors=errors or {}, rejecting=rejecting or {}, approved=approved,
                previous=_query(found.page - 1, adviser_id) if found.page > 1 else None,
                next=_query(found.page + 1, adviser_id) if found.page < found.pages else None)


@get("/proposals", sync_to_thread=True, opt=ADVISERS)
def proposals(request: Request, uow: NamedDependency[UnitOfWork]) -> Template:
    params = request.query_params
    return _proposals_page(request, uow, page_number=_number(params.get("page")) or 1,
                           adviser_id=_adviser_filter(request, params.get("adviser")))


@post("/proposals/{match_id:int}", sync_to_thread=True, opt=ADVISERS)
def decide(request: Request, uow: NamedDependency[UnitOfWork], match_id: FromPath[int],
           data: Posted) -> Redirect | Template:
    approve = forms._one(data.get("decision")) == "approve"
    page_number, adviser_id = _number(data.get("page")) or 1, _adviser_filter(request, data.get("adviser"))
    rejection = None if approve else _chosen(forms.read(Rejection, data), "reason_code",
                                             "Select why you are rejecting it")
    errors: dict[str, str] = {}
    refused: DomainError | None = None
    with uow.write() as session:
        try:
            match = pipeline.find(session, request.user, match_id)
        except NotFound as error:
            raise NotFoundException("No such proposal on your caseload") from error
        label = _label(session, request.user, match_id)
        if rejection is not None and not rejection.ok:
            errors = {f"{anchor}-{match_id}": f"{label}: {message[:1].lower()}{message[1:]}"
                      for anchor, message in rejection.errors.items()}
        else:
            change = (lifecycle.Change(to="approved", version=version(data)) if approve else
                      lifecycle.Change(to="rejected", version=version(data), reason_code=rejection.model.reason_code,
                                       reason=rejection.model.note or lifecycle.REJECTION_REASONS[
                                           rejection.model.reason_code]))
            try:
                pipeline.take_step(session, request.user, match_id, change, today=today())
                audit_care_leaver_access(request, session, [match.care_leaver_id], "update")
            except DomainError as error:
                session.rollback()
                refused = error
    if refused is not None:
        with uow.read() as session:
            try:
                state_now = pipeline.find(session, request.user, match_id).state
            except NotFound:
                state_now = None
        errors = {f"proposal-{match_id}" if state_now == "proposed" else PAGE:
                  f"{label}: {_refusal(refused, state_now)}"}
    if errors:
        kept = rejection.values if rejection is not None else {}
        return _proposals_page(request, uow, page_number=page_number, adviser_id=adviser_id, errors=errors,
                               rejecting={"match_id": match_id, **kept},
                               status_code=409 if refused is not None else 400)
    if approve:
        request.session["approved_match"] = {"id": match_id, "label": label, "kind": match.kind}
    return done(request, _query(page_number, adviser_id), f"Proposal {'approved' if approve else 'rejected'}: {label}")


def _label(session, viewer, match_id: int) -> str:
    """A match named as the error summary and banners name it: what, for whom."""
    detail = pipeline.match_detail(session, viewer, match_id)
    return f"{detail['what']['title']} for {detail['person']['name']}"


# One match --------------------------------------------------------------------------------------------

def _detail(request: Request, uow: UnitOfWork, match_id: int) -> dict[str, Any]:
    with uow.read() as session:
        try:
            detail = pipeline.match_detail(session, request.user, match_id)
        except NotFound as error:
            raise NotFoundException("No such match") from error
        audit_care_leaver_reads(request, uow, session, [detail["person"]["id"]], "read")
    return detail


def _match_page(request: Request, uow: UnitOfWork, match_id: int, form: forms.Form | None = None,
                status_code: int | None = None) -> Template:
    detail = _detail(request, uow, match_id)
    return page(request, "matches/match.html", f"{detail['what']['title']} for {detail['person']['name']}",
                status_code=status_code, form=form or forms.Form(), detail=detail,
                meetings_open=mentoring.meetings_open(detail["match"]),
                choices={step: pipeline.step_words(step) for step in detail["steps"]},
                back=("/proposals" if detail["match"].state == "proposed" else "/follow-ups", "Back"))


@get("/matches/{match_id:int}", sync_to_thread=True, opt=ADVISERS)
def match(request: Request, uow: NamedDependency[UnitOfWork], match_id: FromPath[int]) -> Template:
    return _match_page(request, uow, match_id)


@post("/matches/{match_id:int}/steps", sync_to_thread=True, opt=ADVISERS)
def choose_step(request: Request, uow: NamedDependency[UnitOfWork], match_id: FromPath[int],
                data: Posted) -> Redirect | Template:
    form = _chosen(forms.read(NextStep, data), "to", "Select what happens next")
    if not form.ok:
        return _match_page(request, uow, match_id, form)
    to = form.model.to
    if pipeline.needs_confirmation(to):
        with uow.read() as session:
            try:
                current = pipeline.find(session, request.user, match_id)
            except NotFound as error:
                raise NotFoundException("No such match") from error
            allowed = to in pipeline.steps_for(request.user, current)
        if allowed and current.version == version(data):
            return Redirect(f"/matches/{match_id}/steps/{to}?version={current.version}", status_code=303)
    return _step(request, uow, match_id, to, lifecycle.Change(to=to, version=version(data)), form,
                 lambda f, status: _match_page(request, uow, match_id, f, status))


def _step(request: Request, uow: UnitOfWork, match_id: int, to: str, change: lifecycle.Change, form: forms.Form,
          again) -> Redirect | Template:
    """Take a step; on a refusal, `again(form, status)` re-renders the form with the reason."""
    refused: DomainError | None = None
    with uow.write() as session:
        try:
            moved = pipeline.take_step(session, request.user, match_id, change, today=today())
            audit_care_leaver_access(request, session, [moved.care_leaver_id], "update")
        except NotFound as error:
            raise NotFoundException("No such match") from error
        except DomainError as error:
            session.rollback()
            refused = error
    if refused is None:
        return done(request, f"/matches/{match_id}", f"Recorded: {lifecycle.STATE_LABELS.get(to, to).lower()}")
    if isinstance(refused, InvalidInput):
        return again(form.refuse(refused, {"reason": "Why", "reason_code": "Why"}), 400)
    with uow.read() as session:
        state_now = pipeline.find(session, request.user, match_id).state
    form.errors[PAGE] = _sentence(_refusal(refused, state_now))
    form.model = None
    return again(form, 409)


def _confirm_page(request: Request, uow: UnitOfWork, match_id: int, to: str, version_read: int,
                  form: forms.Form | None = None, status_code: int | None = None) -> Template:
    detail = _detail(request, uow, match_id)
    if to not in detail["steps"] and form is None:
        raise NotFoundException("Not a next step of this match")
    label = lifecycle.STATE_LABELS.get(to, to)
    return page(request, "matches/confirm.html", f"{pipeline.step_words(to)}: are you sure?",
                status_code=status_code, form=form or forms.Form(), detail=detail, to=to, label=label,
                version_read=version_read, ending=to in lifecycle.ENDING,
                needs_reason=to in lifecycle.NEEDS_A_REASON, reasons=lifecycle.REJECTION_REASONS,
                back=(f"/matches/{match_id}", "Back to the match"))


@get("/matches/{match_id:int}/steps/{to:str}", sync_to_thread=True, opt=ADVISERS)
def confirm(request: Request, uow: NamedDependency[UnitOfWork], match_id: FromPath[int], to: FromPath[str]) -> Template:
    return _confirm_page(request, uow, match_id, to, _number(request.query_params.get("version")) or -1)


@post("/matches/{match_id:int}/steps/{to:str}", sync_to_thread=True, opt=ADVISERS)
def confirmed(request: Request, uow: NamedDependency[UnitOfWork], match_id: FromPath[int], to: FromPath[str],
              data: Posted) -> Redirect | Template:
    form = forms.read(Confirmation, data)
    read_version = version(data)

    def again(f: forms.Form, status: int) -> Template:
        return _confirm_page(request, uow, match_id, to, read_version, f, status)

    if not form.ok:
        return again(form, 400)
    reason, code = form.model.reason, form.model.reason_code or None
    if to == "rejected" and code not in lifecycle.REJECTION_REASONS:
        return again(forms.Form(form.values, {"reason_code": "Select why you are rejecting it"}), 400)
    if to == "rejected" and code != "other" and not reason:
        reason = lifecycle.REJECTION_REASONS[code]
    if to in lifecycle.NEEDS_A_REASON and len(reason.strip()) < 3:
        return again(forms.Form(form.values, {"reason": "Enter why"}), 400)
    return _step(request, uow, match_id, to, lifecycle.Change(to=to, version=read_version, reason=reason,
                                                              reason_code=code), form, again)


# Check-ins --------------------------------------------------------------------------------------------

def _check_in_page(request: Request, uow: UnitOfWork, match_id: int, check_in_id: int,
                   form: forms.Form | None = None, status_code: int | None = None) -> Template:
    detail = _detail(request, uow, match_id)
    check = next((c for c in detail["check_ins"] if c.id == check_in_id), None)
    if check is None:
        raise NotFoundException("No such check-in")
    return page(request, "matches/check_in.html", f"Record the {check.label} check-in",
                status_code=status_code, form=form or forms.Form(), detail=detail, check=check,
                back=(f"/matches/{match_id}", "Back to the match"))


@get("/matches/{match_id:int}/check-ins/{check_in_id:int}", sync_to_thread=True, opt=ADVISERS)
def check_in(request: Request, uow: NamedDependency[UnitOfWork], match_id: FromPath[int],
             check_in_id: FromPath[int]) -> Template:
    return _check_in_page(request, uow, match_id, check_in_id)


@post("/matches/{match_id:int}/check-ins/{check_in_id:int}", sync_to_thread=True, opt=ADVISERS)
def check_in_done(request: Request, uow: NamedDependency[UnitOfWork], match_id: FromPath[int],
                  check_in_id: FromPath[int], data: Posted) -> Redirect | Template:
    form = forms.read(CheckInDone, data)
    if form.ok:
        with uow.write() as session:
            try:
                check = pipeline.record_check_in(session, request.user, match_id, check_in_id,
                                                 note=form.model.note, today=today())
                audit_care_leaver_access(request, session, [pipeline.find(session, request.user, match_id)
                                                            .care_leaver_id], "update")
            except NotFound as error:
                raise NotFoundException("No such check-in") from error
            except DomainError as error:
                session.rollback()
                form.refuse(error)
        if form.ok:
            return done(request, f"/matches/{match_id}", f"The {check.label} check-in is recorded as done")
    return _check_in_page(request, uow, match_id, check_in_id, form, 400)


# Meetings on a mentoring match: the mentor's own pages' handlers and rule, from the match's page --------

def _mentee_name(session, match) -> str:
    return pipeline.name_of(session.get(CareLeaver, match.care_leaver_id))


ON_THE_MATCH = MeetingPages(prefix="/matches", opt=ADVISERS, done=lambda match_id: f"/matches/{match_id}",
                            back="Back to the match", name=_mentee_name,
                            titles=("Log a meeting between {name} and their mentor",
                                    "Change a meeting between {name} and their mentor"),
                            banner="Meeting between {name} and their mentor")


# Follow-ups -------------------------------------------------------------------------------------------

@get("/follow-ups", sync_to_thread=True, opt=ADVISERS)
def follow_ups(request: Request, uow: NamedDependency[UnitOfWork]) -> Template:
    adviser_id = _adviser_filter(request, request.query_params.get("adviser"))
    with uow.read() as session:
        items = pipeline.follow_ups(session, request.user, today=today(), adviser_id=adviser_id)
        advisers = pipeline.advisers(session) if request.user.role == "manager" else {}
        audit_care_leaver_reads(request, uow, session, sorted({item["person"]["id"] for item in items}), "list")
    return page(request, "matches/follow_ups.html", "Follow-ups due", items=items, advisers=advisers,
                adviser_id=adviser_id, filter_form=forms.Form({"adviser": str(adviser_id or "")}))


ROUTES = [proposals, decide, match, choose_step, confirm, confirmed, check_in, check_in_done,
          *meeting_routes(ON_THE_MATCH), follow_ups]
