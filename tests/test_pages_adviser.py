"""The adviser's pages over HTTP: the caseload's filters, search, sort and paging, the young person's page,
recording a contact, and closing and re-opening a case under the statutory rules (at the boundary birthdays)."""

import re
from datetime import date, timedelta

import pytest
from sqlmodel import select

from matching import db, lifecycle
from matching.clock import CLOCK
from matching.dates import add_months
from matching.models import AuditEvent, CareLeaver, CaseEvent, CheckIn, Contact
from tests import factories
from tests.conftest import TEST_TODAY
from tests.page_rules.adviser import PAGES
from tests.test_pages import csrf, sign_in

TODAY = TEST_TODAY  # 23 November 2026
DAY = timedelta(days=1)


def _born(years: int, days_after: int = 0) -> str:
    """Born so that the `years` birthday is `days_after` days from today (0: today)."""
    return (TODAY.replace(year=TODAY.year - years) + timedelta(days=days_after)).isoformat()


def _person(browser, people, adviser="adviser", **fields) -> dict:
    response = browser.post("/api/v1/care-leavers", json=factories.care_leaver(
        personal_adviser_id=people[adviser].id, **fields), headers=people["manager"].headers)
    assert response.status_code == 201, response.text
    return response.json()


def _opportunity(browser, people) -> int:
    return browser.post("/api/v1/opportunities", json=factories.opportunity(people["department"].department_id),
                        headers=people["manager"].headers).json()["id"]


def _match(engine, person_id: int, opportunity_id: int, approve: bool) -> int:
    with db.session_scope(db.writer(engine)) as session:
        match = lifecycle.propose(session, care_leaver_id=person_id, opportunity_id=opportunity_id, score=0.7,
                                  reasons=["both like parks"])
        if approve:
            lifecycle.transition(session, match.id, lifecycle.Change("approved", 1), actor_id=None, today=TODAY)
        return match.id


def _refs(text: str) -> list[str]:
    """The case references of the caseload's rows, in order."""
    return re.findall(r'<span class="govuk-hint govuk-!-font-size-16">([\w-]+)</span>', text)


@pytest.fixture
def world(browser, people, engine):
    """Four young people on the adviser's caseload, one on another's, one closed; each differs in every filter."""
    job = _opportunity(browser, people)
    found = {
        # 19, in education, seen 10 days ago, reviewed a month ago, a match under way
        "amy": _person(browser, people, case_reference="REF-AMY", first_name="Amy", family_name="Zeta",
                       consent_share_employers=True, right_to_work_confirmed=True,
                       date_of_birth=_born(19), in_touch="YES", current_activity="F2",
                       last_contact_on=(TODAY - 10 * DAY).isoformat(),
                       pathway_plan_reviewed_on=add_months(TODAY, -1).isoformat()),
        # 22, NEET, never contacted, never reviewed, only a proposal (not under way)
        "ben": _person(browser, people, case_reference="REF-BEN", first_name="Ben", family_name="Young",
                       date_of_birth=_born(22), in_touch="NO", current_activity="G5"),
        # 20 until tomorrow, an apprentice, refuses contact, review due yesterday (overdue)
        "cat": _person(browser, people, case_reference="REF-CAT", first_name="Cat", family_name="Xu",
                       date_of_birth=_born(21, 1), in_touch="REFU", current_activity="F4",
                       last_contact_on=(TODAY - 100 * DAY).isoformat(),
                       pathway_plan_reviewed_on=add_months(TODAY - DAY, -6).isoformat()),
        # 21 today, employed, seen yesterday, review due in 20 days
        "dan": _person(browser, people, case_reference="REF-DAN", first_name="Dan", family_name="Webb",
                       date_of_birth=_born(21), in_touch="YES", current_activity="F5",
                       last_contact_on=(TODAY - DAY).isoformat(),
                       pathway_plan_reviewed_on=add_months(TODAY + 20 * DAY, -6).isoformat()),
        "other": _person(browser, people, adviser="other_adviser", case_reference="REF-OTHER",
                         first_name="Olive", family_name="Other", in_touch="NO"),
        "closed": _person(browser, people, case_reference="REF-CLOSED", first_name="Cleo", family_name="Closed",
                          date_of_birth=_born(25)),
    }
    found["amy_match"] = _match(engine, found["amy"]["id"], job, approve=True)
    _match(engine, found["ben"]["id"], job, approve=False)
    closed = browser.post(f"/api/v1/care-leavers/{found['closed']['id']}/close", headers=people["manager"].headers,
                          json={"version": 1, "reason_code": "aged_25"})
    assert closed.status_code == 200
    sign_in(browser, "adviser")
    return found


