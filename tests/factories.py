"""Valid request bodies for each record, for tests to vary one field at a time."""

from datetime import timedelta
from itertools import count

from matching import clock

_serial = count(1)


def department(**overrides) -> dict:
    n = next(_serial)
    return {"name": f"Department {n}", "code": f"D{n}", "contact_email": f"d{n}@example.gov.uk"} | overrides


def care_leaver(**overrides) -> dict:
    n = next(_serial)
    return {
        "case_reference": f"T{n:06d}", "first_name": "Test", "family_name": f"Person{n}",
        "date_of_birth": (clock.today() - timedelta(days=19 * 365)).isoformat(), "sex": "2",
        "ethnicity": "BAFR", "leaving_care_category": "former_relevant", "home_area": "E8",
        "interests": ["Music", "cooking"], "languages": ["english", "somali"], "in_touch": "YES",
        "current_activity": "G5", "accommodation": "U1", "consent_share_mentors": True,
        "consent_share_employers": True, "right_to_work_confirmed": True,
    } | overrides


def opportunity(department_id: int, **overrides) -> dict:
    n = next(_serial)
    return {
        "reference": f"OPP-T{n}", "department_id": department_id, "kind": "apprenticeship",
        "title": "Parks apprentice", "sector": "parks and environment", "area": "N16", "places": 2,
        "closes_on": (clock.today() + timedelta(days=30)).isoformat(),
        "starts_on": (clock.today() + timedelta(days=60)).isoformat(),
    } | overrides
