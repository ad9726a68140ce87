"""Mentors in the pages: signing up, being vetted by a manager, their own profile, mentees and meetings."""

import re
from datetime import date, timedelta

import pytest
from sqlmodel import select

from matching import db, lifecycle, mentoring
from matching.clock import CLOCK
from matching.models import AuditEvent, CareLeaver, Match, Meeting, Mentor, User, UserCreate
from matching.services.users import authenticate, create_user
from tests import factories
from tests.conftest import PASSWORD
from tests.test_pages import csrf, sign_in

SIGN_UP = "/mentors/sign-up"
GOOD = {
    "about-you": {"full_name": "Priya Shah", "email": "priya.shah@test.example.gov.uk",
                  "password": "correct horse battery", "password_again": "correct horse battery"},
    "your-role": {"job_title": "Director of Housing", "office_area": "e8"},  # department_id added per test
    "what-you-offer": {"expertise": "housing, finance", "interests": "chess, running", "languages": "English, Gujarati"},
    "availability": {"availability": ["tue", "thu"], "capacity": "2"},
}


def version_in(text: str) -> str:
    return re.search(r'name="version" value="(\d+)"', text).group(1)


def summary_links(text: str) -> list[str]:
    summary = re.search(r'<div class="govuk-error-summary".*?</ul>', text, re.S)
    return re.findall(r'href="#([\w-]+)"', summary.group(0)) if summary else []


def answer(client, step: str, fields: dict, token: str | None = None):
    token = token or csrf(client.get(f"{SIGN_UP}/about-you").text)
    return client.post(f"{SIGN_UP}/{step}", data={**fields, "_csrf_token": token}, follow_redirects=False)


def sign_up_answers(client, department_id: int) -> str:
    """Every question answered well; returns the CSRF token of the session."""
    token = csrf(client.get(f"{SIGN_UP}/about-you").text)
    for step, fields in GOOD.items():
        fields = fields | ({"department_id": str(department_id)} if step == "your-role" else {})
        assert answer(client, step, fields, token).status_code == 303, step
    return token


# --- Sign-up -------------------------------------------------------------------------------------------------

def test_signing_up_makes_a_pending_mentor_who_can_sign_in_and_is_not_matched(browser, people, engine):
    start = browser.get(SIGN_UP)
    assert start.status_code == 200 and 'href="/mentors/sign-up/about-you"' in start.text
    assert "sign up as a mentor" in browser.get("/sign-in").text
    # Questions are answered in order: a later one sends you back to the first unanswered.
    assert browser.get(f"{SIGN_UP}/availability", follow_redirects=False).headers["location"] == f"{SIGN_UP}/about-you"
    token = sign_up_answers(browser, people["mentor"].department_id)
    check = browser.get(f"{SIGN_UP}/check-answers")
    for shown in ("Priya Shah", "priya.shah@test.example.gov.uk", "Parks", "Director of Housing", "E8",
                  "housing, finance", "Tuesday, Thursday", "2 young people"):
        assert shown in check.text, shown
    assert "correct horse battery" not in check.text
    assert f'href="{SIGN_UP}/your-role?change=true#department_id"' in check.text
    made = browser.post(f"{SIGN_UP}/check-answers", data={"_csrf_token": token}, follow_redirects=False)
    assert made.status_code == 303 and made.headers["location"] == f"{SIGN_UP}/done"
    confirmation = browser.get(f"{SIGN_UP}/done")
    assert "govuk-panel" in confirmation.text and "DBS" in confirmation.text and "safeguarding" in confirmation.text
    with db.session_scope(db.writer(engine)) as session:
        user = session.exec(select(User).where(User.email == "priya.shah@test.example.gov.uk")).one()
        mentor = session.exec(select(Mentor).where(Mentor.user_id == user.id)).one()
        assert (user.role, user.department_id, user.full_name) == ("mentor", people["mentor"].department_id, "Priya Shah")
        assert "correct horse battery" not in user.password_hash and authenticate(session, user.email,
                                                                                   "correct horse battery")
        assert (mentor.status, mentor.dbs_checked_on, mentor.safeguarding_trained_on) == ("pending", None, None)
        assert (mentor.capacity, mentor.availability, mentor.expertise, mentor.office_area) == (
            2, ["tue", "thu"], ["housing", "finance"], "E8")
        audited = session.exec(select(AuditEvent).where(AuditEvent.entity == "mentor")).all()
        assert [(a.entity_id, a.action, a.actor_id) for a in audited] == [(mentor.id, "create", user.id)]
    # The answers are gone from the session: going back to check them starts again.
    assert browser.get(f"{SIGN_UP}/check-answers", follow_redirects=False).status_code == 303
    browser.cookies.clear()
    token = csrf(browser.get("/sign-in").text)
    home = browser.post("/sign-in", data={"email": "priya.shah@test.example.gov.uk", "password": "correct horse battery",
                                          "_csrf_token": token})
    assert "You are waiting for vetting" in home.text
    profile = browser.get("/profile")
    assert "Waiting for vetting" in profile.text and "Matching will not propose you" in profile.text


