"""The match pages over HTTP: proposals grouped by young person and paged, each match's page and its next
steps, check-ins, follow-ups; form errors, refusals, scope and audit."""

import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import select

from matching import db, lifecycle, scopes
from matching.clock import CLOCK
from matching.models import AuditEvent, CareLeaver, CheckIn, Match, MatchEvent, Meeting, Mentor, Opportunity, Outcome
from tests import factories
from tests.conftest import TEST_TODAY
from tests.test_pages import csrf, sign_in
from tests.test_pages_mentor import meeting_fields, meeting_refusals


def _person(session, adviser_id: int, family: str) -> CareLeaver:
    fields = factories.care_leaver(family_name=family, personal_adviser_id=adviser_id, consent_share_employers=True,
                                   right_to_work_confirmed=True)
    fields["date_of_birth"] = date.fromisoformat(fields["date_of_birth"])
    person = CareLeaver(**fields)
    session.add(person)
    session.flush()
    return person


def _world(engine, people, *, mine: int = 1, theirs: int = 0, capacity: int = 5, places: int = 5):
    """`mine` young people on the adviser's caseload and `theirs` on the other adviser's, each proposed one
    mentor and one opportunity. Returns ids."""
    with db.session_scope(db.writer(engine)) as session:
        # Vetted, and people with the right to work: approval re-checks every hard rule of the pair.
        mentor = Mentor(user_id=people["mentor"].id, department_id=people["mentor"].department_id,
                        job_title="Head of Parks", capacity=capacity, office_area="E8",
                        dbs_checked_on=date(2025, 1, 1), safeguarding_trained_on=date(2025, 1, 1))
        job = Opportunity(**{**factories.opportunity(people["department"].department_id, places=places),
                             "closes_on": TEST_TODAY + timedelta(days=30), "starts_on": None})
        session.add_all([mentor, job])
        session.flush()
        found = {"mentor": mentor.id, "job": job.id, "mine": [], "theirs": []}
        for who, count in (("mine", mine), ("theirs", theirs)):
            adviser = people["adviser" if who == "mine" else "other_adviser"].id
            for n in range(count):
                person = _person(session, adviser, f"{'Mine' if who == 'mine' else 'Theirs'}{n:02d}")
                m = lifecycle.propose(session, care_leaver_id=person.id, mentor_id=mentor.id, score=0.83,
                                      reasons=["both interested in music"])
                o = lifecycle.propose(session, care_leaver_id=person.id, opportunity_id=job.id, score=0.45,
                                      reasons=["within 3 km of home"])
                found[who].append({"person": person.id, "mentoring": m.id, "opportunity": o.id})
        return found


def _statements(engine):
    counted = []
    sa.event.listen(engine, "before_cursor_execute", lambda *args: counted.append(args[2]))
    return counted


