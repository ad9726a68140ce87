"""The local offer report: of the open cases eligible for each entitlement today, where each stands (the columns
do not overlap, so each row adds up to those eligible), small counts and what would reveal them withheld; the
page and its download (audited)."""

import csv
import io
from datetime import date

from sqlmodel import select

from matching import db, offer
from matching.models import AuditEvent, CareLeaver, CareLeaverCreate
from matching.reports import local_offer
from matching.reports.suppression import FEWER_THAN
from tests import factories
from tests.conftest import TEST_TODAY
from tests.test_pages import sign_in

COUNCIL_TAX = "Council tax exemption"


def _people(engine, statuses: list[str | None], **fields) -> list[int]:
    with db.session_scope(db.writer(engine)) as session:
        made = [CareLeaver(**CareLeaverCreate.model_validate(factories.care_leaver(**fields)).model_dump())
                for _ in statuses]
        session.add_all(made)
        session.flush()
        for person, status in zip(made, statuses, strict=True):
            if status:
                offer.record(session, person.id, "council_tax_exemption", status, actor_id=None)
        return [person.id for person in made]


def test_each_entitlement_counts_its_eligible_young_people_by_where_they_stand(engine, session):
    # Twelve 19-year-olds with open cases: six took the exemption up, two applied, one was told, one was found
    # not eligible, two were never told. Left out: a closed case, and a 26-year-old (past the item's ages).
    _people(engine, ["taken_up"] * 6 + ["applied"] * 2 + ["told", "not_eligible", None, None])
    closed = _people(engine, ["taken_up"])
    with db.session_scope(db.writer(engine)) as writing:
        writing.get(CareLeaver, closed[0]).case_status = "closed"
    _people(engine, ["taken_up"], date_of_birth=date(2000, 1, 1).isoformat())
    report = local_offer.local_offer(session, today=TEST_TODAY)
    row = report.items.index(COUNCIL_TAX)
    counts = [cell.count for cell in report.table.cells[row]]
    assert counts == [2, 1, 2, 6, 1] and report.table.row_totals[row].count == 12
    shown = [cell.shown for cell in report.table.cells[row]]
    assert shown[3] == 6 and FEWER_THAN in shown and 1 not in shown and 2 not in shown
    assert report.share(row, 1) is None  # its count is withheld, so its share is too


def test_each_share_is_of_those_eligible(engine, session):
    _people(engine, ["taken_up"] * 10 + ["applied"] * 5 + ["told"] * 5)
    report = local_offer.local_offer(session, today=TEST_TODAY)
    row = report.items.index(COUNCIL_TAX)
    assert [report.share(row, column) for column in range(5)] == [0, 25, 25, 50, 0]


def test_the_page_and_its_download(browser, engine, session, people):
    _people(engine, ["taken_up"] * 5)
    sign_in(browser, "manager")
    shown = browser.get("/reports/local-offer")
    assert shown.status_code == 200 and COUNCIL_TAX in shown.text and "<svg" in shown.text
    lines = list(csv.reader(io.StringIO(browser.get("/reports/local-offer.csv").text)))
    assert lines[0][0] == "Entitlement" and lines[0][-1] == "Eligible"
    assert [COUNCIL_TAX, "0", "0", "0", "5", "0", "5"] in lines
    session.rollback()
    assert session.exec(select(AuditEvent).where(AuditEvent.entity == "report_local_offer")).all()
