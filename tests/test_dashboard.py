"""The managers' overview: each count is its list's length and each list names the people behind it; each
chart's figures are recomputed here from the history rows the test writes (match events, outcomes, check-ins,
contacts); the counts and charts are kept for a minute, made again at once when the manager changes the
intervals."""

import statistics
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from fixtures import demo
from sqlmodel import select

from matching import cases, council_settings, dashboard, db, mentoring, offer, pipeline, vocab
from matching.clock import CLOCK, ZONE
from matching.models import CareLeaver, CheckIn, Contact, Department, Match, MatchEvent, Opportunity, Outcome
from tests.test_pages import sign_in

TODAY = date(2026, 11, 23)


@pytest.fixture(autouse=True)
def nothing_kept():
    """The lists and charts are kept a minute per database address, and the suite's clock stands still: each
    test starts with nothing kept, so none reads the lists of the test before it on the same database."""
    dashboard._KEPT.clear()


def at(day: str, clock: str = "10:00") -> datetime:
    return datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=UTC)


@dataclass
class World:
    ids: dict[str, int]
    events: list[tuple[int, str, datetime]]  # match id, state reached, when
    contacts: dict[str, list[date]]


PEOPLE = {  # first name: (adviser, contacts, last-contact date kept without a contact row, closed at)
    "Amy": ("adviser", [date(2026, 1, 10), date(2026, 9, 30)], None, None),
    "Ben": ("adviser", [date(2026, 11, 20)], None, None),
    "Cara": ("other_adviser", [], None, None),
    "Dan": (None, [date(2026, 3, 1)], None, at("2026-06-15")),
    "Eve": ("adviser", [], date(2026, 11, 1), None),  # imported: a last-contact date with no contact row
}
HISTORY = {  # match: (young person, opportunity, the states it reached and when)
    "m1": ("Amy", "parks", [("proposed", at("2026-01-05")), ("approved", at("2026-01-15")),
                            ("started", at("2026-02-14"))]),
    "m2": ("Ben", "parks", [("proposed", at("2026-01-10")), ("rejected", at("2026-01-30"))]),
    "m3": ("Cara", "roads", [("proposed", at("2025-10-01")), ("approved", at("2025-12-02")),
                             ("started", at("2026-03-03")), ("sustained_3m", at("2026-06-03"))]),
    "m4": ("Dan", "parks", [("proposed", at("2026-03-01")), ("rejected", at("2026-03-04")),
                            ("proposed", at("2026-04-01")), ("approved", at("2026-04-08")),
                            ("withdrawn", at("2026-05-01"))]),
    # Decided in the first minute of November (UTC): a November decision, not October's.
    "m5": ("Eve", "parks", [("proposed", at("2026-10-31", "23:59")), ("approved", at("2026-11-01", "00:00"))]),
    # Proposed at 23:30 UTC on 30 June, which is 00:30 on 1 July in London (summer time): a July proposal.
    "m6": ("Ben", "roads", [("proposed", at("2026-06-30", "23:30"))]),
}
CHECK_INS = [("m3", date(2026, 4, 3), date(2026, 4, 20)), ("m3", date(2026, 7, 3), None),
             ("m1", date(2026, 3, 1), date(2026, 5, 10)), ("m4", date(2026, 4, 20), None)]
OUTCOMES = [("m3", "job_sustained_3m", date(2026, 6, 3)), ("m2", "not_successful", date(2025, 12, 1)),
            ("m1", "placement_completed", date(2025, 11, 30))]  # the last: before the twelve months


