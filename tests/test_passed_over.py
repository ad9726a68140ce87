"""Nobody passed over: the waiting clock, the passed-over count a run keeps, and the coverage bonus it buys."""

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from sqlmodel import select

from matching import council_settings, db
from matching.council_settings import MatchingSettings
from matching.engine.runs import PRIORITY_RUNS, choose, first_bonus, passed_over_after
from matching.engine.scoring import weights_scorer
from matching.engine.state import assemble, people_from, read_state
from matching.models import CareLeaver, Match, MatchRun, PassedOver
from tests.engine_world import TODAY, job, match, mentor, person, world
from tests.test_reasons_true import MIDNIGHT, reject, run, seed

# --- The count and the bonus, on small worlds without a database --------------------------------------


def test_the_count_rises_only_for_someone_with_a_candidate_and_nothing_proposed():
    helper, other = mentor(capacity=3), mentor(capacity=3)
    proposed_now, passed, no_candidate, pending, live = (person() for _ in range(5))
    state = world([proposed_now, passed, no_candidate, pending, live], [helper, other], [],
                  [match(pending, "proposed", mentor_row=helper), match(live, "active", mentor_row=other)])
    state.people.passed_over["mentoring"] = np.array([3, 2, 4, 1, 5])
    candidates, proposed = np.array([0, 1, 1]), np.array([0])  # positions: the first two had candidates
    assert passed_over_after(state, "mentoring", candidates, proposed).tolist() == [0, 3, 4, 0, 0]


def test_a_pending_opportunity_resets_the_count_and_earns_no_bonus():
    waiting_on_one, free = person(), person()
    post = job(places=3)
    state = world([waiting_on_one, free], [], [post], [match(waiting_on_one, "proposed", job_row=post)])
    state.people.passed_over["opportunity"] = np.array([2, 2])
    assert passed_over_after(state, "opportunity", np.array([0, 1]), np.array([], dtype=np.int64)).tolist() == [0, 3]
    bonus = first_bonus(state, "opportunity", MatchingSettings(coverage_bonus=0.1))
    assert bonus.tolist() == pytest.approx([0.0, 0.3])


def test_each_run_passed_over_raises_the_bonus_up_to_a_limit():
    state = world([person() for _ in range(4)], [mentor()], [])
    state.people.passed_over["mentoring"] = np.array([0, 1, PRIORITY_RUNS, PRIORITY_RUNS + 7])
    bonus = first_bonus(state, "mentoring", MatchingSettings(coverage_bonus=0.05))
    assert bonus.tolist() == pytest.approx([0.05, 0.1, 0.05 * (1 + PRIORITY_RUNS), 0.05 * (1 + PRIORITY_RUNS)])
    assert not first_bonus(state, "mentoring", MatchingSettings(coverage_bonus=0)).any()


def test_someone_passed_over_takes_the_one_slot_from_a_slightly_better_pair():
    """Two people for one mentor's one slot: the pure sum always picks the better pair; with the coverage
    bonus, the one passed over twice is proposed, but not at any price."""
    near, farther = person(home_area="E9"), person(home_area="N16", languages=["english"])
    state = world([near, farther], [mentor(capacity=1)], [])

    def chosen(bonus: float, runs_passed: list[int]) -> list[int]:
        state.people.passed_over["mentoring"] = np.array(runs_passed)
        options = MatchingSettings(coverage_bonus=bonus)
        edges, mask = choose(state, "mentoring", options, weights_scorer(options))
        return edges.pi[mask].tolist()

    assert chosen(0.0, [0, 2]) == [0]  # the pure sum: the nearer, closer pair
    assert chosen(0.1, [0, 0]) == [0]  # the same bonus for both decides nothing
    assert chosen(0.1, [0, 2]) == [1]  # passed over twice: 0.3 against 0.1
    assert chosen(0.001, [0, 2]) == [0]  # a bonus smaller than the difference in score changes nothing


def test_the_waiting_clock_restarts_when_a_match_of_that_kind_last_ended_and_stops_while_one_is_held():
    created = datetime(2026, 1, 5, tzinfo=UTC)
    rejected_on = datetime.combine(TODAY - timedelta(weeks=3, days=2), datetime.min.time(), UTC)
    someone, matched = person(created_at=created), person(created_at=created)
    post = job(places=2)
    rows = [someone, matched]
    people = people_from(rows, TODAY, {"mentoring": {someone.id: rejected_on}})
    state = assemble(TODAY, people, world([], [], [post]).targets, [match(matched, "started", job_row=post)])
    since_created = (MIDNIGHT - created).days / 7
    assert state.people.waiting_weeks["mentoring"].tolist() == pytest.approx([23 / 7, since_created])
    assert state.people.waiting_weeks["opportunity"].tolist() == pytest.approx([since_created, 0.0])


# --- A real run writes the counts, in its own transaction, on both databases ---------------------------

def _id(engine, reference: str) -> int:
    with db.session_scope(engine) as session:
        return session.exec(select(CareLeaver.id).where(CareLeaver.case_reference == reference)).one()


def _count(engine, reference_id: int, kind: str = "mentoring") -> tuple[int, int | None] | None:
    with db.session_scope(engine) as session:
        row = session.get(PassedOver, (reference_id, kind))
        return None if row is None else (row.runs, row.last_run_id)


def test_a_run_counts_who_was_passed_over_and_a_proposal_clears_it(engine):
    keen = dict(home_area="E8", max_travel_km=30.0, days_available=["tue"], languages=[], interests=["coding"],
                skills=[], sector_preferences=["it and digital"], aspirations="", qualification_level=2,
                created_at=MIDNIGHT - timedelta(weeks=20))
    far = keen | dict(home_area="M1", max_travel_km=1.0)  # no mentor within reach: never a candidate
    seed(engine, [keen, keen | dict(interests=[], sector_preferences=[]), far],
         [dict(office_area="E8", availability=["tue"], languages=[], expertise=["it and digital", "coding"],
               interests=[], capacity=1, job_title="Head of Digital")], [])
    with db.session_scope(db.writer(engine)) as session:  # the pure sum: the better pair wins the one slot
        council_settings.save(session, MatchingSettings(coverage_bonus=0), version=0, actor_id=None)
    strong, weak, remote = (_id(engine, f"R{n}") for n in range(3))
    first = run(engine, TODAY - timedelta(weeks=2))
    with db.session_scope(engine) as session:
        ids = {m.care_leaver_id for m in session.exec(select(Match).where(Match.run_id == first))}
    assert ids == {strong} and _count(engine, weak) == (1, first) and _count(engine, remote) is None
    second = run(engine, TODAY - timedelta(weeks=1))  # the slot is held by the pending proposal: no candidate
    assert _count(engine, weak) == (1, first) and _count(engine, strong) is None
    reject(engine, second)
    reject(engine, first)
    third = run(engine)
    with db.session_scope(engine) as session:
        proposal = session.exec(select(Match).where(Match.run_id == third)).one()
        assert proposal.care_leaver_id == weak and "passed over in 1 earlier run" in proposal.reasons
        counts = session.get(MatchRun, third).counts["mentoring"]
        assert counts["people_proposed"] == 1 and counts["people_with_candidates"] == 1
        state = read_state(session.connection(), TODAY)
    assert _count(engine, weak) is None and _count(engine, strong) is None
    assert not state.people.passed_over["mentoring"].any()
