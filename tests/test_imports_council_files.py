"""Imports of the files councils really export: their wording, dates, headers, encodings, broken cells, size,
and who ran the import. Each file is written here as a council's case system or Excel would write it."""

import csv
import tracemalloc
import zipfile
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import Workbook
from sqlmodel import Session, select

from api.cli import main
from matching import db, oversight
from matching.imports import ImportFailed, import_file, readers
from matching.imports.convert import day
from matching.models import AuditEvent, CareLeaver, Department, Mentor, User, UserCreate
from matching.services.users import create_user

BASE = {"case_reference": "CL1", "first_name": "Amina", "date_of_birth": "14/03/2006",
        "leaving_care_category": "Former relevant"}


def write(path: Path, header: list[str], rows: list[list], encoding: str = "utf-8") -> Path:
    """A CSV or an XLSX (by the suffix) with exactly this header and these cells."""
    if path.suffix == ".xlsx":
        book = Workbook()
        sheet = book.active
        for cells in [header, *rows]:
            sheet.append(cells)
        book.save(path)
    else:
        with path.open("w", newline="", encoding=encoding) as handle:
            csv.writer(handle).writerows([header, *rows])
    return path


def write_rows(path: Path, rows: list[dict]) -> Path:
    columns = list(dict.fromkeys(k for row in rows for k in row))
    return write(path, columns, [[row.get(c, "") for c in columns] for row in rows])


def problems(session: Session, kind: str, path: Path) -> dict[tuple[int, str], str]:
    with pytest.raises(ImportFailed) as failure:
        import_file(session, kind, path)
    return {(e.row, e.column): e.reason for e in failure.value.errors}


def person(session: Session, reference: str = "CL1") -> CareLeaver:
    return session.exec(select(CareLeaver).where(CareLeaver.case_reference == reference)).one()


@pytest.fixture
def adviser(engine) -> int:
    with db.session_scope(db.writer(engine)) as session:
        return create_user(session, UserCreate(email="pa@x.gov.uk", full_name="Pat Adviser", role="adviser")).id


# --- Values councils write ---------------------------------------------------------------------------------

@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_the_wording_of_the_dfe_the_census_and_the_ssd_is_read_as_codes(session, tmp_path, suffix):
    rows = [
        BASE | {"disability": "Yes", "current_activity": "Not in education training or employment, owing to other "
                "reasons", "accommodation": "Independent living", "accommodation_suitable":
                "Accommodation considered suitable", "ethnicity": "Black or Black British - African", "sex": "U",
                "former_uasc": "Not known", "in_touch": "Yes - in touch"},
        BASE | {"case_reference": "CL2", "disability": "N", "current_activity": "Young person engaged full time "
                "in an apprenticeship", "accommodation": "Supported lodgings", "accommodation_suitable":
                "Accommodation considered unsuitable", "ethnicity": "Asian/Asian British: Indian", "sex": "F",
                "former_uasc": "Y"},
        BASE | {"case_reference": "CL3", "disability": "Not known", "ethnicity": "White - English, Welsh, Scottish, "
                "Northern Irish or British", "sex": "Male", "current_activity": "NEET - pregnancy or parenting"},
        BASE | {"case_reference": "CL4", "disability": "No", "ethnicity": "Mixed/Multiple ethnic groups - White "
                "and Black Caribbean"},
    ]
    assert import_file(session, "care-leavers", write_rows(tmp_path / f"council{suffix}", rows)).created == 4
    got = {c.case_reference: (c.disability, c.current_activity, c.accommodation, c.ethnicity, c.sex, c.former_uasc)
           for c in session.exec(select(CareLeaver))}
    assert got == {"CL1": ("yes", "G5", "U1", "BAFR", None, False), "CL2": ("no", "F4", "E2", "AIND", "2", True),
                   "CL3": ("not_known", "G6", None, "WBRI", "1", False), "CL4": ("no", None, None, "MWBC", None, False)}


