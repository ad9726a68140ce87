"""A department's pages over HTTP: posting and managing its opportunities, and following the young people
referred to them through to the outcome."""

import re
from datetime import date, timedelta

import pytest
from sqlmodel import select

from matching import db, lifecycle
from matching.clock import CLOCK
from matching.models import AuditEvent, CareLeaver, CheckIn, Match, MatchEvent, Opportunity, Outcome
from tests import factories
from tests.conftest import TEST_TODAY
from tests.test_pages import csrf, sign_in

PATHS = {  # how a match reaches each state a department may see (every step through the lifecycle)
    "proposed": [], "approved": ["approved"], "referred": ["approved", "referred"],
    "interviewed": ["approved", "referred", "interviewed"],
    "offered": ["approved", "referred", "interviewed", "offered"],
    "started": ["approved", "referred", "interviewed", "offered", "started"],
    "sustained_3m": ["approved", "referred", "interviewed", "offered", "started", "sustained_3m"],
    "sustained_6m": ["approved", "referred", "interviewed", "offered", "started", "sustained_3m", "sustained_6m"],
    "completed": ["approved", "referred", "interviewed", "offered", "started", "completed"],
    "not_successful": ["approved", "referred", "not_successful"],
    "ended_early": ["approved", "referred", "interviewed", "offered", "started", "ended_early"],
    "withdrawn": ["approved", "referred", "withdrawn"],
    "withdrawn_unreferred": ["approved", "withdrawn"],
}


def _job(client, people, who="department", **overrides) -> dict:
    body = factories.opportunity(people[who].department_id, places=20, **overrides)
    made = client.post("/api/v1/opportunities", json=body, headers=people["manager"].headers)
    assert made.status_code == 201, made.text
    return made.json()


def _person(client, people, **overrides) -> dict:
    return client.post("/api/v1/care-leavers", json=factories.care_leaver(**{
        "personal_adviser_id": people["adviser"].id, "consent_share_employers": True, "skills": ["first aid"],
        "accessibility_needs": "Step-free access", "support_needs": "Private: anxiety",
        "days_available": ["mon", "tue"], **overrides}), headers=people["manager"].headers).json()


def _referral(client, people, engine, job_id: int, state: str = "referred", **person) -> tuple[int, int]:
    """A young person and a match to `job_id`, moved through the lifecycle to `state`."""
    who = _person(client, people, **person)
    with db.session_scope(db.writer(engine)) as session:
        match = lifecycle.propose(session, care_leaver_id=who["id"], opportunity_id=job_id, score=0.7)
        for step in PATHS[state]:
            lifecycle.transition(session, match.id, lifecycle.Change(step, match.version, reason="for the test"),
                                 actor_id=None)
        return who["id"], match.id


def _stored(engine, table, record_id):
    with db.session_scope(engine) as session:
        record = session.get(table, record_id)
        session.expunge(record)
        return record


def _form(**overrides) -> dict:
    values = {"kind": "apprenticeship", "title": "Parks apprentice (level 2)", "description": "Looking after parks",
              "skills": "gardening, driving", "sector": "parks", "area": "n16", "hours_per_week": "30",
              "pay": "12.60", "places": "3", "min_age": "17", "max_age": "24", "qualification_required": "1",
              "closes_on-day": "20", "closes_on-month": "12", "closes_on-year": "2026",
              "starts_on-day": "11", "starts_on-month": "1", "starts_on-year": "2027",
              "ring_fenced": "yes", "guaranteed_interview": "no"}
    return values | overrides


def _errors(page) -> list[str]:
    return re.findall(r'<a href="#([\w-]+)">', page.text.split('govuk-error-summary__list')[1].split("</ul>")[0])


# Opportunities

