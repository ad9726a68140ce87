"""Housing register applications: recorded and updated by the young person's adviser in the pages (GOV.UK errors,
input kept, nothing in the future, a stale form refused), out of reach of other advisers and other roles; and the
housing report, with small counts withheld and no figure before the record's history begins."""

from datetime import UTC, date, datetime

import pytest
from sqlmodel import select

from matching import db, housing
from matching.clock import CLOCK
from matching.errors import InvalidInput, StaleVersion
from matching.models import AuditEvent, CareLeaver, CareLeaverCreate
from matching.models.housing import HousingApplication, HousingApplicationBase
from matching.reports import housing as housing_report
from matching.reports.suppression import FEWER_THAN
from tests import factories
from tests.conftest import TEST_TODAY
from tests.test_pages import csrf, sign_in


def _young_person(engine, adviser_id: int | None, **fields) -> int:
    with db.session_scope(db.writer(engine)) as session:
        person = CareLeaver(**CareLeaverCreate.model_validate(factories.care_leaver(
            personal_adviser_id=adviser_id, **fields)).model_dump())
        session.add(person)
        session.flush()
        return person.id


def test_an_application_is_recorded_and_its_outcome_follows(engine, people):
    person = _young_person(engine, people["adviser"].id)
    with db.session_scope(db.writer(engine)) as session:
        made = housing.record(session, person, HousingApplicationBase(applied_on=date(2026, 5, 1), band="B"),
                              today=TEST_TODAY, actor_id=people["adviser"].id)
        made_id, made_version = made.id, made.version
    with db.session_scope(db.writer(engine)) as session:
        housing.change(session, made_id, HousingApplicationBase(applied_on=date(2026, 5, 1), band="B",
                                                                outcome="housed", housed_on=date(2026, 10, 1)),
                       version=made_version, today=TEST_TODAY, actor_id=None)
    with db.session_scope(db.writer(engine)) as session:
        with pytest.raises(StaleVersion):
            housing.change(session, made_id, HousingApplicationBase(applied_on=date(2026, 5, 1)),
                           version=made_version, today=TEST_TODAY, actor_id=None)
        with pytest.raises(InvalidInput) as future:
            housing.record(session, person, HousingApplicationBase(applied_on=date(2026, 11, 24)),
                           today=TEST_TODAY, actor_id=None)
        assert future.value.field == "applied_on"
    with db.session_scope(engine) as session:
        [stored] = housing.applications(session, person)
        assert (stored.outcome, stored.housed_on, stored.version) == ("housed", date(2026, 10, 1), 2)


def _form(page_text: str, **answers) -> dict:
    return {"_csrf_token": csrf(page_text), **answers}


