"""The match lifecycle through the API: every transition, legal and illegal; slots taken atomically."""

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from matching import db, lifecycle
from matching.clock import CLOCK
from matching.models import ApiTokenCreate, Match, MatchEvent, Meeting, Mentor, Opportunity, Outcome, UserCreate
from matching.services.users import create_token, create_user
from tests import factories
from tests.engine_world import TODAY

# What the hard rules ask of a mentor before a proposal can be approved.
VETTED = {"dbs_checked_on": TODAY - timedelta(days=200), "safeguarding_trained_on": TODAY - timedelta(days=200)}


def _setup(client, people, engine, *, places=50, capacity=20):
    person = client.post("/api/v1/care-leavers", json=factories.care_leaver(
        personal_adviser_id=people["adviser"].id, consent_share_employers=True, right_to_work_confirmed=True)).json()
    job = client.post("/api/v1/opportunities", json=factories.opportunity(
        people["department"].department_id, places=places)).json()
    with db.session_scope(db.writer(engine)) as session:
        mentor = Mentor(user_id=people["mentor"].id, department_id=people["mentor"].department_id,
                        job_title="Head of Parks", capacity=capacity, **VETTED)
        session.add(mentor)
    return person["id"], job["id"], mentor.id


def _match_in(engine, state: str, person_id: int, **side) -> int:
    with db.session_scope(db.writer(engine)) as session:
        match = lifecycle.propose(session, care_leaver_id=person_id, **side)
        match.state = state
        kind = "mentoring" if "mentor_id" in side else "opportunity"
        if state in lifecycle.HOLDING[kind]:  # as if it had been approved through the lifecycle
            table, target_id = (Mentor, side["mentor_id"]) if kind == "mentoring" else (Opportunity, side["opportunity_id"])
            target = session.get(table, target_id)
            setattr(target, "slots_taken" if kind == "mentoring" else "places_taken",
                    (target.slots_taken if kind == "mentoring" else target.places_taken) + 1)
        session.flush()
        return match.id


def _body(to: str, version: int) -> dict:
    return {"to": to, "version": version, "reason": "Agreed with the young person",
            "reason_code": "poor_fit" if to == "rejected" else None}


@pytest.mark.parametrize("kind", ["mentoring", "opportunity"])
def test_every_transition_legal_and_illegal(client, people, engine, kind):
    person_id, job_id, mentor_id = _setup(client, people, engine)
    side = {"mentor_id": mentor_id} if kind == "mentoring" else {"opportunity_id": job_id}
    machine = lifecycle.MACHINES[kind]
    for start in machine:
        for to in machine:
            match_id = _match_in(engine, start, person_id, **side)
            before = client.get(f"/api/v1/matches/{match_id}").json()
            response = client.post(f"/api/v1/matches/{match_id}/transitions", json=_body(to, before["version"]))
            after = client.get(f"/api/v1/matches/{match_id}").json()
            if to in machine[start]:
                assert response.status_code == 200, (start, to, response.text)
                assert after["state"] == to and after["version"] == before["version"] + 1
                assert after["history"][-1] | {"at": None} == {
                    "at": None, "from": start, "to": to, "by": people["manager"].id,
                    "reason": ("poor_fit: " if to == "rejected" else "") + "Agreed with the young person"}
            else:
                assert response.status_code == 409, (start, to, response.text)
                assert response.json()["allowed_next"] == sorted(machine[start])
                assert after == before


def test_a_rejection_needs_a_reason_from_the_list(client, people, engine):
    person_id, job_id, _ = _setup(client, people, engine)
    match_id = _match_in(engine, "proposed", person_id, opportunity_id=job_id)
    response = client.post(f"/api/v1/matches/{match_id}/transitions",
                           json={"to": "rejected", "version": 1, "reason": "no"})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "reason_code"
    assert client.get(f"/api/v1/matches/{match_id}").json()["state"] == "proposed"


@pytest.mark.parametrize("kind", ["mentoring", "opportunity"])
def test_concurrent_approvals_of_the_last_place_give_exactly_one(client, people, engine, kind):
    person_id, job_id, mentor_id = _setup(client, people, engine, places=1, capacity=1)
    side = {"mentor_id": mentor_id} if kind == "mentoring" else {"opportunity_id": job_id}
    matches = [_match_in(engine, "proposed", person_id, **side) for _ in range(12)]

    def approve(match_id: int) -> int:
        return client.post(f"/api/v1/matches/{match_id}/transitions", json=_body("approved", 1)).status_code

    with ThreadPoolExecutor(max_workers=12) as pool:
        statuses = sorted(pool.map(approve, matches))
    assert statuses == [200] + [409] * 11
    with Session(engine) as session:
        states = [session.get(Match, m).state for m in matches]
        taken = session.get(Mentor, mentor_id).slots_taken if kind == "mentoring" else \
            session.get(Opportunity, job_id).places_taken
    assert states.count("approved") == 1 and states.count("proposed") == 11 and taken == 1