def test_a_department_posts_an_opportunity_and_errors_keep_what_was_typed(browser, people, engine):
    sign_in(browser, "department")
    blank = browser.get("/opportunities/new")
    assert blank.status_code == 200 and "<h1" in blank.text and blank.text.count("<h1") == 1
    assert "checked" not in blank.text  # no kind, no yes or no chosen for them
    token = csrf(blank.text)
    bad = browser.post("/opportunities", data=_form(
        kind="", title="ab", area="zz99 9", pay="twelve", max_age="16", **{"closes_on-month": "13"},
        ring_fenced="", _csrf_token=token))
    assert bad.status_code == 400 and "<title>Error: Post an opportunity" in bad.text
    assert 'class="govuk-error-summary"' in bad.text and "govuk-notification-banner--success" not in bad.text
    assert set(_errors(bad)) == {"kind", "title", "area", "pay", "max_age", "closes_on-day", "ring_fenced"}
    for message in ("Select what kind of opportunity it is", "Title must be 3 characters or more", "is not a postcode district",
                    "Pay per hour must be an amount in pounds and pence", "Closing date must be a real date",
                    "Oldest age must be the same as or more than the youngest age", "Select yes if it is only for care leavers"):
        assert message in bad.text, message
    assert 'value="ab"' in bad.text and 'value="zz99 9"' in bad.text and 'value="gardening, driving"' in bad.text
    assert 'value="13"' in bad.text and "Looking after parks" in bad.text
    # The closing date after the start date is named on the closing date.
    late = browser.post("/opportunities", data=_form(**{"closes_on-month": "2", "closes_on-year": "2027"},
                                                     _csrf_token=token))
    assert late.status_code == 400 and _errors(late) == ["closes_on-day"]
    assert "Closing date must be on or before the start date" in late.text
    posted = browser.post("/opportunities", data=_form(department_id=str(people["other_department"].department_id),
                                                       status="closed", _csrf_token=token), follow_redirects=False)
    assert posted.status_code == 303
    job_id = int(posted.headers["location"].rsplit("/", 1)[1])
    shown = browser.get(posted.headers["location"])
    assert "Opportunity posted, reference OPP-" in shown.text and "govuk-notification-banner--success" in shown.text
    assert "£12.60 an hour" in shown.text and "30 hours a week" in shown.text and "0 of 3 places filled" in shown.text
    assert "20 December 2026" in shown.text and "Level 1" in shown.text
    job = _stored(engine, Opportunity, job_id)
    assert (job.department_id, job.status, job.pay_pence_per_hour, job.area, job.skills, job.ring_fenced,
            job.guaranteed_interview, job.closes_on) == (people["department"].department_id, "open", 1260, "N16",
                                                         ["gardening", "driving"], True, False, date(2026, 12, 20))
    assert re.fullmatch(r"OPP-\d{5}", job.reference)


def test_the_list_shows_only_the_departments_own_opportunities_in_words(browser, client, people):
    own = _job(client, people, title="Parks apprentice", kind="work_placement")
    other = _job(client, people, who="other_department", title="Roads surveyor")
    sign_in(browser, "department")
    listed = browser.get("/opportunities")
    assert listed.status_code == 200 and "Post an opportunity" in listed.text
    assert f'href="/opportunities/{own["id"]}"' in listed.text and "Roads surveyor" not in listed.text
    assert "Work placement" in listed.text and "0 of 20 filled" in listed.text and "23 December 2026" in listed.text
    assert re.search(r'<strong class="govuk-tag govuk-tag--green">\s*Open\s*</strong>', listed.text)
    for path in ("", "/edit", "/close", "/reopen"):
        assert browser.get(f"/opportunities/{other['id']}{path}").status_code == 404, path
    token = csrf(listed.text)
    for path in ("/edit", "/pause", "/close", "/reopen"):
        assert browser.post(f"/opportunities/{other['id']}{path}", data={
            "_csrf_token": token, "version": "1", "reason": "Not mine"}).status_code == 404, path


def test_an_edit_is_version_checked_and_a_stale_one_keeps_what_was_typed(browser, client, people, engine):
    job = _job(client, people, title="Parks apprentice", pay_pence_per_hour=1100, hours_per_week=37.5)
    sign_in(browser, "department")
    form = browser.get(f"/opportunities/{job['id']}/edit")
    assert form.status_code == 200 and 'value="Parks apprentice"' in form.text and 'value="11.00"' in form.text
    assert 'value="37.5"' in form.text and 'name="version" value="1"' in form.text
    token = csrf(form.text)
    changed = browser.post(f"/opportunities/{job['id']}/edit", data=_form(title="Senior parks apprentice",
                                                                         version="1", _csrf_token=token))
    assert "Opportunity changed" in changed.text and "Senior parks apprentice" in changed.text
    assert _stored(engine, Opportunity, job["id"]).title == "Senior parks apprentice"
    stale = browser.post(f"/opportunities/{job['id']}/edit", data=_form(title="Head of parks apprentices",
                                                                       version="1", _csrf_token=token))
    assert stale.status_code == 400 and "Someone changed this opportunity after you opened it" in stale.text
    assert 'value="Head of parks apprentices"' in stale.text and "govuk-notification-banner--success" not in stale.text
    assert _stored(engine, Opportunity, job["id"]).title == "Senior parks apprentice"
    invalid = browser.post(f"/opportunities/{job['id']}/edit", data=_form(places="0", version="2", _csrf_token=token))
    assert invalid.status_code == 400 and _errors(invalid) == ["places"] and "Places must be 1 or more" in invalid.text


