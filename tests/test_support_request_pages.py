"""The pages for the two records the 21st and 25th birthdays ask for (issue 14): a young person aged 21 to 25
asked for support (cases.request_support), and the reason a case stays open from 25 (birthdays.keep_open).
Each: the form, every refusal with the input kept, the record on the young person's page, the audit rows,
a wrong role 403 and another adviser's young person 404."""

import re
from datetime import date, timedelta

import pytest
from sqlmodel import select

from matching import db
from matching.models import AuditEvent, CaseEvent
from tests import factories
from tests.conftest import TEST_TODAY
from tests.test_pages import csrf, sign_in

TODAY = TEST_TODAY  # 23 November 2026


def _born(years: int, days_after: int = 0) -> str:
    """Born so that the `years` birthday is `days_after` days from today (0: today)."""
    return (TODAY.replace(year=TODAY.year - years) + timedelta(days=days_after)).isoformat()


def _person(browser, people, adviser="adviser", **fields) -> int:
    response = browser.post("/api/v1/care-leavers", json=factories.care_leaver(
        personal_adviser_id=people[adviser].id, **fields), headers=people["manager"].headers)
    assert response.status_code == 201, response.text
    return response.json()["id"]


@pytest.fixture
def world(browser, people):
    found = {"eve": _person(browser, people, first_name="Eve", family_name="Vale", date_of_birth=_born(21)),
             "nia": _person(browser, people, first_name="Nia", family_name="Rowe", date_of_birth=_born(21, 1)),
             "max": _person(browser, people, first_name="Max", family_name="Ode", date_of_birth=_born(25)),
             "joy": _person(browser, people, first_name="Joy", family_name="Pike", date_of_birth=_born(25, 1)),
             "other": _person(browser, people, adviser="other_adviser", first_name="Olive", family_name="Other",
                              date_of_birth=_born(22))}
    sign_in(browser, "adviser")
    return found


def _events(engine, person_id: int, action: str) -> list[CaseEvent]:
    with db.session_scope(engine) as session:
        return list(session.exec(select(CaseEvent).where(CaseEvent.care_leaver_id == person_id,
                                                         CaseEvent.action == action)))


def _form(browser, path: str) -> str:
    page = browser.get(path)
    assert page.status_code == 200 and "checked" not in page.text and page.text.count("<h1") == 1
    return csrf(page.text)


def _asked(day: date) -> dict[str, str]:
    return {"asked_on-day": str(day.day), "asked_on-month": str(day.month), "asked_on-year": str(day.year)}


def test_the_young_persons_page_links_each_record_only_at_its_age(browser, world):
    assert "/support-requests/new" in browser.get(f"/young-people/{world['eve']}").text  # 21 today
    assert "/support-requests/new" not in browser.get(f"/young-people/{world['nia']}").text  # 21 tomorrow
    max_page = browser.get(f"/young-people/{world['max']}").text
    assert "/kept-open/new" in max_page and "/support-requests/new" not in max_page
    assert "/kept-open/new" not in browser.get(f"/young-people/{world['joy']}").text


def test_a_request_for_support_is_recorded_shown_in_the_history_and_audited(browser, people, engine, world):
    eve = world["eve"]
    path = f"/young-people/{eve}/support-requests/new"
    token = _form(browser, path)
    done = browser.post(path, data={"_csrf_token": token, **_asked(TODAY), "how": "phone",
                                    "note": "Help with a deposit"})
    assert done.status_code == 200 and "govuk-notification-banner--success" in done.text
    assert "Request for support recorded." in done.text
    assert "Asked for support" in done.text and "By phone. Help with a deposit" in done.text
    [event] = _events(engine, eve, "support_requested")
    assert (event.note, event.actor_id) == ("By phone. Help with a deposit", people["adviser"].id)
    with db.session_scope(engine) as session:
        audits = session.exec(select(AuditEvent).where(AuditEvent.entity_id == eve)).all()
    assert ("read", f"GET {path}") in {(a.action, a.route) for a in audits}
    assert ("update", f"POST {path}") in {(a.action, a.route) for a in audits}


def test_a_request_asked_on_an_earlier_day_is_dated_that_day(browser, engine, world):
    path = f"/young-people/{world['max']}/support-requests/new"  # 25 today: yesterday they were 24
    token = _form(browser, path)
    done = browser.post(path, data={"_csrf_token": token, **_asked(TODAY - timedelta(days=1)), "how": "in_person"})
    assert "Request for support recorded." in done.text
    [event] = _events(engine, world["max"], "support_requested")
    assert event.at.date() == TODAY - timedelta(days=1)


