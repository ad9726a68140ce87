"""The statutory care-leaver return (SSDA903 OC3): who is in it on the boundary days, IN_TOUCH from the contacts
in each birthday's window, the DfE's validation rules for these columns (with the validator's own test cases),
the page that lists failing rows before the file is produced, the file, its audit rows, and the CLI.

The year throughout is the collection year 1 April 2025 to 31 March 2026 (`--year 2026`)."""

import csv
import io
from datetime import date

import pytest
from click.testing import CliRunner
from markupsafe import escape
from sqlmodel import select

from matching import vocab
from matching.clock import CLOCK
from matching.models import AuditEvent
from matching.reports import oc3
from matching.reports.oc3 import CollectionYear, Oc3Row
from tests import factories
from tests.conftest import TEST_TODAY
from tests.test_pages import sign_in

YEAR = CollectionYear(2026)

# The published validation rules for these columns, written again here from the validator's code
# (data-to-insight/csc-validator-be-903, lac_validator/rules/...), to check the file the service produces.
VALID_IN_TOUCH = {"YES", "NO", "DIED", "REFU", "NREQ", "RHOM"}
VALID_ACTIV = {"F1", "P1", "F2", "P2", "F4", "P4", "F5", "P5", "G4", "G5", "G6", "0"}
VALID_ACCOM = {"B1", "B2", "C1", "C2", "D1", "D2", "E1", "E2", "G1", "G2", "H1", "H2", "K1", "K2", "R1", "R2", "S2",
               "T1", "T2", "U1", "U2", "V1", "V2", "W1", "W2", "X2", "Y1", "Y2", "Z1", "Z2", "0"}


def published_rule_failures(line: dict[str, str], start: date, end: date) -> list[str]:
    """The codes of the rules one line of an OC3 file breaks, as the DfE validator checks them."""
    day, month, year = map(int, line["DOB"].split("/"))
    born = date(year, month, day)

    def turns(age):
        try:
            return born.replace(year=born.year + age)
        except ValueError:
            return date(born.year + age, 3, 1)

    activ, accom, in_touch = line["ACTIV"], line["ACCOM"], line["IN_TOUCH"]
    failed = [code for code, bad in [
        ("131", in_touch not in VALID_IN_TOUCH), ("132", activ not in VALID_ACTIV), ("133", accom not in VALID_ACCOM),
        ("153", len({value == "" for value in (in_touch, activ, accom)}) > 1),
        ("344", in_touch in {"DIED", "RHOM"} and (activ != "0" or accom != "0")),
        ("345", in_touch == "YES" and (activ == "0" or accom == "0")),
        ("391", turns(17) > end or turns(22) <= start),
        ("3001", start <= turns(17) <= end and accom in {"Z1", "Z2"}),
        ("347", accom.startswith("T") and turns(18) > start)] if bad]
    return failed


def test_the_rules_codes_are_the_vocabularies_codes():
    assert set(oc3.IN_TOUCH_CODES) == set(vocab.IN_TOUCH) == VALID_IN_TOUCH
    assert set(oc3.ACTIV_CODES) == set(vocab.ACTIVITY) == VALID_ACTIV
    assert set(oc3.ACCOM_CODES) == set(vocab.ACCOMMODATION) == VALID_ACCOM
    assert oc3.COLUMNS == ("CHILD", "DOB", "IN_TOUCH", "ACTIV", "ACCOM")  # the validator's config.py, in order


# The rules, on rows built by hand (the validator's own test cases where it has them) ---------------------

def row(child="A", dob=date(2006, 6, 1), in_touch="YES", activ="F2", accom="U1", looked_after=False) -> Oc3Row:
    return Oc3Row(care_leaver_id=hash(child) % 10_000, name=child, child=child, dob=dob, birthday=dob, age=19,
                  in_touch=in_touch, activ=activ, accom=accom, looked_after=looked_after)


