"""The adviser's journeys in a real headless Chromium on the demo borough, with axe on every page state:
filter, search and page the caseload; open a young person and read the alternatives; record a contact
(fixing an error on the way, and once with JavaScript off); try to close a case and see the rule; close
one that may close, and re-open it, each after confirming."""

# ruff: noqa: F811 (the fixtures imported from test_browser are parameters of the tests and helpers here)

import re
from datetime import date, timedelta

from playwright.sync_api import Page, expect

from tests.test_browser import chromium, plain_tab, serious_violations, service, sign_in, tab  # noqa: F401


def _count(tab: Page) -> tuple[int, int, int]:
    shown = tab.locator("#count").inner_text()
    first, last, total = map(int, re.search(r"Showing (\d+) to (\d+) of (\d+)", shown).groups())
    return first, last, total


def _rows(tab: Page):
    return tab.locator("table.sb-caseload tbody tr")


def _server_today(tab: Page) -> date:
    """The service's own today, from the contact form's example date (the test process's clock is fixed)."""
    hint = tab.locator("#contact_on-hint").inner_text()
    day, month, year = map(int, re.search(r"For example, (\d+) (\d+) (\d+)", hint).groups())
    return date(year, month, day)


def _fill_date(tab: Page, name: str, day: date) -> None:
    group = tab.locator(f"#{name}")
    group.get_by_label("Day").fill(str(day.day))
    group.get_by_label("Month").fill(str(day.month))
    group.get_by_label("Year").fill(str(day.year))


def test_an_adviser_filters_searches_and_pages_the_caseload(tab):
    sign_in(tab, "adviser")
    expect(tab.get_by_role("heading", name="My caseload")).to_be_visible()
    assert serious_violations(tab) == []
    first, last, total = _count(tab)
    assert (first, last) == (1, 20) and total > 20 and _rows(tab).count() == 20
    tab.get_by_role("navigation", name="Pages of the caseload").get_by_role("link", name="Next").click()
    assert _count(tab) == (21, min(40, total), total)
    assert _rows(tab).count() == min(40, total) - 20
    expect(tab.get_by_role("link", name="Page 2")).to_have_attribute("aria-current", "page")
    assert serious_violations(tab) == []

    tab.get_by_role("group", name="Activity").get_by_label("Not in education, employment or training (NEET)").check()
    tab.get_by_role("button", name="Apply filters").click()
    neet_total = _count(tab)[2]
    assert 0 < neet_total < total
    for row in _rows(tab).all():
        expect(row.locator("td").nth(3)).to_contain_text("NEET")
    expect(tab.get_by_label("Not in education, employment or training (NEET)")).to_be_checked()  # kept
    assert serious_violations(tab) == []

    tab.get_by_label("Sort by").select_option("name")
    tab.get_by_role("button", name="Apply filters").click()
    names = [row.locator("td").first.locator("a").inner_text() for row in _rows(tab).all()]
    families = [name.split()[-1].lower() for name in names]
    assert families == sorted(families)

    tab.get_by_role("link", name="Clear filters").click()
    someone = _rows(tab).first.locator("td").first.locator("a").inner_text()
    tab.get_by_label("Search by name or case reference").fill(someone.split()[-1][:4].upper())
    tab.get_by_role("button", name="Search").click()
    expect(tab.get_by_role("link", name=someone)).to_be_visible()
    assert _count(tab)[2] < total
    assert serious_violations(tab) == []