def test_ending_a_match_frees_its_place_and_outcomes_are_recorded(client, people, engine):
    person_id, job_id, _ = _setup(client, people, engine, places=1)
    first, second = (_match_in(engine, "proposed", person_id, opportunity_id=job_id) for _ in range(2))
    assert client.post(f"/api/v1/matches/{first}/transitions", json=_body("approved", 1)).status_code == 200
    assert client.post(f"/api/v1/matches/{second}/transitions", json=_body("approved", 1)).status_code == 409
    assert client.post(f"/api/v1/matches/{first}/transitions", json=_body("withdrawn", 2)).status_code == 200
    assert client.post(f"/api/v1/matches/{second}/transitions", json=_body("approved", 1)).status_code == 200
    version = 2
    for step in ["referred", "interviewed", "offered", "started", "sustained_3m", "sustained_6m"]:
        response = client.post(f"/api/v1/matches/{second}/transitions", json=_body(step, version),
                               headers=people["department"].headers if step != "referred" else {})
        assert response.status_code == 200, (step, response.text)
        version += 1
    with Session(engine) as session:
        assert session.get(Opportunity, job_id).places_taken == 0  # a sustained job no longer holds a place
        outcomes = [o.kind for o in session.exec(select(Outcome).where(Outcome.match_id == second))]
        assert outcomes == ["job_sustained_3m", "job_sustained_6m"]
        assert len(session.exec(select(MatchEvent).where(MatchEvent.match_id == second)).all()) == 8


def test_stale_versions_and_who_may_move_what(client, people, engine):
    person_id, job_id, _ = _setup(client, people, engine)
    match_id = _match_in(engine, "proposed", person_id, opportunity_id=job_id)
    assert client.post(f"/api/v1/matches/{match_id}/transitions", json=_body("approved", 7)).status_code == 409
    department = people["department"].headers
    refused = client.post(f"/api/v1/matches/{match_id}/transitions", json=_body("approved", 1), headers=department)
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "to"
    other = people["other_adviser"].headers
    assert client.get(f"/api/v1/matches/{match_id}", headers=other).status_code == 404
    assert client.get("/api/v1/matches", headers=other).json()["total"] == 0
    assert client.post(f"/api/v1/matches/{match_id}/transitions", json=_body("approved", 1),
                       headers=people["adviser"].headers).status_code == 200
    assert client.get("/api/v1/matches", headers=people["other_department"].headers).json()["total"] == 0


def test_check_ins_are_scheduled_listed_when_overdue_and_done(client, people, engine):
    from datetime import date

    person_id, job_id, mentor_id = _setup(client, people, engine)
    CLOCK.fix(date(2026, 8, 31))
    match_id = _match_in(engine, "proposed", person_id, mentor_id=mentor_id)
    approved = client.post(f"/api/v1/matches/{match_id}/transitions", json=_body("approved", 1)).json()
    assert [(c["label"], c["due_on"]) for c in approved["check_ins"]] == [
        ("2 weeks", "2026-09-14"), ("1 month", "2026-09-30"), ("2 months", "2026-10-31"), ("3 months", "2026-11-30"),
        ("4 months", "2026-12-31"), ("5 months", "2027-01-31"), ("6 months", "2027-02-28")]
    CLOCK.fix(date(2026, 9, 14))  # due today: not yet overdue
    assert client.get("/api/v1/attention/check-ins").json() == []
    CLOCK.fix(date(2026, 9, 15))
    overdue = client.get("/api/v1/attention/check-ins", headers=people["adviser"].headers).json()
    assert [(c["label"], c["days_overdue"]) for c in overdue] == [("2 weeks", 1)]
    assert client.get("/api/v1/attention/check-ins", headers=people["other_adviser"].headers).json() == []
    first = approved["check_ins"][0]["id"]
    url = f"/api/v1/matches/{match_id}/check-ins/{first}/done"
    assert client.post(url, json={"note": "Met twice; going well"}).json()["done_on"] == "2026-09-15"
    assert client.post(url, json={"note": "again"}).status_code == 409
    assert client.get("/api/v1/attention/check-ins").json() == []
    CLOCK.fix(date(2026, 10, 5))  # the 1-month check-in is now overdue ...
    assert len(client.get("/api/v1/attention/check-ins").json()) == 1
    client.post(f"/api/v1/matches/{match_id}/transitions", json=_body("withdrawn", 2))
    assert client.get("/api/v1/attention/check-ins").json() == []  # ... unless the match has ended