def codes(rows, year=YEAR, last=None) -> list[tuple[str, str]]:
    return [(failure.row.child, failure.rule.code) for failure in oc3.validate(rows, year, last)]


def test_rule_344_is_the_validators_test_case():
    rows = [row("A", in_touch="DIED", activ="0", accom="0"), row("C", in_touch="RHOM", activ="XXX", accom="0"),
            row("E", in_touch="DIED", activ="XXX", accom="XXX"), row("F", in_touch="RHOM", activ=None, accom="0")]
    assert [child for child, code in codes(rows) if code == "344"] == ["C", "E", "F"]


def test_rule_345_is_the_validators_test_case():
    rows = [row("A", in_touch="NO", activ=None, accom="0"), row("B", in_touch="YES", activ="0", accom=None),
            row("C", in_touch="YES", activ="F2", accom="0"), row("E", in_touch="YES", activ="F2", accom="U1")]
    assert [child for child, code in codes(rows) if code == "345"] == ["B", "C"]


def test_rule_153_all_three_coded_or_all_blank():
    rows = [row("A"), row("B", in_touch=None, activ=None, accom=None), row("C", activ=None, accom=None),
            row("D", in_touch=None, accom=None), row("E", in_touch=None, activ=None), row("F", accom=None)]
    assert [child for child, code in codes(rows) if code == "153"] == ["C", "D", "E", "F"]


def test_rule_391_at_the_edges_of_the_year():
    old = CollectionYear(2018)  # the validator's case: collection ending 31/03/2018
    rows = [row("A", dob=date(2001, 1, 1)), row("B", dob=date(2016, 1, 1)), row("D", dob=date(2002, 1, 1)),
            row("F", dob=date(2001, 4, 1)), row("G", dob=date(1995, 4, 1)), row("H", dob=date(1995, 4, 2))]
    # B is 2; D turns 17 on 1 January 2019; F turns 17 on 1 April 2018 (a day late); G was 22 all year;
    # H turned 22 on 2 April 2017, so was 21 on the year's first day.
    assert [child for child, code in codes(rows, old) if code == "391"] == ["B", "D", "F", "G"]


def test_rule_3001_no_former_foster_carers_at_17_the_validators_test_case():
    year = CollectionYear(2021)  # collection 01/04/2020 to 31/03/2021
    rows = [row("101", dob=date(2004, 3, 16), accom="Z1"), row("102", dob=date(2003, 9, 23), accom="Z2"),
            row("103", dob=date(2006, 12, 31), accom="Z1")]
    # 101 and 102 turn 17 in the year (the validator expects rows 0 and 1); 103 turns 17 in 2023.
    assert [child for child, code in codes(rows, year) if code == "3001"] == ["101", "102"]


def test_rule_347_no_foyer_under_18_the_validators_test_case():
    year = CollectionYear(2021)  # collection start 01/04/2020
    rows = [row("child1", dob=date(1999, 1, 1), accom="T1"), row("child4", dob=date(2002, 4, 2), accom="T1"),
            row("child5", dob=date(2002, 4, 1), accom="T2"), row("other", dob=date(2002, 4, 2), accom="U1")]
    assert [child for child, code in codes(rows, year) if code == "347"] == ["child4"]


def test_rule_348_reported_as_died_last_year_the_validators_test_case():
    rows = [row("1", in_touch="DIED", activ="0", accom="0"), row("2", in_touch="DIED", activ="0", accom="0"),
            row("3", in_touch="NO", activ="0", accom="0"), row("4", in_touch="NO", activ="0", accom="0")]
    last = {"1": "DIED", "2": "NO", "3": "DIED", "4": "YES"}
    assert [child for child, code in codes(rows, last=last) if code == "348"] == ["3"]


def test_codes_outside_the_lists_fail_131_132_133_and_1007_refuses_the_still_looked_after():
    rows = [row("A", in_touch="Yes"), row("B", activ="F3"), row("C", accom="S1"), row("D", accom="X1"),
            row("E", dob=date(2008, 6, 1), looked_after=True), row("F", dob=date(2008, 6, 1))]
    assert codes(rows) == [("A", "131"), ("B", "132"), ("C", "133"), ("D", "133"), ("E", "1007")]


