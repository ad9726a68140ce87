"""Approval re-checks every hard rule of the pair, in the rule's words; and withdrawing a mentor, closing an
opportunity or closing a case withdraws their pending proposals, so these stop holding capacity."""

from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from sqlmodel import select

from matching import cases, db, lifecycle, mentoring, opportunities
from matching.engine.rules import BY_NAME
from matching.engine.state import read_state
from matching.errors import InvalidInput
from matching.models import CareLeaver, Match, MatchEvent, Mentor, Opportunity
from tests import factories
from tests.engine_world import TODAY


def _world(engine, people) -> dict[str, int]:
    """A young person who may be matched with the vetted mentor and the job, each proposed once."""
    with db.session_scope(db.writer(engine)) as session:
        fields = factories.care_leaver(personal_adviser_id=people["adviser"].id, consent_share_employers=True,
                                       right_to_work_confirmed=True)
        person = CareLeaver(**fields | {"date_of_birth": date(2001, 1, 1)})  # 25: a case that may close
        mentor = Mentor(user_id=people["mentor"].id, department_id=people["mentor"].department_id,
                        job_title="Head of Parks", capacity=2, office_area="E9",
                        dbs_checked_on=TODAY - timedelta(days=300), safeguarding_trained_on=TODAY - timedelta(days=300))
        job = Opportunity(**factories.opportunity(people["department"].department_id, places=2) | {
            "closes_on": TODAY + timedelta(days=30), "starts_on": None, "max_age": 25})
        session.add_all([person, mentor, job])
        session.flush()
        mentoring = lifecycle.propose(session, care_leaver_id=person.id, mentor_id=mentor.id)
        placement = lifecycle.propose(session, care_leaver_id=person.id, opportunity_id=job.id)
        return {"person": person.id, "mentor": mentor.id, "job": job.id, "mentoring": mentoring.id,
                "opportunity": placement.id}


def _change(engine, table, record_id: int, **values) -> None:
    with db.session_scope(db.writer(engine)) as session:
        record = session.get(table, record_id)
        for name, value in values.items():
            setattr(record, name, value)


def _approve(engine, match_id: int) -> lifecycle.Match:
    with db.session_scope(db.writer(engine)) as session:
        return lifecycle.transition(session, match_id, lifecycle.Change("approved", 1), actor_id=None, today=TODAY)


def _unchanged(engine, world, match_id: int) -> None:
    with db.session_scope(engine) as session:
        assert session.get(Match, match_id).state == "proposed"
        assert session.get(Mentor, world["mentor"]).slots_taken == 0
        assert session.get(Opportunity, world["job"]).places_taken == 0
        assert len(session.exec(select(MatchEvent).where(MatchEvent.match_id == match_id)).all()) == 1


# Each change breaks the named rule for the pair after it was proposed.
MENTORING = {
    "mentor_active": (Mentor, {"status": "withdrawn"}),
    "mentor_dbs_checked": (Mentor, {"dbs_checked_on": date(2019, 6, 1)}),
    "mentor_safeguarding_trained": (Mentor, {"safeguarding_trained_on": None}),
    "consent_to_share": (CareLeaver, {"consent_share_mentors": False}),
    "case_open": (CareLeaver, {"case_status": "closed"}),
}
OPPORTUNITY = {
    "consent_to_share": (CareLeaver, {"consent_share_employers": False}),
    "right_to_work": (CareLeaver, {"right_to_work_confirmed": False}),
    "opportunity_not_past_closing": (Opportunity, {"closes_on": TODAY - timedelta(days=1)}),
    "meets_qualification": (Opportunity, {"qualification_required": 3}),
    "within_travel": (CareLeaver, {"max_travel_km": 0.5}),
}
CASES = [("mentoring", rule, change) for rule, change in MENTORING.items()] + [
    ("opportunity", rule, change) for rule, change in OPPORTUNITY.items()]
WORDS = {"mentor_active": "the mentor is not taking mentees now (their status is withdrawn)"}


def _broken(engine, world, kind: str, table, values: dict) -> None:
    key = {Mentor: "mentor", CareLeaver: "person", Opportunity: "job"}[table]
    _change(engine, table, world[key], **values)


