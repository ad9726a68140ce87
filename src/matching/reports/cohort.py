"""The cohort report: the care leavers whose cases are open today, by age band and by leaving-care category,
903 in-touch code, activity (in education, employment or training or not) and accommodation (suitable or
not), each table suppressed for small numbers (reports/suppression.py) and set beside the national figures
(reports/national.py) where one is given.
"""

from collections import Counter
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlmodel import Session

from matching import vocab
from matching.models import CareLeaver
from matching.reports import national
from matching.reports.suppression import WITHHELD, Cell, SuppressedTable, suppress

BANDS = (("Under 18", 0, 17), ("18", 18, 18), ("19 to 21", 19, 21), ("22", 22, 22), ("23 to 25", 23, 200))
ALL_AGES = "All ages"
EET = "EET"
NEET = "NEET"
NOT_KNOWN = "not_known"


def band_of(age: int) -> str:
    return next(name for name, low, high in BANDS if low <= age <= high)


def activity_group(code: str | None) -> str:
    if code in vocab.NEET_ACTIVITIES:
        return NEET
    return NOT_KNOWN if code in {None, "0"} else EET


def accommodation_group(code: str | None) -> str:
    suitable = vocab.accommodation_suitable(code)
    return NOT_KNOWN if suitable is None else "suitable" if suitable else "unsuitable"


# Each table: its key, title, the rows (key, words) and how a young person's record gives their row.
DIMENSIONS = (
    ("category", "Leaving-care category", list(vocab.LEAVING_CARE_CATEGORIES.items()),
     lambda person: person.leaving_care_category),
    ("in_touch", "In touch (903 IN_TOUCH)", list(vocab.IN_TOUCH.items()), lambda person: person.in_touch),
    ("activity", "Activity", [(EET, "In education, employment or training"),
                              (NEET, "Not in education, employment or training (NEET)"),
                              (NOT_KNOWN, "Not known or not in touch")],
     lambda person: activity_group(person.current_activity)),
    ("accommodation", "Accommodation", [("suitable", "Suitable"), ("unsuitable", "Not suitable"),
                                        (NOT_KNOWN, "Not known or not in touch")],
     lambda person: accommodation_group(person.accommodation)),
)


@dataclass(frozen=True)
class Comparison:
    """A national figure and the council's share of the same age band (None when that share is withheld)."""

    figure: national.NationalFigure
    local_percent: int | None

    @property
    def local_words(self) -> str:
        return WITHHELD if self.local_percent is None else f"{self.local_percent}%"


@dataclass(frozen=True)
class CohortRow:
    key: str
    label: str
    cells: list[Cell]  # one per band, then all ages
    comparisons: list[Comparison]


@dataclass(frozen=True)
class CohortTable:
    key: str
    title: str
    rows: list[CohortRow]
    totals: list[Cell]  # one per band, then all ages


@dataclass(frozen=True)
class CohortReport:
    on: date
    tables: list[CohortTable]

    @property
    def columns(self) -> list[str]:
        return [name for name, _, _ in BANDS] + [ALL_AGES]


def _age_on(born: date, day: date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def cohort(session: Session, *, today: date) -> CohortReport:
    people = session.execute(
        sa.select(CareLeaver.date_of_birth, CareLeaver.leaving_care_category, CareLeaver.in_touch,
                  CareLeaver.current_activity, CareLeaver.accommodation)
        .where(CareLeaver.case_status == "open")).all()
    bands = [band_of(_age_on(person.date_of_birth, today)) for person in people]
    return CohortReport(on=today, tables=[
        _table(key, title, rows, _counts(people, bands, row_of))
        for key, title, rows, row_of in DIMENSIONS])


def _counts(people, bands: list[str], row_of) -> Counter:
    return Counter((row_of(person), band) for person, band in zip(people, bands, strict=True))


def counts_table(rows: list[tuple[str, str]], counts: Counter) -> list[list[int]]:
    """Rows by bands, from counts keyed (row, band)."""
    return [[counts[key, name] for name, _, _ in BANDS] for key, _ in rows]


def _table(key: str, title: str, rows: list[tuple[str, str]], counts: Counter) -> CohortTable:
    table = suppress(counts_table(rows, counts))
    band_index = {name: index for index, (name, _, _) in enumerate(BANDS)}
    built = []
    for (row_key, label), cells, row_total in zip(rows, table.cells, table.row_totals, strict=True):
        comparisons = [Comparison(figure, _share(table, cells, band_index[figure.band]))
                       for figure in national.for_row(key, row_key)]
        built.append(CohortRow(row_key, label, [*cells, row_total], comparisons))
    return CohortTable(key, title, built, [*table.column_totals, table.total])


def _share(table: SuppressedTable, cells: list[Cell], band: int) -> int | None:
    cell, total = cells[band], table.column_totals[band]
    if not (cell.visible and total.visible) or total.count == 0:
        return None
    return round(100 * cell.count / total.count)


def flat_rows(report: CohortReport) -> list[list[object]]:
    """The report as one table (header first), for CSV and XLSX: every table's rows and its total."""
    header = ["Table", "Group", *report.columns, "National figure", "This council, same age band"]
    lines: list[list[object]] = [header]
    for table in report.tables:
        for row in table.rows:
            figures = "; ".join(comparison.figure.words for comparison in row.comparisons)
            shares = "; ".join(comparison.local_words for comparison in row.comparisons)
            lines.append([table.title, row.label, *(cell.shown for cell in row.cells), figures, shares])
        lines.append([table.title, "Total", *(cell.shown for cell in table.totals), "", ""])
    return lines