@pytest.fixture
def world(engine, people) -> World:
    with db.session_scope(db.writer(engine)) as session:
        parks = session.exec(select(Department).where(Department.code == "PARK")).one()
        roads = session.exec(select(Department).where(Department.code == "ROAD")).one()
        jobs = {"parks": Opportunity(reference="OPP-P", department_id=parks.id, kind="job", title="Parks job",
                                     places=3, status="open"),
                "roads": Opportunity(reference="OPP-R", department_id=roads.id, kind="job", title="Roads job",
                                     places=2, status="closed"),
                "draft": Opportunity(reference="OPP-D", department_id=parks.id, kind="job", title="Not yet out",
                                     places=7, status="draft")}
        session.add_all(jobs.values())
        session.flush()
        ids, contacts = {}, {}
        for n, (name, (adviser, seen, last, closed)) in enumerate(PEOPLE.items()):
            person = CareLeaver(case_reference=f"DASH{n}", first_name=name, family_name="Jones",
                                date_of_birth=date(2006, 5, 1), leaving_care_category="former_relevant",
                                personal_adviser_id=people[adviser].id if adviser else None,
                                created_at=at("2025-06-01"), last_contact_on=max(seen, default=last),
                                case_status="closed" if closed else "open", closed_at=closed)
            session.add(person)
            session.flush()
            ids[name] = person.id
            contacts[name] = seen + ([last] if last else [])
            session.add_all([Contact(care_leaver_id=person.id, contact_on=day, kind="call") for day in seen])
        events = []
        for key, (name, job, steps) in HISTORY.items():
            match = Match(care_leaver_id=ids[name], opportunity_id=jobs[job].id, kind="opportunity",
                          state=steps[-1][0])
            session.add(match)
            session.flush()
            ids[key] = match.id
            before = None
            for state, when in steps:
                session.add(MatchEvent(match_id=match.id, at=when, from_state=before, to_state=state))
                events.append((match.id, state, when))
                before = state
        session.add_all([CheckIn(match_id=ids[key], due_on=due, done_on=done, label="1 month")
                         for key, due, done in CHECK_INS])
        session.add_all([Outcome(match_id=ids[key], kind=kind, recorded_on=on) for key, kind, on in OUTCOMES])
        ids |= {f"job-{key}": job.id for key, job in jobs.items()}
    return World(ids, events, contacts)


def _london_month(when: datetime) -> tuple[int, int]:
    local = when.astimezone(ZONE)
    return local.year, local.month


def test_the_twelve_months_end_with_this_one():
    assert dashboard.months(TODAY) == [date(2025, 12, 1)] + [date(2026, m, 1) for m in range(1, 12)]
    assert dashboard.month_ends(TODAY)[0] == date(2025, 12, 31) and dashboard.month_ends(TODAY)[-1] == TODAY


def test_matches_by_state_count_the_states_reached_each_month(session, world):
    found = dashboard.matches_by_state(session, TODAY)
    months = [(day.year, day.month) for day in dashboard.months(TODAY)]
    for stage, states in dashboard.STAGES.items():
        expected = [sum(1 for _, state, when in world.events if state in states and _london_month(when) == month)
                    for month in months]
        assert found.series[stage] == expected, stage
    assert found.series["Proposed"][months.index((2026, 7))] == 1 and found.series["Proposed"][
        months.index((2026, 6))] == 0  # m6: London's July
    assert found.series["Approved"][0] == 1  # m3, approved 2 December 2025 (proposed before the twelve months)
    assert found.series["Approved"][-1] == 1 and found.series["Proposed"][-2] == 1  # m5 across midnight


def test_decision_times_are_medians_from_the_latest_proposal_and_from_approval(session, world):
    found = dashboard.decision_times(session, TODAY)
    months = dashboard.months(TODAY)
    decided, started = {}, {}
    for match_id in {match_id for match_id, _, _ in world.events}:
        steps = sorted((when, state) for m, state, when in world.events if m == match_id)
        for index, (when, state) in enumerate(steps):
            earlier = [w for w, s in steps[:index] if s == ("proposed" if state in {"approved", "rejected"}
                                                             else "approved")]
            if state in {"approved", "rejected"} and steps[index - 1][1] == "proposed" and earlier:
                decided.setdefault(_london_month(when), []).append((when - earlier[-1]).total_seconds() / 86400)
            if state in dashboard.START_STATES and earlier:
                started.setdefault(_london_month(when), []).append((when - earlier[-1]).total_seconds() / 86400)

    def medians(found_days):
        return [round(statistics.median(found_days[(m.year, m.month)]), 1) if (m.year, m.month) in found_days
                else None for m in months]

    assert found.series["Proposal to decision"] == medians(decided)
    assert found.series["Approval to start"] == medians(started)
    # By hand: January's decisions took 10 and 20 days; m4's second proposal was decided in 7; m5 in a minute.
    assert found.series["Proposal to decision"][1] == 15.0 and found.series["Proposal to decision"][4] == 7.0
    assert found.series["Proposal to decision"][-1] == 0.0 and found.series["Approval to start"][2] == 30.0


