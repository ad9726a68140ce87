"""A mentor's pages: their profile (edit, pause, resume), their name and email, their mentees and the meetings
they log and correct.

The form models here are shared with the sign-up journey (mentor_signup.py): the same questions are asked
and checked the same way when a mentor signs up and when they change their answers later. The meeting pages
are shared with advisers (matches.py), who log and correct meetings from a match's page: `MeetingPages` says
where each is; the handlers and the rule (mentoring.check_meeting) are the same.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.middleware.rate_limit import RateLimitConfig, get_remote_address
from litestar.params import FromPath
from litestar.response import Redirect, Template
from pydantic import AfterValidator, BaseModel, Field
from pydantic import ValidationError as PydanticError
from pydantic.networks import validate_email
from sqlmodel import Session

from api import forms
from api.deps import UnitOfWork
from api.forms import Form, Posted
from api.pages.common import done, page, roles, tell, today, version
from api.records import audit_care_leaver_access, audit_care_leaver_reads, audit_change, audit_mentor_change
from matching import mentoring
from matching.errors import DomainError, InvalidInput, NotFound, StaleVersion
from matching.models import Department, Match, User
from matching.models.base import Outcode, Tags
from matching.vocab import DAYS, MEETING_KINDS, Day


def needed(message: str):
    """A field that must be answered, with its own GOV.UK message ('Select ...' for a choice, which the shared
    mapping would word as 'Enter ...')."""
    def check(value: Any) -> Any:
        if value is None or value == "" or value == []:
            raise ValueError(message)
        return value
    return AfterValidator(check)


def one_of(vocabulary: dict[str, str], message: str):
    def check(value: str) -> str:
        if value not in vocabulary:
            raise ValueError(message)
        return value
    return AfterValidator(check)


JobTitle = Annotated[str, Field(min_length=2, max_length=120, title="Your job title")]
OfficeArea = Annotated[Outcode, Field(title="Your office postcode district")]
Expertise = Annotated[Tags, needed("Enter at least one thing you know about, like housing or finance"),
                      Field(default_factory=list, title="What you know about", validate_default=True)]
Interests = Annotated[Tags, Field(default_factory=list, title="Your interests")]
Languages = Annotated[Tags, Field(default_factory=list, title="Languages you speak")]
Availability = Annotated[list[Day], needed("Select at least one day you could meet"),
                         Field(default_factory=list, title="Days you could meet", validate_default=True)]


class OfferQuestions(BaseModel):
    expertise: Expertise
    interests: Interests
    languages: Languages


class AvailabilityQuestions(BaseModel):
    availability: Availability
    capacity: int = Field(ge=mentoring.MIN_CAPACITY, le=mentoring.MAX_OWN_CAPACITY, title="The number of mentees")


class OwnProfile(BaseModel):
    """What a mentor changes about themselves, in the order the page asks: never vetting dates, department or
    status (mentoring.check_own_changes)."""

    job_title: JobTitle
    office_area: OfficeArea
    expertise: Expertise
    interests: Interests
    languages: Languages
    availability: Availability
    # A manager may have agreed more than 5; the domain refuses a mentor raising it past 5 themselves.
    capacity: int = Field(ge=mentoring.MIN_CAPACITY, le=20, title="The number of mentees")


def meeting_form(who: str) -> type[BaseModel]:
    """The meeting questions, worded for who met: "you" (the mentor) or "they" (asked by an adviser)."""
    class MeetingForm(BaseModel):
        met_on: Annotated[date | None, needed(f"Enter the date {who} met")] = Field(
            default=None, title=f"The date {who} met", validate_default=True)
        kind: Annotated[str, one_of(MEETING_KINDS, f"Select how {who} met")] = Field(
            default="", title=f"How {who} met", validate_default=True)
        note: str = Field(default="", max_length=2000, title="The note")
    return MeetingForm


# Worded as mentoring.who_met words the refusals, so the questions and the errors speak alike.
MEETING_FORMS = {who: meeting_form(who) for who in ("you", "they")}
MeetingForm = MEETING_FORMS["you"]


def _email(value: str) -> str:
    try:
        return validate_email(value)[1].lower()
    except (PydanticError, ValueError) as error:
        raise ValueError("Enter an email address in the correct format, like name@northbridge.gov.uk") from error


FullName = Annotated[str, Field(min_length=2, max_length=120, title="Your full name")]
WorkEmail = Annotated[str, AfterValidator(_email), Field(max_length=254, title="Your work email address")]


class OwnAccount(BaseModel):
    """A mentor's name and email (the address they sign in with); the password only confirms a new email."""

    full_name: FullName
    email: WorkEmail
    current_password: str = Field(default="", max_length=200, title="Your current password")


