"""The annual report as a PDF: the page's own template and figures printed by WeasyPrint, read back with pypdf
(so what is checked is the downloaded file itself); small counts withheld as on the page; audited as a download;
for managers only; and `springboard report annual --format pdf`.

The year is `history`'s (tests/test_reports_outcomes.py): six matches proposed and six approved in the year ending
31 March 2026, five started, three lasting six months and one ending early."""

import io
import re
from datetime import date

from click.testing import CliRunner
from pypdf import PdfReader
from sqlmodel import select

from api import cli
from api.pages.reports import STATIC
from matching.models import AuditEvent, MatchEvent
from matching.reports import annual, outcomes, pdf
from matching.reports.suppression import FEWER_THAN
from tests.conftest import TEST_TODAY
from tests.test_pages import csrf, sign_in
from tests.test_reports_outcomes import history  # noqa: F401 (the year's story, on known days)


def _text(content: bytes) -> str:
    assert content.startswith(b"%PDF-") and content.rstrip().endswith(b"%%EOF")
    reader = PdfReader(io.BytesIO(content))
    assert len(reader.pages) > 0
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in reader.pages))


def _year_counts(session) -> dict[str, int]:
    """Matches reaching each step within the year ending 31 March 2026, straight from the history rows."""
    counts: dict[str, set[int]] = {}
    for event in session.exec(select(MatchEvent)).all():
        if date(2025, 4, 1) <= event.at.date() <= date(2026, 3, 31):
            counts.setdefault(event.to_state, set()).add(event.match_id)
    return {step: len(ids) for step, ids in counts.items()}


def test_the_annual_report_downloads_as_a_pdf_with_small_counts_withheld(browser, history, session):  # noqa: F811
    counts = _year_counts(session)
    assert counts["proposed"] >= 5 and 0 < counts["ended_early"] < 5  # the story needs both sides of the threshold
    sign_in(browser, "manager")
    page = browser.get("/reports/annual?year=2026")
    assert 'href="/reports/annual.pdf?year=2026"' in page.text and "Download as PDF" in page.text
    download = browser.get("/reports/annual.pdf?year=2026")
    assert download.status_code == 200 and download.headers["content-type"] == "application/pdf"
    assert download.headers["content-disposition"] == 'attachment; filename="annual-report-2025-2026.pdf"'
    text = _text(download.content)
    assert "Care leavers: annual report, 2025 to 2026" in text
    assert f"the service proposed {counts['proposed']} matches" in text
    assert f"approved {counts['approved']} matches" in text
    assert f"{FEWER_THAN} matches ended early" in text and f"{counts['ended_early']} match" not in text
    # Printed as the page prints: without the service's menu, the year's form or the download link.
    assert "Sign out" not in text and "Show the year" not in text and "Download as PDF" not in text
    session.rollback()
    audits = session.exec(select(AuditEvent).where(AuditEvent.entity == "report_annual")).all()
    assert [(audit.action, audit.entity_id, audit.route) for audit in audits] == [
        ("download", 2026, "GET /reports/annual.pdf")]

    refused = browser.get("/reports/annual.pdf?year=1900", follow_redirects=False)
    assert refused.status_code == 303 and refused.headers["location"] == "/reports/annual"
    assert "The file was not produced: Collection year must be" in browser.get("/reports/annual").text
    assert len(session.exec(select(AuditEvent).where(AuditEvent.entity == "report_annual")).all()) == 1

    for role in ("adviser", "department", "mentor"):
        browser.post("/sign-out", data={"_csrf_token": csrf(browser.get("/notices").text)})
        sign_in(browser, role)
        assert browser.get("/reports/annual.pdf?year=2026").status_code == browser.get(
            "/reports/annual?year=2026").status_code == 403, role


def test_the_command_writes_the_annual_pdf_and_refuses_pdf_for_other_reports(history, database_url, monkeypatch,  # noqa: F811
                                                                             tmp_path, session):
    monkeypatch.setattr(cli, "_url", lambda: database_url)
    runner = CliRunner()
    out = tmp_path / "annual.pdf"
    made = runner.invoke(cli.main, ["--today", TEST_TODAY.isoformat(), "report", "annual", "--year", "2026",
                                    "--format", "pdf", "--output", str(out)])
    assert made.exit_code == 0, made.output
    text = _text(out.read_bytes())
    assert f"the service proposed {_year_counts(session)['proposed']} matches" in text
    session.rollback()
    assert [(a.entity_id, a.route) for a in session.exec(select(AuditEvent).where(
        AuditEvent.entity == "report_annual")).all()] == [(2026, "cli report annual")]
    # The annual report works out only the outcomes report's table of steps: the very table that report shows.
    assert annual.annual(session, 2026, today=TEST_TODAY).steps == outcomes.outcomes(session, 2026).steps
    refused = runner.invoke(cli.main, ["report", "cohort", "--format", "pdf"])
    refusal = refused.output.strip().splitlines()[-1]
    assert refused.exit_code == 2 and refusal.startswith("Error: ") and "'--format'" in refusal and "'pdf'" in refusal


PAGE = """<!DOCTYPE html><html lang="en"><head><title>Two PDFs</title>
<link rel="stylesheet" href="/static/govuk/govuk-frontend.min.css"><link rel="stylesheet" href="/static/springboard.css">
</head><body><h1 class="govuk-heading-l">Printed words</h1><p class="govuk-body app-no-print">Screen only</p></body></html>"""


def test_the_stylesheets_are_parsed_once_and_still_printed_with():
    """The service's stylesheets are parsed once per process, not for every PDF, and still apply: the page's
    print rule (springboard.css: `.app-no-print` hidden) leaves its words out of each of the two PDFs."""
    first = _text(pdf.from_html(PAGE, STATIC))
    parsed = pdf._stylesheet.cache_info()
    second = _text(pdf.from_html(PAGE, STATIC))
    again = pdf._stylesheet.cache_info()
    assert again.misses == parsed.misses and again.hits >= parsed.hits + 2  # both stylesheets, from the cache
    for text in (first, second):
        assert "Printed words" in text and "Screen only" not in text