def test_the_caseload_lists_open_cases_as_links_in_words_and_audits_the_page(browser, people, engine, world):
    page = browser.get("/caseload")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    assert _refs(page.text) == ["REF-BEN", "REF-CAT", "REF-AMY", "REF-DAN"]  # longest without contact first
    assert f'href="/young-people/{world["amy"]["id"]}">Amy Zeta</a>' in page.text
    assert "Showing 1 to 4 of 4 cases" in page.text
    for words in ("No - not in touch", "Young person refuses contact", "NEET: other circumstances",
                  "Never", "13 November 2026", "10 days ago", "Yes: Approved", "Overdue", "Full time in an apprenticeship"):
        assert words in page.text, words
    assert re.search(r'govuk-tag--orange">\s*NEET\s*</strong>', page.text)
    assert "REF-OTHER" not in page.text and "REF-CLOSED" not in page.text
    with db.session_scope(engine) as session:
        rows = session.exec(select(AuditEvent).where(AuditEvent.route == "GET /caseload",
                                                     AuditEvent.actor_id == people["adviser"].id)).all()
    assert sorted((r.action, r.entity_id) for r in rows) == sorted(
        ("list", world[name]["id"]) for name in ("amy", "ben", "cat", "dan"))


@pytest.mark.parametrize("query,expected", [
    ("in_touch=YES", {"REF-AMY", "REF-DAN"}),
    ("in_touch=NO&in_touch=REFU", {"REF-BEN", "REF-CAT"}),
    ("activity=education", {"REF-AMY"}),
    ("activity=employment", {"REF-DAN"}),
    ("activity=training", {"REF-CAT"}),
    ("activity=neet", {"REF-BEN"}),
    ("activity=neet&activity=education", {"REF-AMY", "REF-BEN"}),
    ("age_band=18-20", {"REF-AMY", "REF-CAT"}),  # Cat turns 21 tomorrow
    ("age_band=21-25", {"REF-BEN", "REF-DAN"}),  # Dan turned 21 today
    ("has_match=yes", {"REF-AMY"}),
    ("has_match=no", {"REF-BEN", "REF-CAT", "REF-DAN"}),  # Ben's match is only proposed
    ("review=overdue", {"REF-BEN", "REF-CAT"}),  # never reviewed, or due yesterday
    ("review=due", {"REF-BEN", "REF-CAT", "REF-DAN"}),  # due within 28 days, or overdue
    ("status=closed", {"REF-CLOSED"}),
    ("in_touch=YES&age_band=21-25", {"REF-DAN"}),
    ("activity=unknown", set()),
])
def test_each_filter_narrows_the_caseload(browser, world, query, expected):
    page = browser.get(f"/caseload?{query}")
    assert page.status_code == 200
    assert set(_refs(page.text)) == expected
    for name, value in (part.split("=") for part in query.split("&")):  # the filter panel keeps its choices
        assert re.search(rf'name="{name}" type="(checkbox|radio)" value="{value}" checked|value="{value}" selected',
                         page.text), (name, value)
    if not expected:
        assert "No open cases match these filters." in page.text


@pytest.mark.parametrize("q,expected", [
    ("zeta", ["REF-AMY"]), ("REF-DA", ["REF-DAN"]), ("amy ZETA", ["REF-AMY"]), ("amy webb", []),
    ("ref-", ["REF-BEN", "REF-CAT", "REF-AMY", "REF-DAN"]), ("50%", []), ("olive", []),
])
def test_the_search_finds_a_name_or_case_reference_within_the_caseload_only(browser, world, q, expected):
    page = browser.get("/caseload", params={"q": q})
    assert _refs(page.text) == expected
    assert f'value="{q}"' in page.text


@pytest.mark.parametrize("sort,expected", [
    ("last_contact", ["REF-BEN", "REF-CAT", "REF-AMY", "REF-DAN"]),
    ("name", ["REF-DAN", "REF-CAT", "REF-BEN", "REF-AMY"]),  # family names Webb, Xu, Young, Zeta
    ("review_due", ["REF-BEN", "REF-CAT", "REF-DAN", "REF-AMY"]),
    ("age", ["REF-BEN", "REF-DAN", "REF-CAT", "REF-AMY"]),  # oldest first
])
def test_each_sort_orders_the_caseload(browser, world, sort, expected):
    page = browser.get("/caseload", params={"sort": sort})
    assert _refs(page.text) == expected
    assert f'value="{sort}" selected' in page.text


