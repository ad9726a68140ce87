"""The cohort's trend by quarter, from the records' 903 history as it stood on each quarter's last day, and the
council tax exemption inside and outside the borough. Figures are checked against counts worked out here from the
small stories the tests tell (who was recorded when, what changed on which day), not from the service."""

import csv
import io
import re
from collections import Counter
from datetime import date

import pytest
from fixtures import words
from playwright.sync_api import expect

from matching import cases, council_settings, db, offer
from matching.clock import CLOCK
from matching.models import CareLeaver, CareLeaverCreate
from matching.reports import cohort as cohort_report
from matching.reports import local_offer
from matching.reports.suppression import FEWER_THAN, WITHHELD
from tests import factories
from tests.conftest import TEST_TODAY
from tests.test_browser import chromium, serious_violations, service, tab  # noqa: F401 (fixtures)
from tests.test_browser import sign_in as sign_in_to_the_demo
from tests.test_pages import sign_in

# The last eight quarters' last days as of 23 November 2026, the quarter in progress as of today.
QUARTER_DAYS = [date(2025, 3, 31), date(2025, 6, 30), date(2025, 9, 30), date(2025, 12, 31), date(2026, 3, 31),
                date(2026, 6, 30), date(2026, 9, 30), TEST_TODAY]
IN_TOUCH_EET_SUITABLE = {"in_touch": "YES", "current_activity": "F5", "accommodation": "U1"}
NOT_IN_TOUCH = {"in_touch": "NO", "current_activity": "0", "accommodation": "0"}


def _make(engine, on: date, how_many: int, **fields) -> list[int]:
    CLOCK.fix(on)
    with db.session_scope(db.writer(engine)) as session:
        made = [CareLeaver(**CareLeaverCreate.model_validate(factories.care_leaver(**fields)).model_dump())
                for _ in range(how_many)]
        session.add_all(made)
        session.flush()
        ids = [person.id for person in made]
    CLOCK.fix(TEST_TODAY)
    return ids


def _change(engine, on: date, ids: list[int], **fields) -> None:
    CLOCK.fix(on)
    with db.session_scope(db.writer(engine)) as session:
        for person_id in ids:
            person = session.get(CareLeaver, person_id)
            for name, value in fields.items():
                setattr(person, name, value)
    CLOCK.fix(TEST_TODAY)


def _close_and_reopen(engine, person_id: int, closed_on: date, reopened_on: date) -> None:
    CLOCK.fix(closed_on)
    with db.session_scope(db.writer(engine)) as session:
        person = session.get(CareLeaver, person_id)
        cases.close_case(session, person_id, cases.Closure("support_declined", person.version,
                                                           support_offered_on=closed_on),
                         today=closed_on, actor_id=None)
    CLOCK.fix(reopened_on)
    with db.session_scope(db.writer(engine)) as session:
        person = session.get(CareLeaver, person_id)
        cases.reopen_case(session, person_id, version=person.version, note="asked for support again",
                          today=reopened_on, actor_id=None)
    CLOCK.fix(TEST_TODAY)


class Story:
    """What the test recorded, kept here as plain data: each person's first day, their values from each day on,
    and the days their case stood closed, so each quarter's figures can be worked out without the service."""

    def __init__(self):
        self.people: dict[int, dict] = {}

    def made(self, ids: list[int], on: date, values: dict) -> list[int]:
        for person_id in ids:
            self.people[person_id] = {"from": on, "values": [(on, dict(values))], "closed": []}
        return ids

    def changed(self, ids: list[int], on: date, values: dict) -> None:
        for person_id in ids:
            self.people[person_id]["values"].append((on, {**self.people[person_id]["values"][-1][1], **values}))

    def figures_on(self, day: date) -> tuple[int, list[int]]:
        """(the cohort, [in touch, in education, employment or training, suitably housed]) at the end of `day`."""
        standing = []
        for person in self.people.values():
            if person["from"] > day or any(start <= day < end for start, end in person["closed"]):
                continue
            standing.append([values for since, values in person["values"] if since <= day][-1])
        return len(standing), [
            sum(1 for v in standing if v["in_touch"] == "YES"),
            sum(1 for v in standing if v["current_activity"][0] in "FP"),  # F1-P5: full or part time EET
            sum(1 for v in standing if v["accommodation"].endswith("1"))]  # suffix 1: suitable