def test_proposals_are_grouped_by_young_person_paged_and_counted_in_sql(browser, people, engine):
    world = _world(engine, people, mine=11, theirs=1)
    sign_in(browser, "adviser")
    browser.get("/proposals")
    counted = _statements(engine)  # from the second request on: the identity is remembered
    first = browser.get("/proposals")
    statements_first = len(counted)
    assert first.status_code == 200 and "11 young people, 22 proposals (page 1 of 2)" in first.text
    assert len(re.findall(r'href="/young-people/(\d+)"', first.text)) == 10
    assert "Mentor: Head of Parks" in first.text and "Apprenticeship: Parks apprentice" in first.text
    assert "Parks" in first.text and "83 out of 100: a very strong match" in first.text
    assert "both interested in music" in first.text and "45 out of 100: a fair match" in first.text
    assert 'class="govuk-pagination' in first.text and 'href="/proposals?page=2"' in first.text
    # grouped: each person's heading comes before both of their proposals
    person = world["mine"][0]
    at = first.text.index(f'href="/young-people/{person["person"]}"')
    assert at < first.text.index(f'id="proposal-{person["mentoring"]}"') < first.text.index(
        f'id="proposal-{person["opportunity"]}"')
    counted.clear()
    second = browser.get("/proposals?page=2")
    assert "(page 2 of 2)" in second.text and len(re.findall(r'href="/young-people/(\d+)"', second.text)) == 1
    assert len(counted) == statements_first  # a page of ten people costs what a page of one does
    assert world["mine"][10]["person"] in map(int, re.findall(r'href="/young-people/(\d+)"', second.text))
    assert "(page 2 of 2)" in browser.get("/proposals?page=99").text  # past the end: the last page
    assert "(page 1 of 2)" in browser.get("/proposals?page=0").text
    theirs = world["theirs"][0]["person"]
    assert f"/young-people/{theirs}" not in browser.get(f"/proposals?adviser={people['other_adviser'].id}").text
    assert 'name="adviser"' not in first.text  # advisers have no adviser filter

    browser.cookies.clear()
    sign_in(browser, "manager")
    everyone = browser.get("/proposals")
    assert "12 young people, 24 proposals" in everyone.text and 'name="adviser"' in everyone.text
    filtered = browser.get(f"/proposals?adviser={people['other_adviser'].id}")
    assert "1 young person, 2 proposals" in filtered.text and f"/young-people/{theirs}" in filtered.text


def test_no_proposals_says_so(browser, people):
    sign_in(browser, "adviser")
    page = browser.get("/proposals")
    assert "0 young people, 0 proposals" in page.text and "There are no proposals waiting" in page.text
    assert "govuk-pagination" not in page.text


def test_rejecting_needs_a_reason_and_other_needs_a_note(browser, people, engine):
    world = _world(engine, people)
    match_id = world["mine"][0]["opportunity"]
    sign_in(browser, "adviser")
    page = browser.get("/proposals")
    assert "checked" not in page.text  # no reason starts chosen
    token = csrf(page.text)
    missing = browser.post(f"/proposals/{match_id}", data={"_csrf_token": token, "version": "1",
                                                            "decision": "reject", "note": "typed this"})
    assert missing.status_code == 400 and "Error: Proposals to review" in missing.text
    assert f'href="#reason_code-{match_id}"' in missing.text
    assert "Parks apprentice for Test Mine00: select why you are rejecting it" in missing.text
    assert ">typed this</textarea>" in missing.text and "govuk-notification-banner--success" not in missing.text
    other = browser.post(f"/proposals/{match_id}", data={"_csrf_token": token, "version": "1",
                                                          "decision": "reject", "reason_code": "other"})
    assert other.status_code == 400 and f'href="#note-{match_id}"' in other.text
    assert "Test Mine00: explain in the note why you are rejecting it" in other.text
    assert re.search(rf'id="reason_code-{match_id}-6" name="reason_code" type="radio" value="other" checked',
                     other.text)
    with db.session_scope(engine) as session:
        assert session.get(Match, match_id).state == "proposed"
    rejected = browser.post(f"/proposals/{match_id}", data={"_csrf_token": token, "version": "1",
                                                             "decision": "reject", "reason_code": "other",
                                                             "note": "Moving out of the area"})
    assert rejected.status_code == 200 and "Proposal rejected: Parks apprentice for Test Mine00" in rejected.text
    with db.session_scope(engine) as session:
        assert session.get(Match, match_id).state == "rejected"
        event = session.exec(select(MatchEvent).where(MatchEvent.match_id == match_id,
                                                      MatchEvent.to_state == "rejected")).one()
        assert event.reason == "other: Moving out of the area" and event.actor_id == people["adviser"].id
        actions = session.exec(select(AuditEvent.action).where(AuditEvent.route == f"POST /proposals/{match_id}")).all()
        assert sorted(actions) == ["list", "list", "update"]  # the two re-rendered pages, and the change


