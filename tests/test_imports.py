"""Imports: good files, bad files (nothing written, every problem named), repeats, the SSD layout, the CLI."""

import csv
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from openpyxl import Workbook
from sqlmodel import Session, func, select

from api.cli import main
from matching import db
from matching.imports import ImportFailed, import_file
from matching.models import CareLeaver, Department, Mentor, Opportunity, User, UserCreate
from matching.services.users import create_user

CARE_LEAVERS = [
    {"case_reference": "CL1", "first_name": "Amina", "date_of_birth": "14/03/2006", "sex": "female",
     "ethnicity": "BAFR", "leaving_care_category": "Former relevant", "personal_adviser_email": "pa@x.gov.uk",
     "home_area": "e8", "interests": "music; Cooking", "days_available": "Mon, Wed", "in_touch": "YES",
     "current_activity": "F5", "accommodation": "U", "accommodation_suitable": "suitable",
     "consent_share_mentors": "yes", "right_to_work_confirmed": "Y"},
    {"case_reference": "CL2", "first_name": "Yonas", "date_of_birth": "2004-07-01", "sex": "1",
     "ethnicity": "BOTH", "leaving_care_category": "former_relevant", "former_uasc": "true",
     "in_touch": "NO", "current_activity": "0", "accommodation": "0", "max_travel_km": "12.5"},
]


def write(path: Path, rows: list[dict]) -> Path:
    columns = list(dict.fromkeys(k for row in rows for k in row))
    if path.suffix == ".xlsx":
        book = Workbook()
        sheet = book.active
        sheet.append(columns)
        for row in rows:
            sheet.append([row.get(c) for c in columns])
        book.save(path)
    else:
        with path.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, columns)
            writer.writeheader()
            writer.writerows(rows)
    return path


@pytest.fixture
def adviser(engine) -> int:
    with db.session_scope(db.writer(engine)) as session:
        return create_user(session, UserCreate(email="PA@x.gov.uk", full_name="Pat Adviser", role="adviser")).id


@pytest.fixture
def parks(engine) -> int:
    with db.session_scope(db.writer(engine)) as session:
        department = Department(name="Parks and Open Spaces", code="PARK")
        session.add(department)
        session.flush()
        return department.id


def count(session: Session, table) -> int:
    return session.exec(select(func.count()).select_from(table)).one()


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_good_file_imports_every_row(session, adviser, tmp_path, suffix):
    report = import_file(session, "care-leavers", write(tmp_path / f"people{suffix}", CARE_LEAVERS))
    assert (report.created, report.updated, report.unchanged) == (2, 0, 0)
    amina = session.exec(select(CareLeaver).where(CareLeaver.case_reference == "CL1")).one()
    assert (amina.sex, amina.leaving_care_category, amina.personal_adviser_id) == ("2", "former_relevant", adviser)
    assert (amina.home_area, amina.interests, amina.days_available) == ("E8", ["music", "cooking"], ["mon", "wed"])
    assert amina.accommodation == "U1" and amina.date_of_birth.isoformat() == "2006-03-14"


def test_reimporting_the_same_file_changes_nothing(session, adviser, tmp_path):
    path = write(tmp_path / "people.csv", CARE_LEAVERS)
    import_file(session, "care-leavers", path)
    before = {c.case_reference: (c.version, c.updated_at) for c in session.exec(select(CareLeaver))}
    report = import_file(session, "care-leavers", path)
    session.flush()
    assert (report.created, report.updated, report.unchanged) == (0, 0, 2)
    assert {c.case_reference: (c.version, c.updated_at) for c in session.exec(select(CareLeaver))} == before


def test_a_changed_row_updates_only_that_record(session, adviser, tmp_path):
    import_file(session, "care-leavers", write(tmp_path / "a.csv", CARE_LEAVERS))
    changed = [CARE_LEAVERS[0] | {"in_touch": "REFU", "current_activity": "0", "accommodation": "0"}, CARE_LEAVERS[1]]
    report = import_file(session, "care-leavers", write(tmp_path / "b.csv", changed))
    assert (report.updated, report.unchanged) == (1, 1)