def test_a_query_the_form_cannot_send_is_explained_not_a_crash(browser, world):
    page = browser.get("/caseload?page=first&in_touch=MAYBE")
    assert page.status_code == 400 and "There is a problem" in page.text
    assert 'href="#page"' in page.text and 'href="#in_touch"' in page.text
    assert _refs(page.text) == ["REF-BEN", "REF-CAT", "REF-AMY", "REF-DAN"]  # the default list meanwhile


def test_the_caseload_pages_by_twenty_with_the_count_and_keeps_the_filters(browser, people):
    for n in range(41):
        _person(browser, people, case_reference=f"P{n:03d}", first_name="Page", family_name=f"Person{n:03d}",
                current_activity="G5" if n % 2 else "F2")
    sign_in(browser, "adviser")
    first = browser.get("/caseload?sort=name")
    assert "Showing 1 to 20 of 41 cases" in first.text and len(_refs(first.text)) == 20
    assert 'class="govuk-pagination' in first.text and 'rel="prev"' not in first.text
    assert 'href="/caseload?sort=name&amp;page=2" rel="next"' in first.text
    second = browser.get("/caseload?sort=name&page=2")
    assert "Showing 21 to 40 of 41 cases" in second.text and _refs(second.text)[0] == "P020"
    assert 'aria-current="page"' in second.text and 'rel="prev"' in second.text and 'rel="next"' in second.text
    last = browser.get("/caseload?sort=name&page=3")
    assert "Showing 41 to 41 of 41 cases" in last.text and _refs(last.text) == ["P040"] and 'rel="next"' not in last.text
    beyond = browser.get("/caseload?sort=name&page=99")  # past the end: the last page
    assert _refs(beyond.text) == ["P040"]
    neet = browser.get("/caseload?sort=name&activity=neet")
    assert "Showing 1 to 20 of 20 cases" in neet.text and "govuk-pagination" not in neet.text  # one page: no paging
    education = browser.get("/caseload?sort=name&activity=education&page=2")
    assert "Showing 21 to 21 of 21 cases" in education.text
    assert 'href="/caseload?sort=name&amp;activity=education&amp;page=1" rel="prev"' in education.text


def test_the_young_persons_page_shows_the_whole_record_and_is_audited(browser, people, engine, world):
    amy = world["amy"]
    with db.session_scope(db.writer(engine)) as session:
        session.add(Contact(care_leaver_id=amy["id"], contact_on=TODAY - 30 * DAY, kind="visit", note="Older visit",
                            by_id=people["adviser"].id))
        session.add(Contact(care_leaver_id=amy["id"], contact_on=TODAY - 10 * DAY, kind="call", note="Newer call",
                            by_id=people["adviser"].id))
        session.add(CheckIn(match_id=world["amy_match"], due_on=TODAY - 3 * DAY, label="2 weeks"))
    page = browser.get(f"/young-people/{amy['id']}")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    text = page.text
    assert "<h1 class=\"govuk-heading-l\">Amy Zeta</h1>" in text and text.count("<h1") == 1
    for words in ("Former relevant child (18-25)", "Yes - in touch", "Full time in education other than higher education",
                  "Independent living (suitable)", "Accommodation suitable", "Share their details with mentors",
                  "Last reviewed", "Next review due", "Test adviser", "Entitlements", "Priority for ring-fenced",
                  "Alternatives the matching would propose", "Opportunities: ", "Approved", "13 November 2026 (10 days ago)"):
        assert words in text, words
    assert f'href="/matches/{world["amy_match"]}"' in text
    assert text.index("Newer call") < text.index("Older visit")  # contacts newest first
    assert "2 weeks" in text and "20 November 2026" in text  # the check-in of her match, overdue
    with db.session_scope(engine) as session:
        rows = session.exec(select(AuditEvent).where(AuditEvent.route == f"GET /young-people/{amy['id']}")).all()
    assert [(r.action, r.entity_id, r.actor_id) for r in rows] == [("read", amy["id"], people["adviser"].id)]


def test_a_manager_may_open_any_young_person(browser, people, world):
    browser.cookies.clear()
    sign_in(browser, "manager")
    assert browser.get(f"/young-people/{world['other']['id']}").status_code == 200


