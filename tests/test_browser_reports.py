"""A manager's reports in Chromium on the demo borough: the cohort with its charts and downloads, and the OC3
return checked before its file is produced; axe on every state, and the return's form with JavaScript off."""

import csv
import io
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.test_browser import chromium, serious_violations, service, sign_in, tab  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser


def test_a_manager_reads_the_cohort_and_downloads_it(tab):  # noqa: F811
    sign_in(tab, "manager")
    tab.goto("/reports")
    expect(tab.get_by_role("heading", name="Reports", level=1)).to_be_visible()
    assert serious_violations(tab) == []
    tab.get_by_role("link", name="Care leavers: the cohort").click()
    expect(tab.get_by_role("heading", name="Care leavers: the cohort", level=1)).to_be_visible()
    expect(tab.get_by_role("img", name="In touch (903 IN_TOUCH): all ages")).to_be_visible()
    assert tab.locator("table.sb-report-table").count() == 5  # four groupings and the trend
    assert serious_violations(tab) == []
    with tab.expect_download() as download:
        tab.get_by_role("link", name="Download this report as CSV").click()
    lines = list(csv.reader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8"))))
    assert lines[0][:3] == ["Table", "Group", "Under 18"] and len(lines) == 1 + 4 + 6 + 3 + 3 + 4 + 4 * 8


def test_a_manager_checks_the_return_and_gets_the_file_only_after_confirming(tab):  # noqa: F811
    sign_in(tab, "manager")
    tab.goto("/reports")
    tab.get_by_role("link", name="Care-leaver return (SSDA903 OC3)").click()
    expect(tab.get_by_role("heading", name="Care-leaver return (SSDA903 OC3)", level=1)).to_be_visible()
    assert serious_violations(tab) == []
    failing = int(tab.locator(".govuk-summary-list__row", has_text="Rows that fail a check")
                  .locator("dd").inner_text())
    if failing:
        expect(tab.get_by_role("heading", name="Rows that fail the return's checks")).to_be_visible()
        tab.get_by_role("button", name="Download the OC3 file (CSV)").click()
        expect(tab.locator(".govuk-notification-banner")).to_contain_text("The file was not produced")
        assert serious_violations(tab) == []
        tab.get_by_label(f"I want the file with the {failing} failing rows in it").check()
        with tab.expect_download() as download:
            tab.get_by_role("button", name="Download the OC3 file (CSV)").click()
    else:
        with tab.expect_download() as download:
            tab.get_by_role("link", name="Download the OC3 file").click()
    header = Path(download.value.path()).read_text(encoding="utf-8").splitlines()[0]
    assert header == "CHILD,DOB,IN_TOUCH,ACTIV,ACCOM"
    tab.goto("/reports/oc3?year=1999")
    expect(tab.locator(".govuk-error-summary")).to_contain_text("Collection year must be a year ending 31 March")
    assert tab.title().startswith("Error: ")
    assert serious_violations(tab) == []


def test_the_return_for_another_year_with_javascript_off(chromium, service):  # noqa: F811
    context = chromium.new_context(base_url=service, java_script_enabled=False)
    plain = context.new_page()
    try:
        sign_in(plain, "manager")
        plain.goto("/reports/oc3")
        plain.get_by_label("Collection year").select_option("2025")
        plain.get_by_role("button", name="Check the return").click()
        expect(plain.get_by_role("heading", name="1 April 2024 to 31 March 2025")).to_be_visible()
        assert "year=2025" in plain.url
        assert serious_violations(plain) == []
    finally:
        context.close()


def test_a_manager_reads_matching_and_outcomes_for_a_year_and_downloads_it(tab):  # noqa: F811
    sign_in(tab, "manager")
    tab.goto("/reports")
    tab.get_by_role("link", name="Matching and outcomes").click()
    expect(tab.get_by_role("heading", name="Matching and outcomes", level=1)).to_be_visible()
    expect(tab.locator(".govuk-inset-text")).to_contain_text("still in progress")
    expect(tab.get_by_role("img", name="Matches reaching each step, by kind: all kinds")).to_be_visible()
    assert serious_violations(tab) == []
    tab.get_by_label("Year").select_option(tab.locator("#year option").nth(2).get_attribute("value"))
    tab.get_by_role("button", name="Show the year").click()
    expect(tab.locator(".govuk-inset-text")).to_have_count(0)  # a past year is complete
    assert tab.locator("table.sb-report-table").count() >= 6  # steps, quarters, departments' and the groups'
    assert serious_violations(tab) == []
    with tab.expect_download() as download:
        tab.get_by_role("link", name="Download this report as CSV").click()
    lines = list(csv.reader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8"))))
    assert lines[0] == ["Table", "Row", "Column", "Value"] and len(lines) > 50


def test_a_manager_follows_keeping_in_touch_month_by_month(tab):  # noqa: F811
    sign_in(tab, "manager")
    tab.goto("/reports")
    tab.get_by_role("link", name="Keeping in touch and following up").click()
    expect(tab.get_by_role("heading", name="Keeping in touch and following up", level=1)).to_be_visible()
    expect(tab.get_by_role("img", name="Keeping in touch, month by month")).to_be_visible()
    assert tab.locator("table.sb-report-table tbody tr").count() == 12
    assert serious_violations(tab) == []


def test_a_manager_sees_where_the_eligible_stand_with_each_entitlement(tab):  # noqa: F811
    sign_in(tab, "manager")
    tab.goto("/reports")
    tab.get_by_role("link", name="The local offer: told, applied, taken up").click()
    expect(tab.get_by_role("heading", name="The local offer: told, applied, taken up", level=1)).to_be_visible()
    expect(tab.get_by_role("img", name="Young people who have taken up each entitlement")).to_be_visible()
    expect(tab.locator("table.sb-report-table").first).to_contain_text("Council tax exemption")
    assert serious_violations(tab) == []
