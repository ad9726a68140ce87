"""Small worlds for engine tests, built through the engine's own row-to-array builders (no database)."""

from datetime import UTC, date, datetime, timedelta
from itertools import count
from types import SimpleNamespace

from matching.engine.state import State, assemble, mentors_from, opportunities_from, people_from

TODAY = date(2026, 11, 23)
_ids = count(1)


def person(**overrides) -> SimpleNamespace:
    return SimpleNamespace(**{
        "id": next(_ids), "case_reference": "T1", "case_status": "open", "date_of_birth": date(2006, 1, 10),
        "qualification_level": 2, "right_to_work_confirmed": True, "right_to_work_expires_on": None,
        "consent_share_mentors": True, "consent_share_employers": True, "home_area": "E8", "max_travel_km": 10.0,
        "days_available": ["mon", "tue", "wed"], "languages": ["english", "somali"], "interests": ["construction"],
        "skills": ["carpentry"], "sector_preferences": ["construction"], "aspirations": "Build homes",
        "created_at": datetime(2026, 9, 1, tzinfo=UTC)} | overrides)


def mentor(**overrides) -> SimpleNamespace:
    return SimpleNamespace(**{
        "id": next(_ids), "job_title": "Head of Housing", "status": "active",
        "dbs_checked_on": TODAY - timedelta(days=300), "safeguarding_trained_on": TODAY - timedelta(days=100),
        "capacity": 2, "slots_taken": 0, "office_area": "E9", "availability": ["tue"],
        "languages": ["english", "somali"], "expertise": ["construction", "housing"], "interests": ["football"]}
        | overrides)


def job(**overrides) -> SimpleNamespace:
    return SimpleNamespace(**{
        "id": next(_ids), "reference": "OPP-1", "title": "Carpentry apprentice", "kind": "apprenticeship",
        "status": "open", "closes_on": TODAY + timedelta(days=10), "places": 1, "places_taken": 0, "min_age": 16,
        "max_age": 25, "qualification_required": 1, "pay_pence_per_hour": 1000, "area": "E5",
        "skills": ["carpentry"], "sector": "construction", "ring_fenced": True, "guaranteed_interview": True,
        "hours_per_week": 30.0} | overrides)


def match(care_leaver, state: str, *, mentor_row=None, job_row=None) -> SimpleNamespace:
    return SimpleNamespace(care_leaver_id=care_leaver.id, mentor_id=mentor_row.id if mentor_row else None,
                           opportunity_id=job_row.id if job_row else None,
                           kind="mentoring" if mentor_row else "opportunity", state=state)


def world(people=(), mentors=(), jobs=(), matches=(), *, today: date = TODAY, referrals_per_place: int = 1,
          waited_from=None) -> State:
    pending = {kind: {} for kind in ("mentoring", "opportunity")}
    for m in matches:
        if m.state == "proposed":
            target = m.mentor_id or m.opportunity_id
            pending[m.kind][target] = pending[m.kind].get(target, 0) + 1
    targets = {"mentoring": mentors_from(list(mentors), today, pending["mentoring"]),
               "opportunity": opportunities_from(list(jobs), today, pending["opportunity"], referrals_per_place)}
    return assemble(today, people_from(list(people), today, waited_from or {}), targets, list(matches))
