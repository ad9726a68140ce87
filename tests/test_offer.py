"""The local offer: who is eligible, where each young person stands, and who has been missed."""

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matching import db, offer
from matching.clock import CLOCK
from matching.dates import birthday, born_by
from matching.models import CareLeaver, CareLeaverCreate
from tests import factories

BUILT_IN = ["council_tax_exemption", "rent_deposit", "higher_education_bursary", "apprenticeship_bursary",
            "setting_up_home", "ring_fenced_priority"]


@pytest.fixture
def on(client):
    def set_today(day: date) -> None:
        CLOCK.fix(day)
    return set_today


def _standing(client, person) -> dict[str, dict]:
    return {item["code"]: item for item in client.get(f"/api/v1/care-leavers/{person['id']}/entitlements").json()}


def test_the_local_offer_starts_with_the_built_in_entitlements(client):
    assert [item["code"] for item in client.get("/api/v1/local-offer").json()] == BUILT_IN


def test_eligibility_follows_circumstances(client, on):
    on(date(2026, 11, 23))
    student = client.post("/api/v1/care-leavers", json=factories.care_leaver(
        date_of_birth="2006-01-01", current_activity="F1", accommodation="U1")).json()
    standing = _standing(client, student)
    assert {code for code, item in standing.items() if item["eligible"]} == set(BUILT_IN) - {"apprenticeship_bursary"}
    assert all(item["status"] is None and item["rule"] for item in standing.values())


@pytest.mark.parametrize("today,eligible", [(date(2024, 3, 9), False), (date(2024, 3, 10), True),
                                            (date(2031, 3, 9), True), (date(2031, 3, 10), False)])
def test_council_tax_exemption_from_the_18th_to_the_25th_birthday(client, on, today, eligible):
    on(today)
    person = client.post("/api/v1/care-leavers", json=factories.care_leaver(date_of_birth="2006-03-10")).json()
    assert _standing(client, person)["council_tax_exemption"]["eligible"] is eligible


def test_missed_entitlements_until_applied(client, on, people):
    on(date(2026, 11, 23))
    person = client.post("/api/v1/care-leavers", json=factories.care_leaver(
        date_of_birth="2005-05-05", current_activity="F4", accommodation="D1",
        personal_adviser_id=people["adviser"].id)).json()
    client.post("/api/v1/care-leavers", json=factories.care_leaver(personal_adviser_id=people["other_adviser"].id))

    def missed() -> dict[str, str]:
        listed = client.get("/api/v1/attention/entitlements", headers=people["adviser"].headers).json()
        assert {item["care_leaver_id"] for item in listed} <= {person["id"]}
        return {item["code"]: item["missing"] for item in listed}

    assert missed() == {"council_tax_exemption": "not told", "apprenticeship_bursary": "not told",
                        "ring_fenced_priority": "not told"}
    url = f"/api/v1/care-leavers/{person['id']}/entitlements"
    assert client.put(f"{url}/council_tax_exemption", json={"status": "told"}).json()["status"] == "told"
    assert missed()["council_tax_exemption"] == "told, not applied"
    client.put(f"{url}/council_tax_exemption", json={"status": "applied"})
    client.put(f"{url}/apprenticeship_bursary", json={"status": "taken_up"})
    assert missed() == {"ring_fenced_priority": "not told"}
    assert _standing(client, person)["apprenticeship_bursary"]["status"] == "taken_up"
    bad = client.put(f"{url}/council_tax_exemption", json={"status": "maybe"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "status"
    assert client.put(f"{url}/free_yacht", json={"status": "told"}).status_code == 404


def test_the_council_adds_its_own_entitlements(client, on, people):
    on(date(2026, 11, 23))
    item = {"code": "leisure_pass", "label": "Free leisure centre pass", "rule": "Aged 16 to 25", "max_age": 25}
    assert client.post("/api/v1/local-offer", json=item).status_code == 201
    assert client.post("/api/v1/local-offer", json=item).status_code == 422
    assert client.post("/api/v1/local-offer", json=item | {"code": "Bad Code!"}).status_code == 400
    person = client.post("/api/v1/care-leavers", json=factories.care_leaver()).json()
    assert _standing(client, person)["leisure_pass"] == {"code": "leisure_pass", "label": "Free leisure centre pass",
                                                         "rule": "Aged 16 to 25", "eligible": True, "status": None}


@settings(max_examples=400, deadline=None)
@given(born=st.dates(date(1996, 1, 1), date(2012, 12, 31)), today=st.dates(date(2020, 1, 1), date(2032, 12, 31)),
       years=st.integers(0, 26))
def test_born_by_is_exactly_the_birthday_rule(born, today, years):
    assert (birthday(born, years) <= today) is (born <= born_by(today, years))


def test_the_count_of_missed_entitlements_is_the_length_of_the_list(engine, people):
    """Counted in SQL for the overview, listed in Python for advisers: the two agree on a varied cohort."""
    day = date(2028, 2, 29)
    with CLOCK.fixed(day), db.session_scope(db.writer(engine)) as session:
        advisers = [people["adviser"].id, people["other_adviser"].id]
        for n in range(60):
            born = date(2002, 2, 27) + timedelta(days=53 * n)
            person = CareLeaver.model_validate(CareLeaverCreate(**factories.care_leaver(
                date_of_birth=born.isoformat(), current_activity=["F1", "F4", "P1", "G4"][n % 4],
                accommodation=["U1", "D1", "B1"][n % 3], personal_adviser_id=advisers[n % 2])))
            person.case_status = "closed" if n % 11 == 0 else "open"
            session.add(person)
            session.flush()
            if n % 3 == 0:
                offer.record(session, person.id, "council_tax_exemption", ["told", "applied", "not_eligible"][n % 9 // 3],
                             actor_id=None)
        for adviser in (None, *advisers):
            listed = offer.missed(session, today=day, adviser_id=adviser)
            assert offer.missed_count(session, today=day, adviser_id=adviser) == len(listed) > 0