def test_places_cannot_go_below_those_filled(browser, client, people, engine):
    job = _job(client, people)
    for _ in range(2):
        _referral(client, people, engine, job["id"], "started")
    sign_in(browser, "department")
    shown = browser.get(f"/opportunities/{job['id']}")
    assert "2 of 20 places filled" in shown.text and "Started" in shown.text
    version = _stored(engine, Opportunity, job["id"]).version
    refused = browser.post(f"/opportunities/{job['id']}/edit", data=_form(places="1", version=str(version),
                                                                         _csrf_token=csrf(shown.text)))
    assert refused.status_code == 400 and "Places: cannot be fewer than the 2 already filled" in refused.text
    assert 'id="places" name="places" type="text" spellcheck="false" value="1"' in refused.text


def test_pause_close_and_reopen_with_their_rules(browser, client, people, engine):
    job = _job(client, people)
    sign_in(browser, "department")
    shown = browser.get(f"/opportunities/{job['id']}")
    token = csrf(shown.text)
    paused = browser.post(f"/opportunities/{job['id']}/pause", data={"_csrf_token": token, "version": "1"})
    assert "Opportunity paused" in paused.text and _stored(engine, Opportunity, job["id"]).status == "paused"
    again = browser.post(f"/opportunities/{job['id']}/pause", data={"_csrf_token": token, "version": "2"})
    assert again.status_code == 400 and "only an open opportunity can be paused" in again.text
    assert "govuk-notification-banner--success" not in again.text
    confirm = browser.get(f"/opportunities/{job['id']}/close")
    assert "Are you sure you want to close" in confirm.text and 'name="version" value="2"' in confirm.text
    no_reason = browser.post(f"/opportunities/{job['id']}/close", data={"_csrf_token": token, "version": "2"})
    assert no_reason.status_code == 400 and _errors(no_reason) == ["reason"]
    assert _stored(engine, Opportunity, job["id"]).status == "paused"
    stale = browser.post(f"/opportunities/{job['id']}/close", data={"_csrf_token": token, "version": "1",
                                                                    "reason": "All filled"})
    assert stale.status_code == 400 and "someone changed it after you opened it" in stale.text
    assert "All filled" in stale.text
    closed = browser.post(f"/opportunities/{job['id']}/close", data={"_csrf_token": token, "version": "2",
                                                                     "reason": "All filled"})
    assert "is closed" in closed.text
    stored = _stored(engine, Opportunity, job["id"])
    assert (stored.status, stored.closed_reason, stored.closed_by_id) == ("closed", "All filled",
                                                                          people["department"].id)
    assert browser.get(f"/opportunities/{job['id']}/close").status_code == 400  # closed already: says so
    reopened = browser.post(f"/opportunities/{job['id']}/reopen", data={"_csrf_token": token, "version": "3"})
    assert "Opportunity re-opened" in reopened.text
    stored = _stored(engine, Opportunity, job["id"])
    assert (stored.status, stored.closed_at, stored.closes_on) == ("open", None, TEST_TODAY + timedelta(days=30))


