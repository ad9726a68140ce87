"""The DBS window is three calendar years (issue 16), not a count of days, and a DBS check dated in the future
is refused: the rule itself on its boundary days, the vetting page on the service's own (moved) day, and the
engine applying the same window."""

from datetime import date

import pytest
from sqlmodel import select

from matching import db, mentoring
from matching.clock import CLOCK, today
from matching.errors import InvalidInput
from matching.models import AuditEvent, Mentor, UserCreate
from matching.services.users import create_user
from tests.test_pages import csrf, sign_in

LEAP_DAY = date(2024, 2, 29)


@pytest.mark.parametrize("checked,on,current", [
    (date(2023, 11, 23), date(2026, 11, 23), True),  # the third anniversary itself still counts
    (date(2023, 11, 23), date(2026, 11, 24), False),  # the day after it does not
    (date(2023, 11, 24), date(2026, 11, 23), True),
    (date(2023, 11, 22), date(2026, 11, 23), False),  # 1,097 days: outside, as 1,096 days once let in 2023-11-22
    (LEAP_DAY, date(2027, 2, 27), True),
    (LEAP_DAY, date(2027, 2, 28), True),  # no 29 February in 2027: the check lasts to the 28th
    (LEAP_DAY, date(2027, 3, 1), False),
    (date(2025, 2, 28), date(2028, 2, 28), True),  # checked the day before a leap day, three years on
    (date(2025, 2, 28), date(2028, 2, 29), False),  # its anniversary was the day before
    (date(2025, 3, 1), date(2028, 2, 29), True),
    (date(2026, 11, 24), date(2026, 11, 23), False),  # tomorrow's check is no check
])
def test_a_dbs_check_lasts_three_calendar_years_to_its_anniversary(checked, on, current):
    CLOCK.fix(on)
    assert mentoring.dbs_current(checked, today()) is current
    assert (mentoring.dbs_valid_from(today()) <= checked) is (current or checked > on)


@pytest.mark.parametrize("on,valid_from", [
    (date(2026, 11, 23), date(2023, 11, 23)),
    (date(2027, 2, 28), date(2024, 2, 28)),
    (date(2027, 3, 1), date(2024, 3, 1)),
    (date(2028, 2, 29), date(2025, 3, 1)),  # a leap day: the 28th's anniversary has passed
    (date(2028, 3, 1), date(2025, 3, 1)),
])
def test_the_oldest_check_that_counts_is_three_calendar_years_back(on, valid_from):
    assert mentoring.dbs_valid_from(on) == valid_from


def test_a_dbs_check_in_the_future_is_refused_naming_the_field():
    CLOCK.fix(date(2026, 11, 23))
    with pytest.raises(InvalidInput) as refused:
        mentoring.check_vetting_dates(date(2026, 11, 24), date(2026, 1, 1), today())
    assert refused.value.field == "dbs_checked_on" and "today or in the past" in refused.value.reason
    mentoring.check_vetting_dates(date(2026, 11, 23), date(2026, 11, 23), today())  # today itself is fine


@pytest.mark.parametrize("changes,field", [
    ({"dbs_checked_on": date(2026, 11, 24)}, "dbs_checked_on"),
    ({"safeguarding_trained_on": date(2027, 1, 1), "capacity": 2}, "safeguarding_trained_on"),
    ({"dbs_checked_on": date(2026, 11, 23), "safeguarding_trained_on": None}, None),  # today, or cleared: fine
])
def test_vetting_dates_recorded_any_other_way_are_refused_in_the_future(changes, field):
    CLOCK.fix(date(2026, 11, 23))
    if field is None:
        mentoring.check_recorded_vetting(changes, today())
        return
    with pytest.raises(InvalidInput) as refused:
        mentoring.check_recorded_vetting(changes, today())
    assert refused.value.field == field and refused.value.reason.endswith("must be today or in the past")


def test_the_engine_applies_the_same_window_on_the_boundary_days():
    from matching.engine.state import mentors_from
    row = type("Row", (), {"id": 1, "job_title": "x", "status": "active", "safeguarding_trained_on": LEAP_DAY,
                           "capacity": 1, "slots_taken": 0, "office_area": None, "availability": [], "languages": [],
                           "expertise": [], "interests": [], "dbs_checked_on": LEAP_DAY})
    for on in (date(2027, 2, 28), date(2027, 3, 1)):
        engine_says = bool(mentors_from([row], on, {}).vetted["mentor_dbs_checked"][0])
        assert engine_says == mentoring.dbs_current(LEAP_DAY, on), on


def _dates(dbs: date) -> dict[str, str]:
    return {"dbs_checked_on-day": str(dbs.day), "dbs_checked_on-month": str(dbs.month),
            "dbs_checked_on-year": str(dbs.year), "safeguarding_trained_on-day": "1",
            "safeguarding_trained_on-month": "6", "safeguarding_trained_on-year": "2026"}


def _pending(engine, department_id: int, email: str) -> int:
    with db.session_scope(db.writer(engine)) as session:
        user = create_user(session, UserCreate(email=email, full_name="Lea Day", role="mentor",
                                               department_id=department_id))
        mentor = Mentor(user_id=user.id, department_id=department_id, job_title="Head of Roads", status="pending")
        session.add(mentor)
        session.flush()
        return mentor.id


def test_the_vetting_page_takes_a_leap_day_check_to_its_last_day_and_refuses_it_the_day_after(browser, people,
                                                                                             engine):
    department = people["mentor"].department_id
    first, second = (_pending(engine, department, f"lea{n}@test.example.gov.uk") for n in (1, 2))
    CLOCK.fix(date(2027, 3, 1))
    sign_in(browser, "manager")
    token = csrf(browser.get(f"/mentors/{second}/vetting").text)
    refused = browser.post(f"/mentors/{second}/vetting", data={"_csrf_token": token, "version": "1",
                                                               **_dates(LEAP_DAY)})
    assert refused.status_code == 400 and 'href="#dbs_checked_on-day"' in refused.text
    assert "The DBS check must be from the last 3 years (on or after 1 March 2024)" in refused.text
    assert 'name="dbs_checked_on-day" type="text" value="29"' in refused.text  # what was typed is kept
    future = browser.post(f"/mentors/{second}/vetting", data={"_csrf_token": token, "version": "1",
                                                              **_dates(date(2027, 3, 2))})
    assert future.status_code == 400 and "The date of the DBS check must be today or in the past" in future.text
    CLOCK.fix(date(2027, 2, 28))
    vetted = browser.post(f"/mentors/{first}/vetting", data={"_csrf_token": token, "version": "1",
                                                             **_dates(LEAP_DAY)})
    assert vetted.status_code == 200 and "Lea Day is now an active mentor" in vetted.text
    with db.session_scope(engine) as session:
        assert [session.get(Mentor, i).status for i in (first, second)] == ["active", "pending"]
        assert session.get(Mentor, first).dbs_checked_on == LEAP_DAY
        audited = session.exec(select(AuditEvent).where(AuditEvent.entity == "mentor")).all()
        assert [(a.entity_id, a.action) for a in audited] == [(first, "activate")]
