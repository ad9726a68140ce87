"""Imports at scale: SQL statements per chunk of rows, not per row; progress on the terminal; still all or nothing.

No timings here (the machine is shared): the number of statements stands in for the time, which
`python -m bench.imports --speed` measures."""

import csv
import math
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from sqlmodel import Session, func, select

from api.cli import main
from matching import db
from matching.imports import ImportFailed, import_file, load
from matching.models import AuditEvent, CareLeaver, Department, Mentor, Opportunity, User, UserCreate
from matching.services.users import create_user

CHUNK = 10


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch):
    monkeypatch.setattr(load, "CHUNK", CHUNK)
    monkeypatch.setattr(load, "PROGRESS_EVERY", 2 * CHUNK)


def write(path: Path, rows: list[dict]) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def care_leavers(count: int, **changed: str) -> list[dict]:
    return [{"case_reference": f"CL{n:04d}", "first_name": "Amina", "date_of_birth": f"{1 + n % 28:02d}/03/2006",
             "leaving_care_category": "Former relevant", "in_touch": "Yes - in touch", "interests": "music; art",
             "personal_adviser_email": "pa@x.gov.uk", "accommodation": "Independent living",
             "accommodation_suitable": "suitable"} | changed for n in range(count)]


def mentors(count: int, **changed: str) -> list[dict]:
    return [{"email": f"m{n}@x.gov.uk", "full_name": f"Mentor {n}", "department_code": "PARK",
             "job_title": "Gardener", "availability": "Mon-Fri"} | changed for n in range(count)]


def opportunities(count: int, **changed: str) -> list[dict]:
    return [{"reference": f"OPP{n}", "department_code": "PARK", "kind": "job", "title": "Park keeper",
             "pay_per_hour": "12.60", "places": "2"} | changed for n in range(count)]


KINDS = {"care-leavers": (care_leavers, CareLeaver, "first_name"), "mentors": (mentors, Mentor, "job_title"),
         "opportunities": (opportunities, Opportunity, "title")}


@pytest.fixture
def organisation(engine) -> int:
    with db.session_scope(db.writer(engine)) as session:
        session.add(Department(name="Parks", code="PARK"))
        return create_user(session, UserCreate(email="boss@x.gov.uk", full_name="Mo Manager", role="manager")).id


@pytest.fixture
def adviser(engine) -> None:
    with db.session_scope(db.writer(engine)) as session:
        create_user(session, UserCreate(email="pa@x.gov.uk", full_name="Pat Adviser", role="adviser"))


@contextmanager
def counted(engine: sa.Engine):
    """The SQL statements sent to the database (an executemany counts once: it is one round of work)."""
    statements: list[str] = []

    def seen(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", seen)
    try:
        yield statements
    finally:
        sa.event.remove(engine, "before_cursor_execute", seen)


def imported(engine: sa.Engine, kind: str, path: Path, actor: int) -> tuple[load.ImportReport, int]:
    with counted(engine) as statements, db.session_scope(db.writer(engine)) as session:
        report = import_file(session, kind, path, actor_id=actor)
    return report, len(statements)


def bounded(rows: int) -> int:
    """At most four statements for each chunk of each pass (checking: a lookup; writing: a lookup, an INSERT
    and the new ids or an UPDATE of the chunk's records, an INSERT of its audit rows; a mentor's account and its
    audit are three more) and a few for the import: a query or a write per row would be more than the rows.
    On PostgreSQL, for each of the (at most two) tables given new rows, a read of its size and an ANALYZE each
    time it doubles (load._keep_statistics)."""
    statistics = 2 * (1 + math.ceil(math.log2(max(2, rows / (CHUNK / 2)))))
    return 4 * 2 * math.ceil(rows / CHUNK) + 5 + statistics


@pytest.mark.parametrize("kind", list(KINDS))
def test_statements_grow_with_chunks_not_rows(engine, organisation, adviser, tmp_path, kind):
    make, table, column = KINDS[kind]
    rows = 95
    report, created = imported(engine, kind, write(tmp_path / "new.csv", make(rows)), organisation)
    assert (report.created, report.rows) == (rows, rows)
    report, changed = imported(engine, kind, write(tmp_path / "changed.csv", make(rows, **{column: "Changed"})),
                               organisation)
    assert (report.updated, report.unchanged) == (rows, 0)
    report, unchanged = imported(engine, kind, write(tmp_path / "changed.csv", make(rows, **{column: "Changed"})),
                                 organisation)
    assert report.unchanged == rows
    assert max(created, changed, unchanged) <= bounded(rows) < 2 * rows, (created, changed, unchanged)
    with Session(engine) as session:
        records = session.exec(select(table)).all()
        assert {getattr(r, column) for r in records} == {"Changed"} and {r.version for r in records} == {2}
        audited = session.exec(select(AuditEvent.action, func.count()).where(AuditEvent.actor_id == organisation)
                               .where(AuditEvent.entity == load._ENTITIES[table]).group_by(AuditEvent.action)).all()
        assert dict(audited) == {"create": rows, "update": rows}


def test_a_mentors_changed_name_updates_their_account_in_bulk(engine, organisation, tmp_path):
    rows = 35
    imported(engine, "mentors", write(tmp_path / "m.csv", mentors(rows)), organisation)
    renamed = [row | {"full_name": row["full_name"].replace("Mentor", "Dr")} for row in mentors(rows)]
    report, statements = imported(engine, "mentors", write(tmp_path / "renamed.csv", renamed), organisation)
    assert (report.updated, report.unchanged) == (0, rows)  # the profiles did not change; the accounts did
    assert statements <= bounded(rows)
    with Session(engine) as session:
        accounts = session.exec(select(User).where(User.role == "mentor")).all()
        assert {(u.full_name.split()[0], u.version) for u in accounts} == {("Dr", 2)}
        updates = session.exec(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "update",
                                                                                    AuditEvent.entity == "user")).one()
        assert updates == rows