def test_a_stale_approval_no_capacity_and_a_closed_opportunity_are_refused_on_the_page(browser, people, engine):
    world = _world(engine, people, mine=2, capacity=1)
    sign_in(browser, "adviser")
    page = browser.get("/proposals")
    token = csrf(page.text)
    first, second = world["mine"][0]["mentoring"], world["mine"][1]["mentoring"]
    stale = browser.post(f"/proposals/{first}", data={"_csrf_token": token, "version": "7", "decision": "approve"})
    assert stale.status_code == 409 and "govuk-error-summary" in stale.text
    assert f'href="#proposal-{first}"' in stale.text
    assert "Head of Parks for Test Mine00: it has changed since you opened this page" in stale.text
    assert "govuk-notification-banner--success" not in stale.text
    assert "Proposal approved" in browser.post(f"/proposals/{first}", data={
        "_csrf_token": token, "version": "1", "decision": "approve"}).text
    full = browser.post(f"/proposals/{second}", data={"_csrf_token": token, "version": "1", "decision": "approve",
                                                       "page": "1"})
    assert full.status_code == 409 and "Head of Parks for Test Mine01: the mentor has no capacity left" in full.text
    with db.session_scope(db.writer(engine)) as session:
        session.get(Opportunity, world["job"]).status = "paused"
    job_match = world["mine"][1]["opportunity"]
    paused = browser.post(f"/proposals/{job_match}", data={"_csrf_token": token, "version": "1",
                                                          "decision": "approve"})
    assert paused.status_code == 409 and "is paused, not open" in paused.text
    with db.session_scope(engine) as session:
        assert [session.get(Match, i).state for i in (first, second, job_match)] == ["approved", "proposed", "proposed"]


def _approve(engine, match_id: int, actor_id: int | None = None, day: date = TEST_TODAY) -> None:
    with CLOCK.fixed(day), db.session_scope(db.writer(engine)) as session:
        lifecycle.transition(session, match_id, lifecycle.Change("approved", session.get(Match, match_id).version),
                             actor_id=actor_id, today=day)


def test_another_advisers_match_is_not_found_on_every_route(browser, people, engine):
    world = _world(engine, people, mine=0, theirs=1)
    theirs = world["theirs"][0]["mentoring"]
    _approve(engine, theirs)
    with db.session_scope(engine) as session:
        check = session.exec(select(CheckIn).where(CheckIn.match_id == theirs)).first().id
    sign_in(browser, "adviser")
    token = csrf(browser.get("/proposals").text)
    posted = {"_csrf_token": token, "version": "2", "to": "introduced", "reason": "because", "note": "fine"}
    for method, path in [("GET", f"/matches/{theirs}"), ("POST", f"/matches/{theirs}/steps"),
                         ("GET", f"/matches/{theirs}/steps/withdrawn"), ("POST", f"/matches/{theirs}/steps/withdrawn"),
                         ("GET", f"/matches/{theirs}/check-ins/{check}"),
                         ("POST", f"/matches/{theirs}/check-ins/{check}"),
                         ("POST", f"/proposals/{world['theirs'][0]['opportunity']}")]:
        assert browser.request(method, path, data=posted).status_code == 404, (method, path)
    assert f"/matches/{theirs}" not in browser.get("/follow-ups").text
    with db.session_scope(engine) as session:
        assert session.get(Match, theirs).state == "approved"
        assert session.get(CheckIn, check).done_on is None
    browser.cookies.clear()
    sign_in(browser, "manager")
    assert browser.get(f"/matches/{theirs}").status_code == 200