@pytest.fixture
def story(engine) -> Story:
    """Twelve young people from February 2025, three of them out of touch from August 2025 to March 2026; six
    NEET and unsuitably housed from May 2025 until January 2026, one of whom refuses contact from 30 June 2026 (a
    quarter's last day); one whose case closed in October 2025 and re-opened in February 2026; two from October
    2026."""
    told = Story()
    group_a = told.made(_make(engine, date(2025, 2, 10), 12, **IN_TOUCH_EET_SUITABLE), date(2025, 2, 10),
                        IN_TOUCH_EET_SUITABLE)
    _change(engine, date(2025, 8, 15), group_a[:3], **NOT_IN_TOUCH)
    told.changed(group_a[:3], date(2025, 8, 15), NOT_IN_TOUCH)
    _change(engine, date(2026, 3, 1), group_a[:3], **IN_TOUCH_EET_SUITABLE)
    told.changed(group_a[:3], date(2026, 3, 1), IN_TOUCH_EET_SUITABLE)
    neet = {"in_touch": "YES", "current_activity": "G5", "accommodation": "D2"}
    group_b = told.made(_make(engine, date(2025, 5, 1), 6, **neet), date(2025, 5, 1), neet)
    _change(engine, date(2026, 1, 10), group_b, current_activity="F2", accommodation="D1")
    told.changed(group_b, date(2026, 1, 10), {"current_activity": "F2", "accommodation": "D1"})
    refusing = {"in_touch": "REFU", "current_activity": "0", "accommodation": "0"}
    _change(engine, date(2026, 6, 30), group_b[:1], **refusing)
    told.changed(group_b[:1], date(2026, 6, 30), refusing)
    [returning] = told.made(_make(engine, date(2025, 5, 1), 1, date_of_birth="2003-01-01", **IN_TOUCH_EET_SUITABLE),
                            date(2025, 5, 1), IN_TOUCH_EET_SUITABLE)
    _close_and_reopen(engine, returning, date(2025, 10, 1), date(2026, 2, 1))
    told.people[returning]["closed"].append((date(2025, 10, 1), date(2026, 2, 1)))
    new = {"in_touch": "YES", "current_activity": "F1", "accommodation": "B1"}
    told.made(_make(engine, date(2026, 10, 1), 2, **new), date(2026, 10, 1), new)
    return told


def test_the_quarters_are_the_last_eight_to_today():
    assert cohort_report.quarter_days(TEST_TODAY) == QUARTER_DAYS
    assert cohort_report.quarter_days(date(2026, 12, 31))[-2:] == [date(2026, 9, 30), date(2026, 12, 31)]
    assert cohort_report.quarter_days(date(2026, 1, 1))[0] == date(2024, 6, 30)


def test_each_quarter_counts_the_cohort_as_it_stood_that_day(story, session):
    trend = cohort_report.cohort(session, today=TEST_TODAY).trend
    assert [point.day for point in trend.points] == QUARTER_DAYS
    assert [point.in_progress for point in trend.points] == [False] * 7 + [True]
    assert trend.points[-1].label == "23 November 2026 (quarter in progress)"
    shown_shares = 0
    for point in trend.points:
        cohort, counts = story.figures_on(point.day)
        assert point.cohort is not None and point.cohort.count == cohort and point.cohort.shown == cohort
        for index, (cell, truth) in enumerate(zip(point.counts, counts, strict=True)):
            assert cell.count == truth
            if 0 < truth < 5:
                assert cell.shown == FEWER_THAN
            elif 0 < cohort - truth < 5:  # all but a few: the few could be worked out, so the count is withheld
                assert cell.shown == WITHHELD and point.share(index) is None
            else:
                assert cell.shown == truth and point.share(index) == round(100 * truth / cohort)
                shown_shares += 1
    assert shown_shares >= 8
    # Spelled out for three quarters: the closure, the change on the quarter's last day, the remainder of 3.
    on = {point.day: point for point in trend.points}
    assert on[date(2025, 12, 31)].cohort.count == 18  # the re-opened case was closed then
    assert on[date(2026, 3, 31)].share(0) == 100 and on[date(2026, 3, 31)].cohort.count == 19
    assert on[date(2026, 6, 30)].counts[0].count == 18  # refused contact that day: not in touch at its end
    assert on[date(2025, 9, 30)].counts[0].shown == WITHHELD  # 16 of 19: three not in touch
    assert on[date(2025, 9, 30)].share_words(1) == "53%"  # 10 of 19 in education, employment or training


def test_the_chart_and_the_downloaded_rows_carry_the_trend(story, session):
    report = cohort_report.cohort(session, today=TEST_TODAY)
    trend = report.trend
    chart = trend.chart()
    assert chart.startswith("<svg") and 'role="img"' in chart and "<script" not in chart
    assert all(words in chart for words in trend.measures) and "Mar 2025" in chart and "Nov 2026" in chart
    lines = cohort_report.flat_rows(report)
    header_width = len(lines[0])
    assert all(len(line) == header_width for line in lines)
    trend_lines = [line for line in lines if line[0] == "Trend by quarter"]
    assert len(trend_lines) == 4 * len(QUARTER_DAYS)
    at_all_ages, share = lines[0].index("All ages"), lines[0].index("This council, same age band")
    for day in QUARTER_DAYS:
        cohort, counts = story.figures_on(day)
        label = next(point.label for point in trend.points if point.day == day)
        assert [line[at_all_ages] for line in trend_lines if line[1] == f"Care leavers on {label}"] == [cohort]
        in_touch = next(line for line in trend_lines if line[1] == f"In touch on {label}")
        assert in_touch[at_all_ages] in {counts[0], WITHHELD, FEWER_THAN}
        if in_touch[at_all_ages] == counts[0]:
            assert in_touch[share] == f"{round(100 * counts[0] / cohort)}%"