# The rows, from the records and their history --------------------------------------------------------------

def person(client, born: date, **fields) -> dict:
    made = client.post("/api/v1/care-leavers", json=factories.care_leaver(date_of_birth=born.isoformat(), **fields))
    assert made.status_code == 201, made.text
    return made.json()


def contact(client, who: dict, on: date) -> None:
    answer = client.post(f"/api/v1/care-leavers/{who['id']}/contacts", json={"contact_on": on.isoformat(),
                                                                            "kind": "visit"})
    assert answer.status_code in {200, 201}, answer.text


def died(client, who: dict, on: date) -> None:
    CLOCK.fix(on)
    current = client.get(f"/api/v1/care-leavers/{who['id']}").json()
    closed = client.post(f"/api/v1/care-leavers/{who['id']}/close",
                         json={"version": current["version"], "reason_code": "died"})
    assert closed.status_code == 200, closed.text
    CLOCK.fix(TEST_TODAY)


@pytest.fixture
def cohort(client):
    """Care leavers on the year's boundary days, with contacts on their windows' boundary days."""
    found = {}
    # 17 on the year's first day; a contact exactly 3 months before the birthday: in touch.
    found["first_day"] = person(client, date(2008, 4, 1), leaving_care_category="relevant",
                                current_activity="F2", accommodation="D1")
    contact(client, found["first_day"], date(2025, 1, 1))
    # 21 on the year's last day; a contact exactly 1 month after: in touch.
    found["last_day"] = person(client, date(2005, 3, 31), current_activity="F5", accommodation="U1")
    contact(client, found["last_day"], date(2026, 4, 30))
    # 18 on 31 March 2026; contacts a day before the window opens and a day after it shuts: not in touch.
    found["missed"] = person(client, date(2008, 3, 31), in_touch="NO", current_activity="0", accommodation="0")
    contact(client, found["missed"], date(2025, 12, 30))
    contact(client, found["missed"], date(2026, 5, 1))
    # Born on 29 February: 18 on 1 March 2026; a contact 3 months before that day.
    found["leap"] = person(client, date(2008, 2, 29), current_activity="G5", accommodation="E1")
    contact(client, found["leap"], date(2025, 12, 1))
    # Turned 19 on 15 June 2025, having died on 1 May 2025.
    found["died"] = person(client, date(2006, 6, 15))
    died(client, found["died"], date(2025, 5, 1))
    # Outside the year by a day at each end: 17 on 1 April 2026, 21 on 31 March 2025.
    found["too_young"] = person(client, date(2009, 4, 1), leaving_care_category="relevant")
    found["too_old"] = person(client, date(2004, 3, 31))
    # Not in the OC3 cohort: still looked after, or qualifying.
    found["eligible"] = person(client, date(2008, 9, 1), leaving_care_category="eligible")
    found["qualifying"] = person(client, date(2006, 9, 1), leaving_care_category="qualifying")
    return found


EXPECTED = {  # CHILD: (DOB, IN_TOUCH, ACTIV, ACCOM), worked out by hand from the cohort above
    "first_day": ("01/04/2008", "YES", "F2", "D1"), "last_day": ("31/03/2005", "YES", "F5", "U1"),
    "missed": ("31/03/2008", "NO", "0", "0"), "leap": ("29/02/2008", "YES", "G5", "E1"),
    "died": ("15/06/2006", "DIED", "0", "0"),
}