def test_an_adviser_refers_an_approved_opportunity_and_the_department_then_sees_it(browser, people, engine):
    world = _world(engine, people)
    match_id, person_id = world["mine"][0]["opportunity"], world["mine"][0]["person"]
    sign_in(browser, "adviser")
    token = csrf(browser.get("/proposals").text)
    approved = browser.post(f"/proposals/{match_id}", data={"_csrf_token": token, "version": "1",
                                                             "decision": "approve"})
    assert f'href="/matches/{match_id}">open the match to refer it to the department' in approved.text
    page = browser.get(f"/matches/{match_id}")
    assert page.status_code == 200 and page.text.count("<h1") == 1
    assert f'href="/young-people/{person_id}">Test Mine00</a>' in page.text and "Approved" in page.text
    assert "Refer it to the department" in page.text and "Withdraw it" in page.text
    assert "Interviewed" not in page.text and "checked" not in page.text  # departments record those; none chosen
    assert "Test adviser" in page.text  # who approved it, in the history
    with db.session_scope(engine) as session:
        department = scopes.matches(type("V", (), {"id": people["department"].id, "role": "department",
                                                    "department_id": people["department"].department_id}))
        assert session.exec(select(Match.id).where(Match.id == match_id, *department)).first() is None
    referred = browser.post(f"/matches/{match_id}/steps", data={"_csrf_token": token, "version": "2",
                                                                  "to": "referred"})
    assert referred.status_code == 200 and "Recorded: referred" in referred.text
    assert "The department records what happens next" in referred.text
    with db.session_scope(engine) as session:
        assert session.get(Match, match_id).state == "referred"
        assert session.exec(select(Match.id).where(Match.id == match_id, *department)).first() == match_id
        audited = session.exec(select(AuditEvent.route, AuditEvent.action).where(
            AuditEvent.entity_id == person_id, AuditEvent.actor_id == people["adviser"].id)).all()
        assert (f"GET /matches/{match_id}", "read") in audited
        assert (f"POST /matches/{match_id}/steps", "update") in audited
    browser.cookies.clear()
    sign_in(browser, "department")
    assert "Parks apprentice" in browser.get("/referrals").text


def test_the_step_form_explains_what_is_missing_stale_or_not_allowed(browser, people, engine):
    world = _world(engine, people)
    match_id = world["mine"][0]["opportunity"]
    _approve(engine, match_id)
    sign_in(browser, "adviser")
    token = csrf(browser.get(f"/matches/{match_id}").text)
    nothing = browser.post(f"/matches/{match_id}/steps", data={"_csrf_token": token, "version": "2"})
    assert nothing.status_code == 400 and 'href="#to"' in nothing.text and "Select what happens next" in nothing.text
    stale = browser.post(f"/matches/{match_id}/steps", data={"_csrf_token": token, "version": "1", "to": "referred"})
    assert stale.status_code == 409 and "It has changed since you opened this page: it is now approved" in stale.text
    assert 'value="referred" checked' in stale.text  # what was chosen is kept
    department_step = browser.post(f"/matches/{match_id}/steps", data={"_csrf_token": token, "version": "2",
                                                                        "to": "interviewed"})
    assert department_step.status_code == 409 and "is not a next step you can record" in department_step.text
    assert "refer it to the department, withdraw it" in department_step.text
    with db.session_scope(engine) as session:
        assert session.get(Match, match_id).state == "approved"


