"""The cohort report: the care leavers whose cases are open today, by age band and by leaving-care category,
903 in-touch code, activity (in education, employment or training or not) and accommodation (suitable or
not), each table suppressed for small numbers (reports/suppression.py) and set beside the national figures
(reports/national.py) where one is given; and the trend by quarter over the last eight quarters, from the records'
903 history as it stood on each quarter's last day (`care_leaver_statuses`, read as the OC3 return reads it).
"""

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
from sqlmodel import Session

from matching import vocab
from matching.clock import london_day
from matching.dates import add_months, in_words
from matching.models import CareLeaver, CaseEvent
from matching.reports import charts, national
from matching.reports.oc3 import as_of, status_history
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


# The trend by quarter: what each point counts of the cohort on the day, from the values that stood then.
TREND_QUARTERS = 8
TREND_MEASURES = (
    ("in_touch", "In touch", lambda status: status.in_touch == "YES"),
    ("eet", "In education, employment or training", lambda status: activity_group(status.current_activity) == EET),
    ("suitable", "In suitable accommodation",
     lambda status: accommodation_group(status.accommodation) == "suitable"),
)
TREND_TITLE = "Trend by quarter"
NO_HISTORY = "not known: no history kept for that day"


@dataclass(frozen=True)
class TrendPoint:
    """The cohort on a quarter's last day (today, for the quarter in progress): how many, and how many of them
    each measure counts. `cohort` is None when the records' values on that day were not kept."""

    day: date
    in_progress: bool
    cohort: Cell | None
    counts: list[Cell]  # one per TREND_MEASURES

    @property
    def label(self) -> str:
        return in_words(self.day) + (" (quarter in progress)" if self.in_progress else "")

    def share(self, measure: int) -> int | None:
        """The measure's share of the cohort, when both counts are shown (as the cohort tables' shares)."""
        if self.cohort is None or not (self.cohort.visible and self.counts[measure].visible) \
                or self.cohort.count == 0:
            return None
        return round(100 * self.counts[measure].count / self.cohort.count)

    def share_words(self, measure: int) -> str:
        share = self.share(measure)
        if share is not None:
            return f"{share}%"
        return "–" if self.cohort is None or self.cohort.count == 0 else WITHHELD


@dataclass(frozen=True)
class Trend:
    points: list[TrendPoint]  # oldest first
    measures: tuple[str, ...] = tuple(words for _, words, _ in TREND_MEASURES)
    no_history: str = NO_HISTORY

    def chart(self) -> str:
        return charts.line_chart(
            "chart-trend", f"{TREND_TITLE}: shares of the cohort (%)",
            f"Line chart of the table '{TREND_TITLE}' below it: one line for each share, one point for each quarter; "
            "a share withheld or not known breaks its line.",
            [f"{point.day:%b %Y}" for point in self.points],
            [(words, [point.share(index) for point in self.points])
             for index, (_, words, _) in enumerate(TREND_MEASURES)])


@dataclass(frozen=True)
class CohortReport:
    on: date
    tables: list[CohortTable]
    trend: Trend | None  # None when not asked for (the annual report shows only the cohort's total)

    @property
    def columns(self) -> list[str]:
        return [name for name, _, _ in BANDS] + [ALL_AGES]