def test_mentors_log_meetings_and_quiet_matches_are_flagged_at_the_boundary(client, people, engine):
    from datetime import timedelta

    from matching.clock import utcnow

    person_id, _, mentor_id = _setup(client, people, engine)
    start = utcnow().date()  # the match is proposed and approved now
    CLOCK.fix(start)
    match_id = _match_in(engine, "proposed", person_id, mentor_id=mentor_id)
    client.post(f"/api/v1/matches/{match_id}/transitions", json=_body("approved", 1))

    def flagged(day, **query):
        CLOCK.fix(day)
        found = client.get("/api/v1/attention/no-meetings", params=query).json()
        return [(item["match_id"], item["days_since"]) for item in found]

    assert flagged(start + timedelta(days=90)) == []  # 90 days since approval, with no meeting yet
    assert flagged(start + timedelta(days=91)) == [(match_id, 91)]
    mentor = people["mentor"].headers
    url = f"/api/v1/me/mentees/{match_id}/meetings"
    met_on = start + timedelta(days=30)
    logged = client.post(url, json={"met_on": met_on.isoformat(), "kind": "in_person", "note": "Coffee"},
                         headers=mentor)
    assert logged.status_code == 201, logged.text
    assert client.get(url, headers=mentor).json()[0]["met_on"] == met_on.isoformat()
    assert flagged(met_on + timedelta(days=90)) == []
    assert flagged(met_on + timedelta(days=91)) == [(match_id, 91)]
    assert flagged(met_on + timedelta(days=31), days=30) == [(match_id, 31)]  # a shorter interval asked for
    # The interval is a manager's setting when the request does not give one.
    saved = client.put("/api/v1/settings/follow_up", json={"version": 0, "value": {"no_meeting_days": 30}})
    assert saved.status_code == 200, saved.text
    assert flagged(met_on + timedelta(days=31)) == [(match_id, 31)]
    assert client.get("/api/v1/attention/no-meetings", headers=people["other_adviser"].headers).json() == []


def test_meeting_logs_refuse_bad_input_and_other_mentors(client, people, engine):
    from datetime import timedelta

    from matching.clock import utcnow

    person_id, _, mentor_id = _setup(client, people, engine)
    today = utcnow().date()
    CLOCK.fix(today)
    match_id = _match_in(engine, "active", person_id, mentor_id=mentor_id)
    url = f"/api/v1/me/mentees/{match_id}/meetings"
    future = client.post(url, json={"met_on": (today + timedelta(days=1)).isoformat(), "kind": "call"},
                         headers=people["mentor"].headers)
    assert future.status_code == 422 and future.json()["errors"][0]["field"] == "met_on"
    unknown_kind = client.post(url, json={"met_on": today.isoformat(), "kind": "telepathy"},
                               headers=people["mentor"].headers)
    assert unknown_kind.status_code == 400 and "kind" in unknown_kind.text
    with db.session_scope(db.writer(engine)) as session:
        other = create_user(session, UserCreate(email="m9@x.gov.uk", full_name="Other", role="mentor",
                                                department_id=people["mentor"].department_id))
        _, token = create_token(session, ApiTokenCreate(user_id=other.id, name="tests"), created_by_id=None)
    stranger = {"Authorization": f"Bearer {token}"}
    assert client.post(url, json={"met_on": today.isoformat(), "kind": "call"}, headers=stranger).status_code == 404
    assert client.get(url, headers=stranger).status_code == 404
    by_adviser = client.post(f"/api/v1/matches/{match_id}/meetings", json={"met_on": today.isoformat(),
                                                                          "kind": "video"},
                             headers=people["adviser"].headers)
    assert by_adviser.status_code == 201
    assert client.get(f"/api/v1/matches/{match_id}").json()["meetings"][0]["kind"] == "video"
    with Session(engine) as session:
        assert len(session.exec(select(Meeting)).all()) == 1  # nothing written by the refusals


def test_departments_see_through_the_api_only_what_was_referred_to_them(client, people, engine):
    person_id, job_id, _ = _setup(client, people, engine)
    shown = {state: _match_in(engine, state, person_id, opportunity_id=job_id)
             for state in ["proposed", "approved", "rejected", "referred", "started", "sustained_6m"]}
    withdrawn_early = _match_in(engine, "withdrawn", person_id, opportunity_id=job_id)
    department = people["department"].headers
    listed = {item["id"] for item in client.get("/api/v1/matches?limit=100", headers=department).json()["items"]}
    assert listed == {shown["referred"], shown["started"], shown["sustained_6m"]}
    for hidden in (shown["proposed"], shown["approved"], shown["rejected"], withdrawn_early):
        assert client.get(f"/api/v1/matches/{hidden}", headers=department).status_code == 404
    assert client.get(f"/api/v1/matches/{shown['referred']}", headers=people["other_department"].headers
                      ).status_code == 404
