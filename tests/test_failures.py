"""Failures that say why: an optimistic-lock conflict is a 409 saying the record changed, a database that cannot
serve is a 503 with the reason and Retry-After (logged with the request id, nothing personal), and a second
match run is refused at once on either database. Every fault here is a real one: another session's commit
between a read and a write, a read-only or full database, a connection the server ended, a lock another
process holds."""

import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from sqlmodel import Session

from api import cli
from matching import cases, db
from matching.engine import runs
from matching.models import CareLeaver, Contact
from tests import factories
from tests.engine_world import TODAY
from tests.test_engine_runs import run_through_api
from tests.test_pages import csrf, sign_in

API = "/api/v1"
CHANGED = "Someone else changed this record since you read it. Reload it, check it and make your change again."
SECRET = "Zebedee"  # in a note: never in a log line


def _person(client, people, **fields) -> dict:
    response = client.post(f"{API}/care-leavers", json=factories.care_leaver(
        personal_adviser_id=people["adviser"].id, first_name=SECRET, **fields))
    assert response.status_code == 201, response.text
    return response.json()


def _contact(**fields) -> dict:
    return {"contact_on": TODAY.isoformat(), "kind": "call", "note": f"Spoke to {SECRET}", "in_touch": "YES"} | fields


@contextmanager
def _another_contact_first(engine: sa.Engine, person_id: int) -> Iterator[list[int]]:
    """As the request is about to write the young person's record, another session records a contact for them
    and commits: the request's UPDATE ... WHERE version = the one it read then finds no row (StaleDataError).
    PostgreSQL only: on SQLite the request holds the writer lock, so the other session could not write."""
    interleaved: list[int] = []
    started: list[Session] = []

    def before_flush(session: Session, _context, _instances) -> None:
        if started or not any(isinstance(o, CareLeaver) and o.id == person_id for o in session.dirty):
            return
        started.append(session)  # the other session's own flush passes through here too
        with db.session_scope(db.writer(engine)) as other:
            interleaved.append(cases.record_contact(other, person_id, contact_on=TODAY, kind="visit", note="",
                                                    today=TODAY, actor_id=None).id)

    sa.event.listen(Session, "before_flush", before_flush)
    try:
        yield interleaved
    finally:
        sa.event.remove(Session, "before_flush", before_flush)


def _contacts(engine, person_id: int) -> int:
    with db.session_scope(engine) as session:
        return session.execute(sa.select(sa.func.count()).where(Contact.care_leaver_id == person_id)).scalar()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
@pytest.mark.parametrize("step", ["contact", "close", "reopen"])
def test_a_write_that_loses_the_race_for_a_young_persons_record_is_a_409_saying_reload(client, people, engine,
                                                                                        step):
    person = _person(client, people, date_of_birth=(TODAY - timedelta(days=22 * 366)).isoformat())
    close = {"reason_code": "support_declined", "support_offered_on": (TODAY - timedelta(days=30)).isoformat(),
             "note": "Told us at the review"}
    if step == "reopen":
        person = client.post(f"{API}/care-leavers/{person['id']}/close", json=close | {"version": person["version"]})
        person = person.json()
    address, body = {
        "contact": (f"{API}/care-leavers/{person['id']}/contacts", _contact()),
        "close": (f"{API}/care-leavers/{person['id']}/close", close | {"version": person["version"]}),
        "reopen": (f"{API}/care-leavers/{person['id']}/reopen", {"version": person["version"], "note": "She rang"}),
    }[step]
    with _another_contact_first(engine, person["id"]) as interleaved:
        response = client.post(address, json=body)
    assert interleaved, "the other session did not write in between"
    assert response.status_code == 409, response.text
    assert response.json()["title"] == "The record changed" and response.json()["detail"] == CHANGED
    assert _contacts(engine, person["id"]) == 1  # the other's contact only: nothing of the loser was written
    with db.session_scope(engine) as session:
        assert session.get(CareLeaver, person["id"]).case_status == ("closed" if step == "reopen" else "open")


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_the_contact_page_that_loses_the_race_says_the_record_changed(browser, people, engine):
    person = browser.post(
        f"{API}/care-leavers", json=factories.care_leaver(personal_adviser_id=people["adviser"].id),
        headers=people["manager"].headers).json()
    sign_in(browser, "adviser")
    token = csrf(browser.get(f"/young-people/{person['id']}/contacts/new").text)
    form = {"_csrf_token": token, "kind": "call", "in_touch": "YES", "note": "Rang",
            "contact_on-day": str(TODAY.day), "contact_on-month": str(TODAY.month), "contact_on-year": str(TODAY.year)}
    with _another_contact_first(engine, person["id"]) as interleaved:
        page = browser.post(f"/young-people/{person['id']}/contacts/new", data=form)
    assert interleaved and page.status_code == 409
    assert "The record changed" in page.text and CHANGED in page.text and "govuk-heading-l" in page.text


