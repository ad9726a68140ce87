"""A department's pages: its own opportunities (post, change, pause, close, re-open) and the young people
referred to them, whom it follows through to the outcome.

A department sees of a young person only what a referral needs (name, skills, qualification level, days
available, accessibility needs), never support needs, case notes or the fairness codes, and never a
proposal or an approval that has not been referred to it (scopes.matches). Every view is audited.
"""

from copy import copy
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Template
from pydantic import create_model, field_validator
from pydantic_core import PydanticUndefined
from sqlmodel import Field, SQLModel

from api import forms
from api.deps import UnitOfWork, actor_id
from api.forms import Posted
from api.pages.common import done, page, roles, today, version
from api.records import audit_care_leaver_access, audit_care_leaver_reads
from matching import lifecycle, opportunities, vocab
from matching.errors import DomainError, InvalidInput, NotFound, StaleVersion
from matching.models import OpportunityCreate
from matching.services import records, views

DEPARTMENT = roles("department")
PER_PAGE = 50
QUALIFICATIONS = {"0": "None needed (entry level)", "1": "Level 1 (GCSE grades 3 to 1)",
                  "2": "Level 2 (GCSE grades 9 to 4)", "3": "Level 3 (A level)",
                  "4": "Level 4 (certificate of higher education)",
                  "5": "Level 5 (foundation degree)", "6": "Level 6 (degree)", "7": "Level 7 (master's degree)",
                  "8": "Level 8 (doctorate)"}
STATUS_COLOURS = {"open": "green", "paused": "yellow", "closed": "grey", "draft": "blue", "withdrawn": "red"}
STEP_HINTS = {"not_successful": "They were not offered it, or turned it down. This ends the referral.",
              "ended_early": "They left or it stopped before the end. This ends the referral.",
              "completed": "They finished the placement or job. This ends the referral.",
              "sustained_6m": "Still there 6 months after starting. This is the last step and ends the referral.",
              "sustained_3m": "Still there 3 months after starting."}


# The opportunity form: the API's own fields (OpportunityCreate's, with their checks), titled for people,
# without what the service decides (reference, department, status). Pay is typed in pounds.
def _from_api(name: str, title: str, required: bool = False) -> tuple[Any, Any]:
    info = copy(OpportunityCreate.model_fields[name])
    info.title = title
    if required:
        info.default, info.default_factory = PydanticUndefined, None
    return info.annotation, info


_FIELDS = {"kind": ("Kind of opportunity", True), "title": ("Title", False), "description": ("Description", False),
           "skills": ("Skills", False), "sector": ("Sector", False), "area": ("Postcode district", False),
           "hours_per_week": ("Hours a week", False), "places": ("Places", False), "min_age": ("Youngest age", False),
           "max_age": ("Oldest age", False), "qualification_required": ("Minimum qualification level", True),
           "starts_on": ("Start date", False), "closes_on": ("Closing date", False),
           "ring_fenced": ("Only for care leavers", True), "guaranteed_interview": ("Guaranteed interview", True)}


class _OpportunityChecks(SQLModel):
    pay: Decimal | None = Field(default=None, title="Pay per hour")

    @field_validator("pay", mode="before")
    @classmethod
    def _pounds(cls, value: Any) -> Any:
        if value in (None, ""):
            return None
        try:
            pounds = Decimal(str(value).strip().lstrip("£").strip())
        except InvalidOperation:
            pounds = None
        if pounds is None or pounds < 0 or pounds != pounds.quantize(Decimal("0.01")) or pounds > 1000:
            raise ValueError("Pay per hour must be an amount in pounds and pence, like 12.60")
        return pounds

    @field_validator("max_age", check_fields=False)
    @classmethod
    def _ages(cls, value: int, info: Any) -> int:
        youngest = info.data.get("min_age")
        if youngest is not None and value is not None and value < youngest:
            raise ValueError("Oldest age must be the same as or more than the youngest age")
        return value

    @field_validator("closes_on", check_fields=False)
    @classmethod
    def _closing(cls, value: date | None, info: Any) -> date | None:
        starts = info.data.get("starts_on")
        if value and starts and value > starts:
            raise ValueError("Closing date must be on or before the start date")
        return value

    def as_record(self) -> dict[str, Any]:
        """The values as the API's OpportunityCreate takes them (pay in pence)."""
        values = self.model_dump(exclude={"pay"})
        values["pay_pence_per_hour"] = int(self.pay * 100) if self.pay is not None else None
        return values


