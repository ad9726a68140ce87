"""Housing, for a year (1 April to 31 March): where the young people with open cases live today (the 903
accommodation type, suitable or not), how many were in unsuitable accommodation at each quarter's end (from the
record's history, `care_leaver_statuses`), and the housing register applications made in the year with what came of
them. Every table of counts goes through `suppression.suppress`."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from statistics import median

import sqlalchemy as sa
from sqlmodel import Session

from matching import dashboard, vocab
from matching.dates import add_months
from matching.models import CareLeaver, CareLeaverStatus
from matching.models.housing import HousingApplication
from matching.reports.oc3 import CollectionYear
from matching.reports.outcomes import CountTable, quarter_names
from matching.reports.suppression import THRESHOLD, WITHHELD, Cell, primary, suppress

SUITABILITY = (("suitable", "Suitable"), ("unsuitable", "Not suitable"), ("not_known", "Not known"))
NOT_RECORDED = "Not recorded"
NO_HISTORY = "not known: no history kept yet"


@dataclass(frozen=True)
class HousingReport:
    year: CollectionYear
    on: date
    accommodation: CountTable  # today's open cases: type by suitability
    unsuitable: list[tuple[str, Cell | None]]  # at each quarter's end that has come; None: no history then
    applications: CountTable  # applied in the year: band by what has come of it
    housed_in_year: Cell
    median_days_to_housed: float | None  # withheld under THRESHOLD

    @property
    def median_shown(self) -> str:
        return WITHHELD if self.median_days_to_housed is None else f"{self.median_days_to_housed:g} days"


def housing(session: Session, ending: int, *, today: date) -> HousingReport:
    year = CollectionYear(ending)
    applied = _applications(session, year)
    housed = _housed(session, year)
    days = [(row.housed_on - row.applied_on).days for row in housed]
    return HousingReport(
        year=year, on=today, accommodation=_accommodation(session), unsuitable=_unsuitable_by_quarter(session, year,
                                                                                                       today),
        applications=applied, housed_in_year=primary(len(housed)),
        median_days_to_housed=float(median(days)) if len(days) >= THRESHOLD else None)


def _suitability(code: str | None) -> str:
    suitable = vocab.accommodation_suitable(code)
    return "not_known" if suitable is None else "suitable" if suitable else "unsuitable"


def _accommodation(session: Session) -> CountTable:
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for (code,) in session.execute(sa.select(CareLeaver.accommodation).where(CareLeaver.case_status == "open")):
        kind = vocab.ACCOMMODATION_TYPES.get((code or "")[:1], NOT_RECORDED)
        counts[kind, _suitability(code)] += 1
    kinds = [name for name in [*vocab.ACCOMMODATION_TYPES.values(), NOT_RECORDED]
             if any(counts[name, key] for key, _ in SUITABILITY)]
    grid = [[counts[kind, key] for key, _ in SUITABILITY] for kind in kinds]
    return CountTable("accommodation", "Where young people with an open case live today", kinds,
                      [words for _, words in SUITABILITY], suppress(grid))


def _quarter_ends(year: CollectionYear) -> list[date]:
    return [add_months(year.start, 3 * quarter + 3) - timedelta(days=1) for quarter in range(4)]


def _unsuitable_by_quarter(session: Session, year: CollectionYear, today: date) -> list[tuple[str, Cell | None]]:
    """Young people with a case open at the end of each quarter whose recorded accommodation then was unsuitable
    (of those whose history reaches back that far): the value that stood at the quarter's last moment."""
    found = []
    for name, end in zip(quarter_names(year), _quarter_ends(year), strict=True):
        if end > today:
            break
        counted = _unsuitable_on(session, end)
        found.append((name, None if counted is None else primary(counted)))
    return found


def _unsuitable_on(session: Session, day: date) -> int | None:
    """None when no record's history reaches back to `day` (kept since migration 0016): a 0 would be untrue."""
    after = dashboard.midnight(day + timedelta(days=1))
    if session.execute(sa.select(CareLeaverStatus.id).where(CareLeaverStatus.valid_from < after).limit(1)).first() \
            is None:
        return None
    # History rows are written in the order of the changes, so the highest id before the moment is what stood.
    latest = (sa.select(CareLeaverStatus.care_leaver_id, sa.func.max(CareLeaverStatus.id).label("status_id"))
              .where(CareLeaverStatus.valid_from < after).group_by(CareLeaverStatus.care_leaver_id).subquery())
    unsuitable = [code for code in vocab.ACCOMMODATION if vocab.accommodation_suitable(code) is False]
    query = (sa.select(sa.func.count()).select_from(latest)
             .join(CareLeaverStatus, CareLeaverStatus.id == latest.c.status_id)
             .join(CareLeaver, CareLeaver.id == latest.c.care_leaver_id)
             .where(CareLeaverStatus.accommodation.in_(unsuitable),
                    CareLeaver.closed_at.is_(None) | (CareLeaver.closed_at >= after)))
    return session.execute(query).scalar_one()


def _applications(session: Session, year: CollectionYear) -> CountTable:
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for band, outcome in session.execute(
            sa.select(HousingApplication.band, HousingApplication.outcome)
            .where(HousingApplication.applied_on >= year.start, HousingApplication.applied_on <= year.end)):
        counts[band or "none", outcome] += 1
    bands = [*vocab.HOUSING_BANDS.items(), ("none", "No band yet")]
    grid = [[counts[band, outcome] for outcome in vocab.HOUSING_OUTCOMES] for band, _ in bands]
    return CountTable("applications", "Housing register applications made in the year, by band and what has come of "
                      "them", [words for _, words in bands], list(vocab.HOUSING_OUTCOMES.values()), suppress(grid))


def _housed(session: Session, year: CollectionYear):
    return session.execute(sa.select(HousingApplication.applied_on, HousingApplication.housed_on)
                           .where(HousingApplication.outcome == "housed", HousingApplication.housed_on >= year.start,
                                  HousingApplication.housed_on <= year.end)).all()


def flat_rows(report: HousingReport) -> list[list[object]]:
    lines: list[list[object]] = [["Table", "Row", "Column", "Value"]]
    for table in (report.accommodation, report.applications):
        for row, cells in zip(table.rows, table.table.cells, strict=True):
            lines.extend([table.title, row, column, cell.shown] for column, cell in zip(table.columns, cells,
                                                                                       strict=True))
    lines.extend(["Unsuitable accommodation at the quarter's end", name, "Young people",
                  cell.shown if cell else NO_HISTORY] for name, cell in report.unsuitable)
    lines.append(["Housed in the year", "All", "Young people", report.housed_in_year.shown])
    lines.append(["Median days from application to moving in", "All", "Median", report.median_shown])
    return lines