def test_a_stale_version_is_the_same_409_on_both_databases(client, people):
    person = _person(client, people)
    client.post(f"{API}/care-leavers/{person['id']}/contacts", json=_contact())
    response = client.post(f"{API}/care-leavers/{person['id']}/reopen", json={"version": 0, "note": "She rang"})
    assert response.status_code == 409 and response.json()["title"] == "The record changed"
    assert "read it again" in response.json()["detail"]


# --- database faults --------------------------------------------------------------------------------------


class Captured(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record)


@pytest.fixture
def error_log() -> Iterator[Captured]:
    captured, logger = Captured(), logging.getLogger("springboard.errors")
    logger.addHandler(captured)
    try:
        yield captured
    finally:
        logger.removeHandler(captured)


@contextmanager
def _on_every_connection(engine: sa.Engine, statement: str) -> Iterator[None]:
    """SQLite: a PRAGMA on each connection the pool hands out, so the fault is the database's own answer."""
    def checkout(dbapi_connection, _record, _proxy) -> None:
        dbapi_connection.execute(statement)

    engine.dispose()
    sa.event.listen(engine, "checkout", checkout)
    try:
        yield
    finally:
        sa.event.remove(engine, "checkout", checkout)
        engine.dispose()


@contextmanager
def _read_only(engine: sa.Engine) -> Iterator[None]:
    """The database refuses every write, as a read-only file (SQLite) or a read-only database (PostgreSQL)."""
    if engine.dialect.name == "sqlite":
        with _on_every_connection(engine, "PRAGMA query_only = ON"):
            yield
        return
    name = engine.url.database
    admin = sa.create_engine(engine.url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as conn:
        conn.exec_driver_sql(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on')
    engine.dispose()
    try:
        yield
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql("SET default_transaction_read_only = off")
            conn.exec_driver_sql(f'ALTER DATABASE "{name}" RESET default_transaction_read_only')
        engine.dispose()


def _said_unavailable(response, reason: str, wait: int) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"] == str(wait)
    assert response.json()["title"] == "Database unavailable" and reason in response.json()["detail"]


def test_a_read_only_database_is_a_503_with_the_reason_logged_by_request_id(client, people, engine, error_log):
    person = _person(client, people)
    with _read_only(engine):
        response = client.post(f"{API}/care-leavers/{person['id']}/contacts", json=_contact())
        read = client.get(f"{API}/care-leavers/{person['id']}")  # its audit row cannot be written either
    _said_unavailable(response, "read-only", 300)
    _said_unavailable(read, "read-only", 300)
    assert _contacts(engine, person["id"]) == 0
    rid = response.headers["x-request-id"]
    lines = [r.getMessage() for r in error_log.lines]
    assert any(rid in line and "read-only" in line and "/contacts" in line for line in lines), lines
    assert not any(SECRET in line or str(person["case_reference"]) in line for line in lines)
    assert client.post(f"{API}/care-leavers/{person['id']}/contacts", json=_contact()).status_code == 201


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_full_database_is_a_503_and_nothing_is_written(client, people, engine, error_log):
    person = _person(client, people)
    raw = engine.raw_connection()  # outside the BEGIN the engine issues: VACUUM runs on its own
    try:  # no free pages left to reuse: the next new page is past the limit
        raw.driver_connection.execute("VACUUM")
        pages = raw.driver_connection.execute("PRAGMA page_count").fetchone()[0]
    finally:
        raw.close()
    answers = []
    with _on_every_connection(engine, f"PRAGMA max_page_count = {pages}"):
        while len(answers) < 10 and (not answers or answers[-1].status_code == 201):
            answers.append(client.post(f"{API}/care-leavers/{person['id']}/contacts", json=_contact(note="x" * 4000)))
    _said_unavailable(answers[-1], "no space left", 300)
    assert _contacts(engine, person["id"]) == len(answers) - 1
    assert any(answers[-1].headers["x-request-id"] in r.getMessage() for r in error_log.lines)


def _end_connections(engine: sa.Engine, pid: int | None = None) -> None:
    """What a database restart does to a connection: the server ends it (from another connection)."""
    admin = sa.create_engine(engine.url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as conn:
        conn.execute(sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name "
                             "AND pid <> pg_backend_pid() AND (CAST(:pid AS int) IS NULL OR pid = :pid)"),
                     {"name": engine.url.database, "pid": pid})
    admin.dispose()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_connection_lost_in_a_write_is_a_503_and_the_next_request_is_served(client, people, engine, error_log):
    person = _person(client, people)
    ended: list[int] = []

    def before_flush(session: Session, _context, _instances) -> None:
        if not ended and any(isinstance(o, CareLeaver) for o in session.dirty):
            ended.append(session.connection().exec_driver_sql("SELECT pg_backend_pid()").scalar())
            _end_connections(engine, ended[0])

    sa.event.listen(Session, "before_flush", before_flush)
    try:
        response = client.post(f"{API}/care-leavers/{person['id']}/contacts", json=_contact())
    finally:
        sa.event.remove(Session, "before_flush", before_flush)
    _said_unavailable(response, "connection to the database was lost", 10)
    assert _contacts(engine, person["id"]) == 0
    assert any(response.headers["x-request-id"] in r.getMessage() for r in error_log.lines)
    assert client.post(f"{API}/care-leavers/{person['id']}/contacts", json=_contact()).status_code == 201


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_health_reports_a_lost_database_as_unavailable(client, engine):
    assert client.get("/health").status_code == 200
    _end_connections(engine)
    try:
        response = client.get("/health")
    finally:
        engine.dispose()
    assert response.status_code == 503 and response.headers["retry-after"] == "10"
    assert response.json()["status"] == "unavailable" and "lost" in response.json()["reason"]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_health_reports_a_database_file_that_cannot_be_opened(settings, tmp_path):
    from litestar.testing import TestClient

    from api.app import create_app

    gone = settings.model_copy(update={"database_url": f"sqlite:///{tmp_path}/no-such-folder/db.sqlite3"})
    with TestClient(app=create_app(gone)) as client:
        response = client.get("/health")
        signed = client.get(f"{API}/me", headers={"Authorization": "Bearer some-token"})  # the token's look-up
    assert response.status_code == 503 and response.json()["status"] == "unavailable"
    assert response.json()["reason"] == "the database file cannot be opened"
    _said_unavailable(signed, "cannot be opened", 60)


def test_a_database_fault_on_a_page_is_the_govuk_page_with_the_reason(browser, people, engine):
    person = browser.post(f"{API}/care-leavers", json=factories.care_leaver(personal_adviser_id=people["adviser"].id),
                          headers=people["manager"].headers).json()
    sign_in(browser, "adviser")
    with _read_only(engine):
        page = browser.get(f"/young-people/{person['id']}")  # a read, whose audit row cannot be written
    assert page.status_code == 503 and page.headers["retry-after"] == "300"
    assert "Sorry, the service is unavailable" in page.text and "read-only" in page.text


# --- one match run at a time ------------------------------------------------------------------------------


@contextmanager
def _run_claimed_elsewhere(engine: sa.Engine) -> Iterator[None]:
    """Another process's run under way: on SQLite its flock on the claim file beside the database (an open
    file of its own, as another process has), on PostgreSQL its advisory lock in an open transaction."""
    if engine.dialect.name == "sqlite":
        claim = runs.claim_sqlite_run(f"{engine.url.database}-match-run")
        try:
            yield
        finally:
            os.close(claim)
        return
    with engine.connect() as conn, conn.begin():
        assert conn.execute(sa.text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": runs.RUN_LOCK_KEY}).scalar()
        yield


def test_a_second_match_run_is_refused_at_once_through_the_api_and_the_command_line(client, engine, monkeypatch,
                                                                                    database_url):
    monkeypatch.setattr(cli, "_url", lambda: database_url)
    with _run_claimed_elsewhere(engine):
        refused = run_through_api(client).json()  # queued, then refused by the engine when the worker takes it
        said = CliRunner().invoke(cli.main, ["match", "run"])
    assert refused["status"] == "failed" and "already in progress" in refused["error"]
    assert said.exit_code == 1 and "Traceback" not in said.output
    assert said.output.strip().splitlines()[-1].startswith("Error: a match run is already in progress")
    assert [run["status"] for run in client.get(f"{API}/match-runs").json()] == ["failed"]  # no run was written
    assert run_through_api(client).json()["status"] == "finished"  # the claim ended with its holder


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_on_sqlite_a_run_in_another_process_is_refused_and_its_death_frees_the_claim(client, engine):
    holder = subprocess.Popen(
        [sys.executable, "-c", "import fcntl, os, sys; fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT); "
                               "fcntl.flock(fd, fcntl.LOCK_EX); print('held', flush=True); sys.stdin.read()",
         f"{engine.url.database}-match-run"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        refused = run_through_api(client).json()
        assert refused["status"] == "failed" and "already in progress" in refused["error"]
    finally:
        holder.kill()  # as a crashed run: no clean-up of its own
        holder.wait()
    assert run_through_api(client).json()["status"] == "finished"
