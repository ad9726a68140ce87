"""The annual report: one page for a year, in plain words, every figure the other reports' own and suppressed
the same way (a small cohort, where suppression must apply)."""

import re

from matching.reports import annual, cohort, keeping_in_touch, outcomes
from matching.reports.suppression import Cell
from tests.conftest import TEST_TODAY
from tests.test_pages import sign_in
from tests.test_reports_outcomes import history  # noqa: F401 (the year's story, on known days)


def test_numbers_in_words_keep_small_ones_hidden():
    assert annual.in_words(Cell(1), "match", "matches") == "1 match"
    assert annual.in_words(Cell(1234), "match", "matches") == "1,234 matches"
    assert annual.in_words(Cell(3, "primary"), "match", "matches") == "fewer than 5 matches"
    assert annual.in_words(Cell(9, "secondary"), "match", "matches") == "a withheld number of matches"


def test_the_year_in_words_with_small_counts_withheld(browser, history, people):  # noqa: F811
    sign_in(browser, "manager")
    shown = browser.get("/reports/annual?year=2026")
    assert shown.status_code == 200
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", shown.text))
    assert "Care leavers: annual report, 2025 to 2026" in text
    assert "the service proposed 6 matches; personal advisers approved 6 matches" in text
    assert "5 young people started a job" in text
    # Three lasted six months and one ended early: both under 5, so neither number is printed.
    assert "fewer than 5 matches lasted six months" in text and "fewer than 5 matches ended early" in text
    assert "3 matches" not in text and "1 match ended" not in text
    assert browser.get("/reports/annual?year=1900").status_code == 400


def test_the_report_quotes_the_other_reports_figures(history, session):  # noqa: F811
    """Each part the page shows is the other report's own figure: the steps by kind, the cohort's tables (not
    its trend, which the page does not show), and the keeping-in-touch figures at the last month's end."""
    report = annual.annual(session, 2026, today=TEST_TODAY)
    assert report.steps == outcomes.outcomes(session, 2026).steps == outcomes.steps(session, 2026)
    full = cohort.cohort(session, today=TEST_TODAY)
    assert report.cohort.tables == full.tables and report.cohort.trend is None and full.trend is not None
    in_touch = keeping_in_touch.keeping_in_touch(session, TEST_TODAY)
    assert report.in_touch.months == in_touch.months[-1:]
    assert report.in_touch.rows == {name: cells[-1:] for name, cells in in_touch.rows.items()}