def test_mentoring_is_introduced_made_active_and_ended_after_confirmation(browser, people, engine):
    world = _world(engine, people)
    match_id = world["mine"][0]["mentoring"]
    _approve(engine, match_id)
    sign_in(browser, "adviser")
    token = csrf(browser.get(f"/matches/{match_id}").text)
    for version_read, step in ((2, "introduced"), (3, "active")):
        moved = browser.post(f"/matches/{match_id}/steps", data={"_csrf_token": token, "version": str(version_read),
                                                                   "to": step})
        assert f"Recorded: {step}" in moved.text
    ask = browser.post(f"/matches/{match_id}/steps", data={"_csrf_token": token, "version": "4", "to": "ended_early"},
                       follow_redirects=False)
    assert ask.status_code == 303 and ask.headers["location"] == f"/matches/{match_id}/steps/ended_early?version=4"
    confirm = browser.get(ask.headers["location"])
    assert "Ended early: are you sure?" in confirm.text and "This ends the match" in confirm.text
    with db.session_scope(engine) as session:
        assert session.get(Match, match_id).state == "active"  # nothing recorded until confirmed
    no_reason = browser.post(f"/matches/{match_id}/steps/ended_early", data={"_csrf_token": token, "version": "4",
                                                                              "reason": "  "})
    assert no_reason.status_code == 400 and 'href="#reason"' in no_reason.text and "Enter why" in no_reason.text
    ended = browser.post(f"/matches/{match_id}/steps/ended_early", data={"_csrf_token": token, "version": "4",
                                                                          "reason": "Moved to Leeds"})
    assert ended.status_code == 200 and "Recorded: ended early" in ended.text and "Moved to Leeds" in ended.text
    assert "This match has ended" in ended.text
    with db.session_scope(engine) as session:
        assert session.get(Match, match_id).state == "ended_early"
        assert session.exec(select(Outcome.kind).where(Outcome.match_id == match_id)).all() == ["ended_early"]
    assert browser.get(f"/matches/{match_id}/steps/completed").status_code == 404  # not a next step now


def test_a_mentoring_match_completes_and_a_proposal_is_withdrawn_with_a_reason(browser, people, engine):
    world = _world(engine, people)
    mentoring, job = world["mine"][0]["mentoring"], world["mine"][0]["opportunity"]
    _approve(engine, mentoring)
    with db.session_scope(db.writer(engine)) as session:
        for step, version_read in (("introduced", 2), ("active", 3)):
            lifecycle.transition(session, mentoring, lifecycle.Change(step, version_read), actor_id=None)
    sign_in(browser, "adviser")
    token = csrf(browser.get(f"/matches/{mentoring}").text)
    completed = browser.post(f"/matches/{mentoring}/steps/completed", data={"_csrf_token": token, "version": "4"})
    assert "Recorded: completed" in completed.text
    withdraw = browser.post(f"/matches/{job}/steps/withdrawn", data={"_csrf_token": token, "version": "1",
                                                                      "reason": "Found work herself"})
    assert "Recorded: withdrawn" in withdraw.text
    with db.session_scope(engine) as session:
        assert session.get(Match, mentoring).state == "completed" and session.get(Match, job).state == "withdrawn"
        assert session.exec(select(Outcome.kind).where(Outcome.match_id == mentoring)).all() == [
            "mentoring_sustained_6m"]


def test_a_check_in_is_recorded_as_done_with_a_note(browser, people, engine):
    world = _world(engine, people)
    match_id = world["mine"][0]["mentoring"]
    _approve(engine, match_id)
    with db.session_scope(engine) as session:
        check = session.exec(select(CheckIn).where(CheckIn.match_id == match_id).order_by(CheckIn.due_on)).first()
    sign_in(browser, "adviser")
    page = browser.get(f"/matches/{match_id}")
    assert f'href="/matches/{match_id}/check-ins/{check.id}"' in page.text and "Not due yet" in page.text
    form = browser.get(f"/matches/{match_id}/check-ins/{check.id}")
    assert "Record the 2 weeks check-in" in form.text and "7 December 2026" in form.text
    empty = browser.post(f"/matches/{match_id}/check-ins/{check.id}", data={"_csrf_token": csrf(form.text),
                                                                           "note": "ok"})
    assert empty.status_code == 400 and 'href="#note"' in empty.text
    assert "What you found must be 3 characters or more" in empty.text and ">ok</textarea>" in empty.text
    done = browser.post(f"/matches/{match_id}/check-ins/{check.id}", data={"_csrf_token": csrf(form.text),
                                                                          "note": "Getting on well"})
    assert "The 2 weeks check-in is recorded as done" in done.text and "Done on 23 November 2026" in done.text
    with db.session_scope(engine) as session:
        stored = session.get(CheckIn, check.id)
        assert (stored.done_on, stored.note, stored.done_by_id) == (TEST_TODAY, "Getting on well", people["adviser"].id)
    assert browser.get(f"/matches/{match_id}/check-ins/999999").status_code == 404


