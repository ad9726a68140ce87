"""Mentors: signing up, vetting by a manager, their own profile, pausing, and the meetings they log.

Plain functions taking a session, called by the pages and the JSON API alike. The vetting windows are the
ones the engine's hard rules apply (engine/rules.py: `mentor_dbs_checked`, `mentor_safeguarding_trained`),
named here once, so a manager cannot activate a mentor whom matching would then never propose.
"""

from datetime import date, timedelta
from typing import Any, Protocol

import sqlalchemy as sa
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import Session, select

from matching import lifecycle, pipeline, scopes
from matching.errors import Conflict, InvalidInput, NotFound, StaleVersion
from matching.models import CareLeaver, Department, Match, Meeting, Mentor, MentorCreate, MentorUpdate, User, UserCreate
from matching.services import records, users, views

DBS_VALID_YEARS = 3
SAFEGUARDING_VALID_YEARS = 3  # refresher training every three years
MIN_CAPACITY, MAX_OWN_CAPACITY = 1, 5  # what a mentor may choose for themselves; a manager may set more
# What a mentor may change on their own profile; everything else (vetting dates, department, status,
# account) is a manager's or an administrator's.
OWN_PROFILE_FIELDS = frozenset({"job_title", "expertise", "interests", "languages", "availability", "capacity",
                                "office_area"})
# The only status changes a mentor makes themselves: pausing and resuming.
OWN_STATUS_STEPS = {("active", "paused"), ("paused", "active")}
EMAIL_TAKEN = "An account with this email already exists: sign in instead"
EMAIL_IN_USE = "Another account already uses this email address: enter a different one"


class Viewer(Protocol):
    id: int
    role: str
    department_id: int | None


# --- The vetting rules (the engine's, by name) -------------------------------------------------------------

def _valid_from(today: date, years: int) -> date:
    """The oldest date of a check lasting `years` calendar years that still counts today (to the end of its
    anniversary; a check on 29 February lasts to 28 February, as there is no 29th that year)."""
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # today is 29 February: a check on 28 February had its anniversary yesterday
        return date(today.year - years, 3, 1)


def _last_day(done_on: date, years: int) -> date:
    """The last day a check done on `done_on` counts: its anniversary `years` on (28 February for 29 February)."""
    try:
        return done_on.replace(year=done_on.year + years)
    except ValueError:
        return date(done_on.year + years, 2, 28)


def dbs_valid_from(today: date) -> date:
    """The oldest DBS check date that still counts: a check lasts three calendar years, to the end of its
    third anniversary."""
    return _valid_from(today, DBS_VALID_YEARS)


def dbs_current(checked_on: date | None, today: date) -> bool:
    """The engine's `mentor_dbs_checked` rule for one mentor."""
    return checked_on is not None and dbs_valid_from(today) <= checked_on <= today


def safeguarding_valid_from(today: date) -> date:
    """The oldest safeguarding training that still counts: it is refreshed every three years, like the DBS
    check (the same calendar-year window)."""
    return _valid_from(today, SAFEGUARDING_VALID_YEARS)


def safeguarding_current(trained_on: date | None, today: date) -> bool:
    """The engine's `mentor_safeguarding_trained` rule for one mentor: training in the last three years."""
    return trained_on is not None and safeguarding_valid_from(today) <= trained_on <= today


# Each vetting check: its field, its words, and how many years it counts (the windows above).
VETTING_CHECKS = {"dbs": ("dbs_checked_on", "DBS check", DBS_VALID_YEARS),
                  "safeguarding": ("safeguarding_trained_on", "safeguarding training", SAFEGUARDING_VALID_YEARS)}


def lapsed_on(check: str, done_on: date | None) -> date | None:
    """The first day a check no longer counts (None: never done, so it never counted)."""
    if done_on is None:
        return None
    return _last_day(done_on, VETTING_CHECKS[check][2]) + timedelta(days=1)