def test_a_refused_value_says_what_is_accepted_against_its_own_column(session, tmp_path):
    rows = [BASE | {"current_activity": "Busy", "accommodation": "U", "accommodation_suitable": "Maybe",
                    "ethnicity": "Martian", "disability": "Perhaps"}]
    found = problems(session, "care-leavers", write_rows(tmp_path / "bad.csv", rows))
    assert set(found) == {(2, "current_activity"), (2, "accommodation_suitable"), (2, "ethnicity"),
                          (2, "disability")}  # the suitability's problem, not the accommodation's
    assert "accepted: F1 (Full time in higher education), P1" in found[(2, "current_activity")]
    assert "accepted: 1 (Accommodation considered suitable), 2" in found[(2, "accommodation_suitable")]
    assert "accepted: yes (Disabled), no (Not disabled), not_known" in found[(2, "disability")]
    ethnicity = found[(2, "ethnicity")]  # twenty codes: shortened, and says where the rest are
    assert "WBRI (White British)" in ethnicity and "NOBT" not in ethnicity and "docs/imports.md" in ethnicity
    assert len(ethnicity) < 400


def test_the_ssd_suitability_column_is_blamed_for_its_own_value(session, tmp_path):
    rows = [{"clea_person_id": "900001", "clea_care_leaver_eligibility": "Former Relevant",
             "clea_care_leaver_accommodation": "Independent living", "clea_care_leaver_accom_suitable": "Fine",
             "pers_forename": "Hana", "pers_dob": "2005-05-05"}]
    assert set(problems(session, "care-leavers", write_rows(tmp_path / "ssd.csv", rows))) == {
        (2, "clea_care_leaver_accom_suitable")}


# --- Dates ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["2005-03-04", "2005-03-04 00:00:00.000", "2005-03-04T10:15:00", "2005-03-04T10:15Z",
                                  "04/03/2005", "04/03/05", "4 Mar 2005", "04-Mar-2005", "04.03.2005", "4 March 2005",
                                  "04-03-2005"])
def test_every_way_a_council_writes_a_date(text):
    assert day(text) == date(2005, 3, 4)


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_ssd_datetimes_and_the_ssd_none_date(session, adviser, tmp_path, suffix):
    rows = [{"clea_person_id": "900001", "clea_care_leaver_eligibility": "Former Relevant",
             "clea_care_leaver_latest_contact": "2026-11-01 00:00:00.000",
             "clea_pathway_plan_review_date": "1900-01-01 00:00:00.000", "clea_care_leaver_activity": "0",
             "clea_care_leaver_accommodation": "0", "clea_care_leaver_in_touch": "NO",
             "pers_forename": "Hana", "pers_dob": "2005-05-05 00:00:00.000", "pers_sex": "U"}]
    import_file(session, "care-leavers", write_rows(tmp_path / f"ssd{suffix}", rows))
    hana = person(session, "900001")
    assert (hana.last_contact_on, hana.pathway_plan_reviewed_on, hana.date_of_birth, hana.sex) == (
        date(2026, 11, 1), None, date(2005, 5, 5), None)


def test_impossible_dates_are_refused_with_the_reason(session, tmp_path):
    # The tests' clock says 23 November 2026.
    rows = [BASE | {"date_of_birth": "2031-01-01", "last_contact_on": "2030-06-01"},
            BASE | {"case_reference": "CL2", "date_of_birth": "1900-01-01"},
            BASE | {"case_reference": "CL3", "date_of_birth": "2016-02-01", "last_contact_on": "2026-11-23"}]
    found = problems(session, "care-leavers", write_rows(tmp_path / "dates.csv", rows))
    assert set(found) == {(2, "date_of_birth"), (2, "last_contact_on"), (3, "date_of_birth"), (4, "date_of_birth")}
    assert "in the future" in found[(2, "date_of_birth")] and "in the future" in found[(2, "last_contact_on")]
    assert "before 1990" in found[(3, "date_of_birth")] and "younger than 14" in found[(4, "date_of_birth")]


@pytest.mark.parametrize(("serial", "expected"), [
    ("1", date(1900, 1, 1)), ("59", date(1900, 2, 28)), ("61", date(1900, 3, 1)),  # either side of 29 Feb 1900
    ("45000", date(2023, 3, 15)), ("38415.75", date(2005, 3, 4)), ("73050", date(2099, 12, 31))])
def test_an_excel_date_number_is_read_in_the_1900_date_system(serial, expected):
    assert day(serial) == expected


