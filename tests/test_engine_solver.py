"""The solver is exact, and no proposal ever breaks a hard rule or a capacity (property-based tests)."""

from datetime import timedelta
from itertools import combinations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matching.council_settings import MatchingSettings
from matching.engine import geo, solve
from matching.engine.runs import choose
from matching.engine.scoring import weights_scorer
from tests.engine_world import TODAY, job, match, mentor, person, world

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def instances(draw):
    people, targets = draw(st.integers(1, 4)), draw(st.integers(1, 3))
    pairs = [(p, t) for p in range(people) for t in range(targets)]
    edges = draw(st.lists(st.sampled_from(pairs), unique=True, max_size=10))
    scores = [draw(st.integers(0, 1000)) / 1000 for _ in edges]
    person_limit = draw(st.integers(1, 2))
    target_limit = draw(st.lists(st.integers(0, 2), min_size=targets, max_size=targets))
    # The coverage bonus per person (0 for the pure sum of scores), some larger than any score difference.
    bonus = draw(st.one_of(st.just([0.0] * 4),
                           st.lists(st.sampled_from([0.0, 0.05, 0.1, 0.3, 1.0]), min_size=4, max_size=4)))
    return edges, np.array(scores), person_limit, np.array(target_limit), np.array(bonus)


def brute_force(edges, scores, person_limit, target_limit, bonus) -> int:
    """The best objective over every feasible subset: the total score plus the bonus of each person in it."""
    pi = np.array([p for p, _ in edges], dtype=np.int64)
    best = 0
    for size in range(len(edges) + 1):
        for subset in combinations(range(len(edges)), size):
            people = np.bincount([edges[i][0] for i in subset], minlength=4)
            targets = np.bincount([edges[i][1] for i in subset], minlength=len(target_limit))
            if (people <= person_limit).all() and (targets <= target_limit).all():
                chosen = np.zeros(len(edges), dtype=bool)
                chosen[list(subset)] = True
                best = max(best, solve.objective(pi, scores, chosen, bonus))
    return best


@FAST
@given(instances())
def test_the_solver_matches_brute_force_exactly(instance):
    edges, scores, person_limit, target_limit, bonus = instance
    pi = np.array([p for p, _ in edges], dtype=np.int64)
    ti = np.array([t for _, t in edges], dtype=np.int64)
    chosen = solve.assign(pi, ti, scores, person_limit, target_limit, bonus)
    assert (np.bincount(pi[chosen], minlength=4) <= person_limit).all()
    assert (np.bincount(ti[chosen], minlength=len(target_limit)) <= target_limit).all()
    assert solve.objective(pi, scores, chosen, bonus) == brute_force(edges, scores, person_limit, target_limit,
                                                                     bonus)  # gap 0
    if not bonus.any():  # no bonus: exactly the pure sum of scores, as before
        assert solve.total(scores, chosen) == brute_force(edges, scores, person_limit, target_limit, bonus)


def test_a_coverage_bonus_gives_up_score_for_a_first_proposal_and_no_more():
    """Person 0 may take both targets (0.9 + 0.5); giving target 0 to person 1 instead (0.5 + 0.6) costs 0.3 of
    total score: the bonus moves person 1 in only when it is worth more than that."""
    pi, ti, scores, limits = np.array([0, 0, 1]), np.array([0, 1, 0]), np.array([0.9, 0.5, 0.6]), np.array([1, 1])
    assert list(solve.assign(pi, ti, scores, 2, limits)) == [True, True, False]
    assert list(solve.assign(pi, ti, scores, 2, limits, np.full(2, 0.2))) == [True, True, False]
    covered = solve.assign(pi, ti, scores, 2, limits, np.full(2, 0.4))
    assert list(covered) == [False, True, True]
    assert solve.total(scores, covered) == 1_100_000 and solve.objective(pi, scores, covered, np.full(2, 0.4)) == \
        1_900_000
    # Only person 1's bonus counts here (person 0 is proposed either way): theirs alone decides.
    assert list(solve.assign(pi, ti, scores, 2, limits, np.array([0.0, 0.31]))) == [False, True, True]


AREAS = ["E8", "E9", "N16", "SE1", "M1", None]


