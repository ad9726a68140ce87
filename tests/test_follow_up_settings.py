"""The follow-up intervals are a manager's settings: how long an approved match may wait for its next step
(`no_next_step_days`) and how far ahead check-ins are listed (`check_ins_due_within_days`). The settings
page shows and validates them; `pipeline.follow_ups` (the follow-ups page) reads them, at the boundary days."""

import html
import re
from datetime import date, timedelta

import pytest
from sqlmodel import select

from matching import clock, council_settings, db, lifecycle, pipeline
from matching.clock import CLOCK
from matching.models import CareLeaver, CheckIn, Match, Mentor, Setting
from tests import factories
from tests.test_pages import sign_in

DAY = timedelta(days=1)
APPROVED_ON = date(2026, 11, 2)


def _set(engine, **intervals) -> None:
    with db.session_scope(db.writer(engine)) as session:
        current = council_settings.load(session, council_settings.FollowUpSettings)
        council_settings.save(session, current.model_copy(update=intervals), actor_id=None,
                              version=council_settings.version_of(session, council_settings.FollowUpSettings))


def _due(engine, people, kind: str) -> list[dict]:
    """The manager's follow-ups of one kind, on the clock's today."""
    with db.session_scope(engine) as session:
        items = pipeline.follow_ups(session, people["manager"], today=clock.today())
    return [item for item in items if item["kind"] == kind]


@pytest.fixture
def approved(engine, people) -> dict:
    """A young person's mentoring match approved on 2 November 2026: it waits to be introduced, and its first
    check-in (2 weeks) is due on 16 November."""
    with CLOCK.fixed(APPROVED_ON), db.session_scope(db.writer(engine)) as session:
        mentor = Mentor(user_id=people["mentor"].id, department_id=people["mentor"].department_id,
                        job_title="Head of Parks", capacity=3, status="active",
                        dbs_checked_on=APPROVED_ON - 60 * DAY, safeguarding_trained_on=APPROVED_ON - 60 * DAY)
        fields = factories.care_leaver(personal_adviser_id=people["adviser"].id)
        person = CareLeaver(**{**fields, "date_of_birth": date.fromisoformat(fields["date_of_birth"])})
        session.add_all([mentor, person])
        session.flush()
        match = lifecycle.propose(session, care_leaver_id=person.id, mentor_id=mentor.id, score=0.8,
                                  reasons=["both like music"])
        lifecycle.transition(session, match.id, lifecycle.Change("approved", session.get(Match, match.id).version),
                             actor_id=None, today=APPROVED_ON)
        return {"person": person.id, "mentoring": match.id}


def test_the_defaults_are_the_old_fortnight(engine):
    with db.session_scope(engine) as session:
        intervals = council_settings.load(session, council_settings.FollowUpSettings)
    assert (intervals.no_next_step_days, intervals.check_ins_due_within_days) == (14, 14)


@pytest.mark.parametrize("days_after,listed,overdue", [(9, False, None), (10, True, 0), (11, True, 1)])
def test_an_approved_match_with_no_next_step_is_listed_exactly_when_the_set_interval_has_passed(
        engine, people, approved, days_after, listed, overdue):
    _set(engine, no_next_step_days=10, check_ins_due_within_days=0)
    CLOCK.fix(APPROVED_ON + days_after * DAY)
    waiting = [item for item in _due(engine, people, "no_next_step") if item["match"].id == approved["mentoring"]]
    assert bool(waiting) is listed
    if listed:
        assert waiting[0]["days_overdue"] == overdue and waiting[0]["since"] == APPROVED_ON


@pytest.mark.parametrize("within,days_after,listed", [(3, 10, False), (3, 11, True), (0, 13, False), (0, 14, True)])
def test_a_check_in_is_listed_from_the_set_number_of_days_before_it_is_due(engine, people, approved, within,
                                                                           days_after, listed):
    """The 2 weeks check-in is due on 16 November; it is listed from `within` days before that."""
    _set(engine, check_ins_due_within_days=within)
    CLOCK.fix(APPROVED_ON + days_after * DAY)
    checks = [item for item in _due(engine, people, "check_in") if item["match"].id == approved["mentoring"]]
    assert [item["title"] for item in checks] == (["2 weeks check-in due"] if listed else [])


def test_the_waiting_match_is_listed_ahead_by_the_check_in_interval_too(engine, people, approved):
    _set(engine, no_next_step_days=20, check_ins_due_within_days=5)
    CLOCK.fix(APPROVED_ON + 14 * DAY)  # due in 6 days: not yet listed
    assert _due(engine, people, "no_next_step") == []
    CLOCK.fix(APPROVED_ON + 15 * DAY)  # due in 5 days
    assert {item["days_overdue"] for item in _due(engine, people, "no_next_step")} == {-5}


# The settings page ----------------------------------------------------------------------------------------


def _form(browser) -> tuple[str, dict[str, str]]:
    page = browser.get("/settings")
    assert page.status_code == 200
    fields = dict(re.findall(r'name="([\w-]+)"[^>]*value="([^"]*)"', page.text))
    for name in [name for name in fields if name.startswith("must-")]:
        fields.pop(name)  # the must-have checkboxes: ticked only when stored so
    return page.text, fields


def test_the_settings_page_shows_both_intervals_with_their_labels(browser):
    sign_in(browser, "manager")
    text, fields = _form(browser)
    assert (fields["no_next_step_days"], fields["check_ins_due_within_days"]) == ("14", "14")
    assert '<label class="govuk-label" for="no_next_step_days">Follow up an approved match' in text
    assert '<label class="govuk-label" for="check_ins_due_within_days">List check-ins' in text