def test_places_offered_leave_out_drafts_and_filled_means_someone_started(session, world):
    found = {row.department: (row.offered, row.filled) for row in dashboard.places_by_department(session, TODAY)}
    started = {match_id for match_id, state, _ in world.events if state in dashboard.FILLED}
    parks_filled = sum(1 for key, (_, job, _) in HISTORY.items() if job == "parks" and world.ids[key] in started)
    assert found == {"Parks": (3, parks_filled), "Roads": (2, 1)} and parks_filled == 1


def test_outcomes_by_kind_count_the_last_twelve_months(session, world):
    first = dashboard.months(TODAY)[0]
    expected: dict[str, int] = {}
    for _, kind, on in OUTCOMES:
        if first <= on <= TODAY:
            expected[kind] = expected.get(kind, 0) + 1
    assert dashboard.outcomes_by_kind(session, TODAY) == expected == {"job_sustained_3m": 1, "not_successful": 1}


def test_not_in_touch_and_overdue_at_each_month_end(session, world):
    found = dashboard.attention_over_time(session, TODAY)
    ends = dashboard.month_ends(TODAY)

    def not_in_touch(day: date) -> int:
        cutoff = day - timedelta(weeks=8)
        return sum(1 for name, (_, _, _, closed) in PEOPLE.items()
                   if (closed is None or closed.date() > day)
                   and not any(cutoff <= seen <= day for seen in world.contacts[name]))

    def holding_on(key: str, day: date) -> bool:
        reached = [state for state, when in HISTORY[key][2] if when.date() <= day]
        return bool(reached) and reached[-1] in {"approved", "started", "sustained_3m"}

    def overdue(day: date) -> int:
        return sum(1 for key, due, done in CHECK_INS
                   if due < day and (done is None or done > day) and holding_on(key, day))

    assert found.series["Not in touch"] == [not_in_touch(day) for day in ends]
    assert found.series["Check-ins overdue"] == [overdue(day) for day in ends] == [0, 0, 0, 1, 2, 0, 0, 1, 1, 1, 1, 1]
    # This month's figures are today's lists.
    assert found.series["Not in touch"][-1] == len(cases.not_in_touch(session, today=TODAY)) == 1
    assert found.series["Check-ins overdue"][-1] == len(cases.overdue_check_ins(session, today=TODAY))


def test_each_list_names_the_people_behind_its_count(session, world, people):
    counts = {count.slug: count.count for count in dashboard.attention_counts(session, TODAY)}
    for slug in counts:
        assert dashboard.named_list(session, slug, TODAY, page=None).found.total == counts[slug], slug
    not_in_touch = dashboard.named_list(session, "not-in-touch", TODAY).found.rows
    assert [(row.name, row.adviser, row.days, row.on) for row in not_in_touch] == [
        ("Cara Jones", "Test other_adviser", None, None)]
    waiting = dashboard.named_list(session, "waiting", TODAY).found.rows
    assert [(row.name, row.adviser, row.days) for row in waiting] == [("Ben Jones", "Test adviser", (TODAY - date(
        2025, 6, 1)).days)]
    overdue = dashboard.named_list(session, "check-ins", TODAY).found.rows
    assert [(row.name, row.days, row.on) for row in overdue] == [("Cara Jones", (TODAY - date(2026, 7, 3)).days,
                                                                  date(2026, 7, 3))]
    assert dashboard.named_list(session, "nothing-here", TODAY) is None


def test_lists_are_paged_and_a_page_past_the_end_is_the_last(session, world):
    every = dashboard.named_list(session, "reviews", TODAY, page=None).found
    assert every.total == 4 and {row.name for row in every.rows} == {"Amy Jones", "Ben Jones", "Cara Jones",
                                                                     "Eve Jones"}
    second = dashboard.named_list(session, "reviews", TODAY, page=2, per_page=3).found
    assert (second.page, second.pages, [row.name for row in second.rows]) == (2, 2, [every.rows[3].name])
    assert dashboard.named_list(session, "reviews", TODAY, page=9, per_page=3).found.page == 2


def test_the_csv_rows_are_the_list(session, world):
    found = dashboard.named_list(session, "check-ins", TODAY, page=None)
    assert dashboard.csv_rows(found) == [
        ["Name", "Case reference", "Personal adviser", "Days overdue", "Check-in due", "Notes"],
        ["Cara Jones", "DASH2", "Test other_adviser", (TODAY - date(2026, 7, 3)).days, "2026-07-03",
         "1 month check-in"]]


