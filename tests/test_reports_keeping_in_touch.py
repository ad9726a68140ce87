"""Keeping in touch and following up over the last twelve months: contacts made and cases closed and re-opened,
counted in London's months; the month-end figures are the overview's own; small counts withheld; the page and
its download (audited)."""

import csv
import io
from datetime import UTC, date, datetime

from sqlmodel import select

from matching import dashboard, db
from matching.clock import CLOCK
from matching.models import AuditEvent, CareLeaver, CareLeaverCreate, CaseEvent, Contact
from matching.reports import keeping_in_touch
from matching.reports.suppression import FEWER_THAN
from tests import factories
from tests.conftest import TEST_TODAY
from tests.test_pages import sign_in

CONTACTS, CLOSED, REOPENED = keeping_in_touch.SERIES[2:]


def _story(engine) -> list[int]:
    """Six young people: five contacts in March 2026 and two in April; one case closed at 23:30 UTC on 30 June
    2026 (00:30 on 1 July in London) and re-opened on 2 September."""
    with CLOCK.fixed(date(2025, 11, 1)), db.session_scope(db.writer(engine)) as session:
        people = [CareLeaver(**CareLeaverCreate.model_validate(factories.care_leaver()).model_dump())
                  for _ in range(6)]
        session.add_all(people)
        session.flush()
        ids = [person.id for person in people]
        session.add_all([Contact(care_leaver_id=person_id, contact_on=date(2026, 3, 2 + n), kind="visit")
                         for n, person_id in enumerate(ids[:5])])
        session.add_all([Contact(care_leaver_id=person_id, contact_on=date(2026, 4, 20), kind="phone")
                         for person_id in ids[:2]])
    with db.session_scope(db.writer(engine)) as session:  # the case's history, as cases.close_case writes it
        session.add_all([
            CaseEvent(care_leaver_id=ids[5], at=datetime(2026, 6, 30, 23, 30, tzinfo=UTC), action="closed",
                      reason_code="moved_away"),
            CaseEvent(care_leaver_id=ids[5], at=datetime(2026, 9, 2, 10, tzinfo=UTC), action="reopened"),
            CaseEvent(care_leaver_id=ids[4], at=datetime(2026, 9, 3, 10, tzinfo=UTC), action="close_refused")])
    return ids


def test_each_month_counts_what_happened_in_it_in_london_time(engine, session):
    _story(engine)
    report = keeping_in_touch.keeping_in_touch(session, TEST_TODAY)
    month = {(start.year, start.month): index for index, start in enumerate(report.months)}
    counts = {name: [cell.count for cell in cells] for name, cells in report.rows.items()}
    assert counts[CONTACTS][month[2026, 3]] == 5 and counts[CONTACTS][month[2026, 4]] == 2
    assert sum(counts[CONTACTS]) == 7
    assert counts[CLOSED][month[2026, 7]] == 1 and counts[CLOSED][month[2026, 6]] == 0  # London's July
    assert counts[REOPENED][month[2026, 9]] == 1 and sum(counts[REOPENED]) == 1
    shown = {name: [cell.shown for cell in cells] for name, cells in report.rows.items()}
    assert shown[CONTACTS][month[2026, 3]] == 5 and shown[CONTACTS][month[2026, 4]] == FEWER_THAN
    attention = dashboard.attention_over_time(session, TEST_TODAY)  # the month-end figures are the overview's
    assert counts[keeping_in_touch.SERIES[0]] == attention.series["Not in touch"]
    assert counts[keeping_in_touch.SERIES[1]] == attention.series["Check-ins overdue"]


def test_fewer_months_are_the_last_months_of_the_twelve(engine, session):
    _story(engine)
    twelve = keeping_in_touch.keeping_in_touch(session, TEST_TODAY)
    for months in (1, 3):
        fewer = keeping_in_touch.keeping_in_touch(session, TEST_TODAY, months=months)
        assert fewer.months == twelve.months[-months:] and fewer.months[-1] == date(2026, 11, 1)
        assert {name: [cell.count for cell in cells] for name, cells in fewer.rows.items()} == {
            name: [cell.count for cell in cells[-months:]] for name, cells in twelve.rows.items()}
    # The story's own counts for September to November: the re-opening in September, no contact, no closure.
    last_three = keeping_in_touch.keeping_in_touch(session, TEST_TODAY, months=3)
    counts = {name: [cell.count for cell in cells] for name, cells in last_three.rows.items()}
    assert counts[REOPENED] == [1, 0, 0] and counts[CONTACTS] == [0, 0, 0] and counts[CLOSED] == [0, 0, 0]
    assert counts[keeping_in_touch.SERIES[0]][-1] == 6  # six open cases, none contacted since April


def test_the_page_and_its_download(browser, engine, session, people):
    _story(engine)
    sign_in(browser, "manager")
    shown = browser.get("/reports/keeping-in-touch")
    assert shown.status_code == 200 and "Keeping in touch and following up" in shown.text and "<svg" in shown.text
    download = browser.get("/reports/keeping-in-touch.csv")
    lines = list(csv.reader(io.StringIO(download.text)))
    assert lines[0][0] == "Measure" and lines[0][-1] == "November 2026"
    assert [line[0] for line in lines[1:]] == list(keeping_in_touch.SERIES)
    session.rollback()
    assert session.exec(select(AuditEvent).where(AuditEvent.entity == "report_keeping_in_touch")).all()
