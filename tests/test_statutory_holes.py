"""Issue 14's statutory holes, each at its boundary days with the service's clock: the 21-25 closure and the
request for support, the 903 status driving the not-in-touch list, an adviser who leaves, and one clock."""

import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from matching import cases, db, lifecycle
from matching.clock import CLOCK, ZONE
from matching.models import CareLeaver, CaseEvent, Match, MatchEvent, Opportunity, Outcome, User
from tests import factories
from tests.conftest import TEST_TODAY

BORN = date(2005, 6, 15)  # 21 on 15 June 2026, 25 on 15 June 2030
DAY = timedelta(days=1)
ROOT = Path(__file__).resolve().parents[1]


def _person(client, **fields) -> dict:
    response = client.post("/api/v1/care-leavers", json=factories.care_leaver(**{
        "date_of_birth": BORN.isoformat(), **fields}))
    assert response.status_code == 201, response.text
    return response.json()


def _close(client, person, offered: date | None):
    return client.post(f"/api/v1/care-leavers/{person['id']}/close", json={
        "version": person["version"], "reason_code": "support_declined",
        "support_offered_on": offered.isoformat() if offered else None})


def _ask(client, person, asked_on: date):
    return client.post(f"/api/v1/care-leavers/{person['id']}/support-requests",
                       json={"asked_on": asked_on.isoformat(), "note": "Rang about housing"})


# --- 1. The 21-25 closure ------------------------------------------------------------------------------

@pytest.mark.parametrize("offered,allowed", [(date(2024, 6, 20), False),  # an offer made at 19
                                             (date(2026, 6, 14), False), (date(2026, 6, 15), True),
                                             (date(2026, 7, 1), True), (date(2026, 7, 2), False)])  # tomorrow
def test_a_declined_closure_needs_an_offer_made_from_the_21st_birthday_to_today(client, session, offered, allowed):
    CLOCK.fix(date(2026, 7, 1))
    person = _person(client)
    response = _close(client, person, offered)
    if allowed:
        assert response.status_code == 200, response.text
        assert f"support offered on {offered.day} {offered:%B %Y}" in response.json()["closed_reason"]
        return
    assert response.status_code == 409
    detail = response.json()["detail"]
    assert "Children Act 1989 s.23CZB" in detail and "on or after the 21st birthday (15 June 2026)" in detail
    assert session.get(CareLeaver, person["id"]).case_status == "open"
    refused = session.exec(select(CaseEvent).where(CaseEvent.care_leaver_id == person["id"])).one()
    assert (refused.action, refused.reason_code) == ("close_refused", "support_declined")
    assert "21st birthday" in refused.rule


@pytest.mark.parametrize("asked_on,status", [(date(2026, 6, 14), 422), (date(2026, 6, 15), 201),
                                             (date(2026, 7, 1), 201), (date(2026, 7, 2), 422)])
def test_a_request_for_support_is_recorded_with_its_day_from_the_21st_birthday(client, session, asked_on, status):
    CLOCK.fix(date(2026, 7, 1))
    person = _person(client)
    response = _ask(client, person, asked_on)
    assert response.status_code == status, response.text
    if status == 422:
        assert "asked_on" in response.text
        assert ("s.23CZB" in response.text) == (asked_on < date(2026, 6, 15))  # the rule quoted, before 21
        return
    assert (response.json()["action"], response.json()["on"]) == ("support_requested", asked_on.isoformat())
    event = session.exec(select(CaseEvent).where(CaseEvent.action == "support_requested")).one()
    assert event.at.astimezone(ZONE).date() == asked_on and event.note == "Rang about housing"


@pytest.mark.parametrize("asked_on,status", [(date(2030, 6, 14), 201), (date(2030, 6, 15), 422)])
def test_no_request_is_recorded_from_the_25th_birthday(client, asked_on, status):
    CLOCK.fix(date(2030, 6, 20))
    assert _ask(client, _person(client), asked_on).status_code == status


@pytest.mark.parametrize("offered,allowed", [(date(2026, 8, 9), False), (date(2026, 8, 10), True)])
def test_after_a_request_a_decline_must_answer_an_offer_made_since(client, offered, allowed):
    CLOCK.fix(date(2026, 9, 1))
    person = _person(client)
    assert _ask(client, person, date(2026, 8, 10)).status_code == 201
    response = _close(client, person, offered)
    assert response.status_code == (200 if allowed else 409), response.text
    if not allowed:
        assert "last asked for support (on 10 August 2026)" in response.json()["detail"]