def test_each_count_is_the_length_of_its_list_on_the_demo_borough(engine):
    assert demo.load(engine, seed=5, today=TODAY).loaded
    with db.session_scope(engine) as session:  # the demo allocates everyone: one young person loses their adviser
        session.execute(sa.text("UPDATE care_leavers SET personal_adviser_id = NULL WHERE id = "
                                "(SELECT MIN(id) FROM care_leavers WHERE case_status = 'open')"))
        # and one mentor's DBS check runs out while their mentoring goes on
        session.execute(sa.text("UPDATE mentors SET dbs_checked_on = '2020-01-01' WHERE id = (SELECT MIN(mentor_id) "
                                "FROM matches WHERE kind = 'mentoring' AND state IN ('approved', 'introduced', "
                                "'active'))"))
    with db.session_scope(engine) as session:
        counts = dashboard.attention_counts(session, TODAY)
        lists = [cases.not_in_touch(session, today=TODAY), cases.pathway_reviews(session, today=TODAY),
                 cases.overdue_check_ins(session, today=TODAY), cases.no_recent_meeting(session, today=TODAY),
                 cases.waiting(session, today=TODAY), offer.missed(session, today=TODAY),
                 pipeline.stale_matches(session, today=TODAY), mentoring.lapsed_vetting(session, today=TODAY),
                 cases.unallocated(session, today=TODAY)]
        named = [dashboard.named_list(session, count.slug, TODAY, page=None).found.total for count in counts]
    assert [count.count for count in counts] == [len(found) for found in lists] == named
    assert all(count.count for count in counts)  # someone on every list, so a wrong count cannot hide as 0 == 0


def test_counts_are_kept_for_a_minute_and_made_again_when_the_intervals_change(engine):
    dashboard._KEPT.clear()
    with CLOCK.fixed(datetime(2026, 11, 23, 9, 0, tzinfo=UTC)), db.session_scope(engine) as session:
        first = dashboard.recent_counts(session, TODAY)
    assert demo.load(engine, seed=5, today=TODAY).loaded
    with CLOCK.fixed(datetime(2026, 11, 23, 9, 0, 59, tzinfo=UTC)), db.session_scope(engine) as session:
        assert dashboard.recent_counts(session, TODAY) is first  # under a minute: the counts made at 9:00
    with CLOCK.fixed(datetime(2026, 11, 23, 9, 1, 5, tzinfo=UTC)), db.session_scope(engine) as session:
        again = dashboard.recent_counts(session, TODAY)
    assert again.counted_at - first.counted_at >= timedelta(minutes=1) and any(again.rows.values())
    with CLOCK.fixed(datetime(2026, 11, 23, 9, 1, 30, tzinfo=UTC)), db.session_scope(db.writer(engine)) as session:
        shorter = council_settings.load(session, council_settings.FollowUpSettings).model_copy(
            update={"not_in_touch_weeks": 1})
        council_settings.save(session, shorter, version=council_settings.version_of(
            session, council_settings.FollowUpSettings), actor_id=None)
    with CLOCK.fixed(datetime(2026, 11, 23, 9, 1, 31, tzinfo=UTC)), db.session_scope(engine) as session:
        changed = dashboard.recent_counts(session, TODAY)
        expected = len(cases.not_in_touch(session, today=TODAY, weeks=1))
    assert changed is not again and changed.rows["Not in touch"] == expected > again.rows["Not in touch"]
    assert changed.attention.series["Not in touch"][-1] == expected  # the chart follows the manager's interval


def test_a_count_opens_the_list_it_counted_until_the_list_is_a_minute_old(engine, world):
    dashboard._KEPT.clear()
    with CLOCK.fixed(datetime(2026, 11, 23, 9, 0, tzinfo=UTC)), db.session_scope(engine) as session:
        counted = dashboard.recent_counts(session, TODAY)
        assert counted.rows["Not in touch"] == len(dashboard.recent_lists(session, TODAY).lists["not-in-touch"]) == 1
    with db.session_scope(db.writer(engine)) as session:
        cases.record_contact(session, world.ids["Cara"], contact_on=TODAY, kind="call", note="", today=TODAY,
                             actor_id=None)
    with CLOCK.fixed(datetime(2026, 11, 23, 9, 0, 30, tzinfo=UTC)), db.session_scope(engine) as session:
        kept = dashboard.recent_lists(session, TODAY)
        assert [row["care_leaver_id"] for row in kept.lists["not-in-touch"]] == [world.ids["Cara"]]
        assert kept.counted_at == counted.counted_at  # the list the count was made from
    with CLOCK.fixed(datetime(2026, 11, 23, 9, 1, 1, tzinfo=UTC)), db.session_scope(engine) as session:
        assert dashboard.recent_lists(session, TODAY).lists["not-in-touch"] == []  # a minute on: made again
        assert dashboard.recent_counts(session, TODAY).rows["Not in touch"] == 0


