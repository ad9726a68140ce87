"""The annual report: one page for a year, in plain words, every figure the other reports' own and suppressed
the same way (a small cohort, where suppression must apply)."""

import re

from matching.reports import annual
from matching.reports.suppression import Cell
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