OpportunityForm = create_model("OpportunityForm", __base__=_OpportunityChecks,
                               **{name: _from_api(name, title, required) for name, (title, required) in
                                  _FIELDS.items()})


# GOV.UK's words for a choice left unanswered (forms.messages says "Enter" for a code it reads as text).
UNANSWERED = {"kind": "Select what kind of opportunity it is",
              "qualification_required": "Select the minimum qualification level",
              "ring_fenced": "Select yes if it is only for care leavers",
              "guaranteed_interview": "Select yes if every young person referred gets an interview"}


def _read_opportunity(data: Posted) -> forms.Form:
    form = forms.read(OpportunityForm, data)
    for name, message in UNANSWERED.items():
        if name in form.errors and not form.values.get(name):
            form.errors[name] = message
    return form


def _viewer(request: Request) -> Any:
    return request.user


def _filled(job: Any) -> forms.Form:
    record = {name: getattr(job, name) for name in OpportunityForm.model_fields if hasattr(job, name)}
    form = forms.filled(OpportunityForm, record)
    hours = job.hours_per_week
    form.values["hours_per_week"] = str(int(hours)) if hours == int(hours) else str(hours)
    form.values["pay"] = f"{job.pay_pence_per_hour / 100:.2f}" if job.pay_pence_per_hour is not None else ""
    form.values["qualification_required"] = str(job.qualification_required)
    return form


def _own(session: Any, request: Request, opportunity_id: int) -> Any:
    try:
        return opportunities.own(session, _viewer(request), opportunity_id)
    except NotFound as error:
        raise NotFoundException("No such opportunity in your department") from error


def _form_page(request: Request, form: forms.Form, job: Any = None) -> Template:
    title = f"Change {job.title}" if job else "Post an opportunity"
    return page(request, "department/opportunity_form.html", title, form=form, job=job,
                kinds=vocab.OPPORTUNITY_KINDS, qualifications=QUALIFICATIONS,
                back=(f"/opportunities/{job.id}", "Back") if job else ("/opportunities", "Back"))


@get("/opportunities", sync_to_thread=True, opt=DEPARTMENT)
def opportunity_list(request: Request, uow: NamedDependency[UnitOfWork]) -> Template:
    number = _page_number(request)
    with uow.read() as session:
        found = records.list_records(session, records.OPPORTUNITIES,
                                     filters={"department_id": request.user.department_id}, sort="-updated_at",
                                     limit=PER_PAGE, offset=(number - 1) * PER_PAGE)
    return page(request, "department/opportunities.html", "Opportunities", jobs=found.items, total=found.total,
                pages=_pagination("/opportunities", {}, number, found.total), colours=STATUS_COLOURS)


@get("/opportunities/new", sync_to_thread=True, opt=DEPARTMENT)
def new_opportunity(request: Request) -> Template:
    return _form_page(request, forms.Form())


@post("/opportunities", sync_to_thread=True, opt=DEPARTMENT)
def post_opportunity(request: Request, uow: NamedDependency[UnitOfWork], data: Posted) -> Template | Redirect:
    form = _read_opportunity(data)
    if not form.ok:
        return _form_page(request, form)
    with uow.write() as session:
        try:
            job = opportunities.post(session, _viewer(request), form.model.as_record())
        except DomainError as error:
            session.rollback()
            return _form_page(request, form.refuse(error, _labels()))
        job_id, reference = job.id, job.reference
    return done(request, f"/opportunities/{job_id}", f"Opportunity posted, reference {reference}")


@get("/opportunities/{opportunity_id:int}", sync_to_thread=True, opt=DEPARTMENT)
def opportunity(request: Request, uow: NamedDependency[UnitOfWork], opportunity_id: FromPath[int]) -> Template:
    with uow.read() as session:
        return _opportunity_page(request, session, _own(session, request, opportunity_id))


def _opportunity_page(request: Request, session: Any, job: Any, **context: Any) -> Template:
    counts = views.referral_counts(session, _viewer(request), opportunity_id=job.id)
    return page(request, "department/opportunity.html", job.title, job=job, colours=STATUS_COLOURS,
                counts=[(state, counts[state]) for state in STAGES if state in counts],
                qualifications=QUALIFICATIONS, can_pause=opportunities.pause_refusal(job) is None,
                can_close=opportunities.close_refusal(job) is None,
                can_reopen=job.status in opportunities.REOPENABLE, back=("/opportunities", "Opportunities"),
                **context)


