"""The per-person limit is applied before candidates are built: nobody without room for another proposal gets
an edge the solver could never choose, and the proposals are exactly those the old order (every eligible
person's edges, the limit left to the solver) chose."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from sqlmodel import select

from matching import db
from matching.council_settings import MatchingSettings
from matching.engine import solve
from matching.engine.runs import choose, first_bonus, inputs
from matching.engine.scoring import weights_scorer
from matching.engine.state import KINDS
from matching.models import Match, MatchRun, Opportunity
from tests.engine_world import TODAY, match, world
from tests.test_engine_solver import FAST, worlds
from tests.test_reasons_true import run, seed

# --- On generated worlds without a database --------------------------------------------------------------


@st.composite
def worlds_with_pending(draw):
    """The solver's generated worlds, plus proposals already waiting: some people then hold their limit."""
    people, mentors, jobs, rejected = draw(worlds())
    refused = {(m.care_leaver_id, m.opportunity_id) for m in rejected}
    waiting = [match(p, "proposed", job_row=j) for p in people for j in jobs
               if (p.id, j.id) not in refused and draw(st.booleans())]
    waiting += [match(p, "proposed", mentor_row=draw(st.sampled_from(mentors))) for p in people
                if mentors and draw(st.booleans()) and draw(st.booleans())]
    return people, mentors, jobs, rejected + waiting


def _pairs(edges, mask=None) -> set[tuple[int, int, float]]:
    pick = np.ones(len(edges), dtype=bool) if mask is None else mask
    return set(zip(edges.pi[pick].tolist(), edges.ti[pick].tolist(), edges.score[pick].round(9).tolist(), strict=True))


def _waiting_on(matches, people, kind: str) -> np.ndarray:
    """Proposals of the kind each person is waiting on, counted from the match rows themselves."""
    return np.array([sum(m.state == "proposed" and m.kind == kind and m.care_leaver_id == p.id for m in matches)
                     for p in people])


@FAST
@given(worlds_with_pending(), st.integers(1, 3))
def test_no_edge_for_someone_at_their_limit_and_the_same_proposals_as_the_old_order(drawn, per_person):
    people, mentors, jobs, matches = drawn
    state = world(people, mentors, jobs, matches, referrals_per_place=2)
    options = MatchingSettings(opportunities_per_person=per_person)
    scorer = weights_scorer(options)
    for kind in KINDS:
        limit = 1 if kind == "mentoring" else per_person
        full = _waiting_on(matches, people, kind) >= limit
        edges, chosen = choose(state, kind, options, scorer)
        old, old_chosen = choose(state, kind, options, scorer, limit_first=False)
        assert not full[edges.pi].any()
        # Exactly the old edges of those with room: nothing that could be chosen was left out.
        assert _pairs(edges) == {pair for pair in _pairs(old) if not full[pair[0]]}
        bonus = first_bonus(state, kind, options)
        assert solve.objective(edges.pi, edges.score, chosen, bonus) == \
            solve.objective(old.pi, old.score, old_chosen, bonus)
        assert _pairs(edges, chosen) == _pairs(old, old_chosen)


# --- A second run on the same day, on both databases -----------------------------------------------------

NEAR = dict(home_area="E8", max_travel_km=10.0, days_available=["tue"], languages=[], interests=["coding"],
            skills=[], sector_preferences=["it and digital"], aspirations="")


def _job(qualification: int) -> dict:
    return dict(area="E9", sector="IT and digital", skills=["coding"], hours_per_week=16.0, places=1,
                qualification_required=qualification, ring_fenced=False, guaranteed_interview=False, kind="job")


def _old_choice(engine) -> dict[str, set[tuple[int, int]]]:
    """What the old order (edges for everyone eligible, the limit left to the solver) proposes, as ids."""
    with db.session_scope(engine) as session:
        settings, scorer, state = inputs(session, TODAY)
    found = {}
    for kind in KINDS:
        edges, chosen = choose(state, kind, settings, scorer, limit_first=False)
        found[kind] = (len(edges), set(zip(state.people.ids[edges.pi[chosen]].tolist(),
                                           state.targets[kind].ids[edges.ti[chosen]].tolist(), strict=True)))
    return found


def test_a_second_run_the_same_day_builds_no_edge_for_someone_at_their_limit(engine):
    """Holder (qualification 3) reaches four posts and is proposed three, their limit; Learner (qualification 1)
    reaches one and is proposed it. A post opened later that day: the second run builds Learner's edge to it
    and none of Holder's, and proposes what the old order would have."""
    seed(engine, [NEAR | dict(qualification_level=3), NEAR | dict(qualification_level=1)], [],
         [_job(0), _job(3), _job(3), _job(3)])
    first = run(engine)
    with db.session_scope(engine) as session:
        waiting = session.exec(select(Match.care_leaver_id).where(Match.run_id == first)).all()
        counted = {person: waiting.count(person) for person in set(waiting)}
        assert sorted(counted.values()) == [1, 3]  # the world is as the docstring says
        holder = next(person for person, n in counted.items() if n == 3)
        department = session.exec(select(Opportunity.department_id)).first()
    with db.session_scope(db.writer(engine)) as session:
        session.add(Opportunity(reference="OPP-LATE", department_id=department, title="A post opened today",
                                closes_on=TODAY.replace(day=30), pay_pence_per_hour=None, **_job(0)))
    old = _old_choice(engine)
    second = run(engine)
    with db.session_scope(engine) as session:
        counts = session.get(MatchRun, second).counts["opportunity"]
        made = session.exec(select(Match.care_leaver_id, Match.opportunity_id).where(Match.run_id == second)).all()
    # The old order built Holder's two edges (the late post and the fourth post) as well as Learner's one.
    assert old["opportunity"][0] == 3
    assert counts["candidates"] == 1 and counts["people_with_candidates"] == 1
    assert holder not in {person for person, _ in made}
    assert set(made) == old["opportunity"][1] and len(made) == 1