@pytest.mark.parametrize(("kind", "rule", "change"), CASES, ids=[f"{k}-{r}" for k, r, _ in CASES])
def test_approval_is_refused_in_the_words_of_the_rule_the_pair_now_breaks(client, people, engine, kind, rule, change):
    world = _world(engine, people)
    _broken(engine, world, kind, *change)
    with pytest.raises(lifecycle.RuleBroken) as refused:
        _approve(engine, world[kind])
    assert refused.value.rule == rule
    assert str(refused.value) == f"{WORDS.get(rule, BY_NAME[rule].says)}; nothing was changed"
    _unchanged(engine, world, world[kind])


@pytest.mark.parametrize("rule", ["mentor_active", "mentor_dbs_checked", "mentor_safeguarding_trained",
                                  "consent_to_share"])
def test_the_api_refuses_such_an_approval_with_a_409_and_the_rules_words(client, people, engine, rule):
    world = _world(engine, people)
    _broken(engine, world, "mentoring", *MENTORING[rule])
    response = client.post(f"/api/v1/matches/{world['mentoring']}/transitions",
                           json={"to": "approved", "version": 1, "reason": ""}, headers=people["adviser"].headers)
    assert response.status_code == 409, response.text
    assert response.json()["detail"] == f"{WORDS.get(rule, BY_NAME[rule].says)}; nothing was changed"
    _unchanged(engine, world, world["mentoring"])


def test_a_pair_that_still_qualifies_is_approved_whoever_else_is_waiting(client, people, engine):
    world = _world(engine, people)
    with db.session_scope(db.writer(engine)) as session:  # another young person waits for the same mentor
        other = CareLeaver(**factories.care_leaver() | {"date_of_birth": date(2005, 1, 1)})
        session.add(other)
        session.flush()
        lifecycle.propose(session, care_leaver_id=other.id, mentor_id=world["mentor"])
    _change(engine, Mentor, world["mentor"], capacity=1)
    assert _approve(engine, world["mentoring"]).state == "approved"
    assert _approve(engine, world["opportunity"]).state == "approved"
    with db.session_scope(engine) as session:
        waiting = session.exec(select(Match).where(Match.care_leaver_id != world["person"])).one().id
    with pytest.raises(lifecycle.RuleBroken) as full:  # the mentor's one slot is now taken
        _approve(engine, waiting)
    assert full.value.rule == "mentor_has_capacity"


def test_referring_an_approved_match_still_needs_the_case_open_and_the_opportunity_open(client, people, engine):
    world = _world(engine, people)
    _approve(engine, world["opportunity"])
    _change(engine, Opportunity, world["job"], status="paused")
    with pytest.raises(lifecycle.RuleBroken) as paused, db.session_scope(db.writer(engine)) as session:
        lifecycle.transition(session, world["opportunity"], lifecycle.Change("referred", 2), actor_id=None, today=TODAY)
    assert paused.value.rule == "opportunity_open" and "is paused, not open" in str(paused.value)


def _pending_room(engine) -> tuple[int, int]:
    """What the next run sees as free: the mentor's slots and the job's referrals after pending proposals."""
    with db.session_scope(engine) as session:
        state = read_state(session.connection(), TODAY, referrals_per_place=1)
        return int(state.targets["mentoring"].remaining[0]), int(state.targets["opportunity"].remaining[0])


def _history(engine, match_id: int) -> list[tuple[str | None, str, str]]:
    with db.session_scope(engine) as session:
        events = session.exec(select(MatchEvent).where(MatchEvent.match_id == match_id).order_by(MatchEvent.id))
        return [(e.from_state, e.to_state, e.reason) for e in events]


def test_closing_a_case_withdraws_its_pending_proposals_with_history(client, people, engine):
    world = _world(engine, people)
    assert _pending_room(engine) == (1, 1)
    with db.session_scope(db.writer(engine)) as session:
        version = session.get(CareLeaver, world["person"]).version
        cases.close_case(session, world["person"], cases.Closure("aged_25", version), today=TODAY,
                         actor_id=people["adviser"].id)
    assert _pending_room(engine) == (2, 2)
    for kind in ("mentoring", "opportunity"):
        assert _history(engine, world[kind])[-1] == ("proposed", "withdrawn", "the case was closed")