def test_the_password_is_kept_only_as_a_hash_between_questions(browser, people, engine):
    sign_up_answers(browser, people["mentor"].department_id)
    with db.session_scope(engine) as session:
        from matching.models import StoredValue
        stored = b"".join(row.value for row in session.exec(select(StoredValue)))
    assert b"correct horse battery" not in stored and b"argon2" in stored


def test_changing_an_answer_returns_to_check_your_answers(browser, people):
    token = sign_up_answers(browser, people["mentor"].department_id)
    form = browser.get(f"{SIGN_UP}/what-you-offer?change=true")
    assert 'name="change" value="true"' in form.text and 'value="housing, finance"' in form.text
    changed = answer(browser, "what-you-offer", {"expertise": "planning", "change": "true"}, token)
    assert changed.headers["location"] == f"{SIGN_UP}/check-answers"
    # about you again: the password boxes are empty, and left empty they keep the password chosen
    again = browser.get(f"{SIGN_UP}/about-you?change=true")
    assert "correct horse battery" not in again.text and "Leave both boxes empty" in again.text
    kept = answer(browser, "about-you", {"full_name": "Priya R Shah", "email": "priya.shah@test.example.gov.uk",
                                         "change": "true"}, token)
    assert kept.headers["location"] == f"{SIGN_UP}/check-answers"
    check = browser.get(f"{SIGN_UP}/check-answers").text
    assert "planning" in check and "housing, finance" not in check and "Priya R Shah" in check


@pytest.mark.parametrize("step,fields,expected", [
    ("about-you", {"full_name": "", "email": "not-an-email", "password": "short", "password_again": "shorter"},
     {"full_name": "Enter your full name",
      "email": "Enter an email address in the correct format, like name@northbridge.gov.uk",
      "password": "Your password must be 12 characters or more"}),
    ("about-you", {"full_name": "Priya", "email": "p@test.example.gov.uk", "password": "a long password 1",
                   "password_again": "a long password 2"},
     {"password_again": "Enter the same password in both boxes"}),
])
def test_question_errors_are_summarised_named_and_keep_what_was_typed(browser, step, fields, expected):
    refused = answer(browser, step, fields)
    assert refused.status_code == 400 and "<title>Error: " in refused.text
    assert summary_links(refused.text) == list(expected)
    for anchor, message in expected.items():
        assert f'id="{anchor}-error"' in refused.text and message in refused.text
    if fields["email"]:
        assert f'value="{fields["email"]}"' in refused.text  # kept
    assert fields["password"] not in refused.text  # but never a password


def test_later_question_errors_keep_what_was_typed(browser, people):
    token = sign_up_answers(browser, people["mentor"].department_id)
    role = answer(browser, "your-role", {"department_id": "", "job_title": "X", "office_area": "nowhere"}, token)
    assert summary_links(role.text) == ["department_id", "job_title", "office_area"]  # in the page's order
    assert "Select your department" in role.text and 'value="nowhere"' in role.text and "postcode district" in role.text
    offer = answer(browser, "what-you-offer", {"expertise": "", "interests": "chess"}, token)
    assert summary_links(offer.text) == ["expertise"] and 'value="chess"' in offer.text
    when = answer(browser, "availability", {"capacity": "9", "availability": []}, token)
    assert summary_links(when.text) == ["availability", "capacity"]
    assert "Select at least one day you could meet" in when.text and "The number of mentees must be 5 or less" in when.text
    assert 'value="9"' in when.text
    wrong_department = answer(browser, "your-role", {"department_id": "999", "job_title": "Head", "office_area": "E8"},
                              token)
    assert summary_links(wrong_department.text) == ["department_id"]


