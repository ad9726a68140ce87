"""Signing up as a mentor, without an account yet: GOV.UK question pages, then "Check your answers", then a
confirmation. The answers wait in the server-side session under one key (SESSION_KEY); the password never
does: only its argon2 hash, made as soon as it is typed. Submitting makes a pending mentor
(mentoring.sign_up), whom a manager vets before matching can propose them.
"""

from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.middleware.rate_limit import RateLimitConfig, get_remote_address
from litestar.params import FromQuery
from litestar.response import Redirect, Template
from pydantic import BaseModel, Field

from api import forms
from api.deps import UnitOfWork
from api.forms import Form, Posted
from api.pages.common import page
from api.pages.mentor import (
    AvailabilityQuestions,
    FullName,
    JobTitle,
    OfferQuestions,
    OfficeArea,
    WorkEmail,
    needed,
    said,
)
from api.records import audit_change
from matching import mentoring, passwords
from matching.errors import DomainError
from matching.vocab import DAYS

SESSION_KEY = "mentor_sign_up"
BASE = "/mentors/sign-up"
# Public: no sign-in, and the session sign-in middleware is skipped (it would send the person to sign in).
OPEN = {"public": True, "exclude_from_auth": True}
KEEP = "keep-the-password-you-chose"  # what blank password boxes stand for on a second visit
# The steps that ask the database about an e-mail address or make an account are rate-limited per client
# address, apart from sign-in's own limit, so the "already has an account" answer cannot be used to sweep
# through addresses and accounts cannot be made in bulk.
LIMITED = [RateLimitConfig(("minute", 10), store="rate_limit",
                           identifier_for_request=lambda request: f"sign-up:{get_remote_address(request)}").middleware]


class AboutYou(BaseModel):
    full_name: FullName
    email: WorkEmail
    password: str = Field(min_length=12, max_length=200, title="Your password")
    password_again: str = Field(title="Your password again")

    _same = forms.typed_twice("password", "password_again")


class YourRole(BaseModel):
    department_id: Annotated[int | None, needed("Select your department")] = Field(
        default=None, title="Your department", validate_default=True)
    job_title: JobTitle
    office_area: OfficeArea


@dataclass(frozen=True)
class Question:
    slug: str
    title: str
    model: type[BaseModel]
    template: str


QUESTIONS = [Question("about-you", "About you", AboutYou, "mentor/sign_up/about_you.html"),
             Question("your-role", "Your role", YourRole, "mentor/sign_up/your_role.html"),
             Question("what-you-offer", "What you can offer", OfferQuestions, "mentor/sign_up/offer.html"),
             Question("availability", "When and how much", AvailabilityQuestions, "mentor/sign_up/availability.html")]


def _answers(request: Request) -> dict[str, Any]:
    kept = request.session.get(SESSION_KEY) if isinstance(request.scope.get("session"), dict) else None
    return dict(kept) if isinstance(kept, dict) else {}


def _keep(request: Request, answers: dict[str, Any]) -> None:
    request.session[SESSION_KEY] = answers


def _next_unanswered(answers: dict[str, Any]) -> Question | None:
    return next((q for q in QUESTIONS if q.slug not in answers), None)


def _question_page(request: Request, question: Question, form: Form, change: bool, uow: UnitOfWork,
                   status_code: int | None = None) -> Template:
    extra: dict[str, Any] = {}
    if question.slug == "your-role":
        with uow.read() as session:
            extra["departments"] = {str(k): v for k, v in mentoring.departments(session).items()}
    if question.slug == "about-you":
        form.values.update(password="", password_again="")  # a password is never sent back to the browser
        extra["has_password"] = bool(_answers(request).get("about-you", {}).get("password_hash"))
    index = QUESTIONS.index(question)
    back = (f"{BASE}/check-answers", "Back to check your answers") if change else \
        ((f"{BASE}/{QUESTIONS[index - 1].slug}", "Back") if index else (BASE, "Back"))
    return page(request, question.template, question.title, status_code=status_code, form=form, change=change,
                action=f"{BASE}/{question.slug}", step=index + 1, steps=len(QUESTIONS), days=DAYS,
                max_capacity=mentoring.MAX_OWN_CAPACITY, back=back, **extra)