def test_follow_ups_list_what_is_due_most_overdue_first(browser, people, engine):
    world = _world(engine, people, mine=2, theirs=1)
    long_ago = TEST_TODAY - timedelta(days=40)
    _approve(engine, world["mine"][0]["mentoring"], day=long_ago)  # 2-week check-in 26 days overdue
    _approve(engine, world["mine"][1]["opportunity"], day=TEST_TODAY - timedelta(days=20))  # not referred: 6 days
    _approve(engine, world["mine"][1]["mentoring"])  # check-in due in 14 days
    _approve(engine, world["theirs"][0]["opportunity"], day=long_ago)
    sign_in(browser, "adviser")
    page = browser.get("/follow-ups")
    assert page.status_code == 200 and page.text.count("<h1") == 1
    order = [int(i) for i in re.findall(r'<a class="govuk-link" href="/matches/(\d+)', page.text)]
    first, referral, fresh = world["mine"][0]["mentoring"], world["mine"][1]["opportunity"], world["mine"][1]["mentoring"]
    assert order[0] == first and order.index(referral) < order.index(fresh)
    assert world["theirs"][0]["opportunity"] not in order
    assert "2 weeks check-in overdue" in page.text and "26 days" in page.text
    assert "Approved, not yet referred to the department" in page.text and "6 days" in page.text
    assert "Due in 14 days" in page.text and "14 October 2026" in page.text  # the day it was approved
    with db.session_scope(engine) as session:
        listed = session.exec(select(AuditEvent.entity_id).where(AuditEvent.route == "GET /follow-ups")).all()
        assert sorted(listed) == sorted({world["mine"][0]["person"], world["mine"][1]["person"]})
    browser.cookies.clear()
    sign_in(browser, "manager")
    everyone = browser.get("/follow-ups").text
    assert f'/matches/{world["theirs"][0]["opportunity"]}' in everyone
    only_theirs = browser.get(f"/follow-ups?adviser={people['other_adviser'].id}").text
    assert f'/matches/{world["theirs"][0]["opportunity"]}' in only_theirs and f"/matches/{first}" not in only_theirs


# Meetings logged and corrected from a mentoring match's page ------------------------------------------

def _under_way(engine, people, *, mine: int = 1, theirs: int = 0) -> dict:
    """Mentoring proposed on 1 November and approved on the 2nd: meetings can be logged from the 1st to today."""
    with CLOCK.fixed(date(2026, 11, 1)):
        world = _world(engine, people, mine=mine, theirs=theirs)
    for who in ("mine", "theirs"):
        for item in world[who]:
            _approve(engine, item["mentoring"], day=date(2026, 11, 2))
    return world