def lapsed_vetting(session: Session, *, today: date, adviser_id: int | None = None) -> list[dict[str, Any]]:
    """Live mentoring (approved, introduced or active) whose mentor's DBS check or safeguarding training no
    longer counts today: one row per match and check, with who, which adviser, the mentor, since when
    (`lapsed_on`, the first day it stopped counting; the day it was never done, when it never was: the
    match's creation) and days overdue (1 on the day it lapses). The longest lapsed first."""
    query = (sa.select(Match.id.label("match_id"), Match.state, Match.created_at, Mentor.id.label("mentor_id"),
                       Mentor.dbs_checked_on, Mentor.safeguarding_trained_on, User.full_name.label("mentor"),
                       CareLeaver.id.label("care_leaver_id"), CareLeaver.first_name, CareLeaver.preferred_name,
                       CareLeaver.family_name, CareLeaver.case_reference, CareLeaver.personal_adviser_id)
             .join(Mentor, Mentor.id == Match.mentor_id).join(User, User.id == Mentor.user_id)
             .join(CareLeaver, CareLeaver.id == Match.care_leaver_id)
             .where(Match.kind == "mentoring", Match.state.in_(sorted(lifecycle.HOLDING["mentoring"]))))
    if adviser_id:
        query = query.where(CareLeaver.personal_adviser_id == adviser_id)
    current = {"dbs": dbs_current, "safeguarding": safeguarding_current}
    found = []
    for row in session.execute(query.order_by(Match.id)):
        for check, (column, words, _years) in VETTING_CHECKS.items():
            done_on = getattr(row, column)
            if current[check](done_on, today):
                continue
            since = lapsed_on(check, done_on) or row.created_at.date()
            found.append({"match_id": row.match_id, "state": row.state, "mentor_id": row.mentor_id,
                          "mentor": row.mentor, "check": check, "check_words": words,
                          "care_leaver_id": row.care_leaver_id, "name": _name(row),
                          "case_reference": row.case_reference, "personal_adviser_id": row.personal_adviser_id,
                          "lapsed_on": since, "days_overdue": (today - since).days + 1})
    found.sort(key=lambda item: (-item["days_overdue"], item["match_id"], item["check"]))
    return pipeline.with_adviser_names(session, found)


def _name(row: Any) -> str:
    return " ".join(part for part in (row.preferred_name or row.first_name, row.family_name) if part)


VETTING_DATES = {"dbs_checked_on": "The date of the DBS check",
                 "safeguarding_trained_on": "The date of safeguarding training"}


def check_recorded_vetting(changes: dict[str, Any], today: date) -> None:
    """Vetting dates however they are recorded (the vetting page, the JSON API, an import): none in the future,
    since a check not yet done is no check."""
    for name, words in VETTING_DATES.items():
        day = changes.get(name)
        if day is not None and day > today:
            raise InvalidInput(name, f"{words} must be today or in the past")


def check_vetting_dates(dbs_checked_on: date, safeguarding_trained_on: date, today: date) -> None:
    """Dates a manager may record to activate a mentor: none in the future, and both checks still current (the
    same windows matching and approval apply)."""
    check_recorded_vetting({"dbs_checked_on": dbs_checked_on, "safeguarding_trained_on": safeguarding_trained_on},
                           today)
    if not dbs_current(dbs_checked_on, today):
        raise InvalidInput("dbs_checked_on", f"The DBS check must be from the last {DBS_VALID_YEARS} years "
                                             f"(on or after {_words(dbs_valid_from(today))}): ask for a new one")
    if not safeguarding_current(safeguarding_trained_on, today):
        raise InvalidInput("safeguarding_trained_on",
                           f"Safeguarding training must be from the last {SAFEGUARDING_VALID_YEARS} years (on or "
                           f"after {_words(safeguarding_valid_from(today))}): ask them to take a refresher")


def not_matched_because(mentor: Mentor, today: date) -> list[str]:
    """Why matching would not propose this mentor now, in words (empty when it would)."""
    reasons = []
    if mentor.status == "pending":
        reasons.append("a manager has not yet checked your DBS and safeguarding training")
    elif mentor.status != "active":
        reasons.append(f"your profile is {mentor.status}")
    if mentor.status != "pending":
        if not dbs_current(mentor.dbs_checked_on, today):
            reasons.append(f"you have no DBS check from the last {DBS_VALID_YEARS} years")
        if not safeguarding_current(mentor.safeguarding_trained_on, today):
            reasons.append(f"you have no safeguarding training from the last {SAFEGUARDING_VALID_YEARS} years")
    if mentor.slots_taken >= mentor.capacity:
        reasons.append("you have as many mentees as you said you could take")
    return reasons


