"""The engine's hard rules, scores and reasons on small worlds: each rule named, tested on its own."""

from datetime import timedelta

import numpy as np
import pytest

from matching.council_settings import DEFAULT_WEIGHTS, MatchingSettings
from matching.engine import features
from matching.engine import reasons as words
from matching.engine.rules import RULES, first_broken
from matching.engine.scoring import reasons, weights_scorer
from tests.engine_world import TODAY, job, match, mentor, person, world

ONE = np.zeros(1, dtype=np.int64)
SETTINGS = MatchingSettings()


def broken(state, kind, settings=SETTINGS) -> str:
    return first_broken(state, kind, ONE, ONE, settings)[0]


def test_a_good_pair_breaks_no_rule():
    state = world([person()], [mentor()], [job()])
    assert broken(state, "mentoring") == "" and broken(state, "opportunity") == ""


# Each case changes one thing about a good pair, and exactly the named rule must say so.
MENTOR_CASES = {
    "case_open": dict(person={"case_status": "closed"}),
    "consent_to_share": dict(person={"consent_share_mentors": False}),
    "mentor_active": dict(mentor={"status": "paused"}),
    "mentor_dbs_checked": dict(mentor={"dbs_checked_on": TODAY - timedelta(days=3 * 365 + 2)}),
    "mentor_safeguarding_trained": dict(mentor={"safeguarding_trained_on": None}),
    "mentor_has_capacity": dict(mentor={"capacity": 1, "slots_taken": 1}),
    "within_travel": dict(person={"max_travel_km": 1.0}),
}
JOB_CASES = {
    "consent_to_share": dict(person={"consent_share_employers": False}),
    "opportunity_open": dict(job={"status": "closed"}),
    "opportunity_not_past_closing": dict(job={"closes_on": TODAY - timedelta(days=1)}),
    "opportunity_has_places": dict(job={"places": 2, "places_taken": 2}),
    "within_age_range": dict(job={"max_age": 19}),
    "meets_qualification": dict(job={"qualification_required": 3}),
    "right_to_work": dict(person={"right_to_work_confirmed": False}),
    "within_travel": dict(person={"home_area": "M1"}),
}


@pytest.mark.parametrize("rule,change", MENTOR_CASES.items())
def test_each_mentoring_rule_names_itself(rule, change):
    state = world([person(**change.get("person", {}))], [mentor(**change.get("mentor", {}))])
    assert broken(state, "mentoring") == rule


@pytest.mark.parametrize("rule,change", JOB_CASES.items())
def test_each_opportunity_rule_names_itself(rule, change):
    state = world([person(**change.get("person", {}))], [], [job(**change.get("job", {}))])
    assert broken(state, "opportunity") == rule


def test_the_boundaries_of_dbs_age_right_to_work_and_closing_day():
    # DBS exactly 3 years old is still current; the day after, not.
    assert broken(world([person()], [mentor(dbs_checked_on=TODAY - timedelta(days=3 * 365 + 1))]), "mentoring") == ""
    # 20 on the day: within 16-20; right to work expiring today still holds; closing today is still open.
    twenty = person(date_of_birth=TODAY.replace(year=TODAY.year - 20), right_to_work_expires_on=TODAY)
    assert broken(world([twenty], [], [job(max_age=20, closes_on=TODAY)]), "opportunity") == ""
    expired = person(right_to_work_expires_on=TODAY - timedelta(days=1))
    assert broken(world([expired], [], [job()]), "opportunity") == "right_to_work"
    # Unpaid work experience needs no right to work.
    unpaid = job(kind="work_experience", pay_pence_per_hour=None)
    assert broken(world([person(right_to_work_confirmed=False)], [], [unpaid]), "opportunity") == ""


def test_history_rules_rejected_pairs_pending_pairs_and_live_matches():
    young, host, post = person(), mentor(), job(places=3)
    assert broken(world([young], [host], matches=[match(young, "rejected", mentor_row=host)]),
                  "mentoring") == "not_rejected_before"
    # Re-opened by an adviser: the pair is proposed again, so it waits for a decision instead.
    assert broken(world([young], [], [post], matches=[match(young, "proposed", job_row=post)]),
                  "opportunity") == "not_already_proposed"
    other = mentor()
    live = world([young], [host, other], matches=[match(young, "active", mentor_row=other)])
    assert first_broken(live, "mentoring", np.zeros(2, dtype=np.int64), np.arange(2), SETTINGS).tolist() == [
        "no_live_match_of_kind", "no_live_match_of_kind"]


