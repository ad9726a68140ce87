"""Files every report downloads as: CSV and XLSX, with no cell a spreadsheet would run as a formula; and the
audit row that records who downloaded which report.

A cell starting with `=`, `+`, `-` or `@` (or a tab or carriage return, which some spreadsheets skip before
looking) is prefixed with an apostrophe, as OWASP's "CSV injection" advice says, so it is shown as text.
"""

import csv
import io
from collections.abc import Iterable, Sequence

from sqlmodel import Session

from matching.models import AuditEvent

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def safe_cell(value: object) -> object:
    """Numbers stay numbers; text that a spreadsheet would read as a formula is made plain text."""
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, int | float):
        text = str(value)
        return "'" + text if text.startswith(FORMULA_STARTS) else text
    return value


def csv_text(rows: Iterable[Sequence[object]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row in rows:
        writer.writerow([safe_cell(value) for value in row])
    return out.getvalue()


def xlsx_bytes(rows: Iterable[Sequence[object]], title: str) -> bytes:
    from openpyxl import Workbook  # only when a workbook is asked for: it is slow to import

    book = Workbook()
    sheet = book.active
    sheet.title = title[:31]  # Excel's limit on a sheet's name
    for row in rows:
        sheet.append([safe_cell(value) for value in row])
    for line in sheet.iter_rows():
        for cell in line:
            if isinstance(cell.value, str):
                cell.data_type = "s"  # never a formula, whatever the text
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def record_download(session: Session, *, report: str, actor_id: int | None, route: str, client: str = "",
                    period: int | None = None) -> None:
    """One audit row per download of a report (`period`: the collection year, where the report has one)."""
    session.add(AuditEvent(actor_id=actor_id, action="download", entity=f"report_{report}"[:30], entity_id=period,
                           route=route[:200], client=client[:64]))
    session.flush()
