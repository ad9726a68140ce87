"""The daily birthdays job at its boundary days: the 18th, 21st and 25th birthday each written once on the
record, the leaving-care category changed at 18, missed days caught up, and each birthday a task on the
adviser's list until it is done."""

from datetime import date, timedelta

import pytest
from sqlmodel import select

from jobs import birthdays as birthdays_job
from jobs import runner
from matching import birthdays, db
from matching.clock import CLOCK, ZONE
from matching.models import CareLeaver, CareLeaverCreate, CaseEvent, Notification
from tests import factories

D = date(2026, 11, 23)
DAY = timedelta(days=1)


def _born(age: int, on: date = D) -> date:
    return on.replace(year=on.year - age)


def _add(engine, born: date, adviser_id: int | None, closed: bool = False, **fields) -> int:
    with db.session_scope(db.writer(engine)) as session:
        data = CareLeaverCreate.model_validate(factories.care_leaver(date_of_birth=born.isoformat(),
                                                                     personal_adviser_id=adviser_id, **fields))
        person = CareLeaver(**data.model_dump(), case_status="closed" if closed else "open")
        session.add(person)
        session.flush()
        return person.id


def _run(settings, day: date) -> str:
    CLOCK.fix(day)
    run = runner.run_job("birthdays", settings)
    assert run.result == "ok", run.summary
    return run.summary


def _events(engine) -> list[tuple[int, str, date]]:
    with db.session_scope(engine) as session:
        return [(e.care_leaver_id, e.action, e.at.astimezone(ZONE).date())
                for e in session.exec(select(CaseEvent).where(CaseEvent.action.like("birthday_%"))
                                      .order_by(CaseEvent.care_leaver_id, CaseEvent.id))]


@pytest.fixture
def cohort(engine, people) -> dict[str, int]:
    adviser = people["adviser"].id
    return {
        "eighteen": _add(engine, _born(18), adviser, leaving_care_category="relevant"),
        "qualifying": _add(engine, _born(18), adviser, leaving_care_category="qualifying"),
        "twenty_one": _add(engine, _born(21), adviser),
        "twenty_five": _add(engine, _born(25), people["other_adviser"].id),
        "tomorrow": _add(engine, _born(18, D + DAY), adviser, leaving_care_category="eligible"),
        "closed": _add(engine, _born(21), adviser, closed=True),
    }


def test_each_birthday_is_written_on_its_day_once_with_the_category_changed_at_18(settings, engine, people, cohort):
    assert _run(settings, D - DAY).startswith("0 birthdays written")
    assert _events(engine) == []
    assert _run(settings, D) == f"4 birthdays written from {D} to {D}, 2 notices written"
    assert _events(engine) == [(cohort["eighteen"], "birthday_18", D), (cohort["qualifying"], "birthday_18", D),
                               (cohort["twenty_one"], "birthday_21", D), (cohort["twenty_five"], "birthday_25", D)]
    with db.session_scope(engine) as session:
        category = {key: session.get(CareLeaver, i).leaving_care_category for key, i in cohort.items()}
        assert (category["eighteen"], category["qualifying"], category["tomorrow"]) == (
            "former_relevant", "qualifying", "eligible")  # s.23C(1); a qualifying young person stays so (s.24)
        note = session.exec(select(CaseEvent.note).where(CaseEvent.care_leaver_id == cohort["eighteen"])).one()
        assert "relevant to former_relevant" in note
    with db.session_scope(engine) as session:
        told = {n.user_id: n for n in session.exec(select(Notification).where(Notification.kind == "birthdays"))}
    assert set(told) == {people["adviser"].id, people["other_adviser"].id}
    assert "3 young people on your caseload" in told[people["adviser"].id].body
    assert "1 young person on your caseload" in told[people["other_adviser"].id].body
    assert all("Person" not in n.body for n in told.values())  # counts and a link, never who
    _run(settings, D + DAY)
    with db.session_scope(engine) as session:
        assert session.get(CareLeaver, cohort["tomorrow"]).leaving_care_category == "former_relevant"


def test_a_second_run_on_the_same_day_writes_nothing(settings, engine, people, cohort):
    _run(settings, D)
    assert _run(settings, D) == f"0 birthdays written from {D} to {D}, 0 notices written"
    assert len(_events(engine)) == 4