def said(form: Form, error: DomainError) -> Form:
    """The domain's refusal on the form, in its own words, beside the field it names (or above the form)."""
    if isinstance(error, InvalidInput) and error.field in form.values:
        anchor = f"{error.field}-day" if isinstance(form.values.get(error.field), dict) else error.field
        form.errors[anchor] = error.reason[:1].upper() + error.reason[1:]
    else:
        form.errors[forms.PAGE] = str(error)[:1].upper() + str(error)[1:]
    form.model = None
    return form


# --- Profile -------------------------------------------------------------------------------------------------

def _profile(session, viewer) -> dict[str, Any]:
    try:
        mentor = mentoring.own_profile(session, viewer)
    except NotFound as error:
        raise NotFoundException("You have no mentor profile") from error
    user, department = session.get(User, mentor.user_id), session.get(Department, mentor.department_id)
    return {"mentor": mentor.model_dump(), "full_name": user.full_name, "email": user.email,
            "department": department.name, "not_matched": mentoring.not_matched_because(mentor, today())}


@get("/profile", sync_to_thread=True, opt=roles("mentor"))
def profile(request: Request, uow: NamedDependency[UnitOfWork]) -> Template:
    with uow.read() as session:
        found = _profile(session, request.user)
    return page(request, "mentor/profile.html", "My profile", days=DAYS, **found)


def _edit_page(request: Request, form: Form, mentor_version: int) -> Template:
    return page(request, "mentor/profile_edit.html", "Change your profile", form=form, version=mentor_version,
                days=DAYS, back=("/profile", "Back to your profile"))


@get("/profile/edit", sync_to_thread=True, opt=roles("mentor"))
def edit_profile_form(request: Request, uow: NamedDependency[UnitOfWork]) -> Template:
    with uow.read() as session:
        mentor = _profile(session, request.user)["mentor"]
    return _edit_page(request, forms.filled(OwnProfile, mentor), mentor["version"])


@post("/profile/edit", sync_to_thread=True, opt=roles("mentor"))
def edit_profile(request: Request, uow: NamedDependency[UnitOfWork], data: Posted) -> Template | Redirect:
    form = forms.read(OwnProfile, data)
    if not form.ok:
        return _edit_page(request, form, version(data))
    with uow.write() as session:
        try:
            mentor = mentoring.update_own_profile(session, request.user, form.model.model_dump(), version=version(data))
            audit_mentor_change(request, session, [mentor.id], "update")
        except StaleVersion:
            session.rollback()
            return tell(request, "/profile/edit", "Nothing was saved: your profile was changed somewhere else "
                                                  "since you opened this page. Here it is as it is now.")
        except NotFound as error:
            raise NotFoundException("You have no mentor profile") from error
        except DomainError as error:
            session.rollback()
            return _edit_page(request, said(form, error), version(data))
    return done(request, "/profile", "Your profile is saved")


# Guessing a password through the email change is slow (argon2) and limited per client address, apart
# from sign-in's own limit.
ACCOUNT_LIMIT = [RateLimitConfig(("minute", 10), store="rate_limit",
                                 identifier_for_request=lambda request: f"own-account:{get_remote_address(request)}"
                                 ).middleware]


def _account_page(request: Request, form: Form, user_version: int) -> Template:
    return page(request, "mentor/account.html", "Change your name or email address", form=form,
                version=user_version, back=("/profile", "Back to your profile"))


def _account(session, viewer) -> User:
    try:
        return mentoring.own_account(session, viewer)
    except NotFound as error:
        raise NotFoundException("You have no mentor profile") from error


@get("/profile/account", sync_to_thread=True, opt=roles("mentor"))
def account_form(request: Request, uow: NamedDependency[UnitOfWork]) -> Template:
    with uow.read() as session:
        user = _account(session, request.user)
        form, user_version = forms.filled(OwnAccount, user.model_dump()), user.version
    return _account_page(request, form, user_version)


@post("/profile/account", sync_to_thread=True, opt=roles("mentor"), middleware=ACCOUNT_LIMIT)
def change_account(request: Request, uow: NamedDependency[UnitOfWork], data: Posted) -> Template | Redirect:
    form = forms.read(OwnAccount, data)
    form.values["current_password"] = ""  # a password is never shown back
    if not form.ok:
        return _account_page(request, form, version(data))
    with uow.write() as session:
        mentor_id = _profile(session, request.user)["mentor"]["id"]
        try:
            changed = mentoring.change_own_account(session, request.user, full_name=form.model.full_name,
                                                   email=form.model.email,
                                                   current_password=form.model.current_password,
                                                   version=version(data))
            if changed:
                audit_mentor_change(request, session, [mentor_id], "account")
        except StaleVersion:
            session.rollback()
            return tell(request, "/profile/account", "Nothing was saved: your name or email was changed somewhere "
                                                     "else since you opened this page. Here they are as they are now.")
        except DomainError as error:
            session.rollback()
            return _account_page(request, said(form, error), version(data))
    if not changed:
        return tell(request, "/profile", "Nothing was changed: your name and email address are as they were")
    what = " and ".join({"full_name": "name", "email": "email address"}[name] for name in changed)
    signing_in = " Sign in with your new email address from now on." if "email" in changed else ""
    return done(request, "/profile", f"Your {what} {'are' if len(changed) > 1 else 'is'} saved.{signing_in}")