def _words(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


# --- A mentor's own changes -------------------------------------------------------------------------------

def check_own_changes(mentor: Mentor, changes: dict[str, Any]) -> None:
    """What a mentor may change about themselves: their own profile fields, capacity within 1 to 5 (and not
    below the mentees they have now), and pausing or resuming. Anything else is refused naming the field."""
    for name, value in changes.items():
        if name == "version" or name in OWN_PROFILE_FIELDS:
            continue
        if name == "status" and (value == mentor.status or (mentor.status, value) in OWN_STATUS_STEPS):
            continue
        if value == getattr(mentor, name, object()):
            continue  # sending back what is stored changes nothing
        raise InvalidInput(name, "only a manager or an administrator may change this")
    capacity = changes.get("capacity")
    if capacity is not None and capacity != mentor.capacity:
        if not MIN_CAPACITY <= capacity <= MAX_OWN_CAPACITY:
            raise InvalidInput("capacity", f"must be between {MIN_CAPACITY} and {MAX_OWN_CAPACITY}; "
                                           "a manager can agree more")
        if capacity < mentor.slots_taken:
            raise InvalidInput("capacity", f"cannot be fewer than the {mentor.slots_taken} mentees you have now")


def own_profile(session: Session, viewer: Viewer) -> Mentor:
    mentor = session.exec(select(Mentor).where(*scopes.own_mentor_profile(viewer))).first()
    if mentor is None:
        raise NotFound("mentor profile of user", viewer.id)
    return mentor


def update_own_profile(session: Session, viewer: Viewer, changes: dict[str, Any], *, version: int) -> Mentor:
    mentor = own_profile(session, viewer)
    check_own_changes(mentor, changes)
    return records.update(session, records.MENTORS, mentor.id, MentorUpdate(**changes, version=version))


def pause(session: Session, viewer: Viewer, *, version: int) -> Mentor:
    """No new matches while paused; the mentees they have now stay theirs."""
    mentor = own_profile(session, viewer)
    if mentor.status != "active":
        raise Conflict(f"Only an active profile can be paused; yours is {mentor.status}")
    return records.update(session, records.MENTORS, mentor.id, MentorUpdate(status="paused", version=version))


def resume(session: Session, viewer: Viewer, *, version: int) -> Mentor:
    mentor = own_profile(session, viewer)
    if mentor.status != "paused":
        raise Conflict(f"Only a paused profile can be resumed; yours is {mentor.status}")
    return records.update(session, records.MENTORS, mentor.id, MentorUpdate(status="active", version=version))


# --- Signing up ------------------------------------------------------------------------------------------

def hash_password(password: str) -> str:
    """Sign-up keeps only this between its question pages, never the password itself."""
    return users.hasher.hash(password)


def email_taken(session: Session, email: str) -> bool:
    return users.by_email(session, email) is not None


def departments(session: Session) -> dict[int, str]:
    """The departments a mentor can belong to, by name."""
    rows = session.exec(select(Department.id, Department.name).where(Department.status == "active")
                        .order_by(Department.name)).all()
    return dict(rows)


def sign_up(session: Session, *, full_name: str, email: str, password_hash: str, department_id: int,
            job_title: str, office_area: str | None, expertise: list[str], interests: list[str],
            languages: list[str], availability: list[str], capacity: int) -> Mentor:
    """A new account (role mentor) and a pending mentor profile, with no vetting dates, in one unit of work."""
    if email_taken(session, email):
        raise InvalidInput("email", EMAIL_TAKEN)
    if department_id not in departments(session):
        raise InvalidInput("department_id", "Select your department from the list")
    if not MIN_CAPACITY <= capacity <= MAX_OWN_CAPACITY:
        raise InvalidInput("capacity", f"The number of mentees must be between {MIN_CAPACITY} and {MAX_OWN_CAPACITY}")
    try:
        user = users.create_user(session, UserCreate(email=email, full_name=full_name, role="mentor",
                                                     department_id=department_id))
        user.password_hash = password_hash
        mentor = records.create(session, records.MENTORS, MentorCreate(
            user_id=user.id, department_id=department_id, job_title=job_title, office_area=office_area,
            expertise=expertise, interests=interests, languages=languages, availability=availability,
            capacity=capacity, status="pending", dbs_checked_on=None, safeguarding_trained_on=None))
    except sa.exc.IntegrityError as error:  # the same e-mail signed up a moment ago, between check and insert
        session.rollback()
        raise InvalidInput("email", EMAIL_TAKEN) from error
    return mentor


# --- Vetting (managers and administrators) ------------------------------------------------------------------

def pending(session: Session, today: date) -> list[dict[str, Any]]:
    """Mentors waiting for vetting, longest-waiting first."""
    rows = session.exec(select(Mentor, User.full_name, Department.name)
                        .join(User, User.id == Mentor.user_id).join(Department, Department.id == Mentor.department_id)
                        .where(Mentor.status == "pending").order_by(Mentor.created_at, Mentor.id)).all()
    return [{"id": mentor.id, "full_name": name, "job_title": mentor.job_title, "department": department,
             "signed_up_on": mentor.created_at.date(), "days_waiting": (today - mentor.created_at.date()).days}
            for mentor, name, department in rows]


def mentor_for_vetting(session: Session, mentor_id: int) -> dict[str, Any]:
    """A mentor with the name, e-mail and department a manager needs to check them."""
    row = session.exec(select(Mentor, User, Department).join(User, User.id == Mentor.user_id)
                       .join(Department, Department.id == Mentor.department_id).where(Mentor.id == mentor_id)).first()
    if row is None:
        raise NotFound("mentor", mentor_id)
    mentor, user, department = row
    return {"mentor": mentor, "full_name": user.full_name, "email": user.email, "department": department.name}


def _pending(session: Session, mentor_id: int) -> Mentor:
    mentor = records.get(session, records.MENTORS, mentor_id)
    if mentor.status != "pending":
        raise Conflict(f"This mentor is no longer waiting for vetting (they are {mentor.status})")
    return mentor


def activate(session: Session, mentor_id: int, *, version: int, dbs_checked_on: date,
             safeguarding_trained_on: date, today: date) -> Mentor:
    """Vetted: the DBS check and safeguarding training dates recorded, and the mentor active for matching."""
    _pending(session, mentor_id)
    check_vetting_dates(dbs_checked_on, safeguarding_trained_on, today)
    return records.update(session, records.MENTORS, mentor_id, MentorUpdate(
        status="active", dbs_checked_on=dbs_checked_on, safeguarding_trained_on=safeguarding_trained_on,
        version=version))


def decline(session: Session, mentor_id: int, *, version: int, reason: str, actor_id: int | None) -> Mentor:
    """Not taken on: the profile is withdrawn with the reason (nothing is deleted)."""
    _pending(session, mentor_id)
    return records.close(session, records.MENTORS, mentor_id, version=version, reason=reason, actor_id=actor_id)


# --- Mentees and meetings ------------------------------------------------------------------------------------

def mentees_with_meetings(session: Session, viewer: Viewer) -> list[dict[str, Any]]:
    """The mentor's narrow view of each mentee (views.mentees), with the meetings logged, newest first."""
    found = views.mentees(session, viewer.id)
    ids = [item["match_id"] for item in found]
    meetings: dict[int, list[Meeting]] = {match_id: [] for match_id in ids}
    if ids:
        for meeting in session.exec(select(Meeting).where(Meeting.match_id.in_(ids))
                                    .order_by(Meeting.met_on.desc(), Meeting.id.desc())):
            meetings[meeting.match_id].append(meeting)
    return [item | {"meetings": meetings[item["match_id"]]} for item in found]


def visible_match(session: Session, viewer: Viewer, match_id: int) -> Match:
    """A mentoring match the viewer may see (scopes.matches): a mentor's own once approved, an adviser's
    caseload's, any for a manager. Anyone else's is not found, so ids cannot be probed."""
    match = session.exec(select(Match).where(Match.id == match_id, Match.kind == "mentoring",
                                             *scopes.matches(viewer))).first()
    if match is None:
        raise NotFound("mentoring match", match_id)
    return match


def mentee_first_name(session: Session, match: Match) -> str:
    person = session.get(CareLeaver, match.care_leaver_id)
    return (person.preferred_name or person.first_name) if person and person.consent_share_mentors else "your mentee"


def meeting_on(session: Session, viewer: Viewer, match_id: int, meeting_id: int) -> Meeting:
    """A meeting logged on a match the viewer may see."""
    visible_match(session, viewer, match_id)
    meeting = session.get(Meeting, meeting_id)
    if meeting is None or meeting.match_id != match_id:
        raise NotFound("meeting", meeting_id)
    return meeting


def meetings_open(match: Match) -> bool:
    """Meetings are logged and corrected while the mentoring is under way, not once it has ended."""
    return match.kind == "mentoring" and match.state in lifecycle.HOLDING["mentoring"]


def who_met(viewer: Viewer) -> str:
    """Who the meeting's questions and refusals speak of: the mentor themselves, or the mentor and mentee."""
    return "you" if viewer.role == "mentor" else "they"


def check_meeting(match: Match, met_on: date, today: date, who: str = "you") -> None:
    """A meeting is logged, or corrected, only on a match under way, on a day from the match to today. The one
    rule for mentors (their mentees' pages) and advisers (the match's page) alike."""
    if not meetings_open(match):
        raise Conflict(f"This mentoring is {lifecycle.STATE_LABELS.get(match.state, match.state).lower()}: "
                       "meetings are logged and changed only while it is under way")
    if met_on > today:
        raise InvalidInput("met_on", f"The date {who} met must be today or in the past")
    if met_on < match.created_at.date():
        raise InvalidInput("met_on", f"The date {who} met must be on or after {_words(match.created_at.date())}, "
                                     f"when {'you were' if who == 'you' else 'they were'} matched")


def log_meeting(session: Session, viewer: Viewer, match_id: int, *, met_on: date, kind: str, note: str,
                today: date) -> Meeting:
    """A meeting logged by the mentor, or by an adviser on the match's page; who logged it is kept."""
    visible_match(session, viewer, match_id)
    return lifecycle.log_meeting(session, match_id, met_on=met_on, kind=kind, note=note, today=today,
                                 actor_id=viewer.id, who=who_met(viewer))


def correct_meeting(session: Session, viewer: Viewer, match_id: int, meeting_id: int, *, met_on: date, kind: str,
                    note: str, today: date) -> Meeting:
    """A meeting put right, by the mentor or an adviser who can see the match: its date, how they met, the note."""
    meeting = meeting_on(session, viewer, match_id, meeting_id)
    check_meeting(session.get(Match, match_id), met_on, today, who_met(viewer))
    meeting.met_on, meeting.kind, meeting.note = met_on, kind, note
    session.flush()
    return meeting


# --- A mentor's own account: name and email ---------------------------------------------------------------------

def own_account(session: Session, viewer: Viewer) -> User:
    """The account of a mentor with a profile (anyone else has no such page)."""
    own_profile(session, viewer)
    return session.get(User, viewer.id)


def email_used_by_another(session: Session, email: str, user_id: int) -> bool:
    found = users.by_email(session, email)
    return found is not None and found.id != user_id


def _password_confirms(user: User, password: str) -> bool:
    try:
        return bool(user.password_hash) and users.hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def change_own_account(session: Session, viewer: Viewer, *, full_name: str, email: str, current_password: str,
                       version: int) -> list[str]:
    """A mentor changes their own name or email (their sign-in identity). A new email needs their current
    password (so an unattended session cannot take the account over) and must not be another account's.
    Returns what changed: "full_name", "email", both or neither. Role, department and vetting stay as they are."""
    user = own_account(session, viewer)
    if user.version != version:
        raise StaleVersion("user", user.id, version, user.version)
    email = email.strip().lower()
    changed = [name for name, value in (("full_name", full_name), ("email", email)) if getattr(user, name) != value]
    if "email" in changed:
        if not current_password:
            raise InvalidInput("current_password", "Enter your current password to change your email address")
        if not _password_confirms(user, current_password):
            raise InvalidInput("current_password", "The password is not right: enter the password you sign in with")
        if email_used_by_another(session, email, user.id):
            raise InvalidInput("email", EMAIL_IN_USE)
    user.full_name, user.email = full_name, email
    try:
        session.flush()
    except sa.exc.IntegrityError as error:  # the same address taken a moment ago, between check and update
        session.rollback()
        raise InvalidInput("email", EMAIL_IN_USE) from error
    return changed