def test_an_email_already_in_use_is_a_field_error_not_a_crash(browser, people, engine):
    taken = answer(browser, "about-you", GOOD["about-you"] | {"email": "Manager@test.example.gov.uk"})
    assert taken.status_code == 400 and summary_links(taken.text) == ["email"]
    assert mentoring.EMAIL_TAKEN in taken.text
    # Taken between the question and the submit: the about-you question again, with the same message.
    token = sign_up_answers(browser, people["mentor"].department_id)
    with db.session_scope(db.writer(engine)) as session:
        create_user(session, UserCreate(email="priya.shah@test.example.gov.uk", full_name="Other Priya",
                                        role="adviser"))
    refused = browser.post(f"{SIGN_UP}/check-answers", data={"_csrf_token": token})
    assert refused.status_code == 400 and summary_links(refused.text) == ["email"]
    assert mentoring.EMAIL_TAKEN in refused.text and 'value="Priya Shah"' in refused.text
    with db.session_scope(engine) as session:
        assert session.exec(select(Mentor)).all() == []


# --- Vetting -------------------------------------------------------------------------------------------------

def _pending_mentor(engine, department_id: int, name: str = "Nia Jones") -> int:
    with db.session_scope(db.writer(engine)) as session:
        user = create_user(session, UserCreate(email=f"{name.split()[0].lower()}@test.example.gov.uk", full_name=name,
                                               role="mentor", department_id=department_id))
        mentor = Mentor(user_id=user.id, department_id=department_id, job_title="Head of Roads", status="pending")
        session.add(mentor)
        session.flush()
        return mentor.id


def _dates(dbs: date | None, training: date | None) -> dict[str, str]:
    out = {}
    for name, day in (("dbs_checked_on", dbs), ("safeguarding_trained_on", training)):
        out |= {f"{name}-day": str(day.day), f"{name}-month": str(day.month), f"{name}-year": str(day.year)} if day \
            else {f"{name}-day": "", f"{name}-month": "", f"{name}-year": ""}
    return out


@pytest.mark.parametrize("who", ["manager", "admin"])
def test_a_manager_vets_a_pending_mentor_who_then_is_active(browser, people, engine, who):
    with CLOCK.fixed(date(2026, 11, 13)):
        mentor_id = _pending_mentor(engine, people["mentor"].department_id)
    sign_in(browser, who)
    listed = browser.get("/mentors/pending")
    assert "Nia Jones" in listed.text and "Head of Roads" in listed.text and "Parks" in listed.text
    assert "10 days" in listed.text and f'href="/mentors/{mentor_id}/vetting"' in listed.text
    form = browser.get(f"/mentors/{mentor_id}/vetting")
    assert "nia@test.example.gov.uk" in form.text and 'name="dbs_checked_on-day"' in form.text
    token = csrf(form.text)
    vetted = browser.post(f"/mentors/{mentor_id}/vetting", data={
        "_csrf_token": token, "version": "1", **_dates(date(2025, 2, 1), date(2026, 10, 5))})
    assert "Nia Jones is now an active mentor" in vetted.text and "govuk-notification-banner--success" in vetted.text
    assert "Nia Jones" not in re.sub(r'<div class="govuk-notification-banner.*?</div>\s*</div>', "", vetted.text, flags=re.S)
    with db.session_scope(engine) as session:
        mentor = session.get(Mentor, mentor_id)
        assert (mentor.status, mentor.dbs_checked_on, mentor.safeguarding_trained_on) == (
            "active", date(2025, 2, 1), date(2026, 10, 5))
        assert mentoring.not_matched_because(mentor, date(2026, 11, 23)) == []
        audited = session.exec(select(AuditEvent).where(AuditEvent.entity == "mentor")).all()
        assert [(a.entity_id, a.action, a.actor_id, a.route) for a in audited] == [
            (mentor_id, "activate", people[who].id, f"POST /mentors/{mentor_id}/vetting")]
    again = browser.get(f"/mentors/{mentor_id}/vetting")  # already vetted: said, never green
    assert "not waiting for vetting" in again.text and "govuk-notification-banner--success" not in again.text