def test_an_email_is_stored_as_the_first_pass_checked_it(engine, organisation, tmp_path):
    # The writing pass does not run the e-mail check again; an address the check respells (to Unicode's
    # composed form here) is remembered from the checking pass.
    rows = [mentors(1)[0] | {"email": "Zoe\u0301@X.gov.uk"}]
    report, _ = imported(engine, "mentors", write(tmp_path / "m.csv", rows), organisation)
    again, _ = imported(engine, "mentors", write(tmp_path / "m.csv", rows), organisation)
    assert (report.created, again.unchanged) == (1, 1)
    with Session(engine) as session:
        assert session.exec(select(User.email).where(User.role == "mentor")).all() == ["zo\u00e9@x.gov.uk"]


def test_new_records_get_every_default_and_their_own_ids(engine, organisation, adviser, tmp_path):
    imported(engine, "mentors", write(tmp_path / "m.csv", mentors(25)), organisation)
    imported(engine, "care-leavers", write(tmp_path / "c.csv", care_leavers(25)), organisation)
    with Session(engine) as session:
        accounts = {u.email: u for u in session.exec(select(User).where(User.role == "mentor"))}
        for mentor in session.exec(select(Mentor)):
            account = session.get(User, mentor.user_id)
            assert accounts[account.email] is account and account.full_name == f"Mentor {account.email[1:-9]}"
            assert (mentor.version, mentor.slots_taken, mentor.availability) == (1, 0, ["mon", "tue", "wed", "thu",
                                                                                        "fri"])
        assert len(accounts) == 25 and all(u.active and u.password_hash is None for u in accounts.values())
        people = session.exec(select(CareLeaver)).all()
        assert {(p.case_status, p.version, p.accommodation, p.closed_at) for p in people} == {("open", 1, "U1", None)}
        assert all(p.created_at is not None and p.interests == ["music", "art"] for p in people)


def test_a_bad_row_in_the_last_chunk_leaves_every_chunk_unwritten(engine, organisation, adviser, tmp_path):
    rows = care_leavers(45)
    rows[-1]["date_of_birth"] = "soon"
    with pytest.raises(ImportFailed) as failure, db.session_scope(db.writer(engine)) as session:
        import_file(session, "care-leavers", write(tmp_path / "bad.csv", rows))
    assert [(e.row, e.column) for e in failure.value.errors] == [(46, "date_of_birth")]
    with Session(engine) as session:
        assert session.exec(select(CareLeaver)).first() is None and session.exec(select(AuditEvent)).first() is None