@get("/opportunities/{opportunity_id:int}/edit", sync_to_thread=True, opt=DEPARTMENT)
def edit_opportunity(request: Request, uow: NamedDependency[UnitOfWork], opportunity_id: FromPath[int]) -> Template:
    with uow.read() as session:
        job = _own(session, request, opportunity_id)
        return _form_page(request, _filled(job), job)


@post("/opportunities/{opportunity_id:int}/edit", sync_to_thread=True, opt=DEPARTMENT)
def change_opportunity(request: Request, uow: NamedDependency[UnitOfWork], opportunity_id: FromPath[int],
                       data: Posted) -> Template | Redirect:
    form = _read_opportunity(data)
    with uow.write() as session:
        job = _own(session, request, opportunity_id)
        if not form.ok:
            return _form_page(request, form, job)
        try:
            opportunities.change(session, _viewer(request), opportunity_id, form.model.as_record(),
                                 version=version(data))
        except StaleVersion:
            session.rollback()
            form.errors[forms.PAGE] = ("Someone changed this opportunity after you opened it, so your changes "
                                       "were not saved. Check what it says now and make your changes again; "
                                       "what you typed is below.")
            form.model = None
            return _form_page(request, form, _own(session, request, opportunity_id))
        except DomainError as error:
            session.rollback()
            return _form_page(request, form.refuse(error, _labels()), _own(session, request, opportunity_id))
    return done(request, f"/opportunities/{opportunity_id}", "Opportunity changed")


def _labels() -> dict[str, str]:
    return {name: info.title or name for name, info in OpportunityForm.model_fields.items()}


@post("/opportunities/{opportunity_id:int}/pause", sync_to_thread=True, opt=DEPARTMENT)
def pause_opportunity(request: Request, uow: NamedDependency[UnitOfWork], opportunity_id: FromPath[int],
                      data: Posted) -> Template | Redirect:
    with uow.write() as session:
        _own(session, request, opportunity_id)
        try:
            opportunities.pause(session, _viewer(request), opportunity_id, version=version(data))
        except DomainError as error:
            session.rollback()
            return _opportunity_page(request, session, _own(session, request, opportunity_id),
                                     errors={"main-content": _refusal(error, "paused")})
    return done(request, f"/opportunities/{opportunity_id}",
                "Opportunity paused: no new proposals are made for it until you re-open it")


def _refusal(error: DomainError, what: str) -> str:
    if isinstance(error, StaleVersion):
        return (f"The opportunity was not {what}: someone changed it after you opened it. "
                "Check what it says now and try again.")
    text = str(error)
    return text[:1].upper() + text[1:]


@get("/opportunities/{opportunity_id:int}/close", sync_to_thread=True, opt=DEPARTMENT)
def confirm_close(request: Request, uow: NamedDependency[UnitOfWork], opportunity_id: FromPath[int]) -> Template:
    with uow.read() as session:
        job = _own(session, request, opportunity_id)
        if refusal := opportunities.close_refusal(job):
            return _opportunity_page(request, session, job, errors={"main-content": f"It cannot be closed: {refusal}"})
        return _close_page(request, job, forms.Form())


def _close_page(request: Request, job: Any, form: forms.Form) -> Template:
    return page(request, "department/close.html", f"Close {job.title}", job=job, form=form,
                back=(f"/opportunities/{job.id}", "Back"))


@post("/opportunities/{opportunity_id:int}/close", sync_to_thread=True, opt=DEPARTMENT)
def close_opportunity(request: Request, uow: NamedDependency[UnitOfWork], opportunity_id: FromPath[int],
                      data: Posted) -> Template | Redirect:
    form = forms.Form(values={"reason": forms.typed(CloseForm, data).get("reason", "")})
    with uow.write() as session:
        job = _own(session, request, opportunity_id)
        try:
            opportunities.close(session, _viewer(request), opportunity_id, version=version(data),
                                reason=form.values["reason"], actor_id=actor_id(request))
        except InvalidInput:
            session.rollback()
            form.errors["reason"] = "Enter why you are closing this opportunity"
            return _close_page(request, _own(session, request, opportunity_id), form)
        except DomainError as error:
            session.rollback()
            form.errors[forms.PAGE] = _refusal(error, "closed")
            return _close_page(request, _own(session, request, opportunity_id), form)
        title = job.title
    return done(request, f"/opportunities/{opportunity_id}",
                f"{title} is closed. People already referred to it keep their referral")


class CloseForm(SQLModel):
    reason: str = Field(default="", title="Why are you closing it?")


class ReopenForm(SQLModel):
    closes_on: date | None = Field(default=None, title="New closing date")