@pytest.mark.parametrize("dbs,training,expected", [
    (None, None, {"dbs_checked_on-day": "Enter the date of the DBS check",
                  "safeguarding_trained_on-day": "Enter the date of safeguarding training"}),
    (date(2026, 12, 1), date(2026, 1, 1), {"dbs_checked_on-day": "The date of the DBS check must be today or in the past"}),
    (date(2023, 11, 21), date(2026, 1, 1), {"dbs_checked_on-day": "The DBS check must be from the last 3 years"}),
    (date(2024, 1, 1), date(2026, 11, 24), {
        "safeguarding_trained_on-day": "The date of safeguarding training must be today or in the past"}),
])
def test_vetting_dates_are_checked_with_the_engines_rules(browser, people, engine, dbs, training, expected):
    mentor_id = _pending_mentor(engine, people["mentor"].department_id)
    sign_in(browser, "manager")
    token = csrf(browser.get(f"/mentors/{mentor_id}/vetting").text)
    refused = browser.post(f"/mentors/{mentor_id}/vetting", data={"_csrf_token": token, "version": "1",
                                                                  **_dates(dbs, training)})
    assert refused.status_code == 400 and summary_links(refused.text) == list(expected)
    for message in expected.values():
        assert message in refused.text
    if dbs:
        assert f'name="dbs_checked_on-year" type="text" value="{dbs.year}"' in refused.text  # kept
    with db.session_scope(engine) as session:
        assert session.get(Mentor, mentor_id).status == "pending"
        assert session.exec(select(AuditEvent).where(AuditEvent.action != "sign_in")).all() == []


def test_the_dbs_window_is_the_engines_own():
    from matching.engine.state import mentors_from
    today = date(2026, 11, 23)
    row = type("Row", (), {"id": 1, "job_title": "x", "status": "active", "safeguarding_trained_on": today,
                           "capacity": 1, "slots_taken": 0, "office_area": None, "availability": [], "languages": [],
                           "expertise": [], "interests": []})
    oldest = mentoring.dbs_valid_from(today)
    for day in (oldest - timedelta(days=1), oldest, oldest.replace(day=20)):
        row.dbs_checked_on = day
        engine_says = bool(mentors_from([row], today, {}).vetted["mentor_dbs_checked"][0])
        assert engine_says == mentoring.dbs_current(day, today), day


def test_a_manager_declines_a_mentor_with_a_reason(browser, people, engine):
    mentor_id = _pending_mentor(engine, people["mentor"].department_id)
    sign_in(browser, "manager")
    form = browser.get(f"/mentors/{mentor_id}/decline")
    assert "will not be matched" in form.text
    token = csrf(form.text)
    refused = browser.post(f"/mentors/{mentor_id}/decline", data={"_csrf_token": token, "version": "1", "reason": "no"})
    assert refused.status_code == 400 and summary_links(refused.text) == ["reason"] and ">no</textarea>" in refused.text
    declined = browser.post(f"/mentors/{mentor_id}/decline", data={"_csrf_token": token, "version": "1",
                                                                  "reason": "No DBS check applied for"})
    assert "Nia Jones was declined" in declined.text
    with db.session_scope(engine) as session:
        mentor = session.get(Mentor, mentor_id)
        assert (mentor.status, mentor.closed_reason, mentor.closed_by_id) == (
            "withdrawn", "No DBS check applied for", people["manager"].id)
        assert [a.action for a in session.exec(select(AuditEvent).where(AuditEvent.entity == "mentor"))] == ["decline"]
    assert "Nia Jones" not in browser.get("/mentors/pending").text
    assert browser.get("/mentors/999999/vetting").status_code == 404


# --- A mentor's own profile ------------------------------------------------------------------------------------

@pytest.fixture
def own(people, engine) -> dict:
    """The test mentor, vetted and active, with one mentee (matched on 1 November) and one meeting logged."""
    with CLOCK.fixed(date(2026, 11, 1)), db.session_scope(db.writer(engine)) as session:
        mentor = Mentor(user_id=people["mentor"].id, department_id=people["mentor"].department_id,
                        job_title="Head of Parks", capacity=2, availability=["mon"], office_area="N16",
                        dbs_checked_on=date(2025, 1, 1), safeguarding_trained_on=date(2025, 1, 1))
        person = CareLeaver(**factories.care_leaver(first_name="Sam", family_name="Okafor",
                                                    aspirations="Become a gardener",
                                                    date_of_birth=date(2006, 5, 5)))
        session.add_all([mentor, person])
        session.flush()
        match = lifecycle.propose(session, care_leaver_id=person.id, mentor_id=mentor.id, score=0.7)
        lifecycle.transition(session, match.id, lifecycle.Change("approved", 1), actor_id=None)
        match.contact_arrangements = "Texts on Mondays"
        meeting = Meeting(match_id=match.id, met_on=date(2026, 11, 3), kind="call", note="First call")
        session.add(meeting)
        session.flush()
        return {"mentor_id": mentor.id, "person_id": person.id, "match_id": match.id, "meeting_id": meeting.id}