def _question(question: Question):
    """The GET and POST handlers of one question page."""

    @get(f"{BASE}/{question.slug}", sync_to_thread=True, opt=OPEN, name=f"sign-up-{question.slug}")
    def ask(request: Request, uow: NamedDependency[UnitOfWork], change: FromQuery[bool] = False) -> Template | Redirect:
        answers = _answers(request)
        first = _next_unanswered(answers)
        if first is not None and QUESTIONS.index(first) < QUESTIONS.index(question):
            return Redirect(f"{BASE}/{first.slug}", status_code=303)  # the questions are answered in order
        form = forms.filled(question.model, answers[question.slug]) if question.slug in answers else Form()
        return _question_page(request, question, form, change, uow)

    @post(f"{BASE}/{question.slug}", sync_to_thread=True, opt=OPEN, status_code=200,
          middleware=LIMITED if question.slug == "about-you" else [])
    def answer(request: Request, uow: NamedDependency[UnitOfWork], data: Posted) -> Template | Redirect:
        answers = _answers(request)
        change = str(data.get("change", "")) == "true"
        kept_hash = answers.get("about-you", {}).get("password_hash")
        blank = question.slug == "about-you" and kept_hash and not data.get("password") and not data.get(
            "password_again")
        form = forms.read(question.model, data, **({"password": KEEP, "password_again": KEEP} if blank else {}))
        if question.slug == "about-you" and form.values.get("email") and "email" not in form.errors:
            with uow.read() as session:  # said even while other answers still need fixing
                if mentoring.email_taken(session, form.values["email"]):
                    form.errors["email"] = mentoring.EMAIL_TAKEN
                    form.model = None
                    order = list(question.model.model_fields)
                    form.errors = dict(sorted(form.errors.items(), key=lambda item: order.index(item[0])
                                              if item[0] in order else len(order)))
        if form.ok and question.slug == "your-role":
            with uow.read() as session:
                if form.model.department_id not in mentoring.departments(session):
                    form.errors["department_id"] = "Select your department"
        if form.ok and question.slug == "about-you" and not blank:
            refused = passwords.refusal(form.model.password, email=form.model.email, full_name=form.model.full_name)
            if refused:
                form.errors["password"], form.model = refused, None
        if not form.ok:
            return _question_page(request, question, form, change, uow)
        stored = form.model.model_dump(mode="json")
        if question.slug == "about-you":
            password = stored.pop("password")
            stored.pop("password_again")
            stored["password_hash"] = kept_hash if blank else mentoring.hash_password(password)
        answers[question.slug] = stored
        _keep(request, answers)
        following = _next_unanswered(answers)
        if change or following is None:
            return Redirect(f"{BASE}/check-answers", status_code=303)
        return Redirect(f"{BASE}/{following.slug}", status_code=303)

    ask.__name__, answer.__name__ = f"ask_{question.slug}", f"answer_{question.slug}"
    return ask, answer


@get(BASE, sync_to_thread=False, opt=OPEN)
def start(request: Request) -> Template:
    return page(request, "mentor/sign_up/start.html", "Become a mentor", back=("/sign-in", "Back to sign in"))


def _summary(answers: dict[str, Any], departments: dict[int, str]) -> dict[str, Any]:
    return {**answers.get("about-you", {}), **answers.get("your-role", {}), **answers.get("what-you-offer", {}),
            **answers.get("availability", {}),
            "department": departments.get(answers.get("your-role", {}).get("department_id"), "")}


@get(f"{BASE}/check-answers", sync_to_thread=True, opt=OPEN)
def check_answers(request: Request, uow: NamedDependency[UnitOfWork]) -> Template | Redirect:
    answers = _answers(request)
    first = _next_unanswered(answers)
    if first is not None:
        return Redirect(f"{BASE}/{first.slug}", status_code=303)
    with uow.read() as session:
        departments = mentoring.departments(session)
    return page(request, "mentor/sign_up/check_answers.html", "Check your answers before signing up",
                answers=_summary(answers, departments), days=DAYS, base=BASE,
                back=(f"{BASE}/{QUESTIONS[-1].slug}", "Back"))


@post(f"{BASE}/check-answers", sync_to_thread=True, opt=OPEN, status_code=200, middleware=LIMITED)
def submit(request: Request, uow: NamedDependency[UnitOfWork], data: Posted) -> Template | Redirect:
    answers = _answers(request)
    first = _next_unanswered(answers)
    if first is not None:
        return Redirect(f"{BASE}/{first.slug}", status_code=303)
    values = _summary(answers, {})
    values.pop("department")
    with uow.write() as session:
        try:
            mentor = mentoring.sign_up(session, **values)
            audit_change(request, session, "mentor", [mentor.id], "create", actor=mentor.user_id)
        except DomainError as error:
            session.rollback()
            field = getattr(error, "field", "")
            question = next((q for q in QUESTIONS if field in q.model.model_fields), QUESTIONS[0])
            form = forms.filled(question.model, answers[question.slug])
            return _question_page(request, question, said(form, error), True, uow, status_code=400)
    _keep(request, {"done": {"full_name": values["full_name"], "email": values["email"]}})
    return Redirect(f"{BASE}/done", status_code=303)


@get(f"{BASE}/done", sync_to_thread=False, opt=OPEN)
def confirmation(request: Request) -> Template | Redirect:
    finished = _answers(request).get("done")
    if not finished:
        return Redirect(BASE, status_code=303)
    return page(request, "mentor/sign_up/done.html", "You have signed up as a mentor", **finished)


ROUTES = [start, *[handler for question in QUESTIONS for handler in _question(question)], check_answers, submit,
          confirmation]