STATUS_STEPS = {"pause": (mentoring.pause, "Pause your mentoring", "Your profile is paused: you will not be "
                                                                   "matched with anyone new"),
                "resume": (mentoring.resume, "Resume your mentoring", "Your profile is active again")}


def _status_page(request: Request, step: str, found: dict[str, Any], errors: dict[str, str] | None = None) -> Template:
    return page(request, "mentor/status.html", STATUS_STEPS[step][1], step=step, errors=errors or {},
                back=("/profile", "Back to your profile"), **found)


@get("/profile/pause", sync_to_thread=True, opt=roles("mentor"))
def pause_form(request: Request, uow: NamedDependency[UnitOfWork]) -> Template:
    with uow.read() as session:
        return _status_page(request, "pause", _profile(session, request.user))


@get("/profile/resume", sync_to_thread=True, opt=roles("mentor"))
def resume_form(request: Request, uow: NamedDependency[UnitOfWork]) -> Template:
    with uow.read() as session:
        return _status_page(request, "resume", _profile(session, request.user))


def _change_status(request: Request, uow: UnitOfWork, step: str, data: dict[str, Any]) -> Template | Redirect:
    change, _, success = STATUS_STEPS[step]
    with uow.write() as session:
        try:
            mentor = change(session, request.user, version=version(data))
            audit_mentor_change(request, session, [mentor.id], step)
        except NotFound as error:
            raise NotFoundException("You have no mentor profile") from error
        except DomainError as error:
            session.rollback()
            return _status_page(request, step, _profile(session, request.user),
                                errors={forms.PAGE: str(error)[:1].upper() + str(error)[1:]})
    return done(request, "/profile", success)


@post("/profile/pause", sync_to_thread=True, opt=roles("mentor"))
def pause(request: Request, uow: NamedDependency[UnitOfWork], data: Posted) -> Template | Redirect:
    return _change_status(request, uow, "pause", data)


@post("/profile/resume", sync_to_thread=True, opt=roles("mentor"))
def resume(request: Request, uow: NamedDependency[UnitOfWork], data: Posted) -> Template | Redirect:
    return _change_status(request, uow, "resume", data)


# --- Mentees and meetings -------------------------------------------------------------------------------------

@get("/mentees", sync_to_thread=True, opt=roles("mentor"))
def mentees(request: Request, uow: NamedDependency[UnitOfWork]) -> Template:
    with uow.read() as session:
        found = mentoring.mentees_with_meetings(session, request.user)
        try:
            mentor = mentoring.own_profile(session, request.user)
        except NotFound:
            mentor = None
        audit_care_leaver_reads(request, uow, session, [item["care_leaver_id"] for item in found], "list")
    return page(request, "mentor/mentees.html", "My mentees", mentees=found, kinds=MEETING_KINDS, mentor=mentor)


@dataclass(frozen=True)
class MeetingPages:
    """Where meetings on a mentoring match are logged and corrected from: a mentor's own mentees (MENTEES), or
    the match's page for an adviser or manager (matches.py). The rule and the handlers are the same."""

    prefix: str  # the match's address is f"{prefix}/{match_id}", its meetings' f"{prefix}/{match_id}/meetings"
    opt: dict[str, Any]  # who may use the pages (roles)
    done: Callable[[int], str]  # where the person goes back to, with the banner
    back: str  # the back link's words
    name: Callable[[Session, Match], str]  # the mentee as this person sees them
    titles: tuple[str, str]  # "Log a meeting with {name}", "Change a meeting with {name}"
    banner: str  # "Meeting with {name}", followed by "logged" or "corrected"


MENTEES = MeetingPages(prefix="/mentees", opt=roles("mentor"), done=lambda _: "/mentees", back="Back to your mentees",
                       name=mentoring.mentee_first_name,
                       titles=("Log a meeting with {name}", "Change a meeting with {name}"),
                       banner="Meeting with {name}")


def _meeting_form(request: Request) -> type[BaseModel]:
    return MEETING_FORMS[mentoring.who_met(request.user)]