def test_a_mentor_sees_their_profile_and_changes_only_their_own_fields(browser, people, engine, own):
    sign_in(browser, "mentor")
    profile = browser.get("/profile")
    for shown in ("Head of Parks", "Active", "Monday", "2 mentees at once; 1 taken now", "1 January 2025", "Parks"):
        assert shown in profile.text, shown
    form = browser.get("/profile/edit")
    assert 'value="Head of Parks"' in form.text and "dbs_checked_on" not in form.text and "department_id" not in form.text
    token = csrf(form.text)
    fields = {"job_title": "Director of Parks", "office_area": "e8", "expertise": "parks, gardening",
              "interests": "birds", "languages": "English", "availability": ["mon", "wed"], "capacity": "3"}
    saved = browser.post("/profile/edit", data={**fields, "_csrf_token": token, "version": version_in(form.text),
                                                "dbs_checked_on-day": "1", "dbs_checked_on-month": "1",
                                                "dbs_checked_on-year": "2019", "status": "withdrawn",
                                                "department_id": str(people["other_department"].department_id)})
    assert "Your profile is saved" in saved.text
    with db.session_scope(engine) as session:
        mentor = session.get(Mentor, own["mentor_id"])
        assert (mentor.job_title, mentor.office_area, mentor.availability, mentor.capacity, mentor.interests) == (
            "Director of Parks", "E8", ["mon", "wed"], 3, ["birds"])
        # The vetting fields posted alongside were ignored: the form does not carry them.
        assert (mentor.dbs_checked_on, mentor.status, mentor.department_id) == (
            date(2025, 1, 1), "active", people["mentor"].department_id)
        assert [(a.entity_id, a.action) for a in session.exec(select(AuditEvent).where(AuditEvent.entity == "mentor"))] \
            == [(own["mentor_id"], "update")]


def test_profile_errors_are_summarised_and_keep_what_was_typed(browser, own):
    sign_in(browser, "mentor")
    form = browser.get("/profile/edit")
    token, current = csrf(form.text), version_in(form.text)
    bad = {"job_title": "Director", "office_area": "E8", "expertise": "", "interests": "birds", "availability": ["mon"],
           "capacity": "six"}
    refused = browser.post("/profile/edit", data={**bad, "_csrf_token": token, "version": current})
    assert refused.status_code == 400 and summary_links(refused.text) == ["expertise", "capacity"]
    assert "The number of mentees must be a whole number" in refused.text and 'value="six"' in refused.text
    assert 'value="birds"' in refused.text
    too_many = browser.post("/profile/edit", data={**bad, "expertise": "parks", "capacity": "6", "_csrf_token": token,
                                                   "version": current})
    assert summary_links(too_many.text) == ["capacity"] and "between 1 and 5" in too_many.text
    fewer = browser.post("/profile/edit", data={**bad, "expertise": "parks", "capacity": "0", "_csrf_token": token,
                                                "version": current})
    assert summary_links(fewer.text) == ["capacity"]


def test_a_mentor_pauses_keeping_their_mentees_and_resumes(browser, engine, own):
    sign_in(browser, "mentor")
    confirm = browser.get("/profile/pause")
    assert "You keep your 1 current mentee" in confirm.text
    current = int(version_in(confirm.text))
    paused = browser.post("/profile/pause", data={"_csrf_token": csrf(confirm.text), "version": str(current)})
    assert "Your profile is paused" in paused.text
    with db.session_scope(engine) as session:
        mentor = session.get(Mentor, own["mentor_id"])
        assert (mentor.status, mentor.slots_taken) == ("paused", 1)
        assert session.get(Match, own["match_id"]).state == "approved"
    assert "Sam" in browser.get("/mentees").text
    again = browser.post("/profile/pause", data={"_csrf_token": csrf(confirm.text), "version": str(current + 1)})
    assert again.status_code == 400 and "Only an active profile can be paused" in again.text
    resumed = browser.post("/profile/resume", data={"_csrf_token": csrf(confirm.text), "version": str(current + 1)})
    assert "Your profile is active again" in resumed.text
    with db.session_scope(engine) as session:
        assert session.get(Mentor, own["mentor_id"]).status == "active"
        assert [a.action for a in session.exec(select(AuditEvent).where(AuditEvent.entity == "mentor"))] == [
            "pause", "resume"]


# --- Mentees and meetings ----------------------------------------------------------------------------------

def meeting_fields(day: date | None, kind: str = "video", note: str = "Walk in the park") -> dict[str, str]:
    parts = {"day": str(day.day), "month": str(day.month), "year": str(day.year)} if day else {
        "day": "", "month": "", "year": ""}
    return {f"met_on-{part}": value for part, value in parts.items()} | {"kind": kind, "note": note}