@pytest.mark.parametrize("days_after,allowed", [(0, True), (1, False)])
def test_reopening_on_the_closing_day_and_the_day_after(browser, client, people, engine, days_after, allowed):
    closing = TEST_TODAY + timedelta(days=5)
    job = _job(client, people, closes_on=closing.isoformat())
    sign_in(browser, "department")
    token = csrf(browser.get(f"/opportunities/{job['id']}").text)
    browser.post(f"/opportunities/{job['id']}/pause", data={"_csrf_token": token, "version": "1"})
    CLOCK.fix(closing + timedelta(days=days_after))
    sign_in(browser, "department")  # days later: the first session has expired
    form = browser.get(f"/opportunities/{job['id']}/reopen")
    assert ("has passed" in form.text) is not allowed
    token = csrf(form.text)
    answer = browser.post(f"/opportunities/{job['id']}/reopen", data={"_csrf_token": token, "version": "2"})
    if allowed:
        assert "Opportunity re-opened" in answer.text and _stored(engine, Opportunity, job["id"]).status == "open"
        return
    assert answer.status_code == 400 and _errors(answer) == ["closes_on-day"]
    assert f"Its closing date, {closing.day} {closing:%B %Y}, has passed" in answer.text
    assert _stored(engine, Opportunity, job["id"]).status == "paused"
    past = browser.post(f"/opportunities/{job['id']}/reopen", data={
        "_csrf_token": token, "version": "2", "closes_on-day": str(closing.day), "closes_on-month": str(closing.month),
        "closes_on-year": str(closing.year)})
    assert past.status_code == 400 and "The new closing date must be today or in the future" in past.text
    assert f'value="{closing.day}"' in past.text
    later = closing + timedelta(days=7)
    renewed = browser.post(f"/opportunities/{job['id']}/reopen", data={
        "_csrf_token": token, "version": "2", "closes_on-day": str(later.day), "closes_on-month": str(later.month),
        "closes_on-year": str(later.year)})
    assert "Opportunity re-opened" in renewed.text
    stored = _stored(engine, Opportunity, job["id"])
    assert (stored.status, stored.closes_on) == ("open", later)


# Referrals

def test_the_referrals_list_shows_every_stage_a_department_may_see_and_nothing_else(browser, client, people, engine):
    job = _job(client, people, title="Parks apprentice")
    second = _job(client, people, title="Gardener")
    other = _job(client, people, who="other_department", title="Roads surveyor")
    seen = {state: _referral(client, people, engine, job["id"], state, first_name=f"Seen{i}")
            for i, state in enumerate(sorted(lifecycle.REFERRED))}
    hidden = {state: _referral(client, people, engine, job["id"], state, first_name=f"Hidden{i}")
              for i, state in enumerate(["proposed", "approved", "withdrawn_unreferred"])}
    withdrew, _ = _referral(client, people, engine, job["id"], "started", first_name="NoConsent")
    with db.session_scope(db.writer(engine)) as session:  # consent withdrawn after the referral
        session.get(CareLeaver, withdrew).consent_share_employers = False
    _referral(client, people, engine, other["id"], "started", first_name="Elsewhere")
    gardener = _referral(client, people, engine, second["id"], "interviewed", first_name="Gardening")
    sign_in(browser, "department")
    listed = browser.get("/referrals")
    assert listed.status_code == 200
    for i, state in enumerate(sorted(lifecycle.REFERRED)):
        assert f'href="/referrals/{seen[state][1]}">Seen{i} ' in listed.text, state
    assert "Hidden" not in listed.text and "NoConsent" not in listed.text and "Elsewhere" not in listed.text
    assert "Sustained 6 months" in listed.text and "Ended early" in listed.text and "Step-free access" in listed.text
    assert "23 November 2026" in listed.text and "11 people" in listed.text
    assert "Private: anxiety" not in listed.text and "Proposed" not in listed.text
    counts = dict(re.findall(r'stage=(\w+)">[^<]+</a>\s*</td>\s*<td class="govuk-table__cell govuk-table__cell--numeric">'
                             r'\s*(\d+)', listed.text))
    assert counts == {**{state: "1" for state in lifecycle.REFERRED}, "interviewed": "2"}
    ended = browser.get("/referrals?stage=ended_early")
    assert "Seen" in ended.text and ended.text.count('href="/referrals/') == 1 and "1 person ended early" in ended.text
    assert '<option value="ended_early" selected>' in ended.text
    only = browser.get(f"/referrals?opportunity={second['id']}")
    assert f'href="/referrals/{gardener[1]}"' in only.text and "Seen" not in only.text
    assert browser.get(f"/referrals?opportunity={other['id']}").text.count('href="/referrals/') == 11  # not theirs: ignored
    with db.session_scope(engine) as session:
        audited = session.exec(select(AuditEvent.entity_id).where(AuditEvent.route == "GET /referrals",
                                                                  AuditEvent.actor_id == people["department"].id,
                                                                  AuditEvent.action == "list")).all()
    assert {person for person, _ in seen.values()} <= set(audited)
    assert not {person for person, _ in hidden.values()} & set(audited)
    for state, (_, match_id) in hidden.items():
        assert browser.get(f"/referrals/{match_id}").status_code == 404, state
        assert browser.post(f"/referrals/{match_id}", data={"_csrf_token": csrf(listed.text), "version": "1",
                                                            "to": "interviewed"}).status_code == 404


