"""Matching and outcomes for a year (1 April to 31 March): how many matches reached each step, by kind, by
quarter and by department; how long decisions and starts took; and the share of each group of young people
proposed, approved and succeeding. Every count of young people or matches goes through reports/suppression.py.

A match "reached" a step in the year when its history (`match_events`, append-only) records the change to that
state within the year, in London's days. The figures are counted from that history alone, so a report for a
past year gives the same figures whatever happened since.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import median

import sqlalchemy as sa
from sqlmodel import Session

from matching import clock, dashboard, vocab
from matching.dates import add_months
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


def outcomes(session: Session, ending: int) -> OutcomesReport:
    year = CollectionYear(ending)
    reached = _reached_counts(session, year)
    places = _places(session, year)
    departments = sorted({department for (_, _, department, _) in reached if department} | set(places))
    groups, shares = _groups(session, year)
    return OutcomesReport(
        year=year, steps=_steps_by_kind(reached), quarters=_by_quarter(reached, year),
        departments=_by_department(reached, departments), places={name: places.get(name, 0) for name in departments},
        durations=_durations(session, year), groups=groups, shares=shares)


def steps(session: Session, ending: int) -> CountTable:
    """The report's first table on its own (the annual report quotes it): matches reaching each step, by kind."""
    return _steps_by_kind(_reached_counts(session, CollectionYear(ending)))


def _bounds(year: CollectionYear) -> tuple[datetime, datetime]:
    """The year's first moment and the moment after its last, London time (as the overview's months)."""
    return dashboard.midnight(year.start), dashboard.midnight(year.end + timedelta(days=1))


# (state, match kind) -> the step its arrival reaches
STEP_OF = {(state.split("@")[0], kind): key for key, _, states in STEPS for state in states
           for kind in ("mentoring", "opportunity") if "@" not in state or state.endswith("@" + kind)}


def _step_of_event():
    """The step an event's arrival reaches (NULL for none), as SQL: a CASE built from STEP_OF alone."""
    kinds: dict[tuple[str, str], list[str]] = defaultdict(list)
    for (state, kind), key in STEP_OF.items():
        kinds[state, key].append(kind)
    return sa.case(*[(sa.and_(MatchEvent.to_state == state, Match.kind.in_(sorted(of))), key)
                     for (state, key), of in kinds.items()])


def _first_arrivals(year: CollectionYear):
    """Each (match, step) reached in the year, once (a match re-opened and proposed again counts once), with the
    match's kind (mentoring, or the opportunity's kind), young person and department, and the first arrival's
    time: a subquery, so that the tables below are counted by the database, not from every event in Python."""
    start, after = _bounds(year)
    kind = sa.case((Match.kind == "mentoring", "mentoring"), else_=Opportunity.kind)
    events = (
        sa.select(MatchEvent.match_id, _step_of_event().label("step"), kind.label("kind"), Match.care_leaver_id,
                  Department.name.label("department"), MatchEvent.at)
        .join(Match, Match.id == MatchEvent.match_id)
        .outerjoin(Opportunity, Opportunity.id == Match.opportunity_id)
        .outerjoin(Department, Department.id == Opportunity.department_id)
        .where(MatchEvent.at >= start, MatchEvent.at < after,
               MatchEvent.to_state.in_(sorted({state for state, _ in STEP_OF})))).subquery()
    keys = (events.c.match_id, events.c.step, events.c.kind, events.c.care_leaver_id, events.c.department)
    return (sa.select(*keys, sa.func.min(events.c.at).label("at")).where(events.c.step.is_not(None))
            .group_by(*keys).subquery())


def _quarter_starts(year: CollectionYear) -> list[datetime]:
    """The first moment of each quarter of the year, London time."""
    return [dashboard.midnight(add_months(year.start, 3 * index)) for index in range(4)]


def _reached_counts(session: Session, year: CollectionYear) -> dict[tuple[str, str, str | None, int], int]:
    """How many matches reached each step in the year, by (step, kind, department, quarter of the first
    arrival): each match has one kind and one department, so any of these adds up to the tables' counts."""
    firsts = _first_arrivals(year)
    quarter = dashboard.month_of(firsts.c.at, _quarter_starts(year)).label("quarter")
    rows = session.execute(
        sa.select(firsts.c.step, firsts.c.kind, firsts.c.department, quarter, sa.func.count())
        .group_by(firsts.c.step, firsts.c.kind, firsts.c.department, quarter)).all()
    return {(step, kind, department, int(index)): count for step, kind, department, index, count in rows}


def _count_table(key: str, title: str, rows: list[tuple[str, str]], columns: list[tuple[str, str]],
                 counts: dict[tuple[str, str], int]) -> CountTable:
    grid = [[counts.get((row, column), 0) for column, _ in columns] for row, _ in rows]
    return CountTable(key, title, [words for _, words in rows], [words for _, words in columns], suppress(grid))