def test_mentees_show_first_name_goals_and_meetings_newest_first(browser, people, engine, own):
    sign_in(browser, "mentor")
    page = browser.get("/mentees")
    assert "Sam" in page.text and "Become a gardener" in page.text and "Texts on Mondays" in page.text
    assert "Okafor" not in page.text and "2006" not in page.text
    assert "3 November 2026" in page.text and "Phone call" in page.text and "First call" in page.text
    token = csrf(page.text)
    form = browser.get(f"/mentees/{own['match_id']}/meetings/new")
    assert 'type="radio"' in form.text and "checked" not in form.text  # nothing preselected
    logged = browser.post(f"/mentees/{own['match_id']}/meetings", data={"_csrf_token": token,
                                                                        **meeting_fields(date(2026, 11, 20))})
    assert "Meeting with Sam logged" in logged.text
    assert logged.text.index("20 November 2026") < logged.text.index("3 November 2026")
    with db.session_scope(engine) as session:
        rows = session.exec(select(AuditEvent).where(AuditEvent.actor_id == people["mentor"].id)).all()
        assert {(r.entity, r.action) for r in rows} >= {("care_leaver", "list"), ("care_leaver", "read"),
                                                         ("care_leaver", "update"), ("meeting", "create")}


def meeting_refusals(who: str) -> list[tuple[dict[str, str], dict[str, str]]]:
    """A meeting refused by the form or by mentoring.check_meeting (matched on 1 November), worded for who met;
    the mentor's pages and the match's page (test_pages_matches) ask the same."""
    return [
        (meeting_fields(None, kind=""), {"met_on-day": f"Enter the date {who} met", "kind": f"Select how {who} met"}),
        (meeting_fields(date(2026, 11, 24)), {"met_on-day": f"The date {who} met must be today or in the past"}),
        (meeting_fields(date(2026, 10, 31)), {"met_on-day": f"The date {who} met must be on or after 1 November 2026"}),
        ({**meeting_fields(date(2026, 11, 20)), "met_on-day": "31", "met_on-month": "2"},
         {"met_on-day": f"The date {who} met must be a real date"}),
    ]


@pytest.mark.parametrize("fields,expected", meeting_refusals("you"))
def test_a_refused_meeting_shows_the_error_summary_and_keeps_what_was_typed(browser, engine, own, fields, expected):
    sign_in(browser, "mentor")
    token = csrf(browser.get("/mentees").text)
    refused = browser.post(f"/mentees/{own['match_id']}/meetings", data={"_csrf_token": token, **fields})
    assert refused.status_code == 400 and "govuk-notification-banner--success" not in refused.text
    assert summary_links(refused.text) == list(expected)
    for message in expected.values():
        assert message in refused.text
    assert ">Walk in the park</textarea>" in refused.text
    if fields["met_on-year"]:
        assert f'value="{fields["met_on-year"]}"' in refused.text
    with db.session_scope(engine) as session:
        assert len(session.exec(select(Meeting)).all()) == 1


def test_no_meeting_is_logged_or_corrected_on_an_ended_match(browser, engine, own):
    with db.session_scope(db.writer(engine)) as session:
        match = session.get(Match, own["match_id"])
        lifecycle.transition(session, match.id, lifecycle.Change("introduced", match.version), actor_id=None)
        lifecycle.transition(session, match.id, lifecycle.Change("active", match.version), actor_id=None)
        lifecycle.transition(session, match.id, lifecycle.Change("completed", match.version), actor_id=None)
    sign_in(browser, "mentor")
    token = csrf(browser.get("/mentees").text)
    for url in (f"/mentees/{own['match_id']}/meetings", f"/mentees/{own['match_id']}/meetings/{own['meeting_id']}"):
        refused = browser.post(url, data={"_csrf_token": token, **meeting_fields(date(2026, 11, 20))})
        assert refused.status_code == 400 and summary_links(refused.text) == ["main-content"]
        assert "This mentoring is completed" in refused.text and 'value="20"' in refused.text