def test_a_file_with_bad_rows_imports_nothing_and_names_every_problem(engine, adviser, tmp_path):
    with db.session_scope(engine) as session:
        import_file(session, "care-leavers", write(tmp_path / "first.csv", CARE_LEAVERS[:1]))
    bad = [
        CARE_LEAVERS[0] | {"first_name": "Changed"},
        {"case_reference": "CL3", "first_name": "Kai", "date_of_birth": "31/02/2005",
         "leaving_care_category": "orphan", "in_touch": "YES", "home_area": "London"},
        CARE_LEAVERS[1] | {"personal_adviser_email": "nobody@x.gov.uk"},
        CARE_LEAVERS[1] | {"first_name": "Twin"},
    ]
    with pytest.raises(ImportFailed) as failure, db.session_scope(engine) as session:
        import_file(session, "care-leavers", write(tmp_path / "bad.csv", bad))
    problems = {(e.row, e.column): e.reason for e in failure.value.errors}
    assert set(problems) == {(3, "date_of_birth"), (3, "leaving_care_category"), (3, "home_area"),
                             (4, "personal_adviser_email"), (5, "case_reference")}
    assert "not a date" in problems[(3, "date_of_birth")] and "orphan" in problems[(3, "leaving_care_category")]
    assert "also appears on row 4" in problems[(5, "case_reference")]
    with Session(engine) as session:
        assert [c.first_name for c in session.exec(select(CareLeaver))] == ["Amina"]


def test_unknown_and_missing_columns_are_reported_on_the_header_row_with_the_rows_problems(session, tmp_path):
    """One run finds everything: a header problem does not hide the rows' problems."""
    path = write(tmp_path / "x.csv", [{"case_ref": "CL9", "first_name": "Jo", "date_of_birth": "soon",
                                       "leaving_care_category": "former_relevant"}])
    with pytest.raises(ImportFailed) as failure:
        import_file(session, "care-leavers", path)
    assert {(e.row, e.column) for e in failure.value.errors} == {
        (1, "case_ref"), (1, "case_reference"), (2, "date_of_birth")}


def test_ssd_extract_with_descriptions_and_codes(session, adviser, tmp_path):
    rows = [
        {"clea_table_id": "1", "clea_person_id": "900001", "clea_care_leaver_eligibility": "Former Relevant",
         "clea_care_leaver_in_touch": "Yes - in touch", "clea_care_leaver_latest_contact": "2026-10-01 00:00:00",
         "clea_care_leaver_accommodation": "Independent living", "clea_care_leaver_accom_suitable": "Suitable",
         "clea_care_leaver_activity": "F5", "clea_pathway_plan_review_date": "2026-08-15",
         "clea_care_leaver_personal_advisor": "Pat Adviser", "clea_care_leaver_allocated_team": "Leaving Care",
         "pers_forename": "Hana", "pers_surname": "Tesfay", "pers_dob": "2005-05-05", "pers_sex": "F",
         "pers_ethnicity": "BAFR", "addr_address_postcode": "N16 7AB"},
        {"clea_person_id": "900002", "clea_care_leaver_eligibility": "Relevant", "clea_care_leaver_in_touch": "NO",
         "clea_care_leaver_accommodation": "0", "clea_care_leaver_activity": "0",
         "pers_forename": "Leon", "pers_dob": "2009-01-01", "pers_sex": "M"},
    ]
    report = import_file(session, "care-leavers", write(tmp_path / "ssd_care_leavers.csv", rows))
    assert report.layout == "ssd" and report.created == 2
    hana = session.exec(select(CareLeaver).where(CareLeaver.case_reference == "900001")).one()
    assert (hana.in_touch, hana.accommodation, hana.sex, hana.home_area) == ("YES", "U1", "2", "N16")
    assert hana.personal_adviser_id == adviser and hana.last_contact_on.isoformat() == "2026-10-01"
    # A later extract without the person columns updates the case fields of people already known.
    later = [{"clea_person_id": "900001", "clea_care_leaver_eligibility": "Former Relevant",
              "clea_care_leaver_in_touch": "REFU", "clea_care_leaver_accommodation": "0",
              "clea_care_leaver_activity": "0"}]
    assert import_file(session, "care-leavers", write(tmp_path / "later.csv", later)).updated == 1
    assert hana.in_touch == "REFU" and hana.first_name == "Hana"