def test_the_overview_page_says_when_it_counted(browser, engine):
    dashboard._KEPT.clear()
    sign_in(browser, "manager")
    with CLOCK.fixed(datetime(2026, 11, 23, 14, 5, tzinfo=UTC)):
        page = browser.get("/overview")
    assert page.status_code == 200 and "Counted on 23 November 2026 at 2:05pm" in page.text


# Chart drill-downs: every figure of every chart's table is the length of the list behind it ----------------

def _every_figure(session, today: date) -> list[tuple[dashboard.Figure, int]]:
    """Each figure of the charts that count (medians are not counts), with its value as the chart gives it."""
    found = []
    for chart, monthly in (("by-state", dashboard.matches_by_state(session, today)),
                           ("attention", dashboard.attention_over_time(session, today))):
        for series, values in monthly.series.items():
            found += [(dashboard.Figure(chart, month=start, series=series), value)
                      for start, value in zip(monthly.months, values, strict=True)]
    found += [(dashboard.Figure("places", department_id=row.department_id, series="Filled"), row.filled)
              for row in dashboard.places_by_department(session, today)]
    outcomes = dashboard.outcomes_by_kind(session, today)
    found += [(dashboard.Figure("outcomes", kind=kind), outcomes.get(kind, 0)) for kind in vocab.OUTCOME_KINDS]
    return found


def _lists_are_their_figures(session, today: date) -> list[tuple[dashboard.Figure, int]]:
    figures = _every_figure(session, today)
    for figure, value in figures:
        assert dashboard.read_figure(session, figure.chart, figure.query(), today) == (figure, {})  # the link
        assert dashboard.chart_list(session, figure, today, page=None).found.total == value, figure
    return figures


def test_every_chart_figure_is_the_length_of_its_list(session, world):
    figures = _lists_are_their_figures(session, TODAY)
    assert sum(1 for _, value in figures if value) >= 15  # the small world puts someone behind many figures


def test_every_chart_figure_is_the_length_of_its_list_on_the_demo_borough(engine):
    assert demo.load(engine, seed=5, today=TODAY).loaded
    with db.session_scope(engine) as session:
        figures = _lists_are_their_figures(session, TODAY)
    for chart in dashboard.CHART_LISTINGS:  # someone behind a figure of every chart, so 0 == 0 cannot hide a fault
        assert any(value for figure, value in figures if figure.chart == chart), chart


def _names(found: dashboard.NamedList) -> list[tuple]:
    return [(row.name, row.adviser, row.days, row.on, row.detail) for row in found.found.rows]


def test_a_figures_list_names_the_young_person_adviser_and_what_it_counted(session, world):
    january, april, may = date(2026, 1, 1), date(2026, 4, 1), date(2026, 5, 1)
    proposed = dashboard.chart_list(session, dashboard.Figure("by-state", month=january, series="Proposed"), TODAY)
    assert proposed.title == "Proposed: matches in January 2026"
    assert _names(proposed) == [("Amy Jones", "Test adviser", None, date(2026, 1, 5), "Proposed: Parks job"),
                                ("Ben Jones", "Test adviser", None, date(2026, 1, 10), "Proposed: Parks job")]
    parks = session.exec(select(Department).where(Department.code == "PARK")).one()
    filled = dashboard.chart_list(session, dashboard.Figure("places", department_id=parks.id, series="Filled"), TODAY)
    assert filled.title == "Places filled: Parks" and _names(filled) == [
        ("Amy Jones", "Test adviser", None, date(2026, 2, 14), "Parks job")]
    kind = dashboard.chart_list(session, dashboard.Figure("outcomes", kind="job_sustained_3m"), TODAY)
    assert _names(kind) == [("Cara Jones", "Test other_adviser", None, date(2026, 6, 3), "Roads job")]
    overdue = dashboard.chart_list(session, dashboard.Figure("attention", month=april, series="Check-ins overdue"),
                                   TODAY)  # on 30 April: m1's (done 10 May) and m4's (approved on 8 April)
    assert overdue.title == "Check-ins overdue at the end of April 2026"
    assert [(row.name, row.days, row.on) for row in overdue.found.rows] == [
        ("Amy Jones", (date(2026, 4, 30) - date(2026, 3, 1)).days, date(2026, 3, 1)),
        ("Dan Jones", 10, date(2026, 4, 20))]
    away = dashboard.chart_list(session, dashboard.Figure("attention", month=may, series="Not in touch"), TODAY)
    end, cutoff = date(2026, 5, 31), date(2026, 5, 31) - timedelta(weeks=8)
    expected = {f"{name} Jones" for name, (_, _, _, closed) in PEOPLE.items() if closed is None or closed.date() > end
                if not any(cutoff <= seen <= end for seen in world.contacts[name])}
    assert {row.name for row in away.found.rows} == expected and len(expected) >= 3
    amy = next(row for row in away.found.rows if row.name == "Amy Jones")
    assert (amy.on, amy.days) == (date(2026, 1, 10), (end - date(2026, 1, 10)).days)  # her last contact by then