def test_closing_an_opportunity_withdraws_its_proposals_and_leaves_approved_ones(client, people, engine):
    world = _world(engine, people)
    with db.session_scope(db.writer(engine)) as session:
        other = CareLeaver(**factories.care_leaver(consent_share_employers=True, right_to_work_confirmed=True))
        other.date_of_birth = date(2005, 1, 1)
        session.add(other)
        session.flush()
        approved = lifecycle.propose(session, care_leaver_id=other.id, opportunity_id=world["job"]).id
    _approve(engine, approved)
    department = SimpleNamespace(id=people["department"].id, role="department",
                                 department_id=people["department"].department_id)
    with db.session_scope(db.writer(engine)) as session:
        job = session.get(Opportunity, world["job"])
        opportunities.close(session, department, job.id, version=job.version, reason="Post filled",
                            actor_id=department.id)
    with db.session_scope(engine) as session:
        assert session.get(Match, world["opportunity"]).state == "withdrawn"
        assert session.get(Match, approved).state == "approved"  # a decision already made stands
        assert session.get(Match, world["mentoring"]).state == "proposed"  # another kind: untouched
    assert _history(engine, world["opportunity"])[-1] == (
        "proposed", "withdrawn", "the opportunity was closed: Post filled")


def test_withdrawing_a_mentors_pending_proposals_frees_their_slots(client, people, engine):
    world = _world(engine, people)
    with db.session_scope(db.writer(engine)) as session:
        assert lifecycle.withdraw_pending(session, mentor_id=world["mentor"], actor_id=None,
                                          reason="the mentor has withdrawn") == 1
        assert lifecycle.withdraw_pending(session, mentor_id=world["mentor"], actor_id=None,
                                          reason="the mentor has withdrawn") == 0
        with pytest.raises(InvalidInput):
            lifecycle.withdraw_pending(session, mentor_id=world["mentor"], care_leaver_id=world["person"],
                                       actor_id=None, reason="both at once")
    assert _pending_room(engine) == (2, 1)
    assert _history(engine, world["mentoring"])[-1] == ("proposed", "withdrawn", "the mentor has withdrawn")


@pytest.mark.parametrize("how", ["api close", "api status", "mentor pauses"])
def test_a_mentor_who_stops_mentoring_has_their_waiting_proposals_withdrawn(client, people, engine, how):
    world = _world(engine, people)
    with db.session_scope(engine) as session:
        version = session.get(Mentor, world["mentor"]).version
    if how == "api close":
        answer = client.post(f"/api/v1/mentors/{world['mentor']}/close", json={"version": version, "reason": "Left"})
    elif how == "api status":
        answer = client.patch(f"/api/v1/mentors/{world['mentor']}", json={"version": version, "status": "paused"})
    else:
        viewer = SimpleNamespace(id=people["mentor"].id, role="mentor", department_id=None)
        with db.session_scope(db.writer(engine)) as session:
            mentoring.pause(session, viewer, version=version)
        answer = SimpleNamespace(status_code=200, text="")
    assert answer.status_code == 200, answer.text
    with db.session_scope(engine) as session:
        assert session.get(Match, world["mentoring"]).state == "withdrawn"
        assert session.get(Match, world["opportunity"]).state == "proposed"  # the job is still open
    assert _history(engine, world["mentoring"])[-1][:2] == ("proposed", "withdrawn")


def test_an_opportunity_closed_through_the_api_has_its_waiting_proposals_withdrawn(client, people, engine):
    world = _world(engine, people)
    with db.session_scope(engine) as session:
        version = session.get(Opportunity, world["job"]).version
    assert client.post(f"/api/v1/opportunities/{world['job']}/close",
                       json={"version": version, "reason": "Filled"}).status_code == 200
    assert _history(engine, world["opportunity"])[-1] == ("proposed", "withdrawn", "the opportunity was closed: Filled")
