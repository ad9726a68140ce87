"""Matching and outcomes for a year (1 April to 31 March), from the matches' history: the steps reached by kind,
by quarter and by department, the median times, and each group's share; small counts withheld; the page, its
downloads (audited, formula cells escaped) and the command.

The year is 1 April 2025 to 31 March 2026 (`year=2026`). Every match below is made on known days, so each figure
is worked out by hand from the story told in `history`."""

import csv
import io
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from fixtures import demo
from sqlmodel import select

from api import cli
from matching import db, lifecycle, vocab
from matching.clock import CLOCK
from matching.lifecycle import Change
from matching.models import (
    AuditEvent,
    CareLeaver,
    CareLeaverCreate,
    Department,
    Match,
    MatchEvent,
    Opportunity,
    OpportunityCreate,
)
from matching.reports import outcomes
from matching.reports.suppression import FEWER_THAN
from tests import factories
from tests.conftest import TEST_TODAY
from tests.test_pages import csrf, sign_in


def _step(engine, match_id: int, to: str, on: date, reason_code: str | None = None) -> None:
    with CLOCK.fixed(on), db.session_scope(db.writer(engine)) as session:
        match = session.get(Match, match_id)
        reason = "as recorded" if to in lifecycle.NEEDS_A_REASON else ""
        lifecycle.transition(session, match_id, Change(to, match.version, reason, reason_code), actor_id=None)


def _path(engine, match_id: int, steps: list[tuple[str, date]]) -> None:
    for to, on in steps:
        _step(engine, match_id, to, on, "poor_fit" if to == "rejected" else None)


@pytest.fixture
def history(engine, people):
    """Eight young people (six women, two men) and one job of the test department's, all made on 1 April 2025:
    - five are proposed it on 10 May 2025, approved on 16 May (6 days), referred on 1 June, interviewed,
      offered and started on 1 July (46 days after approval); three of them are sustained 3 months on 1 October
      and 6 months on 1 January 2026; one ends early on 1 August;
    - one more is proposed on 10 May and rejected on 12 May (2 days);
    - one was proposed on 20 March 2025 (the year before) and approved on 2 April 2025 (13 days);
    - the eighth has no match."""
    department_id = people["department"].department_id
    with CLOCK.fixed(date(2025, 4, 1)), db.session_scope(db.writer(engine)) as session:
        job = Opportunity(**OpportunityCreate.model_validate(factories.opportunity(
            department_id, kind="job", places=10, closes_on="2025-06-30", starts_on="2025-07-01")).model_dump())
        session.add(job)
        sexes = ["2"] * 6 + ["1"] * 2
        people_ids = []
        for sex in sexes:
            person = CareLeaver(**CareLeaverCreate.model_validate(factories.care_leaver(sex=sex)).model_dump())
            session.add(person)
            session.flush()
            people_ids.append(person.id)
        job_id = job.id

    def proposed(person_id: int, on: date) -> int:
        with CLOCK.fixed(on), db.session_scope(db.writer(engine)) as session:
            return lifecycle.propose(session, care_leaver_id=person_id, opportunity_id=job_id).id

    started = []
    for person_id in people_ids[:5]:
        match_id = proposed(person_id, date(2025, 5, 10))
        _path(engine, match_id, [("approved", date(2025, 5, 16)), ("referred", date(2025, 6, 1)),
                                 ("interviewed", date(2025, 7, 1)), ("offered", date(2025, 7, 1)),
                                 ("started", date(2025, 7, 1))])
        started.append(match_id)
    for match_id in started[:3]:
        _path(engine, match_id, [("sustained_3m", date(2025, 10, 1)), ("sustained_6m", date(2026, 1, 1))])
    _step(engine, started[3], "ended_early", date(2025, 8, 1))
    _path(engine, proposed(people_ids[5], date(2025, 5, 10)), [("rejected", date(2025, 5, 12))])
    _path(engine, proposed(people_ids[6], date(2025, 3, 20)), [("approved", date(2025, 4, 2))])
    return {"people": people_ids, "department": people["department"]}


def _cells(table: outcomes.CountTable) -> dict[tuple[str, str], object]:
    return {(row, column): cell.shown for row, cells in zip(table.rows, table.table.cells, strict=True)
            for column, cell in zip(table.columns, cells, strict=True)}