def test_date_numbers_in_a_workbook_are_read_as_excel_dates(session, tmp_path):
    # A General-formatted number, a text cell holding the number, a date and time as a fraction of a day.
    header = ["case_reference", "first_name", "date_of_birth", "leaving_care_category", "last_contact_on",
              "pathway_plan_reviewed_on"]
    import_file(session, "care-leavers", write(tmp_path / "numbers.xlsx", header,
                                               [["CL1", "Amina", 38415, "Former relevant", "46300", 46000.5]]))
    amina = person(session)
    assert (amina.date_of_birth, amina.last_contact_on, amina.pathway_plan_reviewed_on) == (
        date(2005, 3, 4), date(2026, 10, 5), date(2025, 12, 9))


def test_date_numbers_that_are_no_real_day_are_refused_with_row_and_column(session, tmp_path):
    header = ["case_reference", "first_name", "date_of_birth", "leaving_care_category", "last_contact_on",
              "pathway_plan_reviewed_on"]
    rows = [["CL1", "Amina", 60, "Former relevant", None, None],
            ["CL2", "Kai", 38415, "Former relevant", 0, None],
            ["CL3", "Ola", 38415, "Former relevant", None, 80000]]
    found = problems(session, "care-leavers", write(tmp_path / "numbers.xlsx", header, rows))
    assert set(found) == {(2, "date_of_birth"), (3, "last_contact_on"), (4, "pathway_plan_reviewed_on")}
    assert "Excel's 29 February 1900, a day that did not exist" in found[(2, "date_of_birth")]
    assert "before 1900" in found[(3, "last_contact_on")]
    assert "11 January 2119, after 2099" in found[(4, "pathway_plan_reviewed_on")]
    assert session.exec(select(CareLeaver)).first() is None


# --- Headers ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_headers_as_people_type_them(session, adviser, tmp_path, suffix):
    header = ["Case  Reference", "First-Name", "Date\u00a0of Birth", " LEAVING CARE CATEGORY ", "Personal Advisor Email",
              "Days Available"]
    path = write(tmp_path / f"typed{suffix}", header, [["CL1", "Amina", "14/03/2006", "Former relevant", "PA@x.gov.uk",
                                                        "Mon-Fri"]])
    assert import_file(session, "care-leavers", path).created == 1
    amina = person(session)
    assert (amina.personal_adviser_id, amina.days_available) == (adviser, ["mon", "tue", "wed", "thu", "fri"])


def test_data_no_column_names_is_refused_not_dropped(session, tmp_path):
    header = ["case_reference", "first_name", "date_of_birth", "leaving_care_category", "First Name", ""]
    rows = [["CL1", "Amina", "14/03/2006", "former_relevant", "Amy", ""],
            ["CL2", "Kai", "14/03/2006", "former_relevant", "", "a note", "spilled"],
            ["CL3", "Jo", "14/03/2006", "former_relevant", "", "another note"]]
    found = problems(session, "care-leavers", write(tmp_path / "shifted.csv", header, rows))
    assert set(found) == {(1, "First Name"), (2, "column E"), (3, "column F"), (3, "column G")}
    assert "appears twice (columns B and E)" in found[(1, "First Name")]
    assert "header is empty or repeated" in found[(3, "column F")]  # once per column, on its first row
    assert "more cells than the header" in found[(3, "column G")]


# --- Encodings --------------------------------------------------------------------------------------------

def test_a_windows_1252_csv_is_read_as_written(session, tmp_path):
    path = write(tmp_path / "excel.csv", list(BASE) + ["aspirations"],
                 [[*BASE.values(), "Zoë and Seán – both"]], encoding="cp1252")
    assert import_file(session, "care-leavers", path).created == 1
    assert person(session).aspirations == "Zoë and Seán – both"


def test_unreadable_text_is_explained_for_a_data_officer(session, tmp_path):
    path = tmp_path / "garbled.csv"
    path.write_bytes(b"case_reference,first_name\nCL1,\x81\x8d\n")  # bytes no text encoding Excel uses has
    found = problems(session, "care-leavers", path)
    assert set(found) == {(0, "file")}
    assert "neither UTF-8 nor Windows-1252" in found[(0, "file")] and "codec" not in found[(0, "file")]
    utf16 = tmp_path / "unicode.csv"
    utf16.write_text("case_reference,first_name\nCL1,Zoë\n", encoding="utf-16")
    assert "UTF-16" in problems(session, "care-leavers", utf16)[(0, "file")]


