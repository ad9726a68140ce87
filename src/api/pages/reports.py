"""A manager's reports: the cohort (suppressed for small numbers, beside the national figures, as a page, CSV
and XLSX) and the statutory care-leaver return (SSDA903 OC3), checked against the DfE's rules before its file
is produced. The figures and rules are in matching/reports; docs/reports.md describes them."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

from jinja2 import Environment
from litestar import Request, Response, get
from litestar.di import NamedDependency
from litestar.handlers import HTTPRouteHandler
from litestar.response import Redirect, Template
from sqlmodel import Session

from api import templating
from api.deps import UnitOfWork, actor_id, client_address
from api.forms import Form
from api.pages.common import page, roles, tell, today
from api.records import audit_care_leaver_access, audit_care_leaver_reads
from matching import vocab
from matching.reports import (
    annual,
    catalogue,
    charts,
    cohort,
    export,
    housing,
    keeping_in_touch,
    local_offer,
    oc3,
    outcomes,
    pdf,
)

MANAGERS = roles("manager")
STATIC = Path(__file__).parent.parent / "static"  # the stylesheets a report's PDF is printed with


@get("/reports", sync_to_thread=False, opt=MANAGERS)
def reports_index(request: Request) -> Template:
    return page(request, "reports/index.html", "Reports", latest=oc3.latest_complete_year(today()))


# The cohort ------------------------------------------------------------------------------------------------

def _cohort(uow: UnitOfWork) -> cohort.CohortReport:
    with uow.read() as session:
        return cohort.cohort(session, today=today())


def _chart(table: cohort.CohortTable) -> str:
    bars = [(row.label, row.cells[-1].shown) for row in table.rows]
    return charts.bar_chart(f"chart-{table.key}", f"{table.title}: all ages",
                            f"Bar chart of the 'All ages' column of the table '{table.title}' below it.", bars)


@get("/reports/cohort", sync_to_thread=True, opt=MANAGERS)
def cohort_report(request: Request, uow: NamedDependency[UnitOfWork]) -> Template:
    report = _cohort(uow)
    return page(request, "reports/cohort.html", "Care leavers: the cohort", report=report,
                charts={table.key: _chart(table) for table in report.tables})


def audit_download(request: Request, uow: UnitOfWork, report: str, ids: list[int], period: int | None = None) -> None:
    """The download's audit rows (one for the report; one per young person in a file of people), committed
    before the file is sent."""
    with uow.write() as session:
        audit_care_leaver_access(request, session, ids, "export")
        export.record_download(session, report=report, actor_id=actor_id(request), period=period,
                               route=f"{request.method} {request.url.path}", client=client_address(request))


def attachment(content: str | bytes, media_type: str, name: str) -> Response:
    return Response(content=content, media_type=media_type,
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


# The statutory return (OC3) --------------------------------------------------------------------------------

def _year(request: Request, default: int | None = None) -> tuple[int | None, Form]:
    """The collection year asked for (`default`, or the last one ended, when none is), or None with the field's
    error."""
    offered = oc3.years_offered(today())
    raw = (request.query_params.get("year") or "").strip()
    if not raw:
        year = default or oc3.latest_complete_year(today())
        return year, Form(values={"year": str(year)})
    if raw.isdigit() and int(raw) in offered:
        return int(raw), Form(values={"year": raw})
    return None, Form(values={"year": raw}, errors={
        "year": f"Collection year must be a year ending 31 March, from {offered[-1]} to {offered[0]}"})


def _year_choices() -> dict[str, str]:
    return {str(year): f"1 April {year - 1} to 31 March {year}" for year in oc3.years_offered(today())}


@get("/reports/oc3", sync_to_thread=True, opt=MANAGERS)
def oc3_report(request: Request, uow: NamedDependency[UnitOfWork]) -> Template:
    year, form = _year(request)
    context: dict[str, Any] = {"form": form, "years": _year_choices(), "vocab": vocab}
    if year is None:
        return page(request, "reports/oc3.html", "Care-leaver return (SSDA903 OC3)", result=None, **context)
    with uow.read() as session:
        result = oc3.build_return(session, year, today=today())
        # The failing rows are shown one young person at a time: a read of their records.
        audit_care_leaver_reads(request, uow, session, [row.care_leaver_id for row, _ in result.failing_rows],
                                "list")
    return page(request, "reports/oc3.html", "Care-leaver return (SSDA903 OC3)", result=result,
                notes=_notes(result), **context)


def _notes(result: oc3.Oc3Return) -> list[tuple[str, int]]:
    counted: dict[str, int] = {}
    for row in result.rows:
        for note in row.notes:
            key = note.split(": a contact before")[0] if note.startswith("The birthday window") else note
            counted[key] = counted.get(key, 0) + 1
    return sorted(counted.items())


@get("/reports/oc3.csv", sync_to_thread=True, opt=MANAGERS)
def oc3_csv(request: Request, uow: NamedDependency[UnitOfWork]) -> Response | Redirect:
    year, form = _year(request)
    if year is None:
        return tell(request, "/reports/oc3", f"The file was not produced: {form.errors['year']}")
    with uow.read() as session:
        result = oc3.build_return(session, year, today=today())
    if result.failures and request.query_params.get("with_errors") != "yes":
        return tell(request, f"/reports/oc3?year={year}",
                    f"The file was not produced: {len(result.failing_rows)} rows fail the return's checks. Correct "
                    "them, or confirm that you want the file with them.")
    audit_download(request, uow, "oc3", [row.care_leaver_id for row in result.rows], period=year)
    return attachment(export.csv_text(oc3.file_rows(result)), export.CSV_TYPE, f"ssda903-oc3-{year - 1}-{year}.csv")


# Matching and outcomes -------------------------------------------------------------------------------------

def _outcomes_year(request: Request) -> tuple[int | None, Form]:
    return _year(request, default=oc3.years_offered(today())[0])  # the year in progress, unless asked


def _steps_chart(steps: outcomes.CountTable) -> str:
    totals = [(row, total.shown) for row, total in zip(steps.rows, steps.table.row_totals, strict=True)]
    return charts.bar_chart("chart-steps", f"{steps.title}: all kinds",
                            f"Bar chart of the 'Total' column of the table '{steps.title}' below it.", totals)


def _outcome_charts(report: outcomes.OutcomesReport) -> dict[str, str]:
    quarters = report.quarters
    return {
        "steps": _steps_chart(report.steps),
        "quarters": charts.grouped_bar_chart(
            "chart-quarters", quarters.title,
            f"Grouped bar chart of the table '{quarters.title}' below it: one group for each quarter.",
            quarters.columns,
            [(row, [cell.shown for cell in line]) for row, line in zip(quarters.rows, quarters.table.cells,
                                                                          strict=True)]),
    }


@get("/reports/outcomes", sync_to_thread=True, opt=MANAGERS)
def outcomes_report(request: Request, uow: NamedDependency[UnitOfWork]) -> Template:
    report, context = _for_year(request, uow, outcomes.outcomes)
    return page(request, "reports/outcomes.html", "Matching and outcomes", report=report,
                charts=_outcome_charts(report) if report else None, **context)


def _for_year(request: Request, uow: UnitOfWork, build: Callable[..., Any]) -> tuple[Any, dict[str, Any]]:
    """A yearly report for the year asked for (the year in progress unless another is), or None when the year
    is refused (the form then carries the field's error); and the year picker's context."""
    year, form = _outcomes_year(request)
    context: dict[str, Any] = {"form": form, "years": _year_choices(),
                               "in_progress": year == oc3.years_offered(today())[0]}
    if year is None:
        return None, context
    with uow.read() as session:
        return build(session, year), context


# Keeping in touch and following up ---------------------------------------------------------------------

def _keeping_in_touch(uow: UnitOfWork) -> keeping_in_touch.KeepingInTouch:
    with uow.read() as session:
        return keeping_in_touch.keeping_in_touch(session, today())


@get("/reports/keeping-in-touch", sync_to_thread=True, opt=MANAGERS)
def keeping_in_touch_report(request: Request, uow: NamedDependency[UnitOfWork]) -> Template:
    report = _keeping_in_touch(uow)
    labels = [f"{start:%b %Y}" for start in report.months]
    chart = charts.line_chart(
        "chart-keeping-in-touch", "Keeping in touch, month by month",
        "Line chart of the table below it: one line for each measure, one point for each month; a withheld "
        "count breaks its line.", labels,
        [(name, [cell.count if cell.visible else None for cell in cells]) for name, cells in report.rows.items()])
    return page(request, "reports/keeping_in_touch.html", "Keeping in touch and following up", report=report,
                chart=chart)


# The local offer -------------------------------------------------------------------------------------------

def _local_offer(uow: UnitOfWork) -> local_offer.OfferReport:
    with uow.read() as session:
        return local_offer.local_offer(session, today=today())


@get("/reports/local-offer", sync_to_thread=True, opt=MANAGERS)
def local_offer_report(request: Request, uow: NamedDependency[UnitOfWork]) -> Template:
    report = _local_offer(uow)
    taken = [(item, report.table.cells[row][3].shown) for row, item in enumerate(report.items)]
    chart = charts.bar_chart("chart-local-offer", "Young people who have taken up each entitlement",
                             "Bar chart of the 'Taken up' column of the table below it.", taken)
    return page(request, "reports/local_offer.html", "The local offer: told, applied, taken up", report=report,
                chart=chart)


# Housing -------------------------------------------------------------------------------------------------

@get("/reports/housing", sync_to_thread=True, opt=MANAGERS)
def housing_report(request: Request, uow: NamedDependency[UnitOfWork]) -> Template:
    report, context = _for_year(request, uow, lambda session, year: housing.housing(session, year, today=today()))
    return page(request, "reports/housing.html", "Housing", report=report, no_history=housing.NO_HISTORY,
                chart=_accommodation_chart(report.accommodation) if report else None, **context)


def _accommodation_chart(table: outcomes.CountTable) -> str:
    return charts.grouped_bar_chart(
        "chart-accommodation", table.title, f"Grouped bar chart of the table '{table.title}' below it.",
        table.columns, [(row, [cell.shown for cell in cells]) for row, cells in zip(table.rows, table.table.cells,
                                                                                    strict=True)])


# The annual report -----------------------------------------------------------------------------------------

def _annual_context(report: annual.AnnualReport | None, **context: Any) -> dict[str, Any]:
    """Everything the annual report's template shows (`context`: the year picker's)."""
    title = f"Annual report: {report.year.short}" if report else "Annual report"
    return {"title": title, "report": report, "words": annual.in_words,
            "charts": {"steps": _steps_chart(report.steps)} if report else None, **context}


def _annual(request: Request, uow: UnitOfWork) -> tuple[annual.AnnualReport | None, dict[str, Any]]:
    """The year's annual report (None when the year is refused), and its template's context."""
    report, context = _for_year(request, uow, lambda session, year: annual.annual(session, year, today=today()))
    return report, _annual_context(report, **context)


@get("/reports/annual", sync_to_thread=True, opt=MANAGERS)
def annual_report(request: Request, uow: NamedDependency[UnitOfWork]) -> Template:
    _, context = _annual(request, uow)
    return page(request, "reports/annual.html", context.pop("title"), **context)


def annual_pdf(env: Environment, context: dict[str, Any], base_url: str = pdf.ORIGIN) -> bytes:
    """The annual report's page as a PDF: the same template and figures, printed without the service's menu
    (no one is signed in to a sheet of paper). Shared with `springboard report annual`."""
    html = env.get_template("reports/annual.html").render(
        user=None, menu=[], here="/reports/annual", notice=None, errors={}, today=today(), **context)
    return pdf.from_html(html, STATIC, base_url)


def annual_pdf_of_year(session: Session, year: int) -> bytes:
    """The year's annual report as a PDF, for `springboard report annual` (the year already checked)."""
    report = annual.annual(session, year, today=today())
    context = _annual_context(report, form=Form(values={"year": str(year)}), years=_year_choices(),
                              in_progress=year == oc3.years_offered(today())[0])
    return annual_pdf(templating.environment(), context)