def test_an_adviser_opens_a_young_person_reads_the_alternatives_and_records_a_contact(tab):
    sign_in(tab, "adviser")
    link = _rows(tab).first.locator("td").first.locator("a")
    name = link.inner_text()
    link.click()
    expect(tab.get_by_role("heading", level=1)).to_have_text(name)
    expect(tab.get_by_role("heading", name="Alternatives the matching would propose")).to_be_visible()
    expect(tab.get_by_text(re.compile(r"^(Mentors|Opportunities): \d+ eligible$")).first).to_be_visible()
    expect(tab.get_by_role("table", name=re.compile("^Excluded")).first).to_be_visible()  # the rule and how many
    for heading in ("Personal details", "Status (SSDA903)", "Pathway plan", "Contacts", "Entitlements (local offer)",
                    "Matches", "Check-ins", "Case history"):
        expect(tab.get_by_role("heading", name=heading, exact=True)).to_be_visible()
    assert serious_violations(tab) == []

    tab.get_by_role("button", name="Record a contact").click()
    expect(tab.get_by_role("heading", name="Record a contact")).to_be_visible()
    assert serious_violations(tab) == []
    today = _server_today(tab)
    _fill_date(tab, "contact_on", today + timedelta(days=1))  # tomorrow: not allowed
    tab.get_by_label("Call").check()
    tab.get_by_label("Note (optional)").fill("Talked about the apprenticeship")
    tab.get_by_role("button", name="Record the contact").click()
    summary = tab.locator(".govuk-error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Select whether the young person is in touch after this contact")
    assert tab.title().startswith("Error: ")
    expect(tab.get_by_label("Call")).to_be_checked()  # what was typed is kept
    expect(tab.get_by_label("Note (optional)")).to_have_value("Talked about the apprenticeship")
    assert serious_violations(tab) == []
    tab.get_by_label("Yes - in touch").check()
    tab.get_by_role("button", name="Record the contact").click()
    expect(summary).to_contain_text("cannot be in the future")  # now the date's refusal
    assert serious_violations(tab) == []
    _fill_date(tab, "contact_on", today)
    tab.get_by_role("button", name="Record the contact").click()
    expect(tab.get_by_role("alert")).to_contain_text("Contact recorded")
    contacts = tab.get_by_role("table", name="Contacts, newest first")
    expect(contacts.locator("tbody tr").first).to_contain_text("Talked about the apprenticeship")
    expect(contacts.locator("tbody tr").first).to_contain_text(f"{today.day} {today:%B %Y}")
    assert serious_violations(tab) == []


def _open_first(tab: Page, age_band: str, ages: range) -> str:
    """The first young person in the age band whose age is in `ages`, opened from the caseload."""
    tab.goto(f"/caseload?age_band={age_band}")
    row = next(row for row in _rows(tab).all() if int(row.locator("td").nth(1).inner_text()) in ages)
    link = row.locator("td").first.locator("a")
    name = link.inner_text()
    link.click()
    return name


def test_an_adviser_tries_to_close_a_case_and_is_shown_the_rule(tab):
    sign_in(tab, "adviser")
    _open_first(tab, "18-20", range(18, 21))
    tab.get_by_role("link", name="Close the case").click()
    expect(tab.get_by_role("heading", name="Close the case")).to_be_visible()
    expect(tab.locator("#rule")).to_contain_text("s.23C: the duties to a former relevant child")
    for reason in tab.get_by_role("group", name="Why is the case closing?").get_by_role("radio").all():
        expect(reason).not_to_be_checked()  # nothing preselected
    assert serious_violations(tab) == []
    tab.get_by_label("Aged 21 to 25, offered continued support and declined it").check()
    _fill_date(tab, "support_offered_on", date(2026, 9, 1))
    tab.get_by_label("Note (optional)").fill("Said at the review they want no more support")
    tab.get_by_role("button", name="Continue").click()
    summary = tab.locator(".govuk-error-summary")
    expect(summary).to_contain_text("This case cannot be closed for that reason today. Children Act 1989 s.23C")
    expect(tab.locator(".govuk-notification-banner--success")).to_have_count(0)
    expect(tab.get_by_label("Aged 21 to 25, offered continued support and declined it")).to_be_checked()
    expect(tab.get_by_label("Note (optional)")).to_have_value("Said at the review they want no more support")
    assert serious_violations(tab) == []