def test_days_the_worker_missed_are_caught_up_with_each_event_on_its_birthday(settings, engine, people):
    first = _add(engine, _born(21, D - 2 * DAY), people["adviser"].id)
    second = _add(engine, _born(25, D - DAY), people["adviser"].id)
    too_early = _add(engine, _born(18, D - 3 * DAY), people["adviser"].id)
    _run(settings, D - 3 * DAY)  # the last run that finished well: it covered its own day
    with db.session_scope(engine) as session:
        assert birthdays_job.first_day(session, D) == D - 2 * DAY
    assert _run(settings, D).startswith(f"2 birthdays written from {D - 2 * DAY} to {D}")
    assert sorted(_events(engine)) == sorted([(too_early, "birthday_18", D - 3 * DAY),
                                              (first, "birthday_21", D - 2 * DAY), (second, "birthday_25", D - DAY)])


def test_a_29_february_birthday_is_marked_on_1_march(settings, engine, people):
    leap = _add(engine, date(2008, 2, 29), people["adviser"].id, leaving_care_category="relevant")
    _run(settings, date(2026, 2, 28))
    assert _events(engine) == []
    _run(settings, date(2026, 3, 1))
    assert _events(engine) == [(leap, "birthday_18", date(2026, 3, 1))]


def _tasks(client, headers=None) -> dict[tuple[int, int], dict]:
    return {(t["care_leaver_id"], t["age"]): t for t in client.get("/api/v1/attention/birthdays", headers=headers).json()}


def test_each_birthday_is_a_task_on_the_advisers_list_until_it_is_done(client, settings, engine, people, cohort):
    _run(settings, D)
    CLOCK.fix(D + 3 * DAY)
    tasks = _tasks(client)
    assert set(tasks) == {(cohort["eighteen"], 18), (cohort["qualifying"], 18), (cohort["twenty_one"], 21),
                          (cohort["twenty_five"], 25)}  # the closed case has none; tomorrow's has not happened
    task = tasks[(cohort["twenty_one"], 21)]
    assert (task["birthday_on"], task["days_overdue"], task["personal_adviser_id"]) == (
        D.isoformat(), 3, people["adviser"].id)
    assert "offer continued personal adviser support to 25" in task["task"] and task["name"].startswith("Test ")
    assert set(_tasks(client, people["adviser"].headers)) == set(tasks) - {(cohort["twenty_five"], 25)}

    asked = client.post(f"/api/v1/care-leavers/{cohort['twenty_one']}/support-requests",
                        json={"asked_on": D.isoformat()})
    assert asked.status_code == 201, asked.text
    person = client.get(f"/api/v1/care-leavers/{cohort['eighteen']}").json()
    assert client.patch(f"/api/v1/care-leavers/{cohort['eighteen']}", json={
        "version": person["version"], "pathway_plan_reviewed_on": D.isoformat()}).status_code == 200
    url = f"/api/v1/care-leavers/{cohort['twenty_five']}/kept-open"
    kept = client.post(url, json={"reason": "Finishing the housing application with us"})
    assert kept.status_code == 201, kept.text
    assert set(_tasks(client)) == {(cohort["qualifying"], 18)}


@pytest.mark.parametrize("today,status", [(D - DAY, 422), (D, 201)])
def test_a_reason_to_stay_open_is_kept_only_from_the_25th_birthday(client, engine, people, today, status):
    person_id = _add(engine, _born(25), people["adviser"].id)
    CLOCK.fix(today)
    response = client.post(f"/api/v1/care-leavers/{person_id}/kept-open", json={"reason": "Still at college"})
    assert response.status_code == status, response.text
    if status == 422:
        assert "s.23CZB" in response.json()["detail"]


def test_the_birthdays_list_gives_the_same_tasks_as_the_domain(engine, settings, people, cohort):
    _run(settings, D)
    with db.session_scope(engine) as session:
        mine = birthdays.tasks(session, today=D, adviser_id=people["other_adviser"].id)
        assert [(t["care_leaver_id"], t["age"], t["days_overdue"]) for t in mine] == [(cohort["twenty_five"], 25, 0)]
