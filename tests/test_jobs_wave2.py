"""The jobs of issue 14's second part: nightly matching with a notice of new proposals, opportunity closing
dates, and the weekly digest; each at its boundary days with the service's clock, and each safe to run twice."""

from contextlib import nullcontext
from datetime import timedelta

import pytest
from sqlmodel import select

from jobs import digests, runner
from jobs import matching as nightly
from matching import dashboard, db, lifecycle
from matching.clock import CLOCK
from matching.models import (
    CareLeaver,
    CareLeaverCreate,
    JobRun,
    Match,
    MatchEvent,
    Notification,
    Opportunity,
    OpportunityCreate,
)
from tests import factories
from tests.conftest import TEST_TODAY

SECRET_NAME = "Zephyrine"


def _notices(engine, kind: str) -> list[Notification]:
    with db.session_scope(engine) as session:
        return list(session.exec(select(Notification).where(Notification.kind == kind).order_by(Notification.id)))


def _young_person(session, adviser_id: int | None, **fields) -> int:
    data = CareLeaverCreate.model_validate(factories.care_leaver(first_name=SECRET_NAME,
                                                                personal_adviser_id=adviser_id, **fields))
    person = CareLeaver(**data.model_dump())
    session.add(person)
    session.flush()
    return person.id


def _opportunity(session, department_id: int, **fields) -> Opportunity:
    job = Opportunity(**OpportunityCreate.model_validate(factories.opportunity(department_id, **fields)).model_dump())
    session.add(job)
    session.flush()
    return job


# --- Nightly matching -------------------------------------------------------------------------------

def test_nightly_matching_runs_the_engine_and_tells_the_adviser_once_a_day(client, settings, engine, people):
    for _ in range(3):
        client.post("/api/v1/care-leavers", json=factories.care_leaver(
            first_name=SECRET_NAME, personal_adviser_id=people["adviser"].id, interests=["parks"],
            sector_preferences=["parks and environment"], qualification_level=2))
    client.post("/api/v1/opportunities", json=factories.opportunity(people["department"].department_id, places=5))
    first = runner.run_job("nightly_matching", settings)
    assert first.result == "ok", first.summary
    with db.session_scope(engine) as session:
        waiting = len(session.exec(select(Match).where(Match.state == "proposed")).all())
        assert waiting > 0 and session.exec(select(MatchEvent)).first().reason.startswith("proposed by match run")
    assert first.summary.endswith(f"{waiting} proposals; 1 notices written")
    second = runner.run_job("nightly_matching", settings)
    assert second.result == "ok" and second.summary.endswith("; 0 notices written")  # twice in a day
    told = _notices(engine, "proposals")
    assert [n.user_id for n in told] == [people["adviser"].id]
    assert f"{waiting} proposals are waiting for you" in told[0].body and "/proposals" in told[0].body
    assert told[0].body.startswith("Hello Test,") and SECRET_NAME not in told[0].body


def test_an_adviser_is_told_of_proposals_made_since_they_were_last_told_once_a_day(settings, engine, people):
    """A run started from a page after the night's notice is told of the next night, not lost, not repeated."""
    ann, day = people["adviser"].id, TEST_TODAY

    def tell(on) -> int:
        # Today on the test's own clock (fixing it again would start it from noon again, behind the proposals).
        with CLOCK.fixed(on) if on != day else nullcontext(), db.session_scope(db.writer(engine)) as session:
            return nightly.tell_advisers(session, on, settings.service_url)

    def propose(person: int) -> None:
        with db.session_scope(db.writer(engine)) as session:
            lifecycle.propose(session, care_leaver_id=person, opportunity_id=job_id)

    with db.session_scope(db.writer(engine)) as session:
        job_id = _opportunity(session, people["department"].department_id).id
        first, second, nobodys = (_young_person(session, adviser) for adviser in (ann, ann, None))
    propose(first)
    propose(nobodys)  # no adviser: nobody to tell
    assert tell(day) == 1
    propose(second)  # later the same day (a run from a page): new, but they were told today already
    with db.session_scope(engine) as session:
        assert nightly.waiting_by_adviser(session) == {ann: nightly.Waiting(total=2, new=1)}
    assert tell(day) == 0
    assert tell(day + timedelta(days=1)) == 1  # the next night: the one made after the notice
    assert tell(day + timedelta(days=2)) == 0  # nothing new since
    told = _notices(engine, "proposals")
    assert [n.user_id for n in told] == [ann, ann]
    assert "1 proposal is waiting for you" in told[0].body and "2 proposals are waiting for you" in told[1].body


# --- Opportunity closing dates ------------------------------------------------------------------------