def test_an_adviser_logs_a_meeting_from_the_match_page_and_the_mentor_sees_it(browser, people, engine):
    world = _under_way(engine, people)
    match_id, person_id = world["mine"][0]["mentoring"], world["mine"][0]["person"]
    sign_in(browser, "adviser")
    page = browser.get(f"/matches/{match_id}")
    assert "No meetings have been logged" in page.text and f'href="/matches/{match_id}/meetings/new"' in page.text
    form = browser.get(f"/matches/{match_id}/meetings/new")
    assert "When did they meet?" in form.text and "Log a meeting between " in form.text
    assert 'type="radio"' in form.text and "checked" not in form.text  # nothing preselected
    logged = browser.post(f"/matches/{match_id}/meetings", data={"_csrf_token": csrf(form.text),
                                                                 **meeting_fields(date(2026, 11, 20), "in_person",
                                                                                   "Coffee near college")})
    assert logged.status_code == 200 and "govuk-notification-banner--success" in logged.text
    assert "and their mentor logged" in logged.text
    assert "20 November 2026" in logged.text and "Coffee near college" in logged.text and "In person" in logged.text
    with db.session_scope(engine) as session:
        meeting = session.exec(select(Meeting).where(Meeting.match_id == match_id)).one()
        assert (meeting.met_on, meeting.kind, meeting.note, meeting.logged_by_id) == (
            date(2026, 11, 20), "in_person", "Coffee near college", people["adviser"].id)
        rows = session.exec(select(AuditEvent).where(AuditEvent.route == f"POST /matches/{match_id}/meetings")).all()
        assert {(r.entity, r.entity_id, r.action, r.actor_id) for r in rows} == {
            ("meeting", meeting.id, "create", people["adviser"].id),
            ("care_leaver", person_id, "update", people["adviser"].id)}
        read = session.exec(select(AuditEvent).where(AuditEvent.route == f"GET /matches/{match_id}/meetings/new")).all()
        assert [(r.entity, r.entity_id, r.action) for r in read] == [("care_leaver", person_id, "read")]
    assert f'href="/matches/{match_id}/meetings/{meeting.id}"' in logged.text
    browser.cookies.clear()
    sign_in(browser, "mentor")
    assert "Coffee near college" in browser.get("/mentees").text  # the mentor's own list shows it too


@pytest.mark.parametrize("fields,expected", meeting_refusals("they"))
def test_a_refused_meeting_on_the_match_page_is_summarised_and_keeps_what_was_typed(browser, people, engine, fields,
                                                                                    expected):
    match_id = _under_way(engine, people)["mine"][0]["mentoring"]
    sign_in(browser, "adviser")
    token = csrf(browser.get(f"/matches/{match_id}").text)
    refused = browser.post(f"/matches/{match_id}/meetings", data={"_csrf_token": token, **fields})
    assert refused.status_code == 400 and "<title>Error: " in refused.text
    assert "govuk-notification-banner--success" not in refused.text
    summary = re.search(r'<div class="govuk-error-summary".*?</ul>', refused.text, re.S).group(0)
    assert re.findall(r'href="#([\w-]+)"', summary) == list(expected)
    for anchor, message in expected.items():
        assert f'id="{anchor.removesuffix("-day")}-error"' in refused.text and message in refused.text
    assert ">Walk in the park</textarea>" in refused.text
    if fields["met_on-year"]:
        assert f'name="met_on-year" type="text" value="{fields["met_on-year"]}"' in refused.text
    with db.session_scope(engine) as session:
        assert session.exec(select(Meeting)).all() == []
        assert session.exec(select(AuditEvent).where(AuditEvent.entity == "meeting")).all() == []


def test_an_adviser_corrects_a_meeting_the_mentor_logged(browser, people, engine):
    world = _under_way(engine, people)
    match_id, person_id = world["mine"][0]["mentoring"], world["mine"][0]["person"]
    with db.session_scope(db.writer(engine)) as session:
        meeting = Meeting(match_id=match_id, met_on=date(2026, 11, 3), kind="call", note="First call",
                          logged_by_id=people["mentor"].id)
        session.add(meeting)
        session.flush()
        meeting_id = meeting.id
    sign_in(browser, "adviser")
    url = f"/matches/{match_id}/meetings/{meeting_id}"
    assert f'href="{url}"' in browser.get(f"/matches/{match_id}").text
    form = browser.get(url)
    assert 'name="met_on-day" type="text" value="3"' in form.text and 'value="call" checked' in form.text
    assert ">First call</textarea>" in form.text and "Change a meeting between " in form.text
    token = csrf(form.text)
    refused = browser.post(url, data={"_csrf_token": token, **meeting_fields(date(2026, 12, 1), note="Moved")})
    assert refused.status_code == 400 and ">Moved</textarea>" in refused.text
    assert "The date they met must be today or in the past" in refused.text
    corrected = browser.post(url, data={"_csrf_token": token, **meeting_fields(date(2026, 11, 4), "video", "Video, not a call")})
    assert "and their mentor corrected" in corrected.text and "4 November 2026" in corrected.text
    with db.session_scope(engine) as session:
        stored = session.get(Meeting, meeting_id)
        assert (stored.met_on, stored.kind, stored.note) == (date(2026, 11, 4), "video", "Video, not a call")
        rows = session.exec(select(AuditEvent).where(AuditEvent.route == f"POST {url}")).all()
        assert {(r.entity, r.entity_id, r.action, r.actor_id) for r in rows} == {
            ("meeting", meeting_id, "correct", people["adviser"].id),
            ("care_leaver", person_id, "update", people["adviser"].id)}