def test_the_return_holds_the_boundary_birthdays_with_in_touch_from_each_window(cohort, session):
    result = oc3.build_return(session, 2026, today=TEST_TODAY)
    by_child = {row.child: row for row in result.rows}
    references = {key: who["case_reference"] for key, who in cohort.items()}
    keys = {reference: key for key, reference in references.items()}
    assert {keys[child]: tuple(row.columns()[c] for c in oc3.COLUMNS[1:]) for child, row in by_child.items()} \
        == EXPECTED
    assert by_child[references["leap"]].birthday == date(2026, 3, 1) and by_child[references["leap"]].age == 18
    assert result.failures == [] and result.left_out == {
        "Still looked after (eligible children): not required, rule 1007": 1,
        "Qualifying care leavers (s.24): not in the OC3 cohort": 1}
    assert oc3.NOTE_CURRENT_ACTIVITY in by_child[references["first_day"]].notes
    assert by_child[references["died"]].notes == ()


def test_a_death_stays_reported_the_next_year_and_a_birthday_still_to_come_waits(cohort, session):
    CLOCK.fix(date(2026, 6, 14))  # the day before the one who died would have turned 20
    waiting = oc3.build_return(session, 2027, today=date(2026, 6, 14))
    assert cohort["died"]["case_reference"] not in {row.child for row in waiting.rows}
    CLOCK.fix(date(2026, 6, 15))
    result = oc3.build_return(session, 2027, today=date(2026, 6, 15))
    died = next(row for row in result.rows if row.child == cohort["died"]["case_reference"])
    assert (died.in_touch, died.activ, died.accom) == ("DIED", "0", "0")
    assert not [f for f in result.failures if f.rule.code == "348"]


def test_the_page_lists_no_failures_and_the_file_passes_the_published_rules(cohort, browser, engine):
    sign_in(browser, "manager")
    page = browser.get("/reports/oc3?year=2026")
    assert page.status_code == 200 and "Every row passes the return" in page.text
    assert page.text.count("<h1") == 1 and "<title>Care-leaver return (SSDA903 OC3)" in page.text
    download = browser.get("/reports/oc3.csv?year=2026")
    assert download.status_code == 200 and download.headers["content-type"].startswith("text/csv")
    assert 'filename="ssda903-oc3-2025-2026.csv"' in download.headers["content-disposition"]
    lines = list(csv.DictReader(io.StringIO(download.text)))
    assert list(lines[0]) == ["CHILD", "DOB", "IN_TOUCH", "ACTIV", "ACCOM"]
    assert {line["CHILD"]: published_rule_failures(line, YEAR.start, YEAR.end) for line in lines} == {
        cohort[key]["case_reference"]: [] for key in EXPECTED}
    references = {who["case_reference"]: key for key, who in cohort.items()}
    assert {references[line["CHILD"]]: (line["DOB"], line["IN_TOUCH"], line["ACTIV"], line["ACCOM"])
            for line in lines} == EXPECTED


@pytest.fixture
def failing(client, cohort):
    # In touch at the 19th birthday, but no activity recorded: 132 and 153.
    cohort["no_activity"] = person(client, date(2006, 10, 10), current_activity=None, accommodation="U1")
    contact(client, cohort["no_activity"], date(2025, 10, 10))
    # At the 17th birthday with former foster carers (3001) and a case reference a spreadsheet would run.
    cohort["foster"] = person(client, date(2008, 5, 5), leaving_care_category="relevant", accommodation="Z1",
                              case_reference="=HYPERLINK(1)")
    contact(client, cohort["foster"], date(2025, 5, 5))
    return cohort


def test_failing_rows_are_listed_with_the_rules_code_and_words_and_audited(failing, browser, session, people):
    sign_in(browser, "manager")
    page = browser.get("/reports/oc3?year=2026")
    assert page.status_code == 200
    for code in ("132", "153", "3001"):
        assert f"<strong>{code}</strong>: {escape(oc3.RULES_BY_CODE[code].message)}" in page.text
    assert "Rows that fail a check" in page.text and "&lt;a " not in page.text  # links, not markup shown as text
    assert f'<a class="govuk-link" href="/young-people/{failing["foster"]["id"]}">Test {failing["foster"]["family_name"]}</a>' in page.text
    listed = session.exec(select(AuditEvent).where(AuditEvent.entity == "care_leaver", AuditEvent.action == "list",
                                                   AuditEvent.actor_id == people["manager"].id)).all()
    assert sorted(event.entity_id for event in listed) == sorted([failing["no_activity"]["id"], failing["foster"]["id"]])