def test_a_small_cohort_shows_no_count_that_could_identify_anyone(engine, session):
    _make(engine, date(2025, 2, 10), 3, **IN_TOUCH_EET_SUITABLE)
    _make(engine, date(2025, 2, 10), 1, **NOT_IN_TOUCH)
    trend = cohort_report.cohort(session, today=TEST_TODAY).trend
    for point in trend.points:
        assert point.cohort.count == 4 and point.cohort.shown == FEWER_THAN
        assert all(cell.shown in {FEWER_THAN, WITHHELD} for cell in point.counts)
        assert [point.share(index) for index in range(3)] == [None] * 3
        assert {point.share_words(index) for index in range(3)} == {WITHHELD}


def test_a_day_whose_values_were_never_kept_is_not_known(engine, session):
    # A record from 2024 whose history begins in May 2026 (as a record older than the history table's does).
    [old] = _make(engine, date(2026, 5, 1), 1, **IN_TOUCH_EET_SUITABLE)
    with db.session_scope(db.writer(engine)) as writing:
        writing.get(CareLeaver, old).created_at = CLOCK.now().replace(year=2024)
    trend = cohort_report.cohort(session, today=TEST_TODAY).trend
    assert [point.cohort is None for point in trend.points] == [day < date(2026, 5, 1) for day in QUARTER_DAYS]
    assert trend.points[0].share_words(0) == "–"
    lines = cohort_report.flat_rows(cohort_report.cohort(session, today=TEST_TODAY))
    assert [line for line in lines if line[1] == "Care leavers on 31 March 2025"][0][-3] == cohort_report.NO_HISTORY


def test_the_cohort_page_shows_the_trend_chart_and_its_table(story, browser):
    sign_in(browser, "manager")
    page = browser.get("/reports/cohort")
    assert page.status_code == 200 and page.text.count("<h1") == 1
    assert 'id="chart-trend"' in page.text and "Trend by quarter" in page.text
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page.text))
    assert "23 November 2026 (quarter in progress)" in text and "30 September 2025" in text
    assert "10 (53%)" in text  # 10 of 19 in education, employment or training on 30 September 2025
    lines = list(csv.reader(io.StringIO(browser.get("/reports/cohort.csv").text)))
    assert sum(1 for line in lines if line[0] == "Trend by quarter") == 4 * len(QUARTER_DAYS)


# Council tax exemption inside and outside the borough ------------------------------------------------------

def _council_tax(engine, home_area: str | None, statuses: list[str | None]) -> None:
    with db.session_scope(db.writer(engine)) as session:
        made = [CareLeaver(**CareLeaverCreate.model_validate(factories.care_leaver(home_area=home_area))
                           .model_dump()) for _ in statuses]
        session.add_all(made)
        session.flush()
        for person, status in zip(made, statuses, strict=True):
            if status:
                offer.record(session, person.id, "council_tax_exemption", status, actor_id=None)


# Where the test's young people live and where each stands with the exemption (None: never told).
PLACES = {
    "inside": [("E8", ["taken_up"] * 10 + ["told"] * 6 + [None] * 5), ("N16", ["taken_up"] * 2)],
    "outside": [("SE1", ["applied"] * 6 + ["taken_up"] * 5), ("IG11", [None] * 5)],
    "not_known": [(None, ["taken_up"] * 5 + ["told"] * 5)],
}


@pytest.fixture
def living_places(engine) -> dict[str, Counter]:
    expected = {}
    for place, groups in PLACES.items():
        expected[place] = Counter()
        for home_area, statuses in groups:
            _council_tax(engine, home_area, statuses)
            expected[place].update(status or "not_told" for status in statuses)
    return expected