def test_a_request_on_a_closed_case_is_a_re_opening(client):
    CLOCK.fix(date(2026, 9, 1))
    closed = _close(client, _person(client), date(2026, 8, 1)).json()
    refused = _ask(client, closed, date(2026, 9, 1))
    assert refused.status_code == 409 and "re-open" in refused.json()["detail"]
    reopened = client.post(f"/api/v1/care-leavers/{closed['id']}/reopen",
                           json={"version": closed["version"], "note": "Asked for help with college"}).json()
    CLOCK.fix(date(2026, 9, 5))  # the re-opening was the request: an offer older than it is not what was declined
    assert _close(client, reopened, date(2026, 8, 31)).status_code == 409
    assert _close(client, reopened, date(2026, 9, 1)).status_code == 200


# --- 3. The 903 status drives the not-in-touch list ---------------------------------------------------

def _listed(client, headers=None) -> dict[int, dict]:
    return {item["care_leaver_id"]: item for item in client.get("/api/v1/attention/not-in-touch", headers=headers).json()}


def test_no_and_refu_are_on_the_not_in_touch_list_at_once(client):
    yesterday = (TEST_TODAY - DAY).isoformat()
    born = date(2004, 1, 1)
    no, refu, yes = (_person(client, date_of_birth=born.isoformat(), in_touch=status, last_contact_on=yesterday)
                     for status in ("NO", "REFU", "YES"))
    just = _person(client, date_of_birth=born.isoformat(), last_contact_on=(TEST_TODAY - timedelta(weeks=8)).isoformat())
    listed = _listed(client)
    assert {no["id"], refu["id"]} <= set(listed) and not {yes["id"], just["id"]} & set(listed)
    assert (listed[no["id"]]["in_touch"], listed[no["id"]]["days_since_contact"]) == ("NO", 1)


def test_a_contact_keeps_the_903_status_until_the_adviser_records_it(client):
    person = _person(client, date_of_birth="2004-01-01", in_touch="NO", last_contact_on="2026-08-01")
    url = f"/api/v1/care-leavers/{person['id']}/contacts"
    assert client.post(url, json={"contact_on": TEST_TODAY.isoformat(), "kind": "message"}).status_code == 201
    after = client.get(f"/api/v1/care-leavers/{person['id']}").json()
    assert (after["last_contact_on"], after["in_touch"]) == (TEST_TODAY.isoformat(), "NO")
    assert person["id"] in _listed(client)  # a message left unanswered is not being in touch
    assert client.post(url, json={"contact_on": TEST_TODAY.isoformat(), "kind": "visit",
                                  "in_touch": "YES"}).status_code == 201
    assert client.get(f"/api/v1/care-leavers/{person['id']}").json()["in_touch"] == "YES"
    assert person["id"] not in _listed(client)


@pytest.mark.parametrize("turns_25,listed", [(TEST_TODAY, False), (TEST_TODAY + DAY, True)])
def test_from_the_25th_birthday_a_case_leaves_the_contact_lists(client, turns_25, listed):
    born = turns_25.replace(year=turns_25.year - 25)
    person = _person(client, date_of_birth=born.isoformat(), in_touch="NO")
    assert (person["id"] in _listed(client)) is listed
    reviews = {item["care_leaver_id"] for item in client.get("/api/v1/attention/pathway-reviews").json()}
    assert (person["id"] in reviews) is listed  # never reviewed: due today, while under 25


# --- 4. An adviser who leaves -----------------------------------------------------------------------------

def _unallocated(client, headers=None) -> dict[int, dict]:
    return {item["care_leaver_id"]: item for item in client.get("/api/v1/attention/unallocated", headers=headers).json()}


@pytest.mark.parametrize("who", ["manager", "mentor", "department", "left"])
def test_a_young_person_is_allocated_only_to_an_active_adviser(client, people, engine, who):
    if who == "left":
        with db.session_scope(db.writer(engine)) as session:
            session.get(User, people["other_adviser"].id).active = False
    adviser_id = people["other_adviser" if who == "left" else who].id
    refused = client.post("/api/v1/care-leavers", json=factories.care_leaver(personal_adviser_id=adviser_id))
    assert refused.status_code == 422 and "personal_adviser_id" in refused.text
    assert "not an active personal adviser" in refused.text
    person = _person(client, personal_adviser_id=people["adviser"].id)
    moved = client.patch(f"/api/v1/care-leavers/{person['id']}", json={"version": person["version"],
                                                                       "personal_adviser_id": adviser_id})
    assert moved.status_code == 422 and "personal_adviser_id" in moved.text
    assert client.get(f"/api/v1/care-leavers/{person['id']}").json()["personal_adviser_id"] == people["adviser"].id


