"""Stale matches and lapsed mentor vetting (issue 14): each on a named list (pipeline.stale_matches,
mentoring.lapsed_vetting) with who, which adviser, since when and days overdue, and told by the daily
reminders job once, on the day it becomes overdue (the outbox key), at its boundary days."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlmodel import select

from jobs import runner
from matching import council_settings, db, mentoring, pipeline
from matching.clock import CLOCK
from matching.models import (
    CareLeaver,
    CareLeaverCreate,
    Match,
    MatchEvent,
    Meeting,
    Mentor,
    Notification,
    Opportunity,
    OpportunityCreate,
)
from tests import factories

SECRET = "Quillon"
WAIT = council_settings.FollowUpSettings().no_next_step_days  # 14
QUIET = council_settings.FollowUpSettings().no_meeting_days  # 90


def _at(day: date) -> datetime:
    return datetime.combine(day, time(12), UTC)


def _person(session, adviser_id: int | None) -> CareLeaver:
    data = CareLeaverCreate.model_validate(factories.care_leaver(first_name=SECRET, personal_adviser_id=adviser_id))
    person = CareLeaver(**data.model_dump())
    session.add(person)
    session.flush()
    return person


def _match(session, person: CareLeaver, states: list[tuple[str, date]], **side) -> Match:
    """A match that reached each state on its day (the history as lifecycle.transition writes it)."""
    kind = "mentoring" if "mentor_id" in side else "opportunity"
    match = Match(care_leaver_id=person.id, kind=kind, state=states[-1][0], created_at=_at(states[0][1]), **side)
    session.add(match)
    session.flush()
    before = None
    for state, day in states:
        session.add(MatchEvent(match_id=match.id, from_state=before, to_state=state, at=_at(day)))
        before = state
    session.flush()
    return match


@pytest.fixture
def world(engine, people):
    """Approved on day A and never referred; referred on day R with nothing since; started on day S; mentoring
    introduced with a meeting on day M; each becomes overdue on a known day."""
    with db.session_scope(db.writer(engine)) as session:
        job = Opportunity(**OpportunityCreate.model_validate(
            factories.opportunity(people["department"].department_id)).model_dump())
        session.add(job)
        mentor = Mentor(user_id=people["mentor"].id, department_id=people["mentor"].department_id, job_title="Warden",
                        capacity=3, status="active", dbs_checked_on=date(2023, 12, 1),
                        safeguarding_trained_on=date(2025, 1, 1))
        session.add(mentor)
        session.flush()
        mine = _person(session, people["adviser"].id)
        theirs = _person(session, people["other_adviser"].id)
        nobody = _person(session, None)
        ids = {
            "approved": _match(session, mine, [("proposed", date(2026, 11, 1)), ("approved", date(2026, 11, 2))],
                               opportunity_id=job.id).id,
            "referred": _match(session, theirs, [("approved", date(2026, 10, 1)), ("referred", date(2026, 11, 5))],
                               opportunity_id=job.id).id,
            "started": _match(session, nobody, [("offered", date(2026, 7, 1)), ("started", date(2026, 8, 1))],
                              opportunity_id=job.id).id,
            "mentoring": _match(session, mine, [("approved", date(2026, 8, 1)), ("introduced", date(2026, 8, 10))],
                                mentor_id=mentor.id).id,
            "mine": mine.id, "theirs": theirs.id, "mentor": mentor.id,
        }
        session.add(Meeting(match_id=ids["mentoring"], met_on=date(2026, 8, 30), kind="in_person", note=""))
    return ids


def _stale(engine, day: date, **kw) -> dict[tuple[str, int], dict]:
    with db.session_scope(engine) as session:
        return {(row["kind"], row["match_id"]): row for row in pipeline.stale_matches(session, today=day, **kw)}


def test_each_stale_match_is_listed_from_the_day_after_its_interval_with_who_adviser_since_and_days(
        engine, people, world):
    approved_due = date(2026, 11, 2) + timedelta(days=WAIT)  # 16 November: the last day it may wait
    assert ("no_next_step", world["approved"]) not in _stale(engine, approved_due)
    row = _stale(engine, approved_due + timedelta(days=1))[("no_next_step", world["approved"])]
    assert (row["name"].split()[0], row["adviser"], row["since"], row["days_overdue"]) == (
        SECRET, "Test adviser", date(2026, 11, 2), 1)
    assert row["care_leaver_id"] == world["mine"] and row["personal_adviser_id"] == people["adviser"].id

    referred_due = date(2026, 11, 5) + timedelta(days=WAIT)
    assert ("no_outcome", world["referred"]) not in _stale(engine, referred_due)
    assert _stale(engine, referred_due + timedelta(days=3))[("no_outcome", world["referred"])]["days_overdue"] == 3

    started_due = date(2026, 11, 1) + timedelta(days=WAIT)  # three months after starting, then the interval
    assert ("no_outcome", world["started"]) not in _stale(engine, started_due)
    row = _stale(engine, started_due + timedelta(days=1))[("no_outcome", world["started"])]
    assert (row["adviser"], row["days_overdue"]) == ("No adviser", 1)

    quiet_due = date(2026, 8, 30) + timedelta(days=QUIET)  # 28 November
    assert ("no_meeting", world["mentoring"]) not in _stale(engine, quiet_due)
    row = _stale(engine, quiet_due + timedelta(days=1))[("no_meeting", world["mentoring"])]
    assert (row["since"], row["days_overdue"]) == (date(2026, 8, 30), 1)
    # An adviser's own list holds only their young people; the manager's everyone's.
    mine = _stale(engine, quiet_due + timedelta(days=1), adviser_id=people["adviser"].id)
    assert {key[1] for key in mine} == {world["approved"], world["mentoring"]}
    assert len(_stale(engine, quiet_due + timedelta(days=1))) == 4


def test_the_managers_interval_moves_the_boundary(engine, world):
    longer = council_settings.FollowUpSettings(no_next_step_days=30)
    day = date(2026, 11, 2) + timedelta(days=30)
    assert ("no_next_step", world["approved"]) not in _stale(engine, day, follow_up=longer)
    assert ("no_next_step", world["approved"]) in _stale(engine, day + timedelta(days=1), follow_up=longer)


@pytest.mark.parametrize(("check", "done_on", "last_day"), [
    ("dbs", date(2023, 12, 1), date(2026, 12, 1)),
    ("dbs", date(2024, 2, 29), date(2027, 2, 28)),
    ("safeguarding", date(2024, 2, 29), date(2027, 2, 28)),
    ("safeguarding", date(2023, 3, 1), date(2026, 3, 1)),
])
def test_a_check_lapses_the_day_after_the_rule_stops_counting_it(check, done_on, last_day):
    current = {"dbs": mentoring.dbs_current, "safeguarding": mentoring.safeguarding_current}[check]
    assert current(done_on, last_day) and not current(done_on, last_day + timedelta(days=1))
    assert mentoring.lapsed_on(check, done_on) == last_day + timedelta(days=1)


def _lapsed(engine, day: date, **kw) -> list[dict]:
    with db.session_scope(engine) as session:
        return mentoring.lapsed_vetting(session, today=day, **kw)


def test_live_mentoring_with_a_lapsed_dbs_check_is_listed_from_the_day_it_lapses(engine, people, world):
    assert _lapsed(engine, date(2026, 12, 1)) == []  # the DBS check's third anniversary: it still counts
    [row] = _lapsed(engine, date(2026, 12, 2))
    assert (row["match_id"], row["check"], row["lapsed_on"], row["days_overdue"], row["adviser"]) == (
        world["mentoring"], "dbs", date(2026, 12, 2), 1, "Test adviser")
    assert row["name"].startswith(SECRET) and row["mentor"] == "Test mentor"
    assert _lapsed(engine, date(2026, 12, 2), adviser_id=people["other_adviser"].id) == []
    # Training three years old lapses too, and the engine's rule agrees (approval re-checks it).
    assert {r["check"] for r in _lapsed(engine, date(2028, 1, 2))} == {"dbs", "safeguarding"}
    with db.session_scope(db.writer(engine)) as session:  # renewed: off the list
        session.get(Mentor, world["mentor"]).dbs_checked_on = date(2026, 12, 2)
    assert _lapsed(engine, date(2026, 12, 2)) == []


def _items(engine) -> list[Notification]:
    with db.session_scope(engine) as session:
        return list(session.exec(select(Notification).where(Notification.kind == "overdue_item")
                                 .order_by(Notification.id)))


def _run_on(settings, day: date) -> None:
    with CLOCK.fixed(day):
        assert runner.run_job("overdue_reminders", settings).result == "ok"


def test_the_reminders_tell_each_item_once_on_the_day_it_becomes_overdue(settings, engine, people, world):
    adviser = people["adviser"].id
    approved_due = date(2026, 11, 2) + timedelta(days=WAIT)
    with db.session_scope(db.writer(engine)) as session:  # only the approved match counts here: the rest later
        for key in ("referred", "started", "mentoring"):
            session.get(Match, world[key]).state = "withdrawn"
    _run_on(settings, approved_due)
    assert _items(engine) == []  # the day before: nothing told
    _run_on(settings, approved_due + timedelta(days=1))
    [told] = _items(engine)
    assert told.user_id == adviser and f"/matches/{world['approved']}" in told.body
    assert told.body.startswith("Hello Test,") and SECRET not in told.body and "T0" not in told.body
    _run_on(settings, approved_due + timedelta(days=1))  # twice on the day
    _run_on(settings, approved_due + timedelta(days=2))  # and the day after
    assert len(_items(engine)) == 1
    with db.session_scope(engine) as session:  # the daily counts say it too
        counts = session.exec(select(Notification).where(
            Notification.key == f"overdue:{approved_due + timedelta(days=1)}:{adviser}")).one()
    assert "- 1 matches with no next step or outcome for longer than agreed" in counts.body


def test_lapsed_vetting_tells_the_adviser_and_the_managers_once(settings, engine, people, world):
    adviser, manager = people["adviser"].id, people["manager"].id
    with db.session_scope(db.writer(engine)) as session:  # a meeting lately: the mentoring is not quiet
        session.add(Meeting(match_id=world["mentoring"], met_on=date(2026, 11, 20), kind="in_person", note=""))
        for key in ("approved", "referred", "started"):
            session.get(Match, world[key]).state = "withdrawn"
    _run_on(settings, date(2026, 12, 1))
    assert _items(engine) == []
    _run_on(settings, date(2026, 12, 2))
    told = _items(engine)
    assert sorted(n.user_id for n in told) == sorted([adviser, manager])
    assert all("DBS check stopped counting on 2 December 2026" in n.body and SECRET not in n.body for n in told)
    _run_on(settings, date(2026, 12, 2))
    _run_on(settings, date(2026, 12, 3))
    assert len(_items(engine)) == 2


def test_the_vetting_warnings_now_cover_safeguarding_training(settings, engine, people, world):
    with db.session_scope(db.writer(engine)) as session:
        mentor = session.get(Mentor, world["mentor"])
        mentor.dbs_checked_on, mentor.safeguarding_trained_on = date(2026, 1, 1), date(2024, 1, 10)
    day = date(2026, 12, 11)  # 31 days before the training stops counting (11 January 2027): not yet
    with CLOCK.fixed(day):
        assert runner.run_job("vetting_warnings", settings).summary == "0 notices written"
    with CLOCK.fixed(day + timedelta(days=1)):
        assert runner.run_job("vetting_warnings", settings).summary == "2 notices written"
        assert runner.run_job("vetting_warnings", settings).summary == "0 notices written"
    with db.session_scope(engine) as session:
        told = session.exec(select(Notification).where(Notification.kind == "vetting_expiry")).all()
    assert {n.user_id for n in told} == {people["mentor"].id, people["manager"].id}
    assert all("safeguarding training" in n.body for n in told)