def test_must_have_criteria_come_from_the_manager_settings():
    state = world([person(sector_preferences=["finance"])], [], [job()])
    assert broken(state, "opportunity") == ""
    assert broken(state, "opportunity", MatchingSettings(must_have=["sector"])) == "must_have_sector"


def test_every_rule_has_a_case_here():
    named = {rule.name for rule in RULES if not rule.name.startswith("must_have_")}
    covered = set(MENTOR_CASES) | set(JOB_CASES) | {"no_live_match_of_kind", "not_rejected_before",
                                                    "not_already_proposed"}
    assert named == covered


def test_scores_are_in_range_and_reasons_are_in_words():
    state = world([person()], [mentor()], [job()])
    scorer = weights_scorer(SETTINGS)
    for kind in ("mentoring", "opportunity"):
        x = features.feature_matrix(state, kind, ONE, ONE)
        score = scorer.score(kind, x)[0]
        assert 0.0 <= score <= 1.0
        said = reasons(state, kind, ONE, ONE, scorer.contributions(kind, x))[0]
        assert said and len(said) <= 4
    said = reasons(state, "mentoring", ONE, ONE, scorer.contributions("mentoring", features.feature_matrix(
        state, "mentoring", ONE, ONE)))[0]
    # The largest contributions first, at most four; the sector is named once (not again as an interest).
    assert said == ["wants to work in construction", "1.2 km away", "similar interests and goals",
                    "both free on Tuesday"]
    assert words.describe(state, "mentoring", 0, 0, "languages") == "speaks Somali"


def test_distance_and_waiting_in_words():
    young = person(created_at=person().created_at - timedelta(weeks=10))
    state = world([young], [], [job(area="E9")], today=(young.created_at + timedelta(weeks=20)).date())
    x = features.feature_matrix(state, "opportunity", ONE, ONE)
    assert words.describe(state, "opportunity", 0, 0, "waiting") == "waiting 20 weeks"
    km = words.describe(state, "opportunity", 0, 0, "distance")
    assert km.endswith(" km away") and 0.5 < float(km.split()[0]) < 5  # E8 to E9 is about 2 km
    assert x[0, list(DEFAULT_WEIGHTS).index("waiting")] == pytest.approx(20 / 26)


def test_a_better_fit_scores_higher():
    keen, unsuited = person(), person(interests=["art"], skills=[], sector_preferences=["arts"], languages=[])
    state = world([keen, unsuited], [mentor()])
    x = features.feature_matrix(state, "mentoring", np.arange(2), np.zeros(2, dtype=np.int64))
    score = weights_scorer(SETTINGS).score("mentoring", x)
    assert score[0] > score[1]


def test_each_reason_states_only_what_is_true_of_the_pair():
    # WC2A and EC4A: centroids under 0.5 km apart, but not the same postcode district.
    near = world([person(home_area="WC2A", days_available=["mon"], sector_preferences=["it and digital", "health"])],
                 [mentor(office_area="EC4A", expertise=["it and digital", "health"])],
                 [job(area="WC2A", hours_per_week=16.0, sector="IT and digital")])
    assert words.describe(near, "mentoring", 0, 0, "distance").endswith(" km away")
    assert words.describe(near, "opportunity", 0, 0, "distance") == "in the same postcode district"
    # 16 hours need three days; one free day is not enough, so the criterion says nothing.
    assert words.describe(near, "opportunity", 0, 0, "days") is None
    assert words.describe(world([person()], [], [job(hours_per_week=16.0)]), "opportunity", 0, 0, "days") == \
        "16 hours a week fits the 3 days a week they are free"
    # Acronyms keep their capitals; an item holding "and" is quoted in a list of more than one.
    assert words.describe(near, "opportunity", 0, 0, "sector") == "wants to work in IT and digital"
    assert words.describe(near, "mentoring", 0, 0, "sector") == "wants to work in health and ‘IT and digital’"