def test_when_an_adviser_leaves_their_caseload_is_on_the_managers_unallocated_list(client, people, engine):
    mine = [_person(client, personal_adviser_id=people["adviser"].id, first_name=name) for name in ("Amy", "Ben")]
    theirs = _person(client, personal_adviser_id=people["other_adviser"].id)
    nobody = _person(client)  # allocated to no one from the start
    assert set(_unallocated(client)) == {nobody["id"]}
    CLOCK.fix(TEST_TODAY + 2 * DAY)
    with db.session_scope(db.writer(engine)) as session:  # what accounts.deactivate does, then asks of cases
        adviser = session.get(User, people["adviser"].id)
        adviser.active, adviser.closed_at = False, CLOCK.now()
        assert cases.release_caseload(session, adviser.id, actor_id=people["admin"].id) == 2
    listed = _unallocated(client)
    assert set(listed) == {mine[0]["id"], mine[1]["id"], nobody["id"]} and theirs["id"] not in listed
    assert list(listed) == [nobody["id"], mine[0]["id"], mine[1]["id"]]  # the longest first
    assert (listed[nobody["id"]]["days_unallocated"], listed[mine[0]["id"]]["days_unallocated"]) == (2, 0)
    assert listed[mine[0]["id"]]["name"].startswith("Amy") and listed[mine[0]["id"]]["personal_adviser_id"] is None
    CLOCK.fix(TEST_TODAY + 5 * DAY)
    assert _unallocated(client)[mine[1]["id"]]["days_unallocated"] == 3
    assert _unallocated(client, people["other_adviser"].headers) == {}  # the manager's list
    with db.session_scope(engine) as session:
        events = session.exec(select(CaseEvent).where(CaseEvent.care_leaver_id == mine[0]["id"])).all()
        assert [(e.action, e.reason_code, e.actor_id) for e in events] == [
            ("unallocated", "adviser_left", people["admin"].id)]
        assert "Test adviser" in events[0].note  # the record keeps whose they were
    reallocated = client.patch(f"/api/v1/care-leavers/{mine[0]['id']}", json={
        "version": mine[0]["version"] + 1, "personal_adviser_id": people["other_adviser"].id})
    assert reallocated.status_code == 200, reallocated.text
    assert mine[0]["id"] not in _unallocated(client)


def test_a_young_person_of_an_adviser_deactivated_without_a_release_is_still_listed(client, people, engine):
    person = _person(client, personal_adviser_id=people["other_adviser"].id)
    with db.session_scope(db.writer(engine)) as session:  # an account switched off in the database
        session.get(User, people["other_adviser"].id).active = False
    assert person["id"] in _unallocated(client)


# --- 5. One clock -----------------------------------------------------------------------------------------

WALL_CLOCK = re.compile(r"func\.now\(|server_default=sa\.(func|text)|CURRENT_TIMESTAMP|default_factory=datetime\.")


def test_no_column_takes_its_time_from_the_database_or_the_wall_clock():
    found = [f"{path.relative_to(ROOT)}:{number}" for path in (ROOT / "src").rglob("*.py")
             for number, line in enumerate(path.read_text().splitlines(), 1) if WALL_CLOCK.search(line)]
    assert found == []


def test_created_at_match_events_and_outcomes_are_on_the_services_day(client, people, engine):
    day = TEST_TODAY + timedelta(days=400)  # a day the system clock is not on
    CLOCK.fix(day)
    person = _person(client, date_of_birth="2006-01-01")
    job = client.post("/api/v1/opportunities", json=factories.opportunity(people["department"].department_id)).json()
    with db.session_scope(db.writer(engine)) as session:
        match = lifecycle.propose(session, care_leaver_id=person["id"], opportunity_id=job["id"])
        match.state = "interviewed"
        session.get(Opportunity, job["id"]).places_taken += 1
        session.flush()
        lifecycle.transition(session, match.id, lifecycle.Change("not_successful", match.version, "Not this time"),
                             actor_id=None)
        match_id = match.id
    with db.session_scope(engine) as session:
        stored = session.get(Match, match_id)
        moments = [session.get(CareLeaver, person["id"]).created_at, stored.created_at, stored.updated_at,
                   *(e.at for e in session.exec(select(MatchEvent).where(MatchEvent.match_id == match_id)))]
        assert {moment.astimezone(ZONE).date() for moment in moments} == {day}
        assert session.exec(select(Outcome.recorded_on).where(Outcome.match_id == match_id)).one() == day