@pytest.mark.parametrize(("who", "fields", "anchor", "message"), [
    ("eve", {}, "asked_on-day", "Enter the date they asked for support"),
    ("eve", {"asked_on-day": "31", "asked_on-month": "2", "asked_on-year": "2026", "how": "phone"}, "asked_on-day",
     "The date they asked for support must be a real date"),
    ("eve", {**_asked(TODAY + timedelta(days=1)), "how": "phone"}, "asked_on-day",
     "The date they asked: cannot be in the future"),
    ("eve", {**_asked(TODAY - timedelta(days=1)), "how": "phone"}, "asked_on-day",
     "s.23CZB: a former relevant child asks for advice and support from their 21st birthday"),
    ("nia", {**_asked(TODAY), "how": "phone"}, "asked_on-day", "from their 21st birthday until their 25th"),
    ("eve", {**_asked(TODAY)}, "how", "Select how they asked for support"),
    ("eve", {**_asked(TODAY), "how": "carrier_pigeon"}, "how", "Select how they asked for support from the list"),
])
def test_a_request_for_support_is_refused_in_words_with_the_input_kept(browser, engine, world, who, fields, anchor,
                                                                       message):
    path = f"/young-people/{world[who]}/support-requests/new"
    token = _form(browser, path)
    bad = browser.post(path, data={"_csrf_token": token, "note": "Typed note", **fields})
    assert bad.status_code == 400 and "<title>Error: " in bad.text
    assert re.search(rf'href="#{anchor}">[^<]*{re.escape(message)}', bad.text), bad.text[:3000]
    assert ">Typed note</textarea>" in bad.text and "govuk-notification-banner--success" not in bad.text
    if "asked_on-day" in fields:
        assert f'name="asked_on-day" type="text" value="{fields["asked_on-day"]}"' in bad.text
    assert _events(engine, world[who], "support_requested") == []


def test_a_closed_case_is_reopened_rather_than_asked_again(browser, people, engine, world):
    eve = world["eve"]
    token = _form(browser, f"/young-people/{eve}/support-requests/new")
    browser.post(f"/api/v1/care-leavers/{eve}/close", json={"reason_code": "died", "version": 1},
                 headers=people["manager"].headers)
    page = browser.get(f"/young-people/{eve}/support-requests/new")
    assert "re-open the case" in page.text and "<form method=\"post\" action=\"/young-people" not in page.text
    bad = browser.post(f"/young-people/{eve}/support-requests/new",
                       data={"_csrf_token": token, **_asked(TODAY), "how": "phone"})
    assert bad.status_code == 400 and "is closed: re-open it" in bad.text
    assert _events(engine, eve, "support_requested") == []


def test_a_reason_to_keep_the_case_open_is_recorded_from_25_and_shown(browser, people, engine, world):
    path = f"/young-people/{world['max']}/kept-open/new"
    token = _form(browser, path)
    done = browser.post(path, data={"_csrf_token": token, "reason": "Housing move under way"})
    assert done.status_code == 200 and "The reason the case stays open is recorded." in done.text
    assert "Case kept open after 25" in done.text and "Housing move under way" in done.text
    [event] = _events(engine, world["max"], "kept_open")
    assert (event.note, event.actor_id) == ("Housing move under way", people["adviser"].id)
    with db.session_scope(engine) as session:
        audits = session.exec(select(AuditEvent).where(AuditEvent.entity_id == world["max"],
                                                       AuditEvent.action == "update")).all()
    assert [a.route for a in audits] == [f"POST {path}"]


@pytest.mark.parametrize(("who", "reason", "message"), [
    ("max", "", "Enter why the case stays open"),
    ("max", "ok", "Why the case stays open must be 3 characters or more"),
    ("joy", "Still settling in", "only from the 25th birthday (24 November 2026)"),
])
def test_a_reason_to_keep_it_open_is_refused_in_words_with_the_input_kept(browser, engine, world, who, reason,
                                                                          message):
    path = f"/young-people/{world[who]}/kept-open/new"
    token = _form(browser, path)
    bad = browser.post(path, data={"_csrf_token": token, "reason": reason})
    assert bad.status_code == 400 and "<title>Error: " in bad.text
    assert re.search(rf'href="#reason">[^<]*{re.escape(message)}', bad.text), bad.text[:3000]
    assert f">{reason}</textarea>" in bad.text
    assert _events(engine, world[who], "kept_open") == []


@pytest.mark.parametrize("path", ["support-requests/new", "kept-open/new"])
def test_another_advisers_young_person_is_not_found_and_a_mentor_is_forbidden(browser, engine, people, world, path):
    token = csrf(browser.get(f"/young-people/{world['eve']}/{path}").text)
    other = world["other"]
    for method in ("GET", "POST"):
        response = browser.request(method, f"/young-people/{other}/{path}", data={
            "_csrf_token": token, **_asked(TODAY), "how": "phone", "reason": "A reason"})
        assert response.status_code == 404 and "Olive" not in response.text
    assert _events(engine, other, "support_requested") == [] and _events(engine, other, "kept_open") == []
    browser.cookies.clear()
    sign_in(browser, "mentor")
    assert browser.get(f"/young-people/{world['eve']}/{path}").status_code == 403