@st.composite
def worlds(draw):
    people = [person(date_of_birth=TODAY - timedelta(days=draw(st.integers(16 * 365, 26 * 365))),
                     qualification_level=draw(st.integers(0, 4)), right_to_work_confirmed=draw(st.booleans()),
                     right_to_work_expires_on=draw(st.sampled_from([None, TODAY - timedelta(days=1), TODAY])),
                     consent_share_mentors=draw(st.booleans()), consent_share_employers=draw(st.booleans()),
                     case_status=draw(st.sampled_from(["open", "open", "closed"])), home_area=draw(st.sampled_from(AREAS)),
                     max_travel_km=draw(st.sampled_from([1.0, 5.0, 20.0])))
              for _ in range(draw(st.integers(1, 6)))]
    mentors = [mentor(status=draw(st.sampled_from(["active", "active", "paused"])),
                      dbs_checked_on=draw(st.sampled_from([None, TODAY - timedelta(days=200), TODAY - timedelta(days=1200)])),
                      safeguarding_trained_on=draw(st.sampled_from([None, TODAY])), capacity=draw(st.integers(0, 2)),
                      office_area=draw(st.sampled_from(AREAS)))
               for _ in range(draw(st.integers(0, 4)))]
    jobs = [job(status=draw(st.sampled_from(["open", "open", "closed"])), kind=draw(st.sampled_from(
        ["job", "work_experience"])), pay_pence_per_hour=None, closes_on=TODAY + timedelta(days=draw(st.integers(-2, 5))),
        places=draw(st.integers(1, 2)), places_taken=draw(st.integers(0, 1)), min_age=draw(st.integers(16, 19)),
        max_age=draw(st.integers(19, 25)), qualification_required=draw(st.integers(0, 3)),
        area=draw(st.sampled_from(AREAS))) for _ in range(draw(st.integers(0, 4)))]
    rejected = [match(p, "rejected", job_row=j) for p in people for j in jobs if draw(st.booleans()) and draw(st.booleans())]
    return people, mentors, jobs, rejected


def km(a, b) -> float | None:
    return geo.distance_km(a, b) if a and b else None


def allowed(p, target, kind, rejected) -> bool:
    """The hard rules written out plainly, independently of the engine's array code."""
    age = TODAY.year - p.date_of_birth.year - ((TODAY.month, TODAY.day) < (p.date_of_birth.month, p.date_of_birth.day))
    distance = km(p.home_area, target.office_area if kind == "mentoring" else target.area)
    if p.case_status != "open" or (distance is not None and distance > min(p.max_travel_km, 30)):
        return False
    if kind == "mentoring":
        return (p.consent_share_mentors and target.status == "active" and target.safeguarding_trained_on is not None
                and target.dbs_checked_on is not None and (TODAY - target.dbs_checked_on).days <= 3 * 365 + 1)
    paid = target.kind in {"job", "apprenticeship"} or bool(target.pay_pence_per_hour)
    right_to_work = p.right_to_work_confirmed and (p.right_to_work_expires_on is None
                                                  or p.right_to_work_expires_on >= TODAY)
    return (p.consent_share_employers and target.status == "open" and target.closes_on >= TODAY
            and target.min_age <= age <= target.max_age and p.qualification_level >= target.qualification_required
            and (right_to_work or not paid) and (p.id, target.id) not in rejected)


@FAST
@given(worlds(), st.integers(1, 3))
def test_no_proposal_breaks_a_rule_or_a_capacity(drawn, per_person):
    people, mentors, jobs, rejected = drawn
    state = world(people, mentors, jobs, rejected, referrals_per_place=2)
    options = MatchingSettings(opportunities_per_person=per_person)
    refused = {(m.care_leaver_id, m.opportunity_id) for m in rejected}
    for kind, targets in (("mentoring", mentors), ("opportunity", jobs)):
        edges, chosen = choose(state, kind, options, weights_scorer(options))
        pi, ti = edges.pi[chosen], edges.ti[chosen]
        for p, t in zip(pi, ti, strict=True):
            assert allowed(people[p], targets[t], kind, refused), (kind, people[p], targets[t])
        taken = np.bincount(ti, minlength=len(targets))
        for t, target in enumerate(targets):
            room = target.capacity - target.slots_taken if kind == "mentoring" else \
                (target.places - target.places_taken) * 2
            assert taken[t] <= max(room, 0)
        assert np.bincount(pi, minlength=len(people)).max(initial=0) <= (1 if kind == "mentoring" else per_person)
