"""A manager's overview in Chromium on the demo borough: the charts with their tables, a count followed to the
named list behind it, a further page of it, and its CSV download; a figure of a chart's table followed to its
list and downloaded; axe on every state, and the lists' error states with JavaScript off."""

import csv
import io
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.test_browser import chromium, plain_tab, serious_violations, service, sign_in, tab  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser


def test_a_manager_follows_a_count_to_the_named_list_and_downloads_it(tab):  # noqa: F811
    sign_in(tab, "manager")
    tab.goto("/overview")
    expect(tab.get_by_role("heading", name="Overview", level=1)).to_be_visible()
    for name in ("Matches reaching each stage, by month", "Places offered and filled, by department",
                 "Not in touch and check-ins overdue, at the end of each month"):
        expect(tab.get_by_role("img", name=name)).to_be_visible()
    assert serious_violations(tab) == []
    count = tab.locator("#count-reviews")
    total = int(re.match(r"\d+", count.inner_text()).group())
    assert total > 50  # the demo has more than a page of reviews due, so paging is walked too
    count.click()
    expect(tab.get_by_role("heading", name="Pathway reviews due or overdue", level=1)).to_be_visible()
    expect(tab.locator("#count")).to_have_text(re.compile(f"Showing 1 to 50 of {total} rows"))
    first_page = tab.locator("#named-list tbody tr").all_inner_texts()
    assert len(first_page) == 50
    assert serious_violations(tab) == []
    tab.get_by_role("navigation", name="Pages of the list").get_by_role("link", name="Next").click()
    expect(tab.locator("#count")).to_have_text(re.compile(f"Showing 51 to {min(100, total)} of {total} rows"))
    assert serious_violations(tab) == []
    second_page = tab.locator("#named-list tbody tr").all_inner_texts()
    with tab.expect_download() as download:
        tab.get_by_role("link", name=re.compile("Download the whole list as CSV")).click()
    rows = list(csv.reader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8"))))
    assert rows[0] == ["Name", "Case reference", "Personal adviser", "Days overdue", "Review due", "Notes"]
    assert len(rows) == total + 1
    for line, row in zip(first_page + second_page, rows[1:], strict=False):
        assert line.startswith(row[0]) and row[1] in line and row[2] in line  # the same people, in the same order
    tab.locator("#named-list tbody tr").first.get_by_role("link").click()
    expect(tab.get_by_role("heading", level=1)).to_have_text(rows[51][0])  # their own page opens


def test_a_manager_follows_a_chart_figure_to_its_list_and_downloads_it(tab):  # noqa: F811
    sign_in(tab, "manager")
    tab.goto("/overview")
    figures = tab.locator("#table-attention tbody a")
    assert figures.count() > 0  # the demo has people not in touch at some month's end
    figure = figures.last  # this month's, as the table runs from the oldest month
    total = int(re.match(r"\d+", figure.inner_text()).group())
    about = figure.locator(".govuk-visually-hidden").inner_text()  # " – not in touch, November 2026: see the list"
    figure.click()
    expect(tab.get_by_role("heading", level=1)).to_contain_text("at the end of")
    expect(tab.locator("#count")).to_have_text(re.compile(f"of {total} rows?"))
    assert tab.locator("#named-list tbody tr").count() == min(total, 50)
    assert about.split(",")[0].split("– ")[1] in tab.locator("h1").inner_text().lower()
    assert serious_violations(tab) == []
    with tab.expect_download() as download:
        tab.get_by_role("link", name=re.compile("Download the whole list as CSV")).click()
    rows = list(csv.reader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8"))))
    assert rows[0][:3] == ["Name", "Case reference", "Personal adviser"] and len(rows) == total + 1
    first = tab.locator("#named-list tbody tr").first.inner_text()
    assert first.startswith(rows[1][0]) and rows[1][2] in first  # the same people as the page


def test_a_list_asked_for_a_page_that_is_not_a_number_says_so_with_javascript_off(plain_tab):  # noqa: F811
    sign_in(plain_tab, "manager")
    plain_tab.goto("/overview/not-in-touch?page=second")
    expect(plain_tab.get_by_role("heading", name="Not in touch", level=1)).to_be_visible()
    expect(plain_tab.locator(".govuk-error-summary")).to_contain_text("Page")
    assert plain_tab.title().startswith("Error:")
    assert serious_violations(plain_tab) == []
    plain_tab.goto("/overview/charts/by-state?month=2019-01&series=approved")  # a month no chart shows
    expect(plain_tab.get_by_role("heading", name="This list cannot be shown", level=1)).to_be_visible()
    expect(plain_tab.locator(".govuk-error-summary")).to_contain_text("Month must be one of the chart's 12 months")
    assert plain_tab.title().startswith("Error:")
    assert serious_violations(plain_tab) == []
