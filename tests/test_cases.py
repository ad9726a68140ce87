"""Statutory closure at the boundary birthdays, re-opening to 25, contacts, and the attention lists."""

from datetime import date, timedelta

import pytest
from sqlmodel import select

from matching import clock
from matching.clock import CLOCK
from matching.dates import birthday
from matching.models import CaseEvent
from tests import factories

BORN = date(2005, 6, 15)  # 21 on 2026-06-15, 25 on 2030-06-15
DAY = timedelta(days=1)


@pytest.fixture
def on(client):
    def set_today(day: date) -> None:
        CLOCK.fix(day)
    return set_today


def _person(client, **fields) -> dict:
    return client.post("/api/v1/care-leavers", json=factories.care_leaver(date_of_birth=BORN.isoformat(), **fields)).json()


def _close(client, person, **body):
    return client.post(f"/api/v1/care-leavers/{person['id']}/close", json={"version": person["version"], **body})


@pytest.mark.parametrize("today,allowed", [(date(2026, 6, 14), False), (date(2026, 6, 15), True),
                                           (date(2026, 6, 16), True)])
def test_closing_at_21_needs_support_offered_and_declined(client, on, today, allowed):
    on(today)
    person = _person(client)
    response = _close(client, person, reason_code="support_declined", support_offered_on="2026-06-15",
                      note="Told us at the review they do not want a PA")
    if allowed:
        assert response.status_code == 200 and response.json()["case_status"] == "closed"
    else:
        assert response.status_code == 409 and "s.23C" in response.json()["detail"]
        assert client.get(f"/api/v1/care-leavers/{person['id']}").json()["case_status"] == "open"


def test_between_21_and_25_a_closure_without_an_offer_is_refused_and_recorded(client, on, session, people):
    on(date(2026, 6, 15))
    person = _person(client)
    refused = _close(client, person, reason_code="support_declined")
    assert refused.status_code == 409 and "s.23CZB" in refused.json()["detail"]
    assert _close(client, person, reason_code="aged_25").status_code == 409
    events = session.exec(select(CaseEvent).where(CaseEvent.care_leaver_id == person["id"])).all()
    assert [(e.action, e.reason_code, e.actor_id) for e in events] == [
        ("close_refused", "support_declined", people["manager"].id), ("close_refused", "aged_25", people["manager"].id)]
    assert all("s.23CZB" in e.rule for e in events)


def test_before_21_only_the_reasons_the_law_allows(client, on):
    on(date(2024, 1, 10))  # 18
    assert _close(client, _person(client), reason_code="support_declined", support_offered_on="2024-01-01").status_code == 409
    assert _close(client, _person(client), reason_code="returned_home").status_code == 409  # former relevant, 18
    died = _close(client, _person(client), reason_code="died", note="Informed by family")
    assert died.status_code == 200 and died.json()["in_touch"] == "DIED"
    on(date(2022, 1, 10))  # 16
    young = _person(client, leaving_care_category="relevant", current_activity="F2")
    assert _close(client, young, reason_code="returned_home", note="Home with mum since June").status_code == 200


@pytest.mark.parametrize("today,allowed", [(date(2030, 6, 14), True), (date(2030, 6, 15), False)])
def test_a_closed_case_reopens_on_request_until_the_25th_birthday(client, on, session, today, allowed):
    on(date(2026, 7, 1))
    person = _close(client, _person(client), reason_code="support_declined", support_offered_on="2026-06-20").json()
    on(today)
    response = client.post(f"/api/v1/care-leavers/{person['id']}/reopen",
                           json={"version": person["version"], "note": "Rang asking for help with housing"})
    if allowed:
        assert response.status_code == 200 and response.json()["case_status"] == "open"
    else:
        assert response.status_code == 409 and "25th birthday" in response.json()["detail"]
        assert session.exec(select(CaseEvent).where(CaseEvent.action == "reopen_refused")).one()


def test_at_25_the_duties_end(client, on):
    on(date(2030, 6, 14))
    assert _close(client, _person(client), reason_code="aged_25").status_code == 409
    on(date(2030, 6, 15))
    assert _close(client, _person(client), reason_code="aged_25").status_code == 200