def test_an_adviser_closes_a_case_the_rule_allows_after_confirming_and_re_opens_it(tab):
    sign_in(tab, "adviser")
    name = _open_first(tab, "21-25", range(22, 25))  # 21 over a year before the offer below
    tab.get_by_role("link", name="Close the case").click()
    expect(tab.locator("#rule")).to_contain_text("s.23CZB")
    tab.get_by_label("Aged 21 to 25, offered continued support and declined it").check()
    _fill_date(tab, "support_offered_on", date(2026, 9, 1))
    tab.get_by_role("button", name="Continue").click()
    expect(tab.get_by_role("heading", name="Are you sure you want to close the case?")).to_be_visible()
    assert serious_violations(tab) == []
    tab.get_by_role("button", name="Close the case").click()
    expect(tab.locator(".govuk-error-summary")).to_contain_text("Select ‘Yes, close this case’")
    assert serious_violations(tab) == []
    tab.get_by_label("Yes, close this case").check()
    tab.get_by_role("button", name="Close the case").click()
    expect(tab.get_by_role("alert")).to_contain_text(f"{name}’s case is closed")
    expect(tab.locator(".govuk-tag", has_text="Case closed")).to_be_visible()
    assert serious_violations(tab) == []

    tab.get_by_role("link", name="Re-open the case").click()
    expect(tab.locator("#rule")).to_contain_text("before their 25th birthday")
    assert serious_violations(tab) == []
    tab.get_by_role("button", name="Continue").click()
    summary = tab.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Enter who asked for support, and how")
    assert serious_violations(tab) == []
    tab.get_by_label("Who asked for support, and how?").fill("Rang the duty line about housing")
    tab.get_by_role("button", name="Continue").click()
    # Nothing has changed yet: what will happen, and the rule, then "Are you sure?"
    expect(tab.get_by_role("heading", level=1)).to_have_text("Are you sure you want to re-open the case?")
    expect(tab.locator("#what-happens")).to_contain_text("back on the caseload")
    expect(tab.locator("#rule")).to_contain_text("any time before their 25th birthday")
    expect(tab.locator(".govuk-summary-list")).to_contain_text("Rang the duty line about housing")
    expect(tab.get_by_label("Yes, re-open this case")).not_to_be_checked()
    assert serious_violations(tab) == []
    tab.get_by_role("button", name="Re-open the case").click()
    expect(summary).to_contain_text("Select ‘Yes, re-open this case’ to re-open it")
    expect(tab.locator(".govuk-notification-banner--success")).to_have_count(0)
    assert serious_violations(tab) == []
    tab.get_by_role("link", name="Cancel: keep the case closed").click()
    expect(tab.locator(".govuk-tag", has_text="Case closed")).to_be_visible()  # cancelled: still closed

    tab.get_by_role("link", name="Re-open the case").click()
    tab.get_by_label("Who asked for support, and how?").fill("Rang the duty line about housing")
    tab.get_by_role("button", name="Continue").click()
    tab.get_by_label("Yes, re-open this case").check()
    tab.get_by_role("button", name="Re-open the case").click()
    expect(tab.get_by_role("alert")).to_contain_text(f"{name}’s case is open again")
    history = tab.get_by_role("table", name="Closures, re-openings, refused attempts, birthdays and allocation")
    expect(history).to_contain_text("Rang the duty line about housing")
    assert serious_violations(tab) == []


def test_the_contact_form_works_with_javascript_off(plain_tab):
    tab = plain_tab
    sign_in(tab, "adviser")
    _rows(tab).nth(1).locator("td").first.locator("a").click()
    tab.get_by_role("button", name="Record a contact").click()
    tab.get_by_role("button", name="Record the contact").click()
    summary = tab.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Enter the date of the contact")
    expect(summary).to_contain_text("Select how you were in touch")
    assert serious_violations(tab) == []  # the page as shown with JavaScript off
    _fill_date(tab, "contact_on", _server_today(tab))
    tab.get_by_label("Visit").check()
    tab.get_by_label("No - not in touch").check()
    tab.get_by_label("Note (optional)").fill("Nobody answered the door")
    tab.get_by_role("button", name="Record the contact").click()
    expect(tab.get_by_role("alert")).to_contain_text("Contact recorded")
    expect(tab.get_by_role("table", name="Contacts, newest first")).to_contain_text("Nobody answered the door")
    expect(tab.get_by_text("No - not in touch", exact=True)).to_be_visible()
    assert serious_violations(tab) == []
