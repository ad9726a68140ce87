"""The cohort report: its figures against counts worked out here from the young people the test made, small
numbers withheld (a small cohort where every count is), the national figures beside the council's share, the
chart, CSV and XLSX downloads (no cell a spreadsheet would run) and the audit row of each download."""

import csv
import io
import re
from collections import Counter
from datetime import date

import pytest
from openpyxl import load_workbook
from sqlmodel import select

from matching.models import AuditEvent
from matching.reports import cohort as cohort_report
from matching.reports.export import csv_text, safe_cell, xlsx_bytes
from matching.reports.suppression import FEWER_THAN, WITHHELD
from tests import factories
from tests.conftest import TEST_TODAY
from tests.test_pages import sign_in

# Who the test makes: (how many, date of birth, category, in touch, activity, accommodation).
GROUPS = [
    (12, date(2006, 1, 10), "former_relevant", "YES", "F5", "U1"),   # 20
    (6, date(2004, 2, 2), "former_relevant", "YES", "G5", "D2"),     # 22
    (7, date(2009, 5, 5), "eligible", "YES", "F2", "E1"),            # 17
    (2, date(2008, 1, 1), "former_relevant", "NO", "0", "0"),        # 18
    (1, date(2002, 11, 24), "former_relevant", "REFU", "0", "0"),    # 24 tomorrow: 23 today
]


def make(client, groups) -> list[dict]:
    made = []
    for count, born, category, in_touch, activity, accommodation in groups:
        for _ in range(count):
            answer = client.post("/api/v1/care-leavers", json=factories.care_leaver(
                date_of_birth=born.isoformat(), leaving_care_category=category, in_touch=in_touch,
                current_activity=activity, accommodation=accommodation))
            assert answer.status_code == 201, answer.text
            made.append(answer.json())
    return made


def band(born: date) -> str:
    age = TEST_TODAY.year - born.year - ((TEST_TODAY.month, TEST_TODAY.day) < (born.month, born.day))
    return "Under 18" if age < 18 else "18" if age == 18 else "19 to 21" if age <= 21 else "22" if age == 22 \
        else "23 to 25"


def expected_counts(groups) -> dict[str, Counter]:
    """(row, band) counts for each table, worked out from the groups, not from the service."""
    tables = {"category": Counter(), "in_touch": Counter(), "activity": Counter(), "accommodation": Counter()}
    for count, born, category, in_touch, activity, accommodation in groups:
        where = band(born)
        tables["category"][category, where] += count
        tables["in_touch"][in_touch, where] += count
        tables["activity"]["NEET" if activity.startswith("G") else "not_known" if activity == "0" else "EET",
                           where] += count
        tables["accommodation"]["not_known" if accommodation == "0" else
                                "suitable" if accommodation.endswith("1") else "unsuitable", where] += count
    return tables


def check_against(report, expected: dict[str, Counter]) -> int:
    """Every shown count equals the independent count; every withheld one is what the rule says it may be.
    Returns how many cells were shown."""
    bands = report.columns[:-1]
    seen = 0
    for table in report.tables:
        counts = expected[table.key]
        for row in table.rows:
            truth = [counts[row.key, name] for name in bands]
            for cell, value in zip(row.cells, [*truth, sum(truth)], strict=True):
                assert cell.count == value
                if cell.shown == FEWER_THAN:
                    assert 1 <= value <= 4
                elif cell.shown == WITHHELD:
                    assert value >= 5
                else:
                    assert cell.shown == value and not 1 <= value <= 4
                    seen += 1
        column_truth = [sum(counts[r.key, name] for r in table.rows) for name in bands]
        for cell, value in zip(table.totals, [*column_truth, sum(column_truth)], strict=True):
            assert cell.count == value and (cell.shown == value or not cell.visible)
    return seen


@pytest.fixture
def cohort(client):
    made = make(client, GROUPS)
    # A closed case is not in the cohort: 23, offered support and declined it.
    closed = make(client, [(1, date(2003, 1, 1), "former_relevant", "NREQ", "0", "0")])[0]
    answer = client.post(f"/api/v1/care-leavers/{closed['id']}/close", json={
        "version": closed["version"], "reason_code": "support_declined", "support_offered_on": "2026-10-01"})
    assert answer.status_code == 200, answer.text
    return made


def test_the_figures_are_the_counts_of_the_young_people_with_small_numbers_withheld(cohort, session):
    report = cohort_report.cohort(session, today=TEST_TODAY)
    assert check_against(report, expected_counts(GROUPS)) > 10
    in_touch = next(t for t in report.tables if t.key == "in_touch")
    assert in_touch.totals[-1].shown == 28  # the closed case is not counted
    yes = next(row for row in in_touch.rows if row.key == "YES")
    assert yes.cells[2].shown == 12 and yes.cells[1].shown == 0  # 19 to 21; 18
    assert next(row for row in in_touch.rows if row.key == "NO").cells[1].shown == FEWER_THAN