def test_another_advisers_young_person_is_not_found_on_every_route(browser, people, engine, world):
    other = world["other"]["id"]
    token = csrf(browser.get("/caseload").text)
    for method, path in sorted(PAGES):
        if "{person_id:int}" not in path:
            continue
        url = path.replace("{person_id:int}", str(other))
        response = browser.request(method, url, data={"_csrf_token": token, "version": "1", "kind": "call",
                                                      "contact_on-day": "1", "contact_on-month": "11",
                                                      "contact_on-year": "2026", "in_touch": "YES",
                                                      "reason_code": "died", "confirm": "yes", "note": "hello"})
        assert response.status_code == 404, (method, path, response.status_code)
        assert "Olive" not in response.text
    with db.session_scope(engine) as session:
        assert session.get(CareLeaver, other).case_status == "open"
        assert session.exec(select(Contact).where(Contact.care_leaver_id == other)).all() == []
        assert session.exec(select(AuditEvent).where(AuditEvent.entity_id == other,
                                                     AuditEvent.actor_id == people["adviser"].id)).all() == []


def _contact_form(browser, person_id: int) -> str:
    page = browser.get(f"/young-people/{person_id}/contacts/new")
    assert page.status_code == 200 and "checked" not in page.text  # nothing preselected
    return csrf(page.text)


def test_a_contact_form_with_nothing_in_it_names_every_missing_answer(browser, world):
    person_id = world["ben"]["id"]
    token = _contact_form(browser, person_id)
    bad = browser.post(f"/young-people/{person_id}/contacts/new", data={"_csrf_token": token, "note": "Rang him"})
    assert bad.status_code == 400 and "<title>Error: " in bad.text
    for anchor, message in (("contact_on-day", "Enter the date of the contact"),
                            ("kind", "Select how you were in touch"),
                            ("in_touch", "Select whether the young person is in touch after this contact")):
        assert f'href="#{anchor}">{message}</a>' in bad.text, message
        assert f'<span class="govuk-visually-hidden">Error:</span> {message}' in bad.text
    assert ">Rang him</textarea>" in bad.text  # what was typed is kept


@pytest.mark.parametrize("day,message", [(("31", "2", "2026"), "The date of the contact must be a real date"),
                                         (("24", "11", "2026"), "The date of the contact: cannot be in the future")])
def test_a_contact_on_an_impossible_or_future_day_is_refused_with_the_input_kept(browser, engine, world, day, message):
    person_id = world["ben"]["id"]
    token = _contact_form(browser, person_id)
    bad = browser.post(f"/young-people/{person_id}/contacts/new", data={
        "_csrf_token": token, "contact_on-day": day[0], "contact_on-month": day[1], "contact_on-year": day[2],
        "kind": "visit", "in_touch": "YES", "note": "Home visit"})
    assert bad.status_code == 400 and message in bad.text
    assert f'name="contact_on-day" type="text" value="{day[0]}"' in bad.text
    assert re.search(r'value="visit" checked', bad.text) and re.search(r'value="YES" checked', bad.text)
    assert 'govuk-notification-banner--success' not in bad.text
    with db.session_scope(engine) as session:
        assert session.exec(select(Contact).where(Contact.care_leaver_id == person_id)).all() == []


def test_a_contact_is_stored_moves_the_903_status_and_shows_on_the_page(browser, people, engine, world):
    person_id = world["ben"]["id"]
    token = _contact_form(browser, person_id)
    done = browser.post(f"/young-people/{person_id}/contacts/new", data={
        "_csrf_token": token, "contact_on-day": "22", "contact_on-month": "11", "contact_on-year": "2026",
        "kind": "visit", "in_touch": "NREQ", "note": "Says he no longer needs us"})
    assert done.status_code == 200 and "Contact recorded." in done.text
    assert "govuk-notification-banner--success" in done.text
    assert "Says he no longer needs us" in done.text and "22 November 2026 (1 day ago)" in done.text
    assert "Young person no longer requires children" in done.text
    with db.session_scope(engine) as session:
        contact = session.exec(select(Contact).where(Contact.care_leaver_id == person_id)).one()
        assert (contact.contact_on, contact.kind, contact.by_id) == (date(2026, 11, 22), "visit", people["adviser"].id)
        person = session.get(CareLeaver, person_id)
        assert (person.last_contact_on, person.in_touch) == (date(2026, 11, 22), "NREQ")
        updates = session.exec(select(AuditEvent).where(AuditEvent.entity_id == person_id,
                                                        AuditEvent.action == "update")).all()
        assert [u.route for u in updates] == [f"POST /young-people/{person_id}/contacts/new"]
    # an older contact entered late is kept, but does not overrule the later one's status
    late = browser.post(f"/young-people/{person_id}/contacts/new", data={
        "_csrf_token": token, "contact_on-day": "1", "contact_on-month": "10", "contact_on-year": "2026",
        "kind": "call", "in_touch": "NO"})
    assert "A later contact is already recorded" in late.text
    with db.session_scope(engine) as session:
        person = session.get(CareLeaver, person_id)
        assert (person.last_contact_on, person.in_touch) == (date(2026, 11, 22), "NREQ")