def test_the_steps_by_kind_quarter_and_department_are_counted_from_the_history(history, session):
    report = outcomes.outcomes(session, 2026)
    steps = {row: total.count for row, total in zip(report.steps.rows, report.steps.table.row_totals, strict=True)}
    words = {key: label for key, label, _ in outcomes.STEPS}
    assert steps == {words["proposed"]: 6, words["approved"]: 6, words["rejected"]: 1, words["referred"]: 5,
                     words["started"]: 5, words["sustained_3m"]: 3, words["sustained_6m"]: 3, words["completed"]: 0,
                     words["not_successful"]: 0, words["ended_early"]: 1}
    # Every match is a job: the other kinds' columns are empty, and small counts are withheld.
    by_kind = _cells(report.steps)
    assert by_kind[words["proposed"], "Job"] == 6 and by_kind[words["rejected"], "Job"] == FEWER_THAN
    assert all(by_kind[words["proposed"], kind] == 0 for kind in ("Mentoring", "Apprenticeship"))
    quarters = report.quarters
    first, second, third, fourth = outcomes.quarter_names(report.year)
    counts = {(row, column): cell.count for row, cells in zip(quarters.rows, quarters.table.cells, strict=True)
              for column, cell in zip(quarters.columns, cells, strict=True)}
    assert counts[first, words["proposed"]] == 6 and counts[first, words["approved"]] == 6
    assert counts[second, words["started"]] == 5 and counts[fourth, words["sustained_6m"]] == 3
    assert sum(counts[third, column] for column in quarters.columns) == 0
    assert list(report.places.values()) == [10]  # the test department's job, open all year
    referred = {row: cells for row, cells in zip(report.departments.rows, report.departments.table.cells,
                                                   strict=True)}
    assert [cell.count for cell in referred[next(iter(report.places))]] == [5, 5, 3, 1]


def test_the_median_times_are_withheld_below_five_matches(history, session):
    times = {(duration.label, duration.kind): duration for duration in outcomes.outcomes(session, 2026).durations}
    decision = times["Proposal to the adviser's decision", "Opportunities"]
    # Five approvals after 6 days, one rejection after 2, one approval (proposed the year before) after 13.
    assert decision.count == 7 and decision.median_days == 6 and decision.shown == "6 days"
    start = times["Approval to a start (opportunity) or first meeting (mentor)", "Opportunities"]
    assert start.count == 5 and start.median_days == 46
    mentoring = times["Proposal to the adviser's decision", "Mentoring"]
    assert mentoring.count == 0 and mentoring.shown == "withheld"


def test_each_group_is_counted_with_its_share_and_small_groups_withheld(history, session):
    report = outcomes.outcomes(session, 2026)
    sex = next(table for table in report.groups if table.key == "sex")
    counts = {(row, column): cell.count for row, cells in zip(sex.rows, sex.table.cells, strict=True)
              for column, cell in zip(sex.columns, cells, strict=True)}
    # Six women, all six proposed this year (one rejected), five approved, five started; two men, one approved
    # (proposed the year before), neither proposed this year.
    assert [counts["Female", column] for column in outcomes.GROUP_COLUMNS] == [6, 6, 5, 5]
    assert [counts["Male", column] for column in outcomes.GROUP_COLUMNS] == [2, 0, 1, 0]
    shown = _cells(sex)
    assert shown["Male", "Young people"] == FEWER_THAN and shown["Male", "Approved"] == FEWER_THAN
    # The men's 2 could be worked out from the women's 6 and the total of 8: one of those is withheld too.
    total = sex.table.column_totals[0]
    assert not (shown["Female", "Young people"] == 6 and total.visible)
    share = next(share for share in report.shares if share.dimension == "Sex" and share.group == "Male")
    assert share.percents == {"Proposed": None, "Approved": None, "Succeeded": None}


def test_the_page_and_its_downloads(browser, history, session, people):
    sign_in(browser, "manager")
    shown = browser.get("/reports/outcomes?year=2026")
    assert shown.status_code == 200 and "Matching and outcomes" in shown.text
    assert "1 April 2025 to 31 March 2026" in shown.text and "6 days" in shown.text
    assert "<svg" in shown.text and FEWER_THAN in shown.text
    asked = browser.get("/reports/outcomes?year=1900")
    assert asked.status_code == 400 and "Year must be a year ending 31 March" in asked.text.replace(
        "Collection year", "Year")
    download = browser.get("/reports/outcomes.csv?year=2026")
    assert download.status_code == 200 and download.headers["content-type"].startswith("text/csv")
    lines = list(csv.reader(io.StringIO(download.text)))
    assert lines[0] == ["Table", "Row", "Column", "Value"]
    assert ["Matches reaching each step, by kind", "Proposed", "Job", "6"] in lines
    sheet = browser.get("/reports/outcomes.xlsx?year=2026")
    assert sheet.status_code == 200 and sheet.content[:2] == b"PK"
    session.rollback()
    audits = session.exec(select(AuditEvent).where(AuditEvent.entity == "report_outcomes")).all()
    assert [(audit.action, audit.entity_id) for audit in audits] == [("download", 2026), ("download", 2026)]
    browser.post("/sign-out", data={"_csrf_token": csrf(browser.get("/reports").text)})
    sign_in(browser, "adviser")
    assert browser.get("/reports/outcomes").status_code == 403


