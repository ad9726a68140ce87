"""A mentor's pages: their profile (edit, pause, resume), their mentees and the meetings they log and correct.

The form models here are shared with the sign-up journey (mentor_signup.py): the same questions are asked
and checked the same way when a mentor signs up and when they change their answers later.
"""

from datetime import date
from typing import Annotated, Any

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Template
from pydantic import AfterValidator, BaseModel, Field

from api import forms
from api.deps import UnitOfWork
from api.forms import Form, Posted
from api.pages.common import done, page, roles, tell, today, version
from api.records import audit_care_leaver_access, audit_care_leaver_reads, audit_change, audit_mentor_change
from matching import mentoring
from matching.errors import DomainError, InvalidInput, NotFound, StaleVersion
from matching.models import Department, User
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


class MeetingForm(BaseModel):
    met_on: Annotated[date | None, needed("Enter the date you met")] = Field(
        default=None, title="The date you met", validate_default=True)
    kind: Annotated[str, one_of(MEETING_KINDS, "Select how you met")] = Field(
        default="", title="How you met", validate_default=True)
    note: str = Field(default="", max_length=2000, title="Your note")


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


def _own(session, request: Request, match_id: int, meeting_id: int | None = None):
    """The viewer's own match (and meeting); anyone else's is a 404, so ids cannot be probed."""
    try:
        match = mentoring.own_match(session, request.user, match_id)
        meeting = mentoring.own_meeting(session, request.user, match_id, meeting_id) if meeting_id else None
    except NotFound as error:
        raise NotFoundException("No such mentee of yours") from error
    return match, meeting


def _meeting_page(request: Request, form: Form, name: str, match_id: int, meeting_id: int | None = None) -> Template:
    title = f"Change a meeting with {name}" if meeting_id else f"Log a meeting with {name}"
    action = f"/mentees/{match_id}/meetings" + (f"/{meeting_id}" if meeting_id else "")
    return page(request, "mentor/meeting.html", title, form=form, kinds=MEETING_KINDS, action=action,
                correcting=bool(meeting_id), back=("/mentees", "Back to your mentees"))


@get("/mentees/{match_id:int}/meetings/new", sync_to_thread=True, opt=roles("mentor"))
def log_meeting_form(request: Request, uow: NamedDependency[UnitOfWork], match_id: FromPath[int]) -> Template:
    with uow.read() as session:
        match, _ = _own(session, request, match_id)
        name = mentoring.mentee_first_name(session, match)
        audit_care_leaver_reads(request, uow, session, [match.care_leaver_id], "read")
    return _meeting_page(request, Form(), name, match_id)


@post("/mentees/{match_id:int}/meetings", sync_to_thread=True, opt=roles("mentor"))
def log_meeting(request: Request, uow: NamedDependency[UnitOfWork], match_id: FromPath[int],
                data: Posted) -> Template | Redirect:
    form = forms.read(MeetingForm, data)
    with uow.write() as session:
        match, _ = _own(session, request, match_id)
        name = mentoring.mentee_first_name(session, match)
        if form.ok:
            try:
                meeting = mentoring.log_meeting(session, request.user, match_id, met_on=form.model.met_on,
                                                kind=form.model.kind, note=form.model.note, today=today())
                audit_change(request, session, "meeting", [meeting.id], "create")
                audit_care_leaver_access(request, session, [match.care_leaver_id], "update")
            except DomainError as error:
                session.rollback()
                said(form, error)
        if not form.ok:
            return _meeting_page(request, form, name, match_id)
    return done(request, "/mentees", f"Meeting with {name} logged")


@get("/mentees/{match_id:int}/meetings/{meeting_id:int}", sync_to_thread=True, opt=roles("mentor"))
def correct_meeting_form(request: Request, uow: NamedDependency[UnitOfWork], match_id: FromPath[int],
                         meeting_id: FromPath[int]) -> Template:
    with uow.read() as session:
        match, meeting = _own(session, request, match_id, meeting_id)
        name = mentoring.mentee_first_name(session, match)
        form = forms.filled(MeetingForm, meeting.model_dump())
        audit_care_leaver_reads(request, uow, session, [match.care_leaver_id], "read")
    return _meeting_page(request, form, name, match_id, meeting_id)


@post("/mentees/{match_id:int}/meetings/{meeting_id:int}", sync_to_thread=True, opt=roles("mentor"))
def correct_meeting(request: Request, uow: NamedDependency[UnitOfWork], match_id: FromPath[int],
                    meeting_id: FromPath[int], data: Posted) -> Template | Redirect:
    form = forms.read(MeetingForm, data)
    with uow.write() as session:
        match, _ = _own(session, request, match_id, meeting_id)
        name = mentoring.mentee_first_name(session, match)
        if form.ok:
            try:
                mentoring.correct_meeting(session, request.user, match_id, meeting_id, met_on=form.model.met_on,
                                          kind=form.model.kind, note=form.model.note, today=today())
                audit_change(request, session, "meeting", [meeting_id], "correct")
                audit_care_leaver_access(request, session, [match.care_leaver_id], "update")
            except DomainError as error:
                session.rollback()
                said(form, error)
        if not form.ok:
            return _meeting_page(request, form, name, match_id, meeting_id)
    return done(request, "/mentees", f"Meeting with {name} corrected")


ROUTES = [profile, edit_profile_form, edit_profile, pause_form, pause, resume_form, resume, mentees,
          log_meeting_form, log_meeting, correct_meeting_form, correct_meeting]