# --- Cells that used to crash -----------------------------------------------------------------------------

def test_a_huge_cell_and_a_nul_byte_are_refused_with_row_and_column(session, tmp_path):
    nul = write(tmp_path / "nul.csv", list(BASE), [["CL1", "Am\x00ina", "14/03/2006", "former_relevant"],
                                                    ["C\x00L2", "Kai", "14/03/2006", "former_relevant"]])
    found = problems(session, "care-leavers", nul)  # the key's NUL never reaches the database's query
    assert set(found) == {(2, "first_name"), (3, "case_reference")} and "NUL" in found[(3, "case_reference")]
    huge = write(tmp_path / "huge.csv", list(BASE), [list(BASE.values()), ["CL2", "x" * 140_000, "", ""]])
    found = problems(session, "care-leavers", huge)
    assert set(found) == {(3, "file")} and "longer than 128 KiB" in found[(3, "file")]
    assert session.exec(select(CareLeaver)).first() is None


def test_a_formula_with_no_saved_value_is_refused_naming_the_cell(session, tmp_path):
    # openpyxl, like many export tools, saves formulas without their values.
    path = write(tmp_path / "formula.xlsx", list(BASE), [["CL1", '=CONCAT("Am","ina")', "14/03/2006", "former_relevant"]])
    found = problems(session, "care-leavers", path)
    assert set(found) == {(2, "first_name")} and "cell B2 is a formula with no saved value" in found[(2, "first_name")]


# --- Memory and size --------------------------------------------------------------------------------------

