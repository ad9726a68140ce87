"""Notices caused by a match's change (lifecycle.TELLS): the department when a referral arrives, the mentor
when a mentee is approved; written in the change's own unit of work, first names and a link only."""

from datetime import timedelta

import pytest
from sqlmodel import select

from matching import db, lifecycle
from matching.models import Match, Mentor, Notification, User
from tests import factories
from tests.conftest import TEST_TODAY

VETTED = {"dbs_checked_on": TEST_TODAY - timedelta(days=200),
          "safeguarding_trained_on": TEST_TODAY - timedelta(days=200)}
SECRET_NAME = "Zephyrine"


def _notices(engine) -> list[Notification]:
    with db.session_scope(engine) as session:
        return list(session.exec(select(Notification).order_by(Notification.id)))


@pytest.fixture
def world(client, people, engine):
    person = client.post("/api/v1/care-leavers", json=factories.care_leaver(
        first_name=SECRET_NAME, personal_adviser_id=people["adviser"].id)).json()
    job = client.post("/api/v1/opportunities", json=factories.opportunity(people["department"].department_id)).json()
    with db.session_scope(db.writer(engine)) as session:
        mentor = Mentor(user_id=people["mentor"].id, department_id=people["mentor"].department_id,
                        job_title="Head of Parks", capacity=3, **VETTED)
        session.add(mentor)
        # A second contact of the same department who has left: not told.
        session.add(User(email="gone@test.example.gov.uk", full_name="Gone Contact", role="department",
                         department_id=people["department"].department_id, active=False))
    return {"person": person, "job_id": job["id"], "mentor_id": mentor.id}


def _proposed(engine, world, **side) -> int:
    with db.session_scope(db.writer(engine)) as session:
        return lifecycle.propose(session, care_leaver_id=world["person"]["id"], **side).id


def _step(client, match_id: int, to: str, reason: str = "Agreed with the young person") -> dict:
    version = client.get(f"/api/v1/matches/{match_id}").json()["version"]
    response = client.post(f"/api/v1/matches/{match_id}/transitions",
                           json={"to": to, "version": version, "reason": reason})
    assert response.status_code == 200, response.text
    return response.json()


def test_a_referral_tells_the_departments_contacts_and_nobody_else(client, people, engine, world):
    match_id = _proposed(engine, world, opportunity_id=world["job_id"])
    _step(client, match_id, "approved")
    assert _notices(engine) == []  # approving an opportunity tells nobody: the department sees referrals only
    _step(client, match_id, "referred")
    told = _notices(engine)
    assert [(n.kind, n.user_id) for n in told] == [("referral", people["department"].id)]
    notice = told[0]
    assert notice.body.startswith("Hello Test,") and f"/referrals/{match_id}" in notice.body
    assert SECRET_NAME not in notice.body and world["person"]["case_reference"] not in notice.body


def test_a_second_referral_of_the_same_match_tells_them_again_once(client, people, engine, world):
    match_id = _proposed(engine, world, opportunity_id=world["job_id"])
    _step(client, match_id, "approved")
    _step(client, match_id, "referred")
    _step(client, match_id, "withdrawn", "Moved away for a while")
    _step(client, match_id, "proposed", "Back in the borough")
    _step(client, match_id, "approved")
    _step(client, match_id, "referred")
    assert [n.kind for n in _notices(engine)] == ["referral", "referral"]


def test_approving_a_mentoring_match_tells_the_mentor(client, people, engine, world):
    match_id = _proposed(engine, world, mentor_id=world["mentor_id"])
    _step(client, match_id, "approved")
    told = _notices(engine)
    assert [(n.kind, n.user_id) for n in told] == [("mentee_approved", people["mentor"].id)]
    assert "/mentees" in told[0].body and SECRET_NAME not in told[0].body
    _step(client, match_id, "introduced")
    assert len(_notices(engine)) == 1  # the later steps tell nobody


def test_a_change_that_rolls_back_leaves_no_notice(people, engine, world):
    match_id = _proposed(engine, world, mentor_id=world["mentor_id"])
    with pytest.raises(RuntimeError), db.session_scope(db.writer(engine)) as session:
        lifecycle.transition(session, match_id, lifecycle.Change("approved", 1), actor_id=people["manager"].id)
        assert session.exec(select(Notification)).first() is not None  # written in the change's unit of work
        raise RuntimeError("the rest of the request failed")
    assert _notices(engine) == []
    with db.session_scope(engine) as session:
        assert session.get(Match, match_id).state == "proposed"