def test_a_mentor_corrects_a_meeting_and_the_correction_is_audited(browser, people, engine, own):
    sign_in(browser, "mentor")
    url = f"/mentees/{own['match_id']}/meetings/{own['meeting_id']}"
    form = browser.get(url)
    assert 'name="met_on-day" type="text" value="3"' in form.text and 'value="call" checked' in form.text
    assert ">First call</textarea>" in form.text
    token = csrf(form.text)
    refused = browser.post(url, data={"_csrf_token": token, **meeting_fields(date(2026, 12, 1), note="Moved")})
    assert refused.status_code == 400 and ">Moved</textarea>" in refused.text
    corrected = browser.post(url, data={"_csrf_token": token, **meeting_fields(date(2026, 11, 4), "in_person", "Coffee")})
    assert "Meeting with Sam corrected" in corrected.text and "4 November 2026" in corrected.text
    with db.session_scope(engine) as session:
        meeting = session.get(Meeting, own["meeting_id"])
        assert (meeting.met_on, meeting.kind, meeting.note) == (date(2026, 11, 4), "in_person", "Coffee")
        rows = session.exec(select(AuditEvent).where(AuditEvent.route == f"POST {url}")).all()
        assert {(r.entity, r.entity_id, r.action, r.actor_id) for r in rows} == {
            ("meeting", own["meeting_id"], "correct", people["mentor"].id),
            ("care_leaver", own["person_id"], "update", people["mentor"].id)}


def test_a_mentor_cannot_see_or_correct_another_mentors_meetings(browser, people, engine, own):
    with db.session_scope(db.writer(engine)) as session:
        other = create_user(session, UserCreate(email="other.mentor@test.example.gov.uk", full_name="Other Mentor",
                                                role="mentor", department_id=people["mentor"].department_id))
        session.get(Mentor, own["mentor_id"]).user_id = other.id  # the mentee and meeting are now someone else's
    sign_in(browser, "mentor")
    token = csrf(browser.get("/mentees").text)
    url = f"/mentees/{own['match_id']}/meetings/{own['meeting_id']}"
    assert browser.get(url).status_code == 404
    assert browser.get(f"/mentees/{own['match_id']}/meetings/new").status_code == 404
    assert browser.post(url, data={"_csrf_token": token, **meeting_fields(date(2026, 11, 4))}).status_code == 404
    assert browser.post(f"/mentees/{own['match_id']}/meetings", data={
        "_csrf_token": token, **meeting_fields(date(2026, 11, 4))}).status_code == 404
    assert browser.get("/profile").status_code == 404  # no profile of their own any more
    with db.session_scope(engine) as session:
        assert session.get(Meeting, own["meeting_id"]).met_on == date(2026, 11, 3)
        assert len(session.exec(select(Meeting)).all()) == 1


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_email_question_is_rate_limited_so_addresses_cannot_be_swept(browser):
    token = csrf(browser.get(f"{SIGN_UP}/about-you").text)
    statuses = [answer(browser, "about-you", GOOD["about-you"] | {"email": f"guess{n}@test.example.gov.uk"},
                       token).status_code for n in range(11)]
    assert statuses[:10] == [303] * 10 and statuses[10] == 429
    assert sign_in(browser, "manager").status_code == 303  # sign-in keeps its own allowance


# --- A mentor's own name and email ---------------------------------------------------------------------------

def _account(browser, **fields):
    form = browser.get("/profile/account")
    posted = {"full_name": "Test mentor", "email": "mentor@test.example.gov.uk", "current_password": "",
              "version": version_in(form.text)} | fields
    return browser.post("/profile/account", data={**posted, "_csrf_token": csrf(form.text)})


def test_a_mentor_changes_their_name_without_a_password_and_it_is_audited(browser, people, engine, own):
    sign_in(browser, "mentor")
    profile = browser.get("/profile")
    assert 'href="/profile/account#full_name"' in profile.text and 'href="/profile/account#email"' in profile.text
    form = browser.get("/profile/account")
    assert 'value="Test mentor"' in form.text and 'value="mentor@test.example.gov.uk"' in form.text
    assert 'autocomplete="current-password"' in form.text and "dbs_checked_on" not in form.text
    saved = _account(browser, full_name="Tess Mentor-Jones", role="admin",
                     department_id=str(people["other_department"].department_id))
    assert "Your name is saved" in saved.text and "govuk-notification-banner--success" in saved.text
    assert "Tess Mentor-Jones" in saved.text
    with db.session_scope(engine) as session:
        user = session.get(User, people["mentor"].id)
        assert (user.full_name, user.email, user.role, user.department_id) == (
            "Tess Mentor-Jones", "mentor@test.example.gov.uk", "mentor", people["mentor"].department_id)
        mentor = session.get(Mentor, own["mentor_id"])
        assert (mentor.department_id, mentor.status, mentor.dbs_checked_on) == (
            people["mentor"].department_id, "active", date(2025, 1, 1))
        rows = session.exec(select(AuditEvent).where(AuditEvent.entity == "mentor")).all()
        assert [(r.entity_id, r.action, r.actor_id, r.route) for r in rows] == [
            (own["mentor_id"], "account", people["mentor"].id, "POST /profile/account")]
    same = _account(browser, full_name="Tess Mentor-Jones")  # nothing new: said, never green, not audited
    assert "Nothing was changed" in same.text and "govuk-notification-banner--success" not in same.text
    with db.session_scope(engine) as session:
        assert len(session.exec(select(AuditEvent).where(AuditEvent.entity == "mentor")).all()) == 1