BORN = date(2005, 6, 15)  # 21 on 15 June 2026, 25 on 15 June 2030


def _close(browser, person_id: int, **fields) -> tuple[str, object]:
    page = browser.get(f"/young-people/{person_id}/close")
    assert page.status_code == 200 and "checked" not in page.text
    token = csrf(page.text)
    version = re.search(r'name="version" value="(\d+)"', page.text).group(1)
    return token, browser.post(f"/young-people/{person_id}/close", data={"_csrf_token": token, "version": version,
                                                                         **fields})


def test_closing_needs_a_reason(browser, world):
    _, bad = _close(browser, world["amy"]["id"], note="Moving away")
    assert bad.status_code == 400 and 'href="#reason_code">Select why the case is closing</a>' in bad.text
    assert ">Moving away</textarea>" in bad.text


@pytest.mark.parametrize("today,allowed", [(date(2026, 6, 14), False), (date(2026, 6, 15), True)])
def test_closing_at_the_21st_birthday_quotes_the_rule_and_asks_for_confirmation(browser, people, engine, today,
                                                                                 allowed):
    CLOCK.fix(today)
    person = _person(browser, people, date_of_birth=BORN.isoformat(), first_name="Zara", family_name="Birthday")
    sign_in(browser, "adviser")
    rule = "s.23C:" if today < date(2026, 6, 15) else "s.23CZB:"
    assert rule in browser.get(f"/young-people/{person['id']}/close").text  # the rule that applies today
    answers = {"reason_code": "support_declined", "support_offered_on-day": "15", "support_offered_on-month": "6",
               "support_offered_on-year": "2026", "note": "Declined at the review"}
    token, step = _close(browser, person["id"], **answers)
    if not allowed:
        assert step.status_code == 400 and "There is a problem" in step.text
        assert "This case cannot be closed for that reason today. Children Act 1989 s.23C" in step.text
        assert "govuk-notification-banner--success" not in step.text
        assert re.search(r'value="support_declined" checked', step.text) and ">Declined at the review</textarea>" in step.text
        assert 'name="support_offered_on-month" type="text" value="6"' in step.text
        with db.session_scope(engine) as session:
            assert session.get(CareLeaver, person["id"]).case_status == "open"
            events = session.exec(select(CaseEvent).where(CaseEvent.care_leaver_id == person["id"])).all()
            assert [(e.action, e.reason_code) for e in events] == [("close_refused", "support_declined")]
        return
    assert step.status_code == 200 and "Are you sure you want to close the case?" in step.text
    hidden = dict(re.findall(r'<input type="hidden" name="([\w-]+)" value="([^"]*)"', step.text))
    unsure = browser.post(f"/young-people/{person['id']}/close/confirm", data=hidden)
    assert unsure.status_code == 400 and "Select ‘Yes, close this case’ to close it" in unsure.text
    with db.session_scope(engine) as session:
        assert session.get(CareLeaver, person["id"]).case_status == "open"
    closed = browser.post(f"/young-people/{person['id']}/close/confirm", data={**hidden, "confirm": "yes"})
    assert closed.status_code == 200 and "Zara Birthday’s case is closed" in closed.text
    assert "Re-open the case" in closed.text and "Declined at the review" in closed.text
    with db.session_scope(engine) as session:
        stored = session.get(CareLeaver, person["id"])
        assert (stored.case_status, stored.closed_by_id) == ("closed", people["adviser"].id)