@get("/reports/annual.pdf", sync_to_thread=True, opt=MANAGERS)
def annual_report_pdf(request: Request, uow: NamedDependency[UnitOfWork]) -> Response | Redirect:
    report, context = _annual(request, uow)
    if report is None:
        return tell(request, "/reports/annual", f"The file was not produced: {context['form'].errors['year']}")
    year = report.year.ending
    content = annual_pdf(request.app.template_engine.engine, context, str(request.base_url).rstrip("/"))
    audit_download(request, uow, "annual", [], period=year)
    return attachment(content, pdf.PDF_TYPE, f"annual-report-{year - 1}-{year}.pdf")


# Every table report's downloads (matching/reports/catalogue.py) ------------------------------------------

def _download(request: Request, uow: UnitOfWork, report: catalogue.TableReport,
              file_format: str) -> Response | Redirect:
    year = None
    if report.yearly:
        year, form = _outcomes_year(request)
        if year is None:
            return tell(request, f"/reports/{report.name}", f"The file was not produced: {form.errors['year']}")
    with uow.read() as session:
        rows = report.rows(session, year, today())
    audit_download(request, uow, report.audit_name, [], period=year)
    name = catalogue.file_name(report, year, today(), file_format)
    if file_format == "xlsx":
        return attachment(export.xlsx_bytes(rows, report.title), export.XLSX_TYPE, name)
    return attachment(export.csv_text(rows), export.CSV_TYPE, name)


def _download_routes(report: catalogue.TableReport) -> list[HTTPRouteHandler]:
    """A report's CSV and XLSX at /reports/NAME.csv and /reports/NAME.xlsx."""
    key = report.audit_name

    @get(f"/reports/{report.name}.csv", sync_to_thread=True, opt=MANAGERS, name=f"report_{key}_csv")
    def as_csv(request: Request, uow: NamedDependency[UnitOfWork]) -> Response | Redirect:
        return _download(request, uow, report, "csv")

    @get(f"/reports/{report.name}.xlsx", sync_to_thread=True, opt=MANAGERS, name=f"report_{key}_xlsx")
    def as_xlsx(request: Request, uow: NamedDependency[UnitOfWork]) -> Response | Redirect:
        return _download(request, uow, report, "xlsx")

    return [as_csv, as_xlsx]


ROUTES = [reports_index, cohort_report, oc3_report, oc3_csv, outcomes_report, keeping_in_touch_report,
          local_offer_report, annual_report, annual_report_pdf, housing_report,
          *(route for report in catalogue.REPORTS.values() for route in _download_routes(report))]