def test_a_key_repeated_in_a_later_chunk_is_still_found(engine, organisation, adviser, tmp_path):
    rows = care_leavers(25)
    rows[22]["case_reference"] = rows[3]["case_reference"]
    with pytest.raises(ImportFailed) as failure, db.session_scope(db.writer(engine)) as session:
        import_file(session, "care-leavers", write(tmp_path / "twice.csv", rows))
    assert [(e.row, e.column) for e in failure.value.errors] == [(24, "case_reference")]
    assert "also appears on row 5" in failure.value.errors[0].reason


def test_a_record_changed_while_the_import_runs_fails_it_and_nothing_is_written(engine, organisation, adviser,
                                                                                  tmp_path, monkeypatch):
    imported(engine, "care-leavers", write(tmp_path / "a.csv", care_leavers(15)), organisation)
    looked_up = load._stored

    def changed_by_someone_else(ctx, table, key, wanted):
        rows = looked_up(ctx, table, key, wanted)
        if ctx.writing:  # after the writing pass read them, as a caseworker's save would be
            ctx.session.connection().execute(sa.text("UPDATE care_leavers SET version = version + 1, "
                                                     "first_name = 'Saved' WHERE case_reference = 'CL0003'"))
        return rows

    monkeypatch.setattr(load, "_stored", changed_by_someone_else)
    with pytest.raises(ImportFailed) as failure, db.session_scope(db.writer(engine)) as session:
        import_file(session, "care-leavers", write(tmp_path / "b.csv", care_leavers(15, first_name="Changed")))
    assert [(e.row, e.column) for e in failure.value.errors] == [(0, "file")]
    assert "1 of its records were changed by someone else" in failure.value.errors[0].reason
    with Session(engine) as session:
        assert {(p.first_name, p.version) for p in session.exec(select(CareLeaver))} == {("Amina", 1)}


def test_the_command_shows_progress_without_anything_personal(settings, engine, organisation, adviser, tmp_path,
                                                               monkeypatch):
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    from matching.settings import get_settings

    get_settings.cache_clear()
    path = write(tmp_path / "people.csv", care_leavers(45))
    result = CliRunner().invoke(main, ["import", "care-leavers", str(path), "--as", "boss@x.gov.uk"])
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == [
        "people.csv: checking 20 rows", "people.csv: checking 40 rows", "people.csv: checking 45 rows",
        "people.csv: writing 20 of 45 rows", "people.csv: writing 40 of 45 rows", "people.csv: writing 45 of 45 rows"]
    assert "45 created" in result.stdout
    assert "Amina" not in result.stderr and "CL00" not in result.stderr
    get_settings.cache_clear()


def test_a_refused_file_ends_its_progress_before_the_problems(settings, engine, organisation, adviser, tmp_path,
                                                              monkeypatch):
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    from matching.settings import get_settings

    get_settings.cache_clear()
    rows = care_leavers(25)
    rows[0]["date_of_birth"] = "soon"
    result = CliRunner().invoke(main, ["import", "care-leavers", str(write(tmp_path / "people.csv", rows))])
    assert result.exit_code == 1
    assert result.stderr.splitlines()[:3] == ["people.csv: checking 20 rows", "people.csv: checking 25 rows",
                                              "people.csv: row 2, column date_of_birth: 'soon' is not a date "
                                              "(accepted: 2005-03-04, 04/03/2005, 04/03/05, 4 Mar 2005, "
                                              "04-Mar-2005, 04.03.2005, an Excel date number such as 38415)"]
    assert "writing" not in result.stderr
    get_settings.cache_clear()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)  # statistics are PostgreSQL's planner's
def test_postgresql_statistics_follow_a_new_table_as_it_fills(engine, organisation, adviser, tmp_path):
    """Foreign-key checks of the rows the history trigger writes are planned from the table's statistics: on a
    new table they said "empty", a sequential scan a row, and each chunk took longer than the last. The import
    makes them again as the table doubles, so by its end they count most of what it wrote."""
    report, _ = imported(engine, "care-leavers", write(tmp_path / "new.csv", care_leavers(95)), organisation)
    assert report.created == 95
    with engine.connect() as connection:
        counted = connection.execute(sa.text("SELECT reltuples FROM pg_class WHERE relname = 'care_leavers'")).scalar()
    assert counted >= 80  # made at 10, 20, 40 and 80 rows; a new table's own figure is -1