def test_the_national_figure_sits_beside_the_councils_share_of_the_same_age_band(cohort, session):
    report = cohort_report.cohort(session, today=TEST_TODAY)
    expected = expected_counts(GROUPS)
    bands = report.columns[:-1]
    compared = []
    for table in report.tables:
        for row in table.rows:
            for comparison in row.comparisons:
                at = bands.index(comparison.figure.band)
                count = expected[table.key][row.key, comparison.figure.band]
                total = sum(expected[table.key][other.key, comparison.figure.band] for other in table.rows)
                if row.cells[at].visible and table.totals[at].visible:
                    assert comparison.local_percent == round(100 * count / total)
                    compared.append((table.key, row.key, comparison.figure.band, comparison.local_percent))
                else:  # a share of a withheld count would give the count away
                    assert comparison.local_percent is None and comparison.local_words == WITHHELD
    # 12 of the 12 aged 19 to 21 are in touch and suitably housed; none of them is NEET.
    assert {("in_touch", "YES", "19 to 21", 100), ("accommodation", "suitable", "19 to 21", 100),
            ("activity", "NEET", "19 to 21", 0)} <= set(compared)
    figures = {(c.figure.dimension, c.figure.row, c.figure.band, c.figure.percent)
               for t in report.tables for r in t.rows for c in r.comparisons}
    assert figures == {("in_touch", "YES", "19 to 21", 91), ("in_touch", "NO", "22", 42),
                       ("activity", "NEET", "19 to 21", 38), ("activity", "EET", "22", 30),
                       ("activity", "NEET", "22", 26), ("accommodation", "suitable", "19 to 21", 85)}


def test_a_small_cohort_shows_no_count_that_could_identify_anyone(client, session):
    groups = [(3, date(2006, 1, 10), "former_relevant", "YES", "F5", "U1"),
              (1, date(2004, 2, 2), "former_relevant", "NO", "0", "0")]
    make(client, groups)
    report = cohort_report.cohort(session, today=TEST_TODAY)
    check_against(report, expected_counts(groups))
    for table in report.tables:
        for cell in [c for row in table.rows for c in row.cells] + table.totals:
            assert cell.shown in {0, FEWER_THAN, WITHHELD}
        assert table.totals[-1].shown == FEWER_THAN  # 4 in all
    activity = next(t for t in report.tables if t.key == "activity")
    assert all(c.local_words == WITHHELD for row in activity.rows for c in row.comparisons)


def test_the_page_has_its_tables_and_a_chart_of_each_with_no_script(cohort, browser, session):
    sign_in(browser, "manager")
    page = browser.get("/reports/cohort")
    assert page.status_code == 200 and page.text.count("<h1") == 1 and "&lt;" not in page.text
    assert "<title>Care leavers: the cohort – Springboard</title>" in page.text
    charts = re.findall(r"<svg .*?</svg>", page.text, re.S)
    assert len(charts) == 5 and all('role="img"' in chart and "<script" not in chart for chart in charts)
    report = cohort_report.cohort(session, today=TEST_TODAY)
    for chart, table in zip(charts[:4], report.tables, strict=True):  # the trend's chart comes last
        drawn = [row for row in table.rows if isinstance(row.cells[-1].shown, int)]
        assert chart.count("<rect") == len(drawn)
        assert f'aria-labelledby="chart-{table.key}-title chart-{table.key}-desc"' in chart
    assert page.text.count('class="govuk-table sb-report-table"') == 5
    assert "91% of 19 to 21 year olds (2020 to 2021; secondary source)" in page.text
    # An aggregate: no young person's record was read, so the page view records nothing.
    assert not session.exec(select(AuditEvent).where(AuditEvent.route.like("GET /reports%"))).all()


def test_csv_and_xlsx_hold_the_same_table_and_each_download_is_audited(cohort, browser, session, people):
    sign_in(browser, "manager")
    as_csv = browser.get("/reports/cohort.csv")
    assert as_csv.status_code == 200 and as_csv.headers["content-type"].startswith("text/csv")
    assert f'filename="cohort-{TEST_TODAY.isoformat()}.csv"' in as_csv.headers["content-disposition"]
    lines = list(csv.reader(io.StringIO(as_csv.text)))
    report = cohort_report.cohort(session, today=TEST_TODAY)
    assert lines == [[str(value) for value in line] for line in cohort_report.flat_rows(report)]
    assert ["In touch (903 IN_TOUCH)", "Yes - in touch", "7", "0", "12", "6", "0", "25",
            "91% of 19 to 21 year olds (2020 to 2021; secondary source)", "100%"] in lines
    as_xlsx = browser.get("/reports/cohort.xlsx")
    assert as_xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(as_xlsx.content)).active
    cells = [["" if cell.value is None else str(cell.value) for cell in line] for line in sheet.iter_rows()]
    assert cells == lines and all(cell.data_type != "f" for line in sheet.iter_rows() for cell in line)
    session.rollback()
    audited = session.exec(select(AuditEvent).where(AuditEvent.entity == "report_cohort")).all()
    assert [(e.action, e.actor_id, e.route) for e in audited] == [
        ("download", people["manager"].id, "GET /reports/cohort.csv"),
        ("download", people["manager"].id, "GET /reports/cohort.xlsx")]


def test_only_managers_see_the_cohort(browser):
    sign_in(browser, "adviser")
    for path in ("/reports", "/reports/cohort", "/reports/cohort.csv", "/reports/cohort.xlsx"):
        assert browser.get(path).status_code == 403


@pytest.mark.parametrize("text", ["=1+1", "+44 20", "-2", "@SUM(A1)", "\t=1", "\r=1"])
def test_text_a_spreadsheet_would_run_is_written_as_text(text):
    assert safe_cell(text) == "'" + text
    assert csv_text([[text, 3]]).startswith("\"'" if "\r" in text else "'")
    sheet = load_workbook(io.BytesIO(xlsx_bytes([[text, -3]], "Test"))).active
    # (XML turns a carriage return into a line feed; what matters is the apostrophe in front.)
    assert sheet["A1"].value.startswith("'") and sheet["A1"].data_type == "s" and sheet["B1"].value == -3


def test_ordinary_text_and_numbers_are_left_as_they_are():
    assert [safe_cell(value) for value in ("Care leavers", "a=b", 12, -4, 0.5, None)] == \
        ["Care leavers", "a=b", 12, -4, 0.5, ""]