def test_another_departments_referral_is_not_found(browser, client, people, engine):
    other = _job(client, people, who="other_department")
    _, match_id = _referral(client, people, engine, other["id"], "referred")
    sign_in(browser, "department")
    token = csrf(browser.get("/referrals").text)
    assert browser.get(f"/referrals/{match_id}").status_code == 404
    version = _stored(engine, Match, match_id).version
    assert browser.post(f"/referrals/{match_id}", data={"_csrf_token": token, "version": str(version),
                                                        "to": "interviewed"}).status_code == 404
    assert _stored(engine, Match, match_id).state == "referred"


def test_a_referral_shows_only_what_the_department_needs_and_is_audited(browser, client, people, engine):
    job = _job(client, people)
    person_id, match_id = _referral(client, people, engine, job["id"], "referred")
    person = _stored(engine, CareLeaver, person_id)
    sign_in(browser, "department")
    shown = browser.get(f"/referrals/{match_id}")
    assert shown.status_code == 200 and f"Test {person.family_name}" in shown.text
    assert "first aid" in shown.text and "Monday, Tuesday" in shown.text and "Step-free access" in shown.text
    for private in ("Private: anxiety", person.date_of_birth.isoformat(), person.case_reference, "BAFR", "for the test"):
        assert private not in shown.text, private
    assert "checked" not in shown.text  # no step chosen for them
    steps = re.findall(r'name="to" type="radio" value="(\w+)"', shown.text)
    assert steps == ["interviewed", "not_successful"]
    assert "Approved" not in shown.text  # the adviser's decisions before the referral are not theirs to see
    with db.session_scope(engine) as session:
        audited = session.exec(select(AuditEvent).where(AuditEvent.route == f"GET /referrals/{match_id}")).all()
    assert [(a.action, a.entity_id, a.actor_id) for a in audited] == [("read", person_id, people["department"].id)]


def test_a_department_moves_a_referral_to_sustained_six_months(browser, client, people, engine):
    job = _job(client, people)
    person_id, match_id = _referral(client, people, engine, job["id"], "referred")
    sign_in(browser, "department")
    token = csrf(browser.get(f"/referrals/{match_id}").text)
    for step in ("interviewed", "offered", "started", "sustained_3m"):
        version = _stored(engine, Match, match_id).version
        moved = browser.post(f"/referrals/{match_id}", data={"_csrf_token": token, "version": str(version),
                                                             "to": step, "note": f"note on {step}"})
        assert moved.status_code == 200 and f"Recorded for Test: {lifecycle.STATE_LABELS[step].lower()}" in moved.text
        assert _stored(engine, Match, match_id).state == step
    version = _stored(engine, Match, match_id).version
    confirm = browser.post(f"/referrals/{match_id}", data={"_csrf_token": token, "version": str(version),
                                                           "to": "sustained_6m", "note": "Doing well"})
    assert confirm.status_code == 200 and 'Are you sure you want to record "sustained 6 months"?' in confirm.text
    assert 'name="confirmed" value="yes"' in confirm.text and 'name="note" value="Doing well"' in confirm.text
    assert 'name="reason"' not in confirm.text  # no reason needed for a success
    assert _stored(engine, Match, match_id).state == "sustained_3m"
    finished = browser.post(f"/referrals/{match_id}", data={"_csrf_token": token, "version": str(version),
                                                            "to": "sustained_6m", "note": "Doing well",
                                                            "confirmed": "yes"})
    assert "Recorded for Test: sustained 6 months" in finished.text and "nothing more to record" in finished.text
    with db.session_scope(engine) as session:
        assert session.get(Match, match_id).state == "sustained_6m"
        outcomes = session.exec(select(Outcome.kind, Outcome.note, Outcome.recorded_by_id)
                                .where(Outcome.match_id == match_id).order_by(Outcome.id)).all()
        assert outcomes == [("job_sustained_3m", "note on sustained_3m", people["department"].id),
                            ("job_sustained_6m", "Doing well", people["department"].id)]
        events = session.exec(select(MatchEvent.to_state, MatchEvent.actor_id).where(
            MatchEvent.match_id == match_id, MatchEvent.actor_id == people["department"].id)).all()
        assert [state for state, _ in events] == ["interviewed", "offered", "started", "sustained_3m", "sustained_6m"]
        assert session.exec(select(CheckIn).where(CheckIn.match_id == match_id)).all()  # follow-up from the start
        job_now = session.get(Opportunity, job["id"])
        assert job_now.places_taken == 0  # the place is freed when the match ends
        updates = session.exec(select(AuditEvent.action).where(AuditEvent.route == f"POST /referrals/{match_id}",
                                                               AuditEvent.entity_id == person_id)).all()
        assert updates.count("update") == 5 and "read" in updates