def test_ssd_row_for_an_unknown_person_needs_the_person_columns(session, tmp_path):
    rows = [{"clea_person_id": "900003", "clea_care_leaver_eligibility": "Former Relevant",
             "clea_care_leaver_in_touch": "Maybe", "clea_care_leaver_accommodation": "Penthouse",
             "clea_care_leaver_accom_suitable": "suitable"}]
    with pytest.raises(ImportFailed) as failure:
        import_file(session, "care-leavers", write(tmp_path / "ssd.csv", rows))
    assert {(e.row, e.column) for e in failure.value.errors} == {
        (2, "clea_care_leaver_in_touch"), (2, "clea_care_leaver_accommodation"), (2, "pers_forename"),
        (2, "pers_dob")}


def test_mentors_import_creates_their_accounts_and_upserts_on_email(session, parks, tmp_path):
    rows = [{"email": "Dana.Director@x.gov.uk", "full_name": "Dana Director", "department_code": "park",
             "job_title": "Director of Parks", "expertise": "gardening;leadership", "capacity": "2",
             "availability": "tue;thu", "office_area": "N16", "dbs_checked_on": "01/09/2025"}]
    path = write(tmp_path / "mentors.xlsx", rows)
    assert import_file(session, "mentors", path).created == 1
    assert import_file(session, "mentors", path).unchanged == 1
    user = session.exec(select(User).where(User.email == "dana.director@x.gov.uk")).one()
    mentor = session.exec(select(Mentor)).one()
    assert (user.role, mentor.user_id, mentor.department_id, mentor.capacity) == ("mentor", user.id, parks, 2)


def test_opportunities_import_checks_departments_and_pay(session, parks, tmp_path):
    rows = [{"reference": "P-1", "department_code": "PARK", "kind": "Apprenticeship", "title": "Tree surgeon apprentice",
             "pay_per_hour": "£8.00", "places": "2", "ring_fenced": "yes"},
            {"reference": "P-2", "department_code": "NOPE", "kind": "job", "title": "Gardener", "places": "none"}]
    with pytest.raises(ImportFailed) as failure:
        import_file(session, "opportunities", write(tmp_path / "o.csv", rows))
    assert {(e.row, e.column) for e in failure.value.errors} == {(3, "department_code"), (3, "places")}
    assert import_file(session, "opportunities", write(tmp_path / "o2.csv", rows[:1])).created == 1
    assert session.exec(select(Opportunity)).one().pay_pence_per_hour == 800


def test_cli_import_prints_row_and_column_and_exits_non_zero(settings, engine, tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    from matching.settings import get_settings

    get_settings.cache_clear()
    bad = write(tmp_path / "bad.csv", [{"case_reference": "CL5", "first_name": "A", "date_of_birth": "soon",
                                        "leaving_care_category": "former_relevant"}])
    result = CliRunner().invoke(main, ["import", "care-leavers", str(bad)])
    assert result.exit_code == 1
    assert "bad.csv: row 2, column date_of_birth: 'soon' is not a date" in result.output
    assert "nothing was imported" in result.output
    good = write(tmp_path / "good.csv", [CARE_LEAVERS[1]])
    result = CliRunner().invoke(main, ["import", "care-leavers", str(good)])
    assert result.exit_code == 0 and "1 created" in result.output
    with Session(engine) as session:
        assert count(session, CareLeaver) == 1
    assert planned_rows(engine, "care_leavers") == 1  # statistics refreshed, so queries are planned for the data
    get_settings.cache_clear()


def test_a_file_named_xlsx_that_is_no_workbook_is_one_line_from_the_command(settings, tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    from matching.settings import get_settings

    get_settings.cache_clear()
    fake = tmp_path / "people.xlsx"
    fake.write_text("case_reference,first_name\nCL5,A\n")  # a CSV renamed
    result = CliRunner().invoke(main, ["import", "care-leavers", str(fake)])
    assert result.exit_code == 1 and "Traceback" not in result.output and result.exception.__class__ is SystemExit
    assert "people.xlsx is not an Excel workbook" in result.output
    get_settings.cache_clear()


def planned_rows(engine, table: str) -> float | None:
    """How many rows the query planner's statistics say `table` has (None when it has none)."""
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            stat = conn.execute(sa.text("SELECT stat FROM sqlite_stat1 WHERE tbl = :t"), {"t": table}).scalar()
            return float(stat.split()[0]) if stat else None
        return conn.execute(sa.text("SELECT reltuples FROM pg_class WHERE relname = :t"), {"t": table}).scalar()
