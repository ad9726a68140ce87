"""The two records the birthdays ask for, in a real headless Chromium on the demo borough, with axe on every
page state: an adviser records that a young person aged 21 to 25 asked for support (an error fixed on the
way), and, with JavaScript off, why a 25-year-old's case stays open."""

# ruff: noqa: F811 (the fixtures imported from test_browser are parameters of the tests and helpers here)

import re
from datetime import date

import sqlalchemy as sa
from playwright.sync_api import Page, expect

from matching import db
from matching.models import CareLeaver, User
from tests.conftest import TEST_TODAY
from tests.test_browser import chromium, plain_tab, serious_violations, service, sign_in, tab  # noqa: F401
from tests.test_browser_adviser import _fill_date, _open_first


def _hinted_today(tab: Page) -> date:
    """The service's own today, from the form's example date."""
    hint = tab.locator("#asked_on-hint").inner_text()
    day, month, year = map(int, re.search(r"For example, (\d+) (\d+) (\d+)", hint).groups())
    return date(year, month, day)


def test_an_adviser_records_that_a_young_person_asked_for_support(tab):
    sign_in(tab, "adviser")
    name = _open_first(tab, "21-25", range(22, 25))
    tab.get_by_role("link", name="Record that they asked for support").click()
    expect(tab.get_by_role("heading", name="Record that they asked for support")).to_be_visible()
    expect(tab.locator(".govuk-caption-l")).to_contain_text(name)
    assert serious_violations(tab) == []

    tab.get_by_label("Note (optional)").fill("Wants help finding a flat")
    tab.get_by_role("button", name="Record the request").click()
    summary = tab.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Enter the date they asked for support")
    expect(summary).to_contain_text("Select how they asked for support")
    expect(tab.get_by_label("Note (optional)")).to_have_value("Wants help finding a flat")  # kept
    assert tab.title().startswith("Error: ")
    assert serious_violations(tab) == []

    _fill_date(tab, "asked_on", _hinted_today(tab))
    tab.get_by_label("By phone").check()
    tab.get_by_role("button", name="Record the request").click()
    expect(tab.get_by_role("alert")).to_contain_text("Request for support recorded")
    history = tab.get_by_role("table", name="Closures, re-openings, refused attempts, birthdays and allocation")
    expect(history).to_contain_text("Asked for support")
    expect(history).to_contain_text("By phone. Wants help finding a flat")
    assert serious_violations(tab) == []


def _turning_25_today(service) -> int:
    """One of the demo adviser's young people, made 25 today (the demo borough's oldest are 24)."""
    with db.session_scope(db.engine_for(service.database_url)) as session:
        adviser = session.scalars(sa.select(User.id).where(User.email == "adviser@northbridge.example.gov.uk")).one()
        person = session.scalars(sa.select(CareLeaver).where(
            CareLeaver.personal_adviser_id == adviser, CareLeaver.case_status == "open")
            .order_by(CareLeaver.id.desc())).first()
        person.date_of_birth = TEST_TODAY.replace(year=TEST_TODAY.year - 25)
        return person.id


def test_an_adviser_records_why_a_case_stays_open_with_javascript_off(plain_tab, service):
    tab = plain_tab
    person_id = _turning_25_today(service)
    sign_in(tab, "adviser")
    tab.goto(f"/young-people/{person_id}")
    tab.get_by_role("link", name="Record why the case stays open").click()
    expect(tab.get_by_role("heading", name="Record why the case stays open")).to_be_visible()
    expect(tab.locator(".govuk-inset-text")).to_contain_text("s.23CZB")
    assert serious_violations(tab) == []

    reason = tab.get_by_label("Why does the case stay open?")
    reason.fill("ok")
    tab.get_by_role("button", name="Record the reason").click()
    expect(tab.locator(".govuk-error-summary")).to_contain_text("must be 3 characters or more")
    expect(reason).to_have_value("ok")
    assert serious_violations(tab) == []

    reason.fill("Support with a housing move is still under way")
    tab.get_by_role("button", name="Record the reason").click()
    expect(tab.get_by_role("alert")).to_contain_text("The reason the case stays open is recorded")
    history = tab.get_by_role("table", name="Closures, re-openings, refused attempts, birthdays and allocation")
    expect(history).to_contain_text("Case kept open after 25")
    expect(history).to_contain_text("Support with a housing move is still under way")
    assert serious_violations(tab) == []