def test_the_file_waits_for_confirmation_while_rows_fail_and_its_download_is_audited(failing, browser, session,
                                                                                       people):
    sign_in(browser, "manager")
    refused = browser.get("/reports/oc3.csv?year=2026", follow_redirects=False)
    assert refused.status_code == 303 and refused.headers["location"] == "/reports/oc3?year=2026"
    shown = browser.get("/reports/oc3?year=2026").text
    assert "Important" in shown and "The file was not produced: 2 rows fail" in shown
    assert not session.exec(select(AuditEvent).where(AuditEvent.entity == "report_oc3")).all()
    download = browser.get("/reports/oc3.csv?year=2026&with_errors=yes")
    assert download.status_code == 200
    lines = list(csv.DictReader(io.StringIO(download.text)))
    failures = {line["CHILD"]: published_rule_failures(line, YEAR.start, YEAR.end) for line in lines}
    assert failures["'=HYPERLINK(1)"] == ["3001"]  # escaped, so a spreadsheet shows it as text
    assert failures[failing["no_activity"]["case_reference"]] == ["132", "153"]
    session.rollback()  # a fresh read: the download committed after this session last looked
    report = session.exec(select(AuditEvent).where(AuditEvent.entity == "report_oc3")).all()
    assert [(e.action, e.entity_id, e.actor_id) for e in report] == [("download", 2026, people["manager"].id)]
    exported = session.exec(select(AuditEvent).where(AuditEvent.action == "export")).all()
    assert len(exported) == len(lines) == 7


def test_a_year_that_is_not_offered_is_refused_by_name(browser):
    sign_in(browser, "manager")
    refused = browser.get("/reports/oc3?year=1999")
    assert refused.status_code == 400 and "There is a problem" in refused.text
    assert "Collection year must be a year ending 31 March, from 2016 to 2027" in refused.text
    nonsense = browser.get("/reports/oc3.csv?year=abc", follow_redirects=False)
    assert nonsense.status_code == 303 and nonsense.headers["location"] == "/reports/oc3"


def test_only_managers_see_the_return(browser):
    sign_in(browser, "adviser")
    assert browser.get("/reports/oc3?year=2026").status_code == 403
    assert browser.get("/reports/oc3.csv?year=2026").status_code == 403


def test_the_cli_writes_the_file_only_when_every_row_passes(failing, settings, monkeypatch, tmp_path):
    from api.cli import main

    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    from matching.settings import get_settings

    get_settings.cache_clear()
    out = tmp_path / "oc3.csv"
    refused = CliRunner().invoke(main, ["report", "oc3", "--year", "2026", "--output", str(out)])
    assert refused.exit_code == 1 and not out.exists()
    assert f"{failing['foster']['case_reference']}: rule 3001" in refused.output
    made = CliRunner().invoke(main, ["report", "oc3", "--year", "2026", "--output", str(out), "--with-errors"])
    assert made.exit_code == 0, made.output
    assert out.read_text().splitlines()[0] == "CHILD,DOB,IN_TOUCH,ACTIV,ACCOM" and len(out.read_text().splitlines()) == 8
    wrong = CliRunner().invoke(main, ["report", "oc3", "--year", "1999"])
    assert wrong.exit_code == 2 and "must be a year from 2016 to 2027" in wrong.output
    get_settings.cache_clear()


# The values as they stood on the birthday (care_leaver_statuses, written by triggers) -----------------------

def change(client, who: dict, on: date, **fields) -> dict:
    CLOCK.fix(on)
    current = client.get(f"/api/v1/care-leavers/{who['id']}").json()
    changed = client.patch(f"/api/v1/care-leavers/{who['id']}", json={"version": current["version"], **fields})
    assert changed.status_code == 200, changed.text
    CLOCK.fix(TEST_TODAY)
    return changed.json()


