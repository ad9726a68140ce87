"""Matching and outcomes for a year (1 April to 31 March): how many matches reached each step, by kind, by
quarter and by department; how long decisions and starts took; and the share of each group of young people
proposed, approved and succeeding. Every count of young people or matches goes through reports/suppression.py.

A match "reached" a step in the year when its history (`match_events`, append-only) records the change to that
state within the year, in London's days. The figures are counted from that history alone, so a report for a
past year gives the same figures whatever happened since.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from statistics import median

import sqlalchemy as sa
from sqlmodel import Session

from matching import clock, dashboard, vocab
from matching.models import CareLeaver, Department, Match, MatchEvent, Opportunity
from matching.reports.oc3 import CollectionYear
from matching.reports.suppression import THRESHOLD, WITHHELD, SuppressedTable, suppress

# Each step: its key, its words, and the states (of either kind) whose arrival counts as reaching it.
STEPS = (
    ("proposed", "Proposed", {"proposed"}),
    ("approved", "Approved", {"approved"}),
    ("rejected", "Rejected by the adviser", {"rejected"}),
    ("referred", "Referred (opportunity) or introduced (mentor)", {"referred", "introduced"}),
    ("started", "Started (opportunity) or meeting (mentor)", {"started", "active"}),
    ("sustained_3m", "Sustained 3 months", {"sustained_3m"}),
    ("sustained_6m", "Sustained 6 months (opportunity) or mentoring completed",
     {"sustained_6m", "completed@mentoring"}),
    ("completed", "Placement completed", {"completed@opportunity"}),
    ("not_successful", "Not successful after referral", {"not_successful"}),
    ("ended_early", "Ended early", {"ended_early"}),
)
KINDS = (("mentoring", "Mentoring"), *vocab.OPPORTUNITY_KINDS.items())
SUCCEEDED = {"started", "sustained_3m", "sustained_6m", "completed"}  # steps that count as a success for a person
GROUPS = (
    ("sex", "Sex", lambda person: vocab.SEX.get(person.sex or "", "Not recorded")),
    ("ethnicity", "Ethnic group", lambda person: vocab.ethnic_group(person.ethnicity) if person.ethnicity
     else "Not recorded"),
    ("disability", "Disability", lambda person: vocab.DISABILITY.get(person.disability, "Not known")),
    ("former_uasc", "Former unaccompanied asylum-seeking child",
     lambda person: "Yes" if person.former_uasc else "No"),
)
GROUP_COLUMNS = ("Young people", "Proposed", "Approved", "Succeeded")


@dataclass(frozen=True)
class CountTable:
    """A suppressed table: `rows` label its lines, `columns` its columns."""

    key: str
    title: str
    rows: list[str]
    columns: list[str]
    table: SuppressedTable


@dataclass(frozen=True)
class Duration:
    label: str
    kind: str
    count: int
    median_days: float | None  # None when fewer than THRESHOLD matches: a median of few reveals them

    @property
    def shown(self) -> str:
        return WITHHELD if self.median_days is None else f"{self.median_days:g} days"


@dataclass(frozen=True)
class GroupShare:
    dimension: str
    group: str
    cohort: int
    percents: dict[str, int | None]  # of the group's young people, per column; None when withheld


@dataclass(frozen=True)
class OutcomesReport:
    year: CollectionYear
    steps: CountTable  # steps by kind
    quarters: CountTable  # key steps by quarter
    departments: CountTable  # referrals, starts and sustained by department
    places: dict[str, int]  # places offered by each department's opportunities open in the year (not people)
    durations: list[Duration]
    groups: list[CountTable]
    shares: list[GroupShare]


@dataclass(frozen=True)
class _Reached:
    match_id: int
    kind: str  # mentoring, or the opportunity's kind
    care_leaver_id: int
    department: str | None
    step: str
    day: date


def outcomes(session: Session, ending: int) -> OutcomesReport:
    year = CollectionYear(ending)
    reached = _reached(session, year)
    places = _places(session, year)
    departments = sorted({item.department for item in reached if item.department} | set(places))
    groups, shares = _groups(session, year, reached)
    return OutcomesReport(
        year=year, steps=_steps_by_kind(reached), quarters=_by_quarter(reached, year),
        departments=_by_department(reached, departments), places={name: places.get(name, 0) for name in departments},
        durations=_durations(session, year), groups=groups, shares=shares)


def _bounds(year: CollectionYear) -> tuple[datetime, datetime]:
    """The year's first moment and the moment after its last, London time (as the overview's months)."""
    return dashboard.midnight(year.start), dashboard.midnight(year.end + timedelta(days=1))


# (state, match kind) -> the step its arrival reaches
STEP_OF = {(state.split("@")[0], kind): key for key, _, states in STEPS for state in states
           for kind in ("mentoring", "opportunity") if "@" not in state or state.endswith("@" + kind)}


def _reached(session: Session, year: CollectionYear) -> list[_Reached]:
    """Each (match, step) reached in the year, once (a match re-opened and proposed again counts once)."""
    start, after = _bounds(year)
    rows = session.execute(
        sa.select(MatchEvent.match_id, MatchEvent.to_state, MatchEvent.at, Match.kind, Match.care_leaver_id,
                  Opportunity.kind.label("opportunity_kind"), Department.name.label("department"))
        .join(Match, Match.id == MatchEvent.match_id)
        .outerjoin(Opportunity, Opportunity.id == Match.opportunity_id)
        .outerjoin(Department, Department.id == Opportunity.department_id)
        .where(MatchEvent.at >= start, MatchEvent.at < after)
        .order_by(MatchEvent.at, MatchEvent.id)).all()
    seen: dict[tuple[int, str], _Reached] = {}
    for row in rows:
        step = STEP_OF.get((row.to_state, row.kind))
        if step and (row.match_id, step) not in seen:
            kind = "mentoring" if row.kind == "mentoring" else row.opportunity_kind
            seen[row.match_id, step] = _Reached(row.match_id, kind, row.care_leaver_id, row.department, step,
                                                clock.london_day(row.at))
    return list(seen.values())


def _count_table(key: str, title: str, rows: list[tuple[str, str]], columns: list[tuple[str, str]],
                 counts: dict[tuple[str, str], int]) -> CountTable:
    grid = [[counts.get((row, column), 0) for column, _ in columns] for row, _ in rows]
    return CountTable(key, title, [words for _, words in rows], [words for _, words in columns], suppress(grid))


def _steps_by_kind(reached: list[_Reached]) -> CountTable:
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for item in reached:
        counts[item.step, item.kind] += 1
    return _count_table("steps", "Matches reaching each step, by kind", [(key, words) for key, words, _ in STEPS],
                        list(KINDS), counts)


QUARTER_STEPS = ("proposed", "approved", "started", "sustained_6m")


def quarter_of(day: date, year: CollectionYear) -> int:
    """0 for April to June, up to 3 for January to March."""
    return ((day.year - year.start.year) * 12 + day.month - 4) // 3


def quarter_names(year: CollectionYear) -> list[str]:
    first, second = year.ending - 1, year.ending
    return [f"April to June {first}", f"July to September {first}", f"October to December {first}",
            f"January to March {second}"]


def _by_quarter(reached: list[_Reached], year: CollectionYear) -> CountTable:
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for item in reached:
        if item.step in QUARTER_STEPS:
            counts[str(quarter_of(item.day, year)), item.step] += 1
    words = dict((key, words) for key, words, _ in STEPS)
    return _count_table("quarters", "Matches reaching the main steps, by quarter",
                        [(str(index), name) for index, name in enumerate(quarter_names(year))],
                        [(step, words[step]) for step in QUARTER_STEPS], counts)


DEPARTMENT_STEPS = ("referred", "started", "sustained_6m", "ended_early")


def _by_department(reached: list[_Reached], departments: list[str]) -> CountTable:
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for item in reached:
        if item.department and item.step in DEPARTMENT_STEPS:
            counts[item.department, item.step] += 1
    words = dict((key, words) for key, words, _ in STEPS)
    return _count_table("departments", "Opportunities: referrals and what came of them, by department",
                        [(name, name) for name in departments], [(step, words[step]) for step in DEPARTMENT_STEPS],
                        counts)


def _places(session: Session, year: CollectionYear) -> dict[str, int]:
    """Places offered by opportunities open at some time in the year, by department."""
    start, after = _bounds(year)
    rows = session.execute(
        sa.select(Department.name, sa.func.sum(Opportunity.places))
        .join(Opportunity, Opportunity.department_id == Department.id)
        .where(Opportunity.created_at < after, sa.or_(Opportunity.closed_at.is_(None), Opportunity.closed_at >= start))
        .group_by(Department.name)).all()
    return {name: int(total or 0) for name, total in rows}


DURATIONS = (("Proposal to the adviser's decision", ("proposed",), ("approved", "rejected")),
             ("Approval to a start (opportunity) or first meeting (mentor)", ("approved",), ("started", "active")))


def _durations(session: Session, year: CollectionYear) -> list[Duration]:
    """Median days between two steps, of the matches whose later step happened in the year."""
    start, after = _bounds(year)
    ends = sorted({state for _, _, tos in DURATIONS for state in tos})
    events = session.execute(
        sa.select(MatchEvent.match_id, MatchEvent.to_state, MatchEvent.at, Match.kind)
        .join(Match, Match.id == MatchEvent.match_id)
        .where(MatchEvent.at < after, MatchEvent.match_id.in_(
            sa.select(MatchEvent.match_id).where(MatchEvent.at >= start, MatchEvent.at < after,
                                                 MatchEvent.to_state.in_(ends))))
        .order_by(MatchEvent.match_id, MatchEvent.at, MatchEvent.id)).all()
    found = []
    for label, froms, tos in DURATIONS:
        days: dict[str, list[int]] = defaultdict(list)
        began: dict[int, datetime] = {}
        for event in events:
            if event.to_state in froms:
                began[event.match_id] = event.at
            elif event.to_state in tos and event.match_id in began and event.at >= start:
                days[event.kind].append((clock.london_day(event.at) - clock.london_day(began.pop(event.match_id))).days)
        for kind, words in (("mentoring", "Mentoring"), ("opportunity", "Opportunities")):
            taken = days.get(kind, [])
            found.append(Duration(label, words, len(taken),
                                  float(median(taken)) if len(taken) >= THRESHOLD else None))
    return found


def _groups(session: Session, year: CollectionYear, reached: list[_Reached]) -> tuple[list[CountTable],
                                                                                      list[GroupShare]]:
    """For each group of young people whose case was open at some time in the year: how many there were, and
    how many of them had a match proposed, approved, and succeeding (started or beyond) in the year."""
    start, after = _bounds(year)
    people = session.execute(
        sa.select(CareLeaver.id, CareLeaver.sex, CareLeaver.ethnicity, CareLeaver.disability, CareLeaver.former_uasc)
        .where(CareLeaver.created_at < after,
               sa.or_(CareLeaver.closed_at.is_(None), CareLeaver.closed_at >= start))).all()
    steps_of: dict[int, set[str]] = defaultdict(set)
    for item in reached:
        steps_of[item.care_leaver_id].add(item.step)
    tables, shares = [], []
    for key, title, group_of in GROUPS:
        counts: dict[tuple[str, str], int] = defaultdict(int)
        for person in people:
            group, steps = group_of(person), steps_of.get(person.id, set())
            counts[group, "cohort"] += 1
            counts[group, "proposed"] += "proposed" in steps
            counts[group, "approved"] += "approved" in steps
            counts[group, "succeeded"] += bool(steps & SUCCEEDED)
        names = sorted({group for group, _ in counts})
        columns = list(zip(("cohort", "proposed", "approved", "succeeded"), GROUP_COLUMNS, strict=True))
        table = _count_table(key, title, [(name, name) for name in names], columns, counts)
        tables.append(table)
        for name, cells in zip(names, table.table.cells, strict=True):
            base = cells[0]
            shares.append(GroupShare(title, name, base.count, {
                words: (round(100 * cell.count / base.count) if cell.visible and base.visible and base.count else None)
                for cell, (_, words) in zip(cells[1:], columns[1:], strict=True)}))
    return tables, shares


def flat_rows(report: OutcomesReport) -> list[list[object]]:
    """The report as one table (header first), for CSV and XLSX."""
    lines: list[list[object]] = [["Table", "Row", "Column", "Value"]]
    for table in (report.steps, report.quarters, report.departments, *report.groups):
        for row, cells, total in zip(table.rows, table.table.cells, table.table.row_totals, strict=True):
            lines.extend([table.title, row, column, cell.shown] for column, cell in zip(table.columns, cells,
                                                                                       strict=True))
            lines.append([table.title, row, "Total", total.shown])
    lines.extend(["Places offered by opportunities open in the year", name, "Places", places]
                 for name, places in report.places.items())
    lines.extend(["Median time", f"{duration.label}: {duration.kind}", "Median", duration.shown]
                 for duration in report.durations)
    return lines