def test_a_29_february_birthday_is_attained_on_1_march():
    assert birthday(date(2004, 2, 29), 21) == date(2025, 3, 1) and birthday(date(2004, 2, 29), 20) == date(2024, 2, 29)


def test_a_contact_moves_last_contact_and_in_touch(client, on):
    on(date(2026, 11, 23))
    person = _person(client, in_touch="NO", last_contact_on="2026-08-01", current_activity="F5")
    url = f"/api/v1/care-leavers/{person['id']}/contacts"
    assert client.post(url, json={"contact_on": "2026-11-24", "kind": "call"}).status_code == 422
    assert client.post(url, json={"contact_on": "2026-11-20", "kind": "text"}).status_code == 400
    assert client.post(url, json={"contact_on": "2026-11-20", "kind": "visit", "note": "Seen at home"}).status_code == 201
    after = client.get(f"/api/v1/care-leavers/{person['id']}").json()
    assert (after["last_contact_on"], after["in_touch"]) == ("2026-11-20", "NO")  # the 903 status is the adviser's
    assert client.post(url, json={"contact_on": "2026-11-21", "kind": "visit", "in_touch": "YES"}).status_code == 201
    assert client.get(f"/api/v1/care-leavers/{person['id']}").json()["in_touch"] == "YES"
    client.post(url, json={"contact_on": "2026-10-01", "kind": "call"})  # an older contact moves nothing
    assert client.get(f"/api/v1/care-leavers/{person['id']}").json()["last_contact_on"] == "2026-11-21"


def test_not_in_touch_list_at_its_boundary_day(client, on, people):
    today = date(2026, 11, 23)
    on(today)
    just = _person(client, last_contact_on=(today - timedelta(weeks=8)).isoformat(),
                   personal_adviser_id=people["adviser"].id)
    lost = _person(client, last_contact_on=(today - timedelta(weeks=8) - DAY).isoformat(),
                   personal_adviser_id=people["adviser"].id)
    never = _person(client, personal_adviser_id=people["other_adviser"].id)
    listed = client.get("/api/v1/attention/not-in-touch").json()
    assert [(item["care_leaver_id"], item["days_since_contact"]) for item in listed] == [
        (never["id"], None), (lost["id"], 57)]
    assert listed[1]["personal_adviser_id"] == people["adviser"].id
    mine = client.get("/api/v1/attention/not-in-touch", headers=people["adviser"].headers).json()
    assert [item["care_leaver_id"] for item in mine] == [lost["id"]]
    assert just["id"] not in {item["care_leaver_id"] for item in listed}


@pytest.mark.parametrize("today,listed,overdue", [(date(2026, 6, 16), False, False), (date(2026, 6, 17), True, False),
                                                  (date(2026, 7, 15), True, False), (date(2026, 7, 16), True, True)])
def test_pathway_reviews_due_and_overdue_at_their_boundaries(client, on, today, listed, overdue):
    on(today)
    person = _person(client, pathway_plan_reviewed_on="2026-01-15")
    found = {item["care_leaver_id"]: item for item in client.get("/api/v1/attention/pathway-reviews").json()}
    assert (person["id"] in found) == listed
    if listed:
        assert found[person["id"]]["due_on"] == "2026-07-15" and found[person["id"]]["overdue"] == overdue


def test_waiting_lists_open_cases_without_an_approved_match(client, on, engine, people):
    from matching import db, lifecycle

    start = clock.today()
    # The one placed may be: consent to share with employers and a right to work (the approval's rules).
    waiting, placed = _person(client), _person(client, consent_share_employers=True, right_to_work_confirmed=True)
    job = client.post("/api/v1/opportunities", json=factories.opportunity(people["department"].department_id)).json()
    with db.session_scope(db.writer(engine)) as session:
        lifecycle.propose(session, care_leaver_id=waiting["id"], opportunity_id=job["id"])
        match = lifecycle.propose(session, care_leaver_id=placed["id"], opportunity_id=job["id"])
        lifecycle.transition(session, match.id, lifecycle.Change("approved", match.version), actor_id=None)
    on(start + timedelta(weeks=9))  # both people were created more than 8 weeks ago
    listed = [item["care_leaver_id"] for item in client.get("/api/v1/attention/waiting").json()]
    assert waiting["id"] in listed and placed["id"] not in listed
    on(start)
    assert client.get("/api/v1/attention/waiting").json() == []