def test_the_command_writes_the_same_rows(history, database_url, monkeypatch):
    monkeypatch.setattr(cli, "_url", lambda: database_url)
    result = CliRunner().invoke(cli.main, ["--today", TEST_TODAY.isoformat(), "report", "outcomes", "--year", "2026"])
    assert result.exit_code == 0, result.output
    assert "\"Matches reaching each step, by kind\",Proposed,Job,6" in result.output


# On a generated history (the demo borough's two years of matches), counted again here straight from the rows:
# the step each arrival reaches, written out by hand rather than taken from outcomes.STEPS.
ARRIVAL_STEP = {"proposed": "proposed", "approved": "approved", "rejected": "rejected", "referred": "referred",
                "introduced": "referred", "started": "started", "active": "started", "sustained_3m": "sustained_3m",
                "sustained_6m": "sustained_6m", "not_successful": "not_successful", "ended_early": "ended_early"}
LONDON = ZoneInfo("Europe/London")


def _london_day(at: datetime) -> date:
    return (at if at.tzinfo else at.replace(tzinfo=UTC)).astimezone(LONDON).date()


def _independent_counts(session, year_start: date, year_end: date):
    """(step, kind words) -> matches, and (department, step) -> matches, and (quarter, step) -> matches, from every
    event row: a match counts once per step, in the quarter of its first arrival there in the year."""
    matches = {match.id: match for match in session.exec(select(Match)).all()}
    opportunities = {opportunity.id: opportunity for opportunity in session.exec(select(Opportunity)).all()}
    departments = {department.id: department.name for department in session.exec(select(Department)).all()}
    first: dict[tuple[int, str], date] = {}
    for event in session.exec(select(MatchEvent)).all():
        day, match = _london_day(event.at), matches[event.match_id]
        if event.to_state == "completed":
            step = "sustained_6m" if match.kind == "mentoring" else "completed"
        else:
            step = ARRIVAL_STEP.get(event.to_state)
        if step and year_start <= day <= year_end:
            first[event.match_id, step] = min(day, first.get((event.match_id, step), day))
    by_kind: dict[tuple[str, str], int] = defaultdict(int)
    by_department: dict[tuple[str, str], int] = defaultdict(int)
    by_quarter: dict[tuple[int, str], int] = defaultdict(int)
    for (match_id, step), day in first.items():
        match = matches[match_id]
        opportunity = opportunities.get(match.opportunity_id)
        by_kind[step, "Mentoring" if match.kind == "mentoring" else vocab.OPPORTUNITY_KINDS[opportunity.kind]] += 1
        if opportunity is not None:
            by_department[departments[opportunity.department_id], step] += 1
        by_quarter[((day.year - year_start.year) * 12 + day.month - 4) // 3, step] += 1
    return by_kind, by_department, by_quarter


@pytest.fixture
def generated(engine):
    """The demo borough's history, with some matches arriving at a step a second time (as a re-opened match
    does), 80 days after the first: once across a quarter's end, so a match counts once, in its first quarter."""
    assert demo.load(engine, seed=7, today=TEST_TODAY).loaded
    with db.session_scope(db.writer(engine)) as session:
        events = session.exec(select(MatchEvent).where(MatchEvent.to_state.in_(("proposed", "started", "completed")))
                              .order_by(MatchEvent.id)).all()
        for event in events[::7]:
            session.add(MatchEvent(match_id=event.match_id, at=event.at + timedelta(days=80), from_state="withdrawn",
                                   to_state=event.to_state, reason="re-opened"))
    return engine


def test_the_steps_equal_a_count_from_the_events_on_a_generated_history(generated, session):
    words = {label: key for key, label, _ in outcomes.STEPS}
    for ending in (2026, 2027):  # a whole year, and the year in progress
        by_kind, by_department, by_quarter = _independent_counts(session, date(ending - 1, 4, 1),
                                                                 date(ending, 3, 31))
        table = outcomes.steps(session, ending)
        found = {(words[row], column): cell.count for row, cells in zip(table.rows, table.table.cells, strict=True)
                 for column, cell in zip(table.columns, cells, strict=True) if cell.count}
        assert found == dict(by_kind)
        assert len({kind for _, kind in found}) > 2 and len({step for step, _ in found}) > 5  # not a trivial story
        report = outcomes.outcomes(session, ending)
        assert report.steps == table
        departments = {(row, words[column]): cell.count
                       for row, cells in zip(report.departments.rows, report.departments.table.cells, strict=True)
                       for column, cell in zip(report.departments.columns, cells, strict=True)}
        assert departments == {(name, step): by_department.get((name, step), 0) for name, step in departments}
        assert {(name, step) for name, step in by_department if step in outcomes.DEPARTMENT_STEPS} <= set(departments)
        quarters = {(index, words[column]): cell.count
                    for index, cells in enumerate(report.quarters.table.cells)
                    for column, cell in zip(report.quarters.columns, cells, strict=True)}
        assert quarters == {key: by_quarter.get(key, 0) for key in quarters}
        assert sum(quarters.values()) > 0