def _made_at(found: dashboard.NamedList, clock: str) -> bool:
    """Made within a second of that time on 23 November (the suite's fixed clock moves on as it is read)."""
    hours, minutes, seconds = map(int, clock.split(":"))
    return timedelta(0) <= found.counted_at - datetime(2026, 11, 23, hours, minutes, seconds, tzinfo=UTC) < timedelta(
        seconds=1)


def test_a_figures_list_is_kept_a_minute_then_made_again(engine, world):
    figure = dashboard.Figure("by-state", month=date(2026, 1, 1), series="Proposed")
    with CLOCK.fixed(datetime(2026, 11, 23, 9, 0, tzinfo=UTC)), db.session_scope(engine) as session:
        first = dashboard.chart_list(session, figure, TODAY)
        assert _made_at(first, "9:00:00") and first.found.total == 2
    with db.session_scope(db.writer(engine)) as session:
        session.get(CareLeaver, world.ids["Amy"]).first_name = "Aimee"
    with CLOCK.fixed(datetime(2026, 11, 23, 9, 0, 59, tzinfo=UTC)), db.session_scope(engine) as session:
        kept = dashboard.chart_list(session, figure, TODAY, page=None)
        other = dashboard.chart_list(session, dashboard.Figure("by-state", month=date(2026, 1, 1),
                                                               series="Approved"), TODAY)
    assert kept.counted_at == first.counted_at and kept.found.total == 2  # the same rows, under a minute on
    assert "Aimee Jones" in {row.name for row in kept.found.rows}  # names are read each time: only rows are kept
    assert _made_at(other, "9:00:59")  # another figure: its own rows
    with db.session_scope(db.writer(engine)) as session:  # a third proposal in January, after the list was made
        match = session.exec(select(Match).where(Match.care_leaver_id == world.ids["Cara"])).first()
        session.add(MatchEvent(match_id=match.id, at=at("2026-01-20"), from_state=None, to_state="proposed"))
    with CLOCK.fixed(datetime(2026, 11, 23, 9, 0, 59, tzinfo=UTC)), db.session_scope(engine) as session:
        assert dashboard.chart_list(session, figure, TODAY).found.total == 2  # still the list made at 9:00
    with CLOCK.fixed(datetime(2026, 11, 23, 9, 1, 5, tzinfo=UTC)), db.session_scope(engine) as session:
        again = dashboard.chart_list(session, figure, TODAY)
    assert _made_at(again, "9:01:05") and again.found.total == 3  # made again


def test_a_figure_asked_for_wrongly_is_refused_field_by_field(session, world):
    assert dashboard.read_figure(session, "nothing-here", {}, TODAY) == (None, {})
    figure, errors = dashboard.read_figure(session, "by-state", {"month": "2024-01", "series": "lost"}, TODAY)
    assert figure is None and set(errors) == {"month", "series"} and "2025-12 to 2026-11" in errors["month"]
    assert set(dashboard.read_figure(session, "places", {"department": "99999", "series": "filled"}, TODAY)[1]) == {
        "department"}
    assert set(dashboard.read_figure(session, "outcomes", {"kind": "=1+1"}, TODAY)[1]) == {"kind"}
    assert dashboard.read_figure(session, "attention", {"month": "2026-05", "series": "Not-In-Touch"}, TODAY)[0] == (
        dashboard.Figure("attention", month=date(2026, 5, 1), series="Not in touch"))