@pytest.mark.parametrize("field,typed,message", [
    ("no_next_step_days", "1.5", "Days an approved match may wait must be a whole number"),
    ("no_next_step_days", "0", "Days an approved match may wait must be 1 or more"),
    ("no_next_step_days", "91", "Days an approved match may wait must be 90 or less"),
    ("no_next_step_days", "", "Enter days an approved match may wait"),
    ("check_ins_due_within_days", "-1", "Days ahead for check-ins and next steps must be 0 or more"),
    ("check_ins_due_within_days", "61", "Days ahead for check-ins and next steps must be 60 or less"),
    ("check_ins_due_within_days", "two weeks", "Days ahead for check-ins and next steps must be a whole number"),
])
def test_a_bad_interval_is_refused_by_its_field_with_everything_typed_kept(browser, engine, field, typed, message):
    sign_in(browser, "manager")
    _, fields = _form(browser)
    other = "check_ins_due_within_days" if field == "no_next_step_days" else "no_next_step_days"
    bad = browser.post("/settings", data={**fields, field: typed, other: "9", "weight-distance": "4",
                                          "must-languages": "yes"})
    assert bad.status_code == 400 and "<title>Error: Settings" in bad.text
    assert f'<a href="#{field}">{message}</a>' in bad.text  # the summary links to the field
    assert re.search(rf'id="{field}-error">\s*<span class="govuk-visually-hidden">Error:</span> {message}', bad.text)
    assert f'id="{field}" name="{field}" inputmode="numeric" value="{typed}"' in bad.text  # kept as typed
    assert f'id="{other}" name="{other}" inputmode="numeric" value="9"' in bad.text
    assert re.search(r'id="weight-distance" name="weight-distance" inputmode="decimal"\s+value="4"', bad.text)
    assert re.search(r'name="must-languages" type="checkbox" value="yes"\s+checked', bad.text)
    assert "govuk-notification-banner--success" not in bad.text
    with db.session_scope(engine) as session:
        assert session.exec(select(Setting)).all() == []  # nothing saved


def test_a_bad_weight_is_worded_too(browser):
    sign_in(browser, "manager")
    _, fields = _form(browser)
    bad = browser.post("/settings", data={**fields, "weight-distance": "far"})
    assert bad.status_code == 400
    assert '<a href="#weight-distance">Weight for distance must be a number, from 0 to 10</a>' in bad.text


def test_the_intervals_saved_on_the_page_are_stored_and_change_the_follow_ups_page(browser, engine, people, approved):
    CLOCK.fix(APPROVED_ON + 4 * DAY)  # with the default fortnight: due in 10 days, listed
    sign_in(browser, "manager")
    assert f'href="/matches/{approved["mentoring"]}"' in browser.get("/follow-ups").text
    _, fields = _form(browser)
    saved = browser.post("/settings", data={**fields, "no_next_step_days": "30", "check_ins_due_within_days": "7"})
    assert "Settings saved" in saved.text and "govuk-notification-banner--success" in saved.text
    with db.session_scope(engine) as session:
        stored = council_settings.load(session, council_settings.FollowUpSettings)
        assert (stored.no_next_step_days, stored.check_ins_due_within_days) == (30, 7)
        assert stored.no_meeting_days == 90  # the other intervals as they were
    _, again = _form(browser)
    assert (again["no_next_step_days"], again["check_ins_due_within_days"]) == ("30", "7")
    page = browser.get("/follow-ups").text  # due in 26 days, the check-in in 10: neither is listed now
    assert f'href="/matches/{approved["mentoring"]}"' not in page
    assert f'href="/matches/{approved["mentoring"]}/check-ins/' not in page
    CLOCK.fix(APPROVED_ON + 9 * DAY)  # the check-in is due in 7 days
    sign_in(browser, "manager")  # the session ended with the days gone by
    with db.session_scope(engine) as session:
        check_in = session.exec(select(CheckIn).where(CheckIn.match_id == approved["mentoring"],
                                                      CheckIn.label == "2 weeks")).one()
    assert f'href="/matches/{approved["mentoring"]}/check-ins/{check_in.id}"' in browser.get("/follow-ups").text


def test_the_borough_districts_are_set_on_the_settings_page(browser, engine):
    sign_in(browser, "manager")
    _, fields = _form(browser)
    assert fields["borough_districts"] == ", ".join(council_settings.DEFAULT_BOROUGH_DISTRICTS)
    for typed, message in [("", "Enter the postcode districts inside the borough, for example E8, E9"),
                           ("E8, not a place", "'NOT' is not a postcode district (the part before the space, e.g. E8 or SW1A)")]:
        bad = browser.post("/settings", data={**fields, "borough_districts": typed})
        assert bad.status_code == 400 and '<a href="#borough_districts">' in bad.text
        assert message in html.unescape(bad.text) and f'value="{typed}"' in bad.text
    with db.session_scope(engine) as session:
        assert session.exec(select(Setting)).all() == []  # nothing saved
    saved = browser.post("/settings", data={**fields, "borough_districts": "e8,  N16 e9"})
    assert "Settings saved" in saved.text
    with db.session_scope(engine) as session:
        assert council_settings.load(session, council_settings.CouncilSettings).borough_districts == ["E8", "N16", "E9"]
    assert _form(browser)[1]["borough_districts"] == "E8, N16, E9"