def test_an_adviser_records_and_updates_an_application_in_the_pages(browser, engine, people):
    person = _young_person(engine, people["adviser"].id)
    sign_in(browser, "adviser")
    blank = browser.get(f"/young-people/{person}/housing/new")
    assert blank.status_code == 200 and "Record a housing register application" in blank.text
    refused = browser.post(f"/young-people/{person}/housing/new", data=_form(
        blank.text, **{"applied_on-day": "1", "applied_on-month": "5", "applied_on-year": "2026", "band": "B",
                       "outcome": "housed", "note": "asked in May"}))
    assert refused.status_code == 400 and "govuk-error-summary" in refused.text
    assert "Enter the date they moved in" in refused.text and "asked in May" in refused.text  # input kept
    future = browser.post(f"/young-people/{person}/housing/new", data=_form(
        blank.text, **{"applied_on-day": "30", "applied_on-month": "11", "applied_on-year": "2026",
                       "outcome": "waiting"}))
    assert future.status_code == 400 and "must be today or in the past" in future.text
    saved = browser.post(f"/young-people/{person}/housing/new", data=_form(
        blank.text, **{"applied_on-day": "1", "applied_on-month": "5", "applied_on-year": "2026", "band": "B",
                       "outcome": "waiting"}), follow_redirects=False)
    assert saved.status_code == 303 and saved.headers["location"] == f"/young-people/{person}/housing"
    listed = browser.get(f"/young-people/{person}/housing")
    assert "1 May 2026" in listed.text and "Band B (high need)" in listed.text
    with db.session_scope(engine) as session:
        application = session.exec(select(HousingApplication)).one()
    change = browser.get(f"/housing-applications/{application.id}")
    updated = browser.post(f"/housing-applications/{application.id}", data=_form(
        change.text, version=str(application.version), **{
            "applied_on-day": "1", "applied_on-month": "5", "applied_on-year": "2026", "band": "B",
            "outcome": "housed", "housed_on-day": "2", "housed_on-month": "10", "housed_on-year": "2026"}),
        follow_redirects=False)
    assert updated.status_code == 303
    stale = browser.post(f"/housing-applications/{application.id}", data=_form(
        change.text, version=str(application.version), **{
            "applied_on-day": "1", "applied_on-month": "5", "applied_on-year": "2026", "outcome": "withdrawn"}))
    assert stale.status_code == 400 and "has changed since you read it" in stale.text
    with db.session_scope(engine) as session:
        assert session.get(HousingApplication, application.id).outcome == "housed"
        reads = session.exec(select(AuditEvent).where(AuditEvent.entity_id == person)).all()
        assert {"read", "update"} <= {audit.action for audit in reads}


def test_only_the_young_persons_adviser_and_managers_reach_their_applications(browser, engine, people):
    theirs = _young_person(engine, people["other_adviser"].id)
    sign_in(browser, "adviser")
    assert browser.get(f"/young-people/{theirs}/housing").status_code == 404
    browser.post("/sign-out", data={"_csrf_token": csrf(browser.get("/caseload").text)})
    sign_in(browser, "department")
    assert browser.get(f"/young-people/{theirs}/housing").status_code == 403


def test_the_report_counts_applications_and_withholds_small_numbers(engine, session, people):
    for band, outcome, housed_on in [("A", "housed", date(2025, 9, 1))] * 5 + [("B", "waiting", None)] * 2:
        person = _young_person(engine, None)
        with db.session_scope(db.writer(engine)) as writing:
            housing.record(writing, person, HousingApplicationBase(
                applied_on=date(2025, 6, 1), band=band, outcome=outcome, housed_on=housed_on), today=TEST_TODAY,
                actor_id=None)
    report = housing_report.housing(session, 2026, today=TEST_TODAY)
    table = report.applications
    counts = {(row, column): cell.count for row, cells in zip(table.rows, table.table.cells, strict=True)
              for column, cell in zip(table.columns, cells, strict=True)}
    assert counts["Band A (urgent need)", "Housed"] == 5 and counts["Band B (high need)", "On the register, waiting"] == 2
    shown = {(row, column): cell.shown for row, cells in zip(table.rows, table.table.cells, strict=True)
             for column, cell in zip(table.columns, cells, strict=True)}
    assert shown["Band B (high need)", "On the register, waiting"] == FEWER_THAN
    assert report.housed_in_year.count == 5 and report.median_days_to_housed == 92  # 1 June to 1 September


def test_unsuitable_accommodation_at_each_quarter_end_comes_from_the_history(engine, session):
    with CLOCK.fixed(date(2025, 5, 1)):
        people = [_young_person(engine, None, accommodation="U2") for _ in range(6)]
    with CLOCK.fixed(datetime(2025, 8, 1, 12, tzinfo=UTC)), db.session_scope(db.writer(engine)) as writing:
        for person_id in people[:3]:
            writing.get(CareLeaver, person_id).accommodation = "U1"  # moved somewhere suitable in August
    report = housing_report.housing(session, 2026, today=TEST_TODAY)
    quarters = dict(report.unsuitable)
    assert quarters["April to June 2025"].count == 6 and quarters["July to September 2025"].count == 3
    earlier = housing_report.housing(session, 2025, today=TEST_TODAY)  # before any history was kept
    assert all(cell is None for _, cell in earlier.unsuitable)