def test_meetings_on_another_advisers_match_are_not_found_but_a_manager_may_log_them(browser, people, engine):
    world = _under_way(engine, people, mine=0, theirs=1)
    theirs = world["theirs"][0]["mentoring"]
    with db.session_scope(db.writer(engine)) as session:
        meeting = Meeting(match_id=theirs, met_on=date(2026, 11, 3), kind="call", note="First call")
        session.add(meeting)
        session.flush()
        meeting_id = meeting.id
    sign_in(browser, "adviser")
    token = csrf(browser.get("/proposals").text)
    for method, path in [("GET", f"/matches/{theirs}/meetings/new"), ("POST", f"/matches/{theirs}/meetings"),
                         ("GET", f"/matches/{theirs}/meetings/{meeting_id}"),
                         ("POST", f"/matches/{theirs}/meetings/{meeting_id}")]:
        assert browser.request(method, path, data={"_csrf_token": token, **meeting_fields(date(2026, 11, 20))}
                               ).status_code == 404, (method, path)
    with db.session_scope(engine) as session:
        assert [(m.met_on, m.note) for m in session.exec(select(Meeting))] == [(date(2026, 11, 3), "First call")]
    browser.cookies.clear()
    sign_in(browser, "manager")
    token = csrf(browser.get(f"/matches/{theirs}").text)
    logged = browser.post(f"/matches/{theirs}/meetings", data={"_csrf_token": token, **meeting_fields(date(2026, 11, 20))})
    assert "and their mentor logged" in logged.text
    with db.session_scope(engine) as session:
        assert len(session.exec(select(Meeting)).all()) == 2


def test_no_meeting_is_logged_on_an_opportunity_a_proposal_or_an_ended_mentoring(browser, people, engine):
    world = _world(engine, people)
    proposed, job = world["mine"][0]["mentoring"], world["mine"][0]["opportunity"]
    sign_in(browser, "adviser")
    token = csrf(browser.get(f"/matches/{proposed}").text)
    assert f"/matches/{proposed}/meetings/new" not in browser.get(f"/matches/{proposed}").text
    assert browser.get(f"/matches/{job}/meetings/new").status_code == 404  # an opportunity has no meetings
    refused = browser.post(f"/matches/{proposed}/meetings", data={"_csrf_token": token, **meeting_fields(TEST_TODAY)})
    assert refused.status_code == 400 and "This mentoring is proposed" in refused.text
    _approve(engine, proposed)
    with db.session_scope(db.writer(engine)) as session:
        for step, version_read in (("introduced", 2), ("active", 3), ("completed", 4)):
            lifecycle.transition(session, proposed, lifecycle.Change(step, version_read), actor_id=None)
    ended = browser.get(f"/matches/{proposed}")
    assert "No meetings have been logged" in ended.text and f"/matches/{proposed}/meetings/new" not in ended.text
    refused = browser.post(f"/matches/{proposed}/meetings", data={"_csrf_token": token, **meeting_fields(TEST_TODAY)})
    assert refused.status_code == 400 and "This mentoring is completed" in refused.text
    assert 'value="23"' in refused.text
    with db.session_scope(engine) as session:
        assert session.exec(select(Meeting)).all() == []