def test_opportunities_close_the_day_after_their_closing_date_and_the_department_is_told(settings, engine, people):
    parks = people["department"].department_id
    with db.session_scope(db.writer(engine)) as session:
        closing = _opportunity(session, parks, places=3, closes_on=TEST_TODAY.isoformat())
        paused = _opportunity(session, parks, places=1, closes_on=TEST_TODAY.isoformat(), status="paused")
        later = _opportunity(session, parks, closes_on=(TEST_TODAY + timedelta(days=1)).isoformat())
        person = _young_person(session, people["adviser"].id)
        waiting = lifecycle.propose(session, care_leaver_id=person, opportunity_id=closing.id)
        referred = lifecycle.propose(session, care_leaver_id=_young_person(session, people["adviser"].id),
                                     opportunity_id=closing.id)
        referred.state, closing.places_taken = "referred", 1  # as if approved and referred
        ids = closing.id, paused.id, later.id, waiting.id, referred.id
    assert runner.run_job("close_opportunities", settings).summary == "0 opportunities closed, 0 notices written"
    with CLOCK.fixed(TEST_TODAY + timedelta(days=1)):  # the closing date is the last day to be referred
        run = runner.run_job("close_opportunities", settings)
        assert run.summary == "2 opportunities closed, 2 notices written"
        assert runner.run_job("close_opportunities", settings).summary == "0 opportunities closed, 0 notices written"
    with db.session_scope(engine) as session:
        assert [session.get(Opportunity, i).status for i in ids[:3]] == ["closed", "closed", "open"]
        assert session.get(Opportunity, ids[0]).closed_reason == "its closing date, 23 November 2026, passed"
        assert [session.get(Match, i).state for i in ids[3:]] == ["withdrawn", "referred"]
    told = _notices(engine, "opportunity_closed")
    assert {n.user_id for n in told} == {people["department"].id}  # Roads' contact is not told of Parks'
    assert "2 of its 3 places went unfilled." in told[0].body and "23 November 2026" in told[0].body
    assert "1 of its 1 places went unfilled." in told[1].body
    assert f"/opportunities/{ids[0]}" in told[0].body and SECRET_NAME not in told[0].body


# --- The weekly digest --------------------------------------------------------------------------------

def test_the_weekly_digest_gives_each_adviser_their_counts_and_managers_the_overviews(settings, engine, people):
    long_ago = (TEST_TODAY - timedelta(weeks=10)).isoformat()
    with db.session_scope(db.writer(engine)) as session:
        for adviser in ("adviser", "adviser", None):
            _young_person(session, adviser and people[adviser].id, last_contact_on=long_ago)
        job = _opportunity(session, people["department"].department_id)
        lifecycle.propose(session, care_leaver_id=_young_person(session, people["adviser"].id,
                                                                last_contact_on=TEST_TODAY.isoformat()),
                          opportunity_id=job.id)
        session.add(JobRun(job="close_opportunities", result="failed", summary="builtins.ValueError"))
    run = runner.run_job("weekly_digest", settings)
    assert run.summary == "3 digests written"  # two advisers and the manager
    by_user = {n.user_id: n.body for n in _notices(engine, "digest")}
    mine = by_user[people["adviser"].id]
    assert "- Not in touch: 2 (http://127.0.0.1:8000/caseload)\n" in mine
    assert "- Proposals waiting for your decision: 1 (http://127.0.0.1:8000/proposals)\n" in mine
    assert "Nothing is on your lists this week." in by_user[people["other_adviser"].id]
    with db.session_scope(engine) as session:
        overview = dashboard.attention_counts(session, TEST_TODAY)
    manager = by_user[people["manager"].id]
    for count in overview:  # the manager's counts are the overview's, each linked to its list
        assert f"- {count.label}: {count.count} (http://127.0.0.1:8000/overview/{count.slug})\n" in manager
    assert "- Not in touch: 3 " in manager and "last run failed: close_opportunities " in manager
    assert all(SECRET_NAME not in body for body in by_user.values())
    with CLOCK.fixed(TEST_TODAY + timedelta(days=6)):  # Sunday: the same week
        assert runner.run_job("weekly_digest", settings).summary == "0 digests written"
    with CLOCK.fixed(TEST_TODAY + timedelta(days=7)):  # the next Monday: a new week
        assert runner.run_job("weekly_digest", settings).summary == "3 digests written"


def test_the_digest_week_starts_on_monday():
    assert TEST_TODAY.weekday() == 0
    assert digests.week_of(TEST_TODAY + timedelta(days=6)) == TEST_TODAY
    assert digests.week_of(TEST_TODAY - timedelta(days=1)) == TEST_TODAY - timedelta(days=7)


@pytest.mark.parametrize("name", ["nightly_matching", "close_opportunities", "weekly_digest"])
def test_the_new_jobs_are_scheduled(name):
    from jobs import registry

    job = registry.get(name)
    assert job.cron and job.description