@get("/opportunities/{opportunity_id:int}/reopen", sync_to_thread=True, opt=DEPARTMENT)
def reopen_form(request: Request, uow: NamedDependency[UnitOfWork], opportunity_id: FromPath[int]) -> Template:
    with uow.read() as session:
        job = _own(session, request, opportunity_id)
        return _reopen_page(request, job, forms.Form())


def _reopen_page(request: Request, job: Any, form: forms.Form) -> Template:
    passed = job.closes_on is not None and job.closes_on < today()
    return page(request, "department/reopen.html", f"Re-open {job.title}", job=job, form=form, passed=passed,
                back=(f"/opportunities/{job.id}", "Back"))


@post("/opportunities/{opportunity_id:int}/reopen", sync_to_thread=True, opt=DEPARTMENT)
def reopen_opportunity(request: Request, uow: NamedDependency[UnitOfWork], opportunity_id: FromPath[int],
                       data: Posted) -> Template | Redirect:
    form = forms.read(ReopenForm, data)
    with uow.write() as session:
        job = _own(session, request, opportunity_id)
        if not form.ok:
            return _reopen_page(request, job, form)
        try:
            opportunities.reopen(session, _viewer(request), opportunity_id, version=version(data), today=today(),
                                 closes_on=form.model.closes_on)
        except InvalidInput as error:
            session.rollback()
            form.errors["closes_on-day"] = error.reason[:1].upper() + error.reason[1:]
            form.model = None
            return _reopen_page(request, _own(session, request, opportunity_id), form)
        except DomainError as error:
            session.rollback()
            form.errors[forms.PAGE] = _refusal(error, "re-opened")
            form.model = None
            return _reopen_page(request, _own(session, request, opportunity_id), form)
    return done(request, f"/opportunities/{opportunity_id}", "Opportunity re-opened")


# Referrals

STAGES = [state for state in vocab.OPPORTUNITY_STATES if state in lifecycle.REFERRED]
STAGE_ORDER = ["referred", *opportunities.STEP_ORDER, "withdrawn"]


def _page_number(request: Request) -> int:
    raw = request.query_params.get("page", "1")
    return int(raw) if raw.isdigit() and 0 < int(raw) < 100_000 else 1


