"""A department's journeys in a real headless Chromium on the demo borough: posting and managing an
opportunity, and following referrals through to the outcome. Axe checks every page state visited.

Demo data relied on (fixtures/journeys.py): department@ has a referral at every stage a department sees,
among them one just referred, one interviewed, one started and one sustained 3 months.
"""
# ruff: noqa: F811 (the fixtures imported from test_browser are parameters of the tests and helpers here)

import re

from playwright.sync_api import Page, expect

from tests.test_browser import chromium, serious_violations, service, sign_in, tab  # noqa: F401 (fixtures)

DEPARTMENT = "department"


def _accessible(tab: Page) -> None:
    assert serious_violations(tab) == [], tab.url
    assert tab.locator("h1").count() == 1, tab.url


def _group(tab: Page, legend: str):
    return tab.get_by_role("group", name=legend)


def _date(tab: Page, legend: str, day: str, month: str, year: str) -> None:
    group = _group(tab, legend)
    group.get_by_label("Day").fill(day)
    group.get_by_label("Month").fill(month)
    group.get_by_label("Year").fill(year)


def _banner(tab: Page, text: str) -> None:
    expect(tab.locator(".govuk-notification-banner--success")).to_contain_text(text)


def _refused(tab: Page, text: str) -> None:
    summary = tab.locator(".govuk-error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_contain_text(text)
    expect(tab.locator(".govuk-notification-banner--success")).to_have_count(0)
    assert tab.title().startswith("Error: ")


def _open_referral_at(tab: Page, stage: str) -> str:
    """The first referral at `stage` on the list filtered by it; its page's path."""
    tab.goto("/referrals")
    tab.get_by_label("Stage").select_option(stage)
    tab.get_by_role("button", name="Show referrals").click()
    rows = tab.locator("table:has(th:text('Adjustments needed')) tbody tr")
    # An expectation, which waits for the filtered page: a bare count could read the page before it rendered.
    expect(rows.first, f"the demo department has no referral at {stage} (fixtures/journeys.py)").to_be_visible()
    rows.first.get_by_role("link").click()
    expect(tab.get_by_role("group", name="What happened next?")).to_be_visible()
    return tab.url


def _step(tab: Page, label: str, note: str = "") -> None:
    _group(tab, "What happened next?").get_by_label(label, exact=True).check()
    if note:
        tab.get_by_label("Note (optional)").fill(note)
    tab.get_by_role("button", name="Continue").click()


def test_a_department_posts_edits_pauses_closes_and_reopens_an_opportunity(tab):
    sign_in(tab, DEPARTMENT)
    tab.get_by_role("link", name="Opportunities", exact=True).click()
    expect(tab.get_by_role("heading", name="Your department's opportunities")).to_be_visible()
    _accessible(tab)
    tab.get_by_role("button", name="Post an opportunity").click()
    expect(tab.locator("input:checked")).to_have_count(0)  # nothing chosen for them
    _accessible(tab)
    _group(tab, "What kind of opportunity is it?").get_by_label("Apprenticeship").check()
    tab.get_by_label("Title").fill("Tree surgery apprentice")
    tab.get_by_label("Description").fill("Two years with the arboriculture team")
    tab.get_by_label("Skills it uses").fill("climbing, chainsaw")
    tab.get_by_label("Sector").fill("parks and environment")
    tab.get_by_label("Postcode district of the workplace").fill("Not a postcode")
    tab.get_by_label("Hours a week").fill("37")
    tab.get_by_label("Pay per hour").fill("11.44")
    tab.get_by_label("Places", exact=True).fill("2")
    tab.get_by_label("Youngest age").fill("18")
    tab.get_by_label("Oldest age").fill("24")
    tab.get_by_label("Minimum qualification level").select_option("0")
    _date(tab, "Closing date", "1", "3", "2099")
    _date(tab, "Start date", "1", "4", "2099")
    _group(tab, "Is it only for care leavers (ring-fenced)?").get_by_label("Yes").check()
    _group(tab, "Does every young person referred get an interview?").get_by_label("Yes").check()
    tab.get_by_role("button", name="Post opportunity").click()
    _refused(tab, "is not a postcode district")
    expect(tab.get_by_label("Title")).to_have_value("Tree surgery apprentice")  # what was typed is kept
    expect(tab.get_by_label("Pay per hour")).to_have_value("11.44")
    _accessible(tab)
    tab.locator(".govuk-error-summary").get_by_role("link").first.click()
    expect(tab.get_by_label("Postcode district of the workplace")).to_be_focused()
    tab.get_by_label("Postcode district of the workplace").fill("N16")
    tab.get_by_role("button", name="Post opportunity").click()
    _banner(tab, "Opportunity posted, reference OPP-")
    expect(tab.get_by_role("heading", name="Tree surgery apprentice")).to_be_visible()
    expect(tab.locator("main")).to_contain_text("£11.44 an hour")
    expect(tab.locator("main")).to_contain_text("0 of 2 places filled")
    expect(tab.locator("main")).to_contain_text("1 March 2099")
    _accessible(tab)
    detail = tab.url
    assert re.search(r"/opportunities/\d+$", detail)

    tab.get_by_role("button", name="Change").click()
    expect(tab.get_by_label("Title")).to_have_value("Tree surgery apprentice")
    _accessible(tab)
    tab.get_by_label("Places", exact=True).fill("3")
    tab.get_by_role("button", name="Save changes").click()
    _banner(tab, "Opportunity changed")
    expect(tab.locator("main")).to_contain_text("0 of 3 places filled")

    tab.get_by_role("button", name="Pause").click()
    _banner(tab, "Opportunity paused")
    expect(tab.locator(".govuk-tag")).to_have_text("Paused")
    _accessible(tab)

    tab.get_by_role("button", name="Close").click()
    expect(tab.get_by_role("heading", name="Are you sure you want to close Tree surgery apprentice?")).to_be_visible()
    _accessible(tab)
    tab.get_by_role("button", name="Close the opportunity").click()
    _refused(tab, "Enter why you are closing this opportunity")
    _accessible(tab)
    tab.get_by_label("Why are you closing it?").fill("The team has no one to supervise this year")
    tab.get_by_role("button", name="Close the opportunity").click()
    _banner(tab, "Tree surgery apprentice is closed")
    expect(tab.locator(".govuk-tag")).to_have_text("Closed")
    _accessible(tab)

    tab.get_by_role("button", name="Re-open").click()
    expect(tab.locator("main")).to_contain_text("Its closing date is 1 March 2099")
    _accessible(tab)
    _date(tab, "New closing date", "1", "1", "2020")
    tab.get_by_role("button", name="Re-open the opportunity").click()
    _refused(tab, "The new closing date must be today or in the future")
    expect(_group(tab, "New closing date").get_by_label("Year")).to_have_value("2020")
    _accessible(tab)
    for part in ("Day", "Month", "Year"):
        _group(tab, "New closing date").get_by_label(part).fill("")
    tab.get_by_role("button", name="Re-open the opportunity").click()
    _banner(tab, "Opportunity re-opened")
    expect(tab.locator(".govuk-tag")).to_have_text("Open")
    tab.get_by_role("link", name="Opportunities", exact=True).first.click()
    row = tab.locator("tr", has_text="Tree surgery apprentice")
    expect(row).to_contain_text("Apprenticeship")
    expect(row).to_contain_text("0 of 3 filled")
    expect(row).to_contain_text("1 March 2099")


def test_a_department_follows_a_referral_to_six_months_and_ends_another_early(tab):
    sign_in(tab, DEPARTMENT)
    expect(tab.get_by_role("heading", name="Referrals to your department")).to_be_visible()
    counts = tab.locator("table:has(caption:text('People at each stage'))")
    for stage in ("Referred", "Sustained 6 months", "Completed", "Ended early", "Withdrawn"):
        expect(counts).to_contain_text(stage)
    _accessible(tab)
    referral = _open_referral_at(tab, "referred")
    expect(tab.locator("input:checked")).to_have_count(0)  # no outcome preselected
    _accessible(tab)
    tab.get_by_role("button", name="Continue").click()
    _refused(tab, "Select what happened next")
    _accessible(tab)
    name = tab.locator("h1").inner_text()
    for label in ("Interviewed", "Offered", "Started", "Sustained 3 months"):
        _step(tab, label, note=f"{label} as planned")
        _banner(tab, f"Recorded for {name.split()[0]}: {label.lower()}")
        expect(tab.locator(".govuk-summary-list")).to_contain_text(f"{label} since")
        _accessible(tab)
    _step(tab, "Sustained 6 months")
    expect(tab.get_by_role("heading", name='Are you sure you want to record "sustained 6 months"?')).to_be_visible()
    _accessible(tab)
    tab.get_by_role("button", name="Yes, record sustained 6 months").click()
    _banner(tab, "sustained 6 months")
    expect(tab.locator("main")).to_contain_text("This referral has ended")
    expect(tab.get_by_role("group", name="What happened next?")).to_have_count(0)
    _accessible(tab)
    assert tab.url == referral

    _open_referral_at(tab, "started")
    _step(tab, "Ended early", note="Told us by phone")
    expect(tab.get_by_role("heading", name='Are you sure you want to record "ended early"?')).to_be_visible()
    _accessible(tab)
    tab.get_by_role("button", name="Yes, record ended early").click()
    _refused(tab, "Enter why it ended early")
    _accessible(tab)
    tab.get_by_label("Why did it end early?").fill("Moved out of the borough")
    tab.get_by_role("button", name="Yes, record ended early").click()
    _banner(tab, "ended early")
    expect(tab.locator(".govuk-summary-list")).to_contain_text("Ended early since")


def test_the_outcome_form_works_with_javascript_off(chromium, service):
    context = chromium.new_context(base_url=service, java_script_enabled=False)
    tab = context.new_page()
    try:
        sign_in(tab, DEPARTMENT)
        _open_referral_at(tab, "interviewed")
        _step(tab, "Offered")
        _banner(tab, "offered")
        assert serious_violations(tab) == []  # axe on the page as a JavaScript-off visitor has it
        _open_referral_at(tab, "sustained_3m")
        _step(tab, "Ended early")
        tab.get_by_role("button", name="Yes, record ended early").click()
        _refused(tab, "Enter why it ended early")
        tab.get_by_label("Why did it end early?").fill("The contract ended")
        tab.get_by_role("button", name="Yes, record ended early").click()
        _banner(tab, "ended early")
        assert serious_violations(tab) == []  # axe on the page as a JavaScript-off visitor has it
    finally:
        context.close()