def test_from_21_a_closure_without_the_date_support_was_offered_is_refused(browser, people):
    CLOCK.fix(date(2026, 6, 15))
    person = _person(browser, people, date_of_birth=BORN.isoformat())
    sign_in(browser, "adviser")
    _, refused = _close(browser, person["id"], reason_code="support_declined")
    assert refused.status_code == 400 and "Children Act 1989 s.23CZB" in refused.text


def test_a_stale_form_says_so_and_takes_the_current_version(browser, people, engine, world):
    person_id = world["ben"]["id"]
    token, _ = _close(browser, person_id, note="x")
    stale = browser.post(f"/young-people/{person_id}/close", data={"_csrf_token": token, "version": "7",
                                                                   "reason_code": "died"})
    assert stale.status_code == 400 and "Someone else changed this young person’s record" in stale.text
    assert 'name="version" value="1"' in stale.text


def _closed_person(browser, people, first_name: str = "Rae") -> dict:
    """Born 15 June 2005 (25 on 15 June 2030), closed on 1 July 2026 after declining support."""
    CLOCK.fix(date(2026, 7, 1))
    person = _person(browser, people, date_of_birth=BORN.isoformat(), first_name=first_name, family_name="Open")
    closed = browser.post(f"/api/v1/care-leavers/{person['id']}/close", headers=people["manager"].headers, json={
        "version": 1, "reason_code": "support_declined", "support_offered_on": "2026-06-20"})
    assert closed.status_code == 200
    return closed.json()


def _stored(engine, person_id: int) -> tuple[str, list[tuple[str, str]]]:
    """The case's status and its case events (action, note) in order."""
    with db.session_scope(engine) as session:
        events = session.exec(select(CaseEvent).where(CaseEvent.care_leaver_id == person_id)
                              .order_by(CaseEvent.id)).all()
        return session.get(CareLeaver, person_id).case_status, [(e.action, e.note) for e in events]


def _hidden(text: str) -> dict[str, str]:
    return dict(re.findall(r'<input type="hidden" name="([\w-]+)" value="([^"]*)"', text))


@pytest.mark.parametrize("today,allowed", [(date(2030, 6, 14), True), (date(2030, 6, 15), False)])
def test_a_closed_case_reopens_until_the_25th_birthday_after_confirming(browser, people, engine, today, allowed):
    person = _closed_person(browser, people)
    CLOCK.fix(today)
    sign_in(browser, "adviser")
    form = browser.get(f"/young-people/{person['id']}/reopen")
    assert "25th birthday" in form.text and "15 June 2030" in form.text and "checked" not in form.text
    token = csrf(form.text)
    short = browser.post(f"/young-people/{person['id']}/reopen", data={"_csrf_token": token, "version": "2",
                                                                       "note": "x"})
    assert short.status_code == 400 and 'href="#note">Who asked for support, and how must be 3 characters' in short.text
    assert ">x</textarea>" in short.text and 'id="note-error"' in short.text  # the field's message, input kept
    asked = browser.post(f"/young-people/{person['id']}/reopen", data={
        "_csrf_token": token, "version": str(person["version"]), "note": "Rang asking for help with housing"})
    if not allowed:
        assert asked.status_code == 400 and "This case cannot be re-opened. Children Act 1989 s.23CZB" in asked.text
        assert "before their 25th birthday" in asked.text and ">Rang asking for help with housing</textarea>" in asked.text
        assert "govuk-notification-banner--success" not in asked.text
        assert _stored(engine, person["id"]) == ("closed", [("closed", ""), ("reopen_refused", "")])
        return
    # Nothing changes until it is confirmed: the confirmation says what will happen and the rule.
    assert asked.status_code == 200 and "Are you sure you want to re-open the case?" in asked.text
    assert asked.text.count("<h1") == 1 and "<title>Are you sure you want to re-open Rae Open’s case?" in asked.text
    for words in ("Rang asking for help with housing", "back on the caseload", "any time before their 25th birthday",
                  "turns 25 on 15 June 2030", "Yes, re-open this case", "Cancel: keep the case closed"):
        assert words in asked.text, words
    assert "checked" not in asked.text  # the "Yes" is not ticked for them
    assert _stored(engine, person["id"]) == ("closed", [("closed", "")])
    hidden = _hidden(asked.text)
    assert hidden["note"] == "Rang asking for help with housing" and hidden["version"] == str(person["version"])
    unsure = browser.post(f"/young-people/{person['id']}/reopen/confirm", data=hidden)
    assert unsure.status_code == 400 and 'href="#confirm">Select ‘Yes, re-open this case’ to re-open it' in unsure.text
    assert "govuk-notification-banner--success" not in unsure.text
    assert _stored(engine, person["id"]) == ("closed", [("closed", "")])
    reopened = browser.post(f"/young-people/{person['id']}/reopen/confirm", data={**hidden, "confirm": "yes"})
    assert "Rae Open’s case is open again" in reopened.text and "govuk-notification-banner--success" in reopened.text
    assert _stored(engine, person["id"]) == ("open", [("closed", ""), ("reopened", "Rang asking for help with housing")])
    with db.session_scope(engine) as session:
        updates = session.exec(select(AuditEvent).where(AuditEvent.entity_id == person["id"],
                                                        AuditEvent.action == "update")).all()
        assert [u.route for u in updates] == [f"POST /young-people/{person['id']}/reopen/confirm"]