def _pagination(path: str, query: dict[str, Any], number: int, total: int) -> dict[str, Any] | None:
    last = max(1, -(-total // PER_PAGE))
    if last == 1:
        return None

    def href(n: int) -> str:
        params = "&".join(f"{k}={v}" for k, v in {**query, "page": n}.items() if v)
        return f"{path}?{params}"
    return {"previous": {"href": href(number - 1)} if number > 1 else None,
            "next": {"href": href(number + 1)} if number < last else None,
            "items": [{"number": n, "href": href(n), "current": n == number} for n in range(1, last + 1)
                      if n in (1, last) or abs(n - number) <= 2]}


@get("/referrals", sync_to_thread=True, opt=DEPARTMENT)
def referrals(request: Request, uow: NamedDependency[UnitOfWork]) -> Template:
    stage = request.query_params.get("stage") or None
    stage = stage if stage in lifecycle.REFERRED else None
    raw = request.query_params.get("opportunity") or ""
    number = _page_number(request)
    with uow.read() as session:
        viewer = _viewer(request)
        summary = views.referral_summary(session, viewer)
        choices = {str(job_id): words for job_id, words in summary.opportunities.items()}
        job_id = int(raw) if raw in choices else None
        counts = summary.counts(job_id)
        found = views.referrals(session, viewer, stage=stage, opportunity_id=job_id, limit=PER_PAGE,
                                offset=(number - 1) * PER_PAGE, profiles=False)
        audit_care_leaver_reads(request, uow, session, [item["care_leaver_id"] for item in found], "list")
    total = counts.get(stage, 0) if stage else sum(counts.values())
    query = {"stage": stage, "opportunity": job_id}
    return page(request, "department/referrals.html", "Referrals", referrals=found, total=total,
                counts=[(state, counts[state]) for state in STAGE_ORDER if state in counts],
                filters=forms.Form(values={"stage": stage or "", "opportunity": str(job_id or "")}),
                stages={state: lifecycle.STATE_LABELS[state] for state in STAGE_ORDER}, opportunities=choices,
                stage=stage, job_id=job_id, pages=_pagination("/referrals", query, number, total))


def _referral(session: Any, request: Request, match_id: int) -> tuple[Any, dict[str, Any]]:
    found = views.referral(session, _viewer(request), match_id)
    if found is None:
        raise NotFoundException("No such referral to your department")
    return found


def _referral_page(request: Request, session: Any, match: Any, item: dict[str, Any], form: forms.Form) -> Template:
    steps = opportunities.department_steps(match)
    return page(request, "department/referral.html", f"{item['first_name']} {item['family_name'] or ''}".strip(),
                item=item, match=match, form=form, history=views.referral_history(session, match.id),
                steps={step: lifecycle.STATE_LABELS[step] for step in steps},
                hints={step: STEP_HINTS[step] for step in steps if step in STEP_HINTS},
                qualifications=QUALIFICATIONS, back=("/referrals", "Referrals"))


@get("/referrals/{match_id:int}", sync_to_thread=True, opt=DEPARTMENT)
def referral(request: Request, uow: NamedDependency[UnitOfWork], match_id: FromPath[int]) -> Template:
    with uow.read() as session:
        match, item = _referral(session, request, match_id)
        audit_care_leaver_reads(request, uow, session, [item["care_leaver_id"]], "read")
        return _referral_page(request, session, match, item, forms.Form())


def _words(step: str) -> str:
    return lifecycle.STATE_LABELS.get(step, step).lower()


REASON_MESSAGES = {"not_successful": "Enter why it was not successful", "ended_early": "Enter why it ended early"}


def _posted(data: Posted, name: str) -> str:
    value = data.get(name, "")
    return str((value[-1] if value else "") if isinstance(value, list) else value).strip()


@post("/referrals/{match_id:int}", sync_to_thread=True, opt=DEPARTMENT)
def record_outcome(request: Request, uow: NamedDependency[UnitOfWork], match_id: FromPath[int],
                   data: Posted) -> Template | Redirect:
    """The next step of a referral. A step that ends it goes to a confirmation page first (with its reason
    where one is needed); a stale or illegal step comes back with the reason and what was typed."""
    form = forms.Form(values={name: _posted(data, name) for name in ("to", "note", "reason")})
    to, reason, seen = form.values["to"], form.values["reason"], version(data)
    confirmed = _posted(data, "confirmed") == "yes"
    with uow.write() as session:
        match, item = _referral(session, request, match_id)
        current = to in opportunities.department_steps(match) and seen == match.version
        if not to or (current and opportunities.ends_the_match(to) and (
                not confirmed or (opportunities.needs_a_reason(to) and len(reason) < 3))):
            audit_care_leaver_access(request, session, [item["care_leaver_id"]], "read")
            if not to:
                form.errors["to"] = "Select what happened next"
                return _referral_page(request, session, match, item, form)
            if confirmed:
                form.errors["reason"] = REASON_MESSAGES.get(to, "Enter the reason")
            return _confirm_page(request, match, item, form, seen)
        try:
            opportunities.record_step(session, match, lifecycle.Change(
                to=to, version=seen, reason="\n".join(part for part in (reason, form.values["note"]) if part)),
                actor_id=actor_id(request), today=today())
        except DomainError as error:
            session.rollback()
            match, item = _referral(session, request, match_id)
            audit_care_leaver_access(request, session, [item["care_leaver_id"]], "read")
            if isinstance(error, StaleVersion):
                form.errors["to"] = ("Nothing was recorded: this referral was changed after you opened it. "
                                     f"It is now {_words(match.state)}. Check and choose again.")
            else:
                text = str(error)
                form.errors["to"] = f"Nothing was recorded: {text[:1].lower() + text[1:]}"
            return _referral_page(request, session, match, item, form)
        audit_care_leaver_access(request, session, [item["care_leaver_id"]], "update")
        name = item["first_name"]
    return done(request, f"/referrals/{match_id}", f"Recorded for {name}: {lifecycle.STATE_LABELS[to].lower()}")


def _confirm_page(request: Request, match: Any, item: dict[str, Any], form: forms.Form, seen: int) -> Template:
    to = form.values["to"]
    return page(request, "department/confirm_step.html", f"Confirm: {lifecycle.STATE_LABELS[to].lower()}",
                item=item, match=match, form=form, to=to, label=lifecycle.STATE_LABELS[to], seen_version=seen,
                needs_reason=opportunities.needs_a_reason(to), back=(f"/referrals/{match.id}", "Back"))


ROUTES = [opportunity_list, new_opportunity, post_opportunity, opportunity, edit_opportunity, change_opportunity,
          pause_opportunity, confirm_close, close_opportunity, reopen_form, reopen_opportunity, referrals, referral,
          record_outcome]