def test_ending_early_needs_confirmation_and_a_reason(browser, client, people, engine):
    job = _job(client, people)
    _, match_id = _referral(client, people, engine, job["id"], "started")
    sign_in(browser, "department")
    token = csrf(browser.get(f"/referrals/{match_id}").text)
    version = str(_stored(engine, Match, match_id).version)
    confirm = browser.post(f"/referrals/{match_id}", data={"_csrf_token": token, "version": version,
                                                           "to": "ended_early", "note": "Moved away"})
    assert confirm.status_code == 200 and "Why did it end early?" in confirm.text
    no_reason = browser.post(f"/referrals/{match_id}", data={"_csrf_token": token, "version": version,
                                                             "to": "ended_early", "note": "Moved away",
                                                             "confirmed": "yes", "reason": ""})
    assert no_reason.status_code == 400 and _errors(no_reason) == ["reason"]
    assert "Enter why it ended early" in no_reason.text and 'name="note" value="Moved away"' in no_reason.text
    assert _stored(engine, Match, match_id).state == "started"
    ended = browser.post(f"/referrals/{match_id}", data={"_csrf_token": token, "version": version,
                                                         "to": "ended_early", "note": "Moved away",
                                                         "confirmed": "yes", "reason": "Moved to Leeds"})
    assert "Recorded for Test: ended early" in ended.text
    with db.session_scope(engine) as session:
        assert session.get(Match, match_id).state == "ended_early"
        outcome = session.exec(select(Outcome).where(Outcome.match_id == match_id)).one()
        assert (outcome.kind, outcome.note) == ("ended_early", "Moved to Leeds\nMoved away")


def test_a_stale_illegal_or_missing_step_is_refused_with_what_was_typed(browser, client, people, engine):
    job = _job(client, people)
    _, match_id = _referral(client, people, engine, job["id"], "referred")
    sign_in(browser, "department")
    token = csrf(browser.get(f"/referrals/{match_id}").text)
    version = _stored(engine, Match, match_id).version
    missing = browser.post(f"/referrals/{match_id}", data={"_csrf_token": token, "version": str(version),
                                                           "note": "Went well"})
    assert missing.status_code == 400 and _errors(missing) == ["to"] and "Select what happened next" in missing.text
    assert "Went well" in missing.text
    for illegal in ("started", "withdrawn", "approved", "sustained_6m"):
        refused = browser.post(f"/referrals/{match_id}", data={"_csrf_token": token, "version": str(version),
                                                               "to": illegal, "note": "Typed note", "confirmed": "yes"})
        assert refused.status_code == 400 and _errors(refused) == ["to"], illegal
        assert "cannot be recorded now: the referral is referred" in refused.text
        assert "Typed note" in refused.text and "govuk-notification-banner--success" not in refused.text
    stale = browser.post(f"/referrals/{match_id}", data={"_csrf_token": token, "version": str(version - 1),
                                                         "to": "interviewed", "note": "Typed note"})
    assert stale.status_code == 400 and "changed after you opened it" in stale.text
    assert 'value="interviewed" checked' in stale.text and "Typed note" in stale.text
    assert "govuk-notification-banner--success" not in stale.text
    stale_end = browser.post(f"/referrals/{match_id}", data={"_csrf_token": token, "version": str(version - 1),
                                                             "to": "not_successful", "confirmed": "yes",
                                                             "reason": "No show"})
    assert stale_end.status_code == 400 and "changed after you opened it" in stale_end.text
    assert _stored(engine, Match, match_id).state == "referred"