def recorded_then(client, born: date, on: date, **fields) -> dict:
    CLOCK.fix(on)
    made = person(client, born, **fields)
    CLOCK.fix(TEST_TODAY)
    return made


def test_each_row_holds_the_values_recorded_on_the_birthday_not_todays(client, session):
    # 18 on 1 June 2025: in education and in suitable accommodation then; in a job and unsuitable housing since.
    moved_on = recorded_then(client, date(2007, 6, 1), date(2025, 1, 10), current_activity="F2", accommodation="D1")
    contact(client, moved_on, date(2025, 6, 10))
    change(client, moved_on, date(2025, 9, 1), current_activity="F4", accommodation="U2")
    # 19 on 1 July 2025: refused contact from March 2025, back in touch (today) since January 2026.
    refused = recorded_then(client, date(2006, 7, 1), date(2025, 1, 10), current_activity="F2", accommodation="D1")
    change(client, refused, date(2025, 3, 1), in_touch="REFU", current_activity="0", accommodation="0")
    change(client, refused, date(2026, 1, 5), in_touch="YES", current_activity="F1", accommodation="S2")
    # 17 on 1 August 2025, still looked after then (eligible); former relevant today.
    was_looked_after = recorded_then(client, date(2008, 8, 1), date(2025, 1, 10), leaving_care_category="eligible")
    change(client, was_looked_after, date(2025, 12, 1), leaving_care_category="former_relevant")
    # Recorded first a fortnight after her 20th birthday (2 May 2025), within its window: those first values.
    late = recorded_then(client, date(2005, 5, 2), date(2025, 5, 16), current_activity="G6", accommodation="B1")
    contact(client, late, date(2025, 5, 20))
    change(client, late, date(2025, 10, 1), current_activity="F5")

    result = oc3.build_return(session, 2026, today=TEST_TODAY)
    rows = {row.child: row for row in result.rows}
    assert [rows[moved_on["case_reference"]].columns()[c] for c in ("IN_TOUCH", "ACTIV", "ACCOM")] == ["YES", "F2", "D1"]
    assert [rows[refused["case_reference"]].columns()[c] for c in ("IN_TOUCH", "ACTIV", "ACCOM")] == ["REFU", "0", "0"]
    assert [rows[late["case_reference"]].columns()[c] for c in ("IN_TOUCH", "ACTIV", "ACCOM")] == ["YES", "G6", "B1"]
    assert was_looked_after["case_reference"] not in rows
    assert result.left_out["Still looked after (eligible children): not required, rule 1007"] == 1
    for who in (moved_on, refused, late):
        assert rows[who["case_reference"]].notes == ()  # nothing taken from today's values


def test_the_history_is_written_by_any_path_and_only_when_a_903_field_changes(client, session, engine):
    import sqlalchemy as sa

    from matching.models import CareLeaver, CareLeaverStatus

    def history() -> list[tuple[str, str | None]]:
        session.rollback()  # a fresh snapshot: the app and the update below commit in other connections
        return [(status.in_touch, status.accommodation) for status in session.execute(
            sa.select(CareLeaverStatus).where(CareLeaverStatus.care_leaver_id == who["id"])
            .order_by(CareLeaverStatus.id)).scalars()]

    who = person(client, date(2006, 1, 1), accommodation="D1")
    assert history() == [("YES", "D1")]
    change(client, who, date(2026, 11, 1), goals="a trade")  # not a 903 field: no new row
    assert history() == [("YES", "D1")]
    with engine.begin() as connection:  # a path that bypasses the ORM (as a bulk import may)
        connection.execute(sa.update(CareLeaver).where(CareLeaver.id == who["id"]).values(accommodation="U2"))
    assert history() == [("YES", "D1"), ("YES", "U2")]