def test_a_new_email_needs_the_password_and_becomes_the_sign_in(browser, people, engine, own):
    sign_in(browser, "mentor")
    saved = _account(browser, email=" Tess.New@Test.Example.gov.uk ", current_password=PASSWORD)
    assert "Your email address is saved" in saved.text and "Sign in with your new email address" in saved.text
    with db.session_scope(engine) as session:
        assert session.get(User, people["mentor"].id).email == "tess.new@test.example.gov.uk"
        assert [r.action for r in session.exec(select(AuditEvent).where(AuditEvent.entity == "mentor"))] == ["account"]
    browser.cookies.clear()
    assert sign_in(browser, "mentor").status_code == 200  # the old address no longer signs in
    token = csrf(browser.get("/sign-in").text)
    signed = browser.post("/sign-in", data={"email": "tess.new@test.example.gov.uk", "password": PASSWORD,
                                            "_csrf_token": token}, follow_redirects=False)
    assert signed.status_code == 303 and signed.headers["location"] == "/mentees"


@pytest.mark.parametrize("fields,expected", [
    ({"full_name": "", "email": "not-an-email"},
     {"full_name": "Enter your full name",
      "email": "Enter an email address in the correct format, like name@northbridge.gov.uk"}),
    ({"full_name": "Tess New", "email": "tess.new@test.example.gov.uk"},
     {"current_password": "Enter your current password to change your email address"}),
    ({"full_name": "Tess New", "email": "tess.new@test.example.gov.uk", "current_password": "not my password"},
     {"current_password": "The password is not right"}),
    ({"full_name": "Tess New", "email": "Manager@test.example.gov.uk", "current_password": PASSWORD},
     {"email": mentoring.EMAIL_IN_USE}),
])
def test_account_errors_are_summarised_named_and_keep_what_was_typed(browser, people, engine, own, fields,
                                                                      expected):
    sign_in(browser, "mentor")
    refused = _account(browser, **fields)
    assert refused.status_code == 400 and "<title>Error: " in refused.text
    assert "govuk-notification-banner--success" not in refused.text
    assert summary_links(refused.text) == list(expected)
    for anchor, message in expected.items():
        assert f'id="{anchor}-error"' in refused.text and message in refused.text
    assert f'value="{fields["email"]}"' in refused.text  # kept
    if fields["full_name"]:
        assert f'value="{fields["full_name"]}"' in refused.text
    assert PASSWORD not in refused.text and "not my password" not in refused.text  # a password never comes back
    with db.session_scope(engine) as session:
        user = session.get(User, people["mentor"].id)
        assert (user.full_name, user.email) == ("Test mentor", "mentor@test.example.gov.uk")
        assert session.exec(select(AuditEvent).where(AuditEvent.entity == "mentor")).all() == []


def test_a_stale_account_form_saves_nothing_and_says_so(browser, people, engine, own):
    sign_in(browser, "mentor")
    form = browser.get("/profile/account")
    with db.session_scope(db.writer(engine)) as session:
        session.get(User, people["mentor"].id).full_name = "Changed Elsewhere"
    stale = browser.post("/profile/account", data={"_csrf_token": csrf(form.text), "version": version_in(form.text),
                                                   "full_name": "Tess New", "email": "mentor@test.example.gov.uk"})
    assert "Nothing was saved" in stale.text and "govuk-notification-banner--success" not in stale.text
    assert 'value="Changed Elsewhere"' in stale.text
    with db.session_scope(engine) as session:
        assert session.get(User, people["mentor"].id).full_name == "Changed Elsewhere"


def test_a_mentor_without_a_profile_has_no_account_page(browser, people, engine):
    sign_in(browser, "mentor")
    assert browser.get("/profile/account").status_code == 404
    token = csrf(browser.get("/sign-in").text)
    posted = browser.post("/profile/account", data={"_csrf_token": token, "version": "1", "full_name": "Someone Else",
                                                    "email": "mentor@test.example.gov.uk"})
    assert posted.status_code == 404
    with db.session_scope(engine) as session:
        assert session.get(User, people["mentor"].id).full_name == "Test mentor"