def _summed(reached: dict[tuple[str, str, str | None, int], int], key_of, steps=None) -> dict[tuple, int]:
    """The reached counts added up by `key_of(step, kind, department, quarter)` (None leaves a count out), of
    `steps` only when given."""
    counts: dict[tuple, int] = defaultdict(int)
    for (step, kind, department, quarter), count in reached.items():
        key = key_of(step, kind, department, quarter)
        if key is not None and (steps is None or step in steps):
            counts[key] += count
    return counts


def _steps_by_kind(reached) -> CountTable:
    return _count_table("steps", "Matches reaching each step, by kind", [(key, words) for key, words, _ in STEPS],
                        list(KINDS), _summed(reached, lambda step, kind, _department, _quarter: (step, kind)))


QUARTER_STEPS = ("proposed", "approved", "started", "sustained_6m")


def quarter_names(year: CollectionYear) -> list[str]:
    first, second = year.ending - 1, year.ending
    return [f"April to June {first}", f"July to September {first}", f"October to December {first}",
            f"January to March {second}"]


def _by_quarter(reached, year: CollectionYear) -> CountTable:
    counts = _summed(reached, lambda step, _kind, _department, quarter: (str(quarter), step), QUARTER_STEPS)
    words = dict((key, words) for key, words, _ in STEPS)
    return _count_table("quarters", "Matches reaching the main steps, by quarter",
                        [(str(index), name) for index, name in enumerate(quarter_names(year))],
                        [(step, words[step]) for step in QUARTER_STEPS], counts)


DEPARTMENT_STEPS = ("referred", "started", "sustained_6m", "ended_early")


def _by_department(reached, departments: list[str]) -> CountTable:
    counts = _summed(reached, lambda step, _kind, department, _quarter: (department, step) if department else None,
                     DEPARTMENT_STEPS)
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
    # Only the events of the states timed: the walk below passes over every other one.
    timed = sorted({state for _, froms, tos in DURATIONS for state in (*froms, *tos)})
    events = session.execute(
        sa.select(MatchEvent.match_id, MatchEvent.to_state, MatchEvent.at, Match.kind)
        .join(Match, Match.id == MatchEvent.match_id)
        .where(MatchEvent.at < after, MatchEvent.to_state.in_(timed), MatchEvent.match_id.in_(
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


# What a group's columns count of each young person: a match proposed, approved, succeeding in the year.
PERSON_STEPS = {"proposed": {"proposed"}, "approved": {"approved"}, "succeeded": SUCCEEDED}
PERSON_COLUMNS = tuple(PERSON_STEPS)


def _people_by_what_they_reached(session: Session, year: CollectionYear) -> list:
    """The young people whose case was open at some time in the year, counted by the database by what the groups
    read of them (sex, ethnicity, disability, former UASC) and by whether they had a match reaching each of
    PERSON_STEPS in the year: a few hundred rows, each with its `people`, instead of one per young person."""
    start, after = _bounds(year)
    firsts = _first_arrivals(year)
    reached = (sa.select(firsts.c.care_leaver_id,
                         *(sa.func.max(sa.case((firsts.c.step.in_(sorted(steps)), 1), else_=0)).label(column)
                           for column, steps in PERSON_STEPS.items()))
               .group_by(firsts.c.care_leaver_id).subquery())
    keys = (CareLeaver.sex, CareLeaver.ethnicity, CareLeaver.disability, CareLeaver.former_uasc,
            *(reached.c[column] for column in PERSON_COLUMNS))
    return session.execute(
        sa.select(*keys, sa.func.count().label("people"))
        .outerjoin(reached, reached.c.care_leaver_id == CareLeaver.id)
        .where(CareLeaver.created_at < after, sa.or_(CareLeaver.closed_at.is_(None), CareLeaver.closed_at >= start))
        .group_by(*keys)).all()


def _groups(session: Session, year: CollectionYear) -> tuple[list[CountTable], list[GroupShare]]:
    """For each group of young people whose case was open at some time in the year: how many there were, and
    how many of them had a match proposed, approved, and succeeding (started or beyond) in the year."""
    people = _people_by_what_they_reached(session, year)
    tables, shares = [], []
    for key, title, group_of in GROUPS:
        counts: dict[tuple[str, str], int] = defaultdict(int)
        for alike in people:
            group = group_of(alike)
            counts[group, "cohort"] += alike.people
            for column in PERSON_COLUMNS:
                counts[group, column] += alike.people if getattr(alike, column) else 0
        names = sorted({group for group, _ in counts})
        columns = list(zip(("cohort", *PERSON_COLUMNS), GROUP_COLUMNS, strict=True))
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
