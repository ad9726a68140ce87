"""More database faults, each a real one: every pooled connection held (SQLAlchemy's pool timeout), a
PostgreSQL write refused for want of disk or memory (SQLSTATE class 53, raised by the server from a trigger),
and a database that answers but cannot be written, which /health must report without writing anything."""

import subprocess
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from litestar.testing import TestClient

from api.app import create_app
from matching import db
from matching.models import AuditEvent, CareLeaver
from tests import test_failures
from tests.test_failures import API, SECRET, _contact, _contacts, _person, _read_only, _said_unavailable

error_log = test_failures.error_log  # the fixture that captures springboard.errors' lines

POOL_TIMEOUT = 0.2  # seconds a request waits for a connection from the tiny pool


@pytest.fixture
def tiny_pool(settings, people, monkeypatch) -> Iterator[tuple[TestClient, sa.Engine]]:
    """The app on an engine made as the service makes it, but with one pooled connection and a short wait."""
    make = sa.create_engine

    def one_connection(url, **options):
        return make(url, **(options | {"pool_size": 1, "max_overflow": 0, "pool_timeout": POOL_TIMEOUT}))

    with monkeypatch.context() as patched:
        patched.setattr(sa, "create_engine", one_connection)
        engine = db.make_engine(settings.database_url)
    monkeypatch.setattr(db, "engine_for", lambda _url: engine)
    with TestClient(app=create_app(settings)) as client:
        client.headers.update(people["manager"].headers)
        yield client, engine
    engine.dispose()


def test_every_pooled_connection_in_use_is_a_503_logged_with_the_request_id(tiny_pool, people, error_log):
    client, engine = tiny_pool
    person = _person(client, people)
    with engine.connect() as held:  # the pool's only connection, in use elsewhere
        held.execute(sa.text("SELECT 1"))
        read = client.get(f"{API}/care-leavers/{person['id']}")
        write = client.post(f"{API}/care-leavers/{person['id']}/contacts", json=_contact())
    for answer in (read, write):
        _said_unavailable(answer, "every connection to the database is in use", 5)
    lines = [r.getMessage() for r in error_log.lines]
    for answer in (read, write):
        rid = answer.headers["x-request-id"]
        assert any(rid in line and "in use" in line and "TimeoutError" in line for line in lines), lines
    assert not any(SECRET in line for line in lines)
    assert _contacts(engine, person["id"]) == 0
    assert client.get(f"{API}/care-leavers/{person['id']}").status_code == 200  # the connection is back


@contextmanager
def _refused_by_postgresql(engine: sa.Engine, table: str, errcode: str) -> Iterator[None]:
    """Every INSERT into `table` fails in the server with `errcode`, as a full disk or exhausted memory fails
    it; the message has none of the words the error mapping looks for, so only the SQLSTATE can say why."""
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE FUNCTION test_refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                             f"RAISE EXCEPTION 'refused by the test' USING ERRCODE = '{errcode}'; END $$")
        conn.exec_driver_sql(f'CREATE TRIGGER test_refuse BEFORE INSERT ON "{table}" '
                             "FOR EACH ROW EXECUTE FUNCTION test_refuse()")
    try:
        yield
    finally:
        with engine.begin() as conn:
            conn.exec_driver_sql(f'DROP TRIGGER test_refuse ON "{table}"')
            conn.exec_driver_sql("DROP FUNCTION test_refuse()")


def _written(engine: sa.Engine, person_id: int) -> tuple:
    """What a contact changes: the contacts, the young person's row and the audit trail."""
    with db.session_scope(engine) as session:
        row = session.get(CareLeaver, person_id)
        audits = session.execute(sa.select(sa.func.count()).select_from(AuditEvent)).scalar()
        return _contacts(engine, person_id), row.version, row.last_contact_on, audits


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
@pytest.mark.parametrize(("errcode", "reason", "wait"), [
    ("disk_full", "no space left", 300),  # 53100
    ("out_of_memory", "run out of resources", 30),  # 53200: class 53, insufficient resources
])
def test_a_postgresql_write_refused_for_resources_is_a_503_and_nothing_is_half_written(
        client, people, engine, error_log, errcode, reason, wait):
    person = _person(client, people)
    before = _written(engine, person["id"])
    with _refused_by_postgresql(engine, "contacts", errcode):
        response = client.post(f"{API}/care-leavers/{person['id']}/contacts", json=_contact())
    _said_unavailable(response, reason, wait)
    assert _written(engine, person["id"]) == before  # the young person's row and the audit row rolled back too
    assert any(response.headers["x-request-id"] in r.getMessage() and reason in r.getMessage()
               for r in error_log.lines)
    assert client.post(f"{API}/care-leavers/{person['id']}/contacts", json=_contact()).status_code == 201


# --- /health and a database that cannot be written --------------------------------------------------------

def test_health_reports_a_database_that_refuses_writes(client, engine):
    assert client.get("/health").json() == {"status": "ok", "database": "ok"}
    with _read_only(engine):  # SQLite: PRAGMA query_only; PostgreSQL: default_transaction_read_only
        response = client.get("/health")
    assert response.status_code == 503 and response.headers["retry-after"] == "300"
    assert response.json() == {"status": "unavailable", "database": "read-only",
                               "reason": "the database is read-only at the moment"}
    assert client.get("/health").status_code == 200


@contextmanager
def _immutable(*paths: Path) -> Iterator[None]:
    """Files nobody may write, root included (chattr +i), as on a read-only mount."""
    with ExitStack() as undo:
        for path in paths:
            subprocess.run(["chattr", "+i", str(path)], check=True)
            undo.callback(subprocess.run, ["chattr", "-i", str(path)], check=True)
        yield


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_health_reports_a_sqlite_file_that_cannot_be_written_and_a_write_says_why(client, people, engine):
    person = _person(client, people)
    file = Path(engine.url.database)
    engine.dispose()  # connections opened from now on find the file read-only
    with _immutable(file):
        health = client.get("/health")
        write = client.post(f"{API}/care-leavers/{person['id']}/contacts", json=_contact())
        engine.dispose()
    assert health.status_code == 503 and health.json()["database"] == "read-only"
    _said_unavailable(write, "read-only", 300)
    assert client.get("/health").status_code == 200
    assert client.post(f"{API}/care-leavers/{person['id']}/contacts", json=_contact()).status_code == 201


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_health_reports_a_sqlite_database_opened_read_only(settings, people):
    read_only = settings.model_copy(update={"database_url": f"sqlite:///file:{settings.database_url[10:]}"
                                                            "?mode=ro&uri=true"})
    with TestClient(app=create_app(read_only)) as client:
        response = client.get("/health")
    assert response.status_code == 503 and response.json()["reason"] == "the database is read-only at the moment"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_health_writes_nothing(client, engine):
    """Asked often (by a load balancer), health must not write: the database file and its WAL stay as they were.
    (On PostgreSQL it only reads the `transaction_read_only` setting.)"""
    def files() -> list[tuple[int, int]]:
        found = [Path(engine.url.database + suffix) for suffix in ("", "-wal")]
        return [(path.stat().st_mtime_ns, path.stat().st_size) for path in found if path.exists()]

    client.get("/health")
    before = files()
    for _ in range(5):
        assert client.get("/health").status_code == 200
    assert files() == before