def _age_on(born: date, day: date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def cohort(session: Session, *, today: date, trend: bool = True) -> CohortReport:
    """Today's cohort tables, and (`trend`) the trend by quarter: the costlier part, every record's history."""
    people = session.execute(
        sa.select(CareLeaver.date_of_birth, CareLeaver.leaving_care_category, CareLeaver.in_touch,
                  CareLeaver.current_activity, CareLeaver.accommodation)
        .where(CareLeaver.case_status == "open")).all()
    bands = [band_of(_age_on(person.date_of_birth, today)) for person in people]
    return CohortReport(on=today, tables=[
        _table(key, title, rows, _counts(people, bands, row_of))
        for key, title, rows, row_of in DIMENSIONS], trend=quarterly(session, today=today) if trend else None)


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


# The trend by quarter --------------------------------------------------------------------------------------

def _next_quarter(day: date) -> date:
    """The first day of the quarter after the one `day` is in (quarters begin in January, April, July, October)."""
    return add_months(date(day.year, 3 * ((day.month - 1) // 3) + 1, 1), 3)


def quarter_days(today: date, count: int = TREND_QUARTERS) -> list[date]:
    """The last days of the last `count` quarters, oldest first; today for the quarter in progress."""
    after = _next_quarter(today)
    return [min(add_months(after, -3 * back) - timedelta(days=1), today) for back in range(count - 1, -1, -1)]


@dataclass(frozen=True)
class _Record:
    """What the trend reads of one care leaver, worked out once for all the quarters."""

    created_on: date
    closed_on: date | None  # its closing day, for a record with no closure or re-opening recorded
    events: list[tuple[date, str]]  # its closures and re-openings, oldest first
    history: list  # its `oc3.Recorded` rows, oldest first


def quarterly(session: Session, *, today: date) -> Trend:
    """Each quarter's cohort (the cases open on its last day, every age the report bands), and how many of them
    were in touch, in education, employment or training, and suitably housed, by the values that stood that day."""
    history = status_history(session, sa.select(CareLeaver.id))
    events: dict[int, list[tuple[date, str]]] = defaultdict(list)
    for person_id, at, action in session.execute(
            sa.select(CaseEvent.care_leaver_id, CaseEvent.at, CaseEvent.action)
            .where(CaseEvent.action.in_(("closed", "reopened"))).order_by(CaseEvent.at, CaseEvent.id)):
        events[person_id].append((london_day(at), action))
    records = [_Record(london_day(created), london_day(closed) if closed else None, events.get(person_id, []),
                       history.get(person_id, []))
               for person_id, created, closed in session.execute(
                   sa.select(CareLeaver.id, CareLeaver.created_at, CareLeaver.closed_at))]
    kept_from = min((london_day(rows[0].valid_from) for rows in history.values()), default=None)
    quarter_end = _next_quarter(today) - timedelta(days=1)
    return Trend([_trend_point(records, day, day == today < quarter_end,
                               kept=kept_from is not None and kept_from <= day)
                  for day in quarter_days(today)])


def _open_on(record: _Record, day: date) -> bool:
    """Whether the case stood open at the end of `day`: its last closure or re-opening by then, or, for a record
    with none recorded (loaded closed), its closing day."""
    if record.events:
        standing = [action for when, action in record.events if when <= day]
        return not standing or standing[-1] == "reopened"
    return record.closed_on is None or record.closed_on > day


def _trend_point(records: list[_Record], day: date, in_progress: bool, *, kept: bool) -> TrendPoint:
    if not kept:
        return TrendPoint(day, in_progress, None, [])
    standing = []
    for record in records:
        if record.created_on > day or not _open_on(record, day):
            continue
        status = as_of(record.history, day, day)
        if status is None:  # the record existed, but what it held that day was never kept
            return TrendPoint(day, in_progress, None, [])
        standing.append(status)
    total = len(standing)
    # Each measure against the rest of the cohort, so that a small remainder ("all but 2 in touch") is withheld
    # as well as a small count; the cohort is withheld wherever any of these tables withholds it.
    tables = [suppress([[count, total - count]])
              for count in (sum(1 for status in standing if counts(status)) for _, _, counts in TREND_MEASURES)]
    totals = [table.row_totals[0] for table in tables]
    return TrendPoint(day, in_progress, next((cell for cell in totals if not cell.visible), totals[0]),
                      [table.cells[0][0] for table in tables])


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
    return lines + _trend_rows(report)


def _trend_rows(report: CohortReport) -> list[list[object]]:
    """The trend in the same columns, four lines a quarter: each figure is of all ages (that column), with the
    share of the cohort in the council's column."""
    blank_bands = [""] * len(BANDS)
    lines: list[list[object]] = []
    for point in report.trend.points if report.trend else []:
        known = point.cohort is not None
        lines.append([TREND_TITLE, f"Care leavers on {point.label}", *blank_bands,
                      point.cohort.shown if known else NO_HISTORY, "", ""])
        lines.extend([TREND_TITLE, f"{words} on {point.label}", *blank_bands,
                      point.counts[index].shown if known else NO_HISTORY, "", point.share_words(index)]
                     for index, (_, words, _) in enumerate(TREND_MEASURES))
    return lines