def claim_the_whole_sheet(path: Path) -> Path:
    """Rewrite the sheet's dimension to A1:XFD1048576, as some exporters do."""
    claimed = path.with_name("claimed.xlsx")
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(claimed, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename.startswith("xl/worksheets/sheet"):
                data = data.replace(b'<dimension ref="A1:D201" />', b'<dimension ref="A1:XFD1048576" />')
                assert b"XFD1048576" in data
            target.writestr(item, data)
    return claimed


def test_a_sheet_claiming_every_cell_is_read_at_its_real_size(session, tmp_path):
    rows = [[f"CL{n}", "Amina", "14/03/2006", "former_relevant"] for n in range(200)]
    path = claim_the_whole_sheet(write(tmp_path / "wide.xlsx", list(BASE), rows))
    with readers.open_sheet(path) as (header, lines):
        assert len(header) == 4 and max(len(line.cells) for line in lines) == 4
    tracemalloc.start()
    try:
        assert import_file(session, "care-leavers", path).created == 200
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 40 * 1024 * 1024  # a padded sheet would be 16,384 cells wide on every row


def test_a_file_of_nothing_but_problems_lists_the_first_thousand(session, tmp_path, monkeypatch):
    from matching.imports import load

    monkeypatch.setattr(load, "ERROR_LIMIT", 2)
    rows = [[f"CL{n}", "Amina", "soon", "former_relevant"] for n in range(5)]
    with pytest.raises(ImportFailed) as failure:
        import_file(session, "care-leavers", write(tmp_path / "wrong.csv", list(BASE), rows))
    assert [(e.row, e.column) for e in failure.value.errors] == [(0, "file"), (2, "date_of_birth"),
                                                                  (3, "date_of_birth")]
    assert "more than 2 problems" in failure.value.errors[0].reason


def test_a_file_over_the_row_limit_is_refused(session, tmp_path, monkeypatch):
    monkeypatch.setattr(readers, "ROW_LIMIT", 3)
    rows = [[f"CL{n}", "Amina", "14/03/2006", "former_relevant"] for n in range(5)]
    found = problems(session, "care-leavers", write(tmp_path / "long.csv", list(BASE), rows))
    assert (5, "file") in found and "more than 3 rows" in found[(5, "file")]
    assert session.exec(select(CareLeaver)).first() is None


# --- Who changed what, and whose accounts -----------------------------------------------------------------

def audit_rows(session: Session) -> set[tuple]:
    return {(e.actor_id, e.action, e.entity, e.entity_id, e.route) for e in session.exec(select(AuditEvent))}


def test_every_record_an_import_creates_or_changes_is_audited_with_who_ran_it(engine, tmp_path):
    with db.session_scope(db.writer(engine)) as session:
        manager = create_user(session, UserCreate(email="m@x.gov.uk", full_name="Mo Manager", role="manager")).id
        session.add(Department(name="Parks", code="PARK"))
    rows = [BASE, BASE | {"case_reference": "CL2", "first_name": "Kai"}]
    with db.session_scope(db.writer(engine)) as session:
        oversight.import_upload(session, "care-leavers", "people.csv",
                                write_rows(tmp_path / "a.csv", rows).read_bytes(), actor_id=manager)
    changed = [rows[0] | {"first_name": "Amy"}, rows[1]]
    with db.session_scope(db.writer(engine)) as session:
        import_file(session, "care-leavers", write_rows(tmp_path / "b.csv", changed), actor_id=manager)
    mentors = [{"email": "d@x.gov.uk", "full_name": "Dana", "department_code": "PARK", "job_title": "Gardener"}]
    with db.session_scope(db.writer(engine)) as session:
        import_file(session, "mentors", write_rows(tmp_path / "m.csv", mentors), actor_id=manager)
    with Session(engine) as session:
        ids = {c.case_reference: c.id for c in session.exec(select(CareLeaver))}
        dana = session.exec(select(User).where(User.email == "d@x.gov.uk")).one().id
        mentor = session.exec(select(Mentor)).one().id
        assert audit_rows(session) == {
            (manager, "create", "care_leaver", ids["CL1"], "/imports"),
            (manager, "create", "care_leaver", ids["CL2"], "/imports"),
            (manager, "update", "care_leaver", ids["CL1"], "springboard import"),  # CL2 did not change
            (manager, "create", "user", dana, "springboard import"),
            (manager, "create", "mentor", mentor, "springboard import")}


def test_the_command_names_who_ran_it_and_refuses_anyone_else(settings, engine, tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    from matching.settings import get_settings

    get_settings.cache_clear()
    with db.session_scope(db.writer(engine)) as session:
        manager = create_user(session, UserCreate(email="m@x.gov.uk", full_name="Mo Manager", role="manager")).id
        create_user(session, UserCreate(email="a@x.gov.uk", full_name="Al Adviser", role="adviser"))
    path = write_rows(tmp_path / "people.csv", [BASE])
    for who in ("a@x.gov.uk", "nobody@x.gov.uk"):
        result = CliRunner().invoke(main, ["import", "care-leavers", str(path), "--as", who])
        assert result.exit_code == 2 and "--as" in result.output and "Traceback" not in result.output
    result = CliRunner().invoke(main, ["import", "care-leavers", str(path), "--as", "M@x.gov.uk"])
    assert result.exit_code == 0, result.output
    with Session(engine) as session:
        assert audit_rows(session) == {(manager, "create", "care_leaver", person(session).id,
                                        "springboard import care-leavers")}
    get_settings.cache_clear()


def test_a_mentors_import_never_takes_over_another_roles_account(engine, tmp_path):
    with db.session_scope(db.writer(engine)) as session:
        admin = create_user(session, UserCreate(email="boss@x.gov.uk", full_name="Bo Admin", role="admin")).id
        session.add(Department(name="Parks", code="PARK"))
    rows = [{"email": "Boss@x.gov.uk", "full_name": "Mallory", "department_code": "PARK", "job_title": "Gardener"},
            {"email": "d@x.gov.uk", "full_name": "Dana", "department_code": "PARK", "job_title": "Gardener"}]
    with pytest.raises(ImportFailed) as failure, db.session_scope(db.writer(engine)) as session:
        import_file(session, "mentors", write_rows(tmp_path / "m.csv", rows))
    assert [(e.row, e.column) for e in failure.value.errors] == [(2, "email")]
    assert "existing administrator account" in failure.value.errors[0].reason
    with Session(engine) as session:
        boss = session.get(User, admin)
        assert (boss.full_name, boss.role) == ("Bo Admin", "admin")
        assert session.exec(select(Mentor)).first() is None