def _visible(session, request: Request, match_id: int, meeting_id: int | None = None):
    """The match (and meeting) if the viewer may see it; anyone else's is a 404, so ids cannot be probed."""
    try:
        match = mentoring.visible_match(session, request.user, match_id)
        meeting = mentoring.meeting_on(session, request.user, match_id, meeting_id) if meeting_id else None
    except NotFound as error:
        raise NotFoundException("No such mentoring match of yours") from error
    return match, meeting


def _meeting_page(request: Request, where: MeetingPages, form: Form, name: str, match_id: int,
                  meeting_id: int | None = None) -> Template:
    title = where.titles[1 if meeting_id else 0].format(name=name)
    action = f"{where.prefix}/{match_id}/meetings" + (f"/{meeting_id}" if meeting_id else "")
    return page(request, "mentor/meeting.html", title, form=form, kinds=MEETING_KINDS, action=action,
                correcting=bool(meeting_id), who=mentoring.who_met(request.user),
                back=(where.done(match_id), where.back))


def meeting_form_page(request: Request, uow: UnitOfWork, where: MeetingPages, match_id: int,
                      meeting_id: int | None = None) -> Template:
    """A blank meeting form, or a logged meeting to correct; the mentee's record is read, so audited."""
    with uow.read() as session:
        match, meeting = _visible(session, request, match_id, meeting_id)
        name = where.name(session, match)
        form = forms.filled(_meeting_form(request), meeting.model_dump()) if meeting else Form()
        audit_care_leaver_reads(request, uow, session, [match.care_leaver_id], "read")
    return _meeting_page(request, where, form, name, match_id, meeting_id)


def save_meeting(request: Request, uow: UnitOfWork, where: MeetingPages, match_id: int, data: dict[str, Any],
                 meeting_id: int | None = None) -> Template | Redirect:
    """Log a meeting, or correct one (meeting_id); a refusal shows the form again with what was typed."""
    form = forms.read(_meeting_form(request), data)
    with uow.write() as session:
        match, _ = _visible(session, request, match_id, meeting_id)
        name = where.name(session, match)
        if form.ok:
            answers = {"met_on": form.model.met_on, "kind": form.model.kind, "note": form.model.note}
            try:
                if meeting_id:
                    mentoring.correct_meeting(session, request.user, match_id, meeting_id, **answers, today=today())
                    audit_change(request, session, "meeting", [meeting_id], "correct")
                else:
                    logged = mentoring.log_meeting(session, request.user, match_id, **answers, today=today())
                    audit_change(request, session, "meeting", [logged.id], "create")
                audit_care_leaver_access(request, session, [match.care_leaver_id], "update")
            except DomainError as error:
                session.rollback()
                said(form, error)
        if not form.ok:
            return _meeting_page(request, where, form, name, match_id, meeting_id)
    return done(request, where.done(match_id),
                f"{where.banner.format(name=name)} {'corrected' if meeting_id else 'logged'}")


def meeting_routes(where: MeetingPages) -> list[Any]:
    """The four meeting pages under `where.prefix`: a new meeting's form and its post, a logged meeting's form
    to correct it and that post."""
    meetings = where.prefix + "/{match_id:int}/meetings"

    @get(f"{meetings}/new", sync_to_thread=True, opt=where.opt)
    def log_meeting_form(request: Request, uow: NamedDependency[UnitOfWork], match_id: FromPath[int]) -> Template:
        return meeting_form_page(request, uow, where, match_id)

    @post(meetings, sync_to_thread=True, opt=where.opt)
    def log_meeting(request: Request, uow: NamedDependency[UnitOfWork], match_id: FromPath[int],
                    data: Posted) -> Template | Redirect:
        return save_meeting(request, uow, where, match_id, data)

    @get(meetings + "/{meeting_id:int}", sync_to_thread=True, opt=where.opt)
    def correct_meeting_form(request: Request, uow: NamedDependency[UnitOfWork], match_id: FromPath[int],
                             meeting_id: FromPath[int]) -> Template:
        return meeting_form_page(request, uow, where, match_id, meeting_id)

    @post(meetings + "/{meeting_id:int}", sync_to_thread=True, opt=where.opt)
    def correct_meeting(request: Request, uow: NamedDependency[UnitOfWork], match_id: FromPath[int],
                        meeting_id: FromPath[int], data: Posted) -> Template | Redirect:
        return save_meeting(request, uow, where, match_id, data, meeting_id)

    return [log_meeting_form, log_meeting, correct_meeting_form, correct_meeting]


ROUTES = [profile, edit_profile_form, edit_profile, account_form, change_account, pause_form, pause, resume_form,
          resume, mentees, *meeting_routes(MENTEES)]