def test_a_reopening_confirmed_on_the_25th_birthday_is_refused_in_words(browser, people, engine):
    """The rule is checked again when the change is made: the day may have moved on since the first step."""
    person = _closed_person(browser, people)
    CLOCK.fix(date(2030, 6, 14))
    sign_in(browser, "adviser")
    token = csrf(browser.get(f"/young-people/{person['id']}/reopen").text)
    asked = browser.post(f"/young-people/{person['id']}/reopen", data={
        "_csrf_token": token, "version": str(person["version"]), "note": "Asked by email"})
    assert asked.status_code == 200
    CLOCK.fix(date(2030, 6, 15))
    sign_in(browser, "adviser")  # a day later the session has expired
    late = browser.post(f"/young-people/{person['id']}/reopen/confirm", data={
        **_hidden(asked.text), "_csrf_token": csrf(browser.get("/caseload").text), "confirm": "yes"})
    assert late.status_code == 400 and "This case cannot be re-opened." in late.text
    assert ">Asked by email</textarea>" in late.text and "govuk-notification-banner--success" not in late.text
    assert _stored(engine, person["id"]) == ("closed", [("closed", ""), ("reopen_refused", "")])


def test_a_stale_reopening_says_so_and_takes_the_current_version(browser, people, engine):
    person = _closed_person(browser, people)
    CLOCK.fix(date(2027, 1, 4))
    sign_in(browser, "adviser")
    token = csrf(browser.get(f"/young-people/{person['id']}/reopen").text)
    stale = browser.post(f"/young-people/{person['id']}/reopen", data={"_csrf_token": token, "version": "1",
                                                                       "note": "Asked by email"})
    assert stale.status_code == 400 and "Someone else changed this young person’s record" in stale.text
    assert f'name="version" value="{person["version"]}"' in stale.text and ">Asked by email</textarea>" in stale.text
    tampered = browser.post(f"/young-people/{person['id']}/reopen/confirm", data={
        "_csrf_token": token, "version": "1", "note": "Asked by email", "confirm": "yes"})
    assert tampered.status_code == 400 and "Someone else changed" in tampered.text
    assert _stored(engine, person["id"])[0] == "closed"


def test_an_open_case_cannot_be_reopened(browser, people, engine, world):
    amy = world["amy"]["id"]
    page = browser.get(f"/young-people/{amy}/reopen")
    assert "This case is open." in page.text and "<textarea" not in page.text
    answer = browser.post(f"/young-people/{amy}/reopen/confirm", data={
        "_csrf_token": csrf(page.text), "version": "1", "note": "Asked by email", "confirm": "yes"})
    assert answer.status_code == 400 and "is open" in answer.text
    assert _stored(engine, amy) == ("open", [])


def test_an_unexpected_error_on_a_page_is_a_gov_uk_500_with_the_menu_and_nothing_of_the_error(browser, people,
                                                                                               world, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("Amy Zeta 2007-01-01")  # an error's text can carry personal data

    monkeypatch.setattr("matching.caseload.search", broken)
    page = browser.get("/caseload")
    assert page.status_code == 500 and "Sorry, there is a problem with the service" in page.text
    assert 'href="/caseload"' in page.text and "Proposals to review" in page.text  # the adviser's menu
    assert re.search(r'<strong class="sb-request-id">[0-9a-f]{16}</strong>', page.text)
    assert "Amy" not in page.text and "RuntimeError" not in page.text
    browser.cookies.clear()
    assert 'aria-label="Menu"' not in browser.get("/no-such-page").text  # signed out: the plain page