def test_the_exemption_is_split_by_where_young_people_live(living_places, session):
    report = local_offer.local_offer(session, today=TEST_TODAY)
    split = report.by_place
    assert split.item == "Council tax exemption" and split.districts == list(words.HOME_AREAS)
    keys = [key for key, _ in local_offer.COLUMNS]
    for row, place in enumerate(("inside", "outside", "not_known")):
        truth = [living_places[place][key] for key in keys]
        assert [cell.count for cell in split.table.cells[row]] == truth
        assert split.table.row_totals[row].count == sum(truth)
        for column, (cell, value) in enumerate(zip(split.table.cells[row], truth, strict=True)):
            assert cell.shown == value or (1 <= value <= 4 and cell.shown == FEWER_THAN) or cell.shown == WITHHELD
            if cell.visible and split.table.row_totals[row].visible and sum(truth):
                assert split.share(row, column) == round(100 * value / sum(truth))
    assert split.table.cells[0][3].shown == 12 and split.share(0, 3) == 52  # 12 of the 23 in the borough took it up
    assert split.table.cells[1][2].shown == 6 and split.share(1, 2) == 38  # 6 of the 16 outside it applied
    # The main table's row is the split's totals line, cell for cell (so neither can be set against the other).
    row = report.items.index("Council tax exemption")
    assert report.table.cells[row] == split.table.column_totals and report.table.row_totals[row] == split.table.total
    assert [cell.count for cell in report.table.cells[row]] == [
        sum(living_places[place][key] for place in living_places) for key in keys]
    lines = local_offer.flat_rows(report)
    assert lines[-3:] == [[f"Council tax exemption: {place.lower()}", *(cell.shown for cell in cells), total.shown]
                          for place, cells, total in zip(split.places, split.table.cells, split.table.row_totals,
                                                         strict=True)]


def test_the_boroughs_districts_are_a_setting(living_places, session):
    with db.session_scope(db.writer(session.get_bind())) as writing:
        council_settings.save(writing, council_settings.CouncilSettings(borough_districts=["se1", "IG11"]),
                              version=0, actor_id=None)
    split = local_offer.local_offer(session, today=TEST_TODAY).by_place
    assert split.districts == ["SE1", "IG11"]
    assert [total.count for total in split.table.row_totals] == [16, 23, 10]  # the two places have swapped
    assert tuple(words.HOME_AREAS) == council_settings.DEFAULT_BOROUGH_DISTRICTS  # the demo council's borough


def test_the_page_and_its_download_show_the_split(living_places, browser):
    sign_in(browser, "manager")
    page = browser.get("/reports/local-offer")
    assert page.status_code == 200 and page.text.count("<h1") == 1
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page.text))
    assert "Council tax exemption: inside and outside the borough" in text
    assert "“not known” for young people with no home area recorded" in text
    assert "Living outside the borough" in text and "Wherever they live" in text
    lines = list(csv.reader(io.StringIO(browser.get("/reports/local-offer.csv").text)))
    outside = next(line for line in lines if line[0] == "Council tax exemption: living outside the borough")
    assert outside[1:] == ["5", "0", "6", "5", "0", "16"]


def test_a_small_count_in_one_place_is_withheld_with_what_would_reveal_it(engine, session):
    _council_tax(engine, "E8", ["taken_up"] * 12)
    _council_tax(engine, "SE1", ["taken_up"])  # one young person outside the borough
    report = local_offer.local_offer(session, today=TEST_TODAY)
    split = report.by_place
    assert split.table.cells[1][3].shown == FEWER_THAN and split.table.row_totals[1].shown == FEWER_THAN
    # 13 in all took it up and 12 in the borough: both shown would give the one outside away.
    inside, everywhere = split.table.cells[0][3], split.table.column_totals[3]
    assert (inside.count, everywhere.count) == (12, 13) and not (inside.visible and everywhere.visible)
    row = report.items.index("Council tax exemption")
    assert report.table.cells[row] == split.table.column_totals and report.table.row_totals[row] == split.table.total


@pytest.mark.browser
def test_both_new_sections_in_chromium_pass_axe(tab):  # noqa: F811
    """On the demo borough: its history begins the day it was loaded, so only today's quarter is known."""
    sign_in_to_the_demo(tab, "manager")
    tab.goto("/reports/cohort")
    expect(tab.get_by_role("heading", name="Trend by quarter", level=2)).to_be_visible()
    expect(tab.get_by_role("img", name="Trend by quarter: shares of the cohort (%)")).to_be_visible()
    trend = tab.get_by_role("table", name="Trend by quarter: care leavers, and how many of them (with the share) in "
                                         "each")
    expect(trend).to_contain_text("(quarter in progress)")
    expect(trend).to_contain_text(cohort_report.NO_HISTORY)
    assert serious_violations(tab) == []
    tab.goto("/reports/local-offer")
    expect(tab.get_by_role("heading", name="Council tax exemption: inside and outside the borough")).to_be_visible()
    split = tab.get_by_role("table", name="Council tax exemption: where the young people eligible for it stand, by "
                                         "where they live")
    expect(split).to_contain_text("Living in the borough")
    expect(split).to_contain_text("Where they live is not known")
    assert serious_violations(tab) == []
