"""Units of work: all or nothing, and SQLite writers queue rather than fail or hang."""

import signal
import subprocess
import sys
import threading

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from matching import db
from matching.errors import DatabaseBusy
from matching.models import Department


def test_a_failed_unit_of_work_writes_nothing(engine):
    with pytest.raises(RuntimeError), db.session_scope(db.writer(engine)) as session:
        session.add(Department(name="Housing", code="HOUS"))
        session.flush()
        raise RuntimeError("interrupted")
    with Session(engine) as session:
        assert session.exec(select(Department)).all() == []


def test_sqlite_writers_queue_and_a_stuck_one_gives_a_clear_error(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'q.sqlite3'}"
    db.upgrade(url)
    writer = db.writer(db.engine_for(url))
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        with db.session_scope(writer) as session:
            session.add(Department(name="Held", code="HELD"))
            holding.set()
            release.wait(10)

    thread = threading.Thread(target=hold)
    thread.start()
    holding.wait(5)
    monkeypatch.setattr(db, "WRITE_WAIT_SECONDS", 0.2)
    with pytest.raises(DatabaseBusy, match="busy"), db.session_scope(writer) as session:
        session.add(Department(name="Late", code="LATE"))
    release.set()
    thread.join()
    with db.session_scope(writer) as session:  # the queue moves on once the holder commits
        session.add(Department(name="Next", code="NEXT"))
    with Session(db.engine_for(url)) as session:
        assert sorted(d.code for d in session.exec(select(Department))) == ["HELD", "NEXT"]


HOLDER = """
import sys, time
from matching import db
from matching.models import Department
with db.session_scope(db.writer(db.engine_for(sys.argv[1]))) as session:
    session.add(Department(name="Other process", code=sys.argv[3]))
    session.flush()
    print("holding", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def _hold_the_writer(url: str, seconds: float, code: str) -> subprocess.Popen:
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, url, str(seconds), code], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "holding"
    return holder


def test_sqlite_writers_in_other_processes_queue_and_a_dead_one_frees_the_database(tmp_path, monkeypatch):
    """Worker processes share the database: their writers queue on a file lock rather than in SQLite's
    busy handler, a stuck one still gives a clear error, and one that dies mid-write holds nothing."""
    url = f"sqlite:///{tmp_path / 'p.sqlite3'}"
    db.upgrade(url)
    writer = db.writer(db.engine_for(url))
    stuck = _hold_the_writer(url, 60, "STUCK")
    monkeypatch.setattr(db, "WRITE_WAIT_SECONDS", 0.3)
    with pytest.raises(DatabaseBusy, match="busy"), db.session_scope(writer) as session:
        session.add(Department(name="Late", code="LATE"))
    stuck.send_signal(signal.SIGKILL)
    stuck.wait()
    with db.session_scope(writer) as session:
        session.add(Department(name="After", code="AFTR"))
    monkeypatch.setattr(db, "WRITE_WAIT_SECONDS", 30)
    brief = _hold_the_writer(url, 0.5, "BRIF")
    with db.session_scope(writer) as session:  # waits for the other process's commit, then writes
        session.add(Department(name="Next", code="NEXT"))
    assert brief.wait() == 0
    with Session(db.engine_for(url)) as session:
        assert sorted(d.code for d in session.exec(select(Department))) == ["AFTR", "BRIF", "NEXT"]


def test_statistics_let_sqlite_walk_the_sort_index_past_a_common_value(tmp_path):
    """A filter that matches most rows, sorted by another indexed column: without statistics SQLite sorts
    every match; with them (db.analyze, run after migrations, loads and imports) it walks the sort index."""
    url = f"sqlite:///{tmp_path / 's.sqlite3'}"
    db.upgrade(url)
    engine = db.engine_for(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM sqlite_stat1")
        conn.exec_driver_sql(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000) "
            "INSERT INTO care_leavers (version, created_at, updated_at, case_reference, first_name, date_of_birth, "
            "disability, leaving_care_category, former_uasc, right_to_work_confirmed, languages, interests, "
            "sector_preferences, aspirations, skills, qualification_level, days_available, max_travel_km, "
            "support_needs, accessibility_needs, consent_share_mentors, consent_share_employers, in_touch, "
            "case_status, last_contact_on) "
            "SELECT 1, '2026-01-01', '2026-01-01', 'CL' || i, 'A', '2005-01-01', 'NONE', 'relevant', 0, 0, '[]', "
            "'[]', '[]', '', '[]', 2, '[]', 10, '', '', 0, 0, CASE WHEN i % 5 = 0 THEN 'NO' ELSE 'YES' END, "
            "'open', date('2026-01-01', '-' || (i % 400) || ' days') FROM n")
    query = ("EXPLAIN QUERY PLAN SELECT id FROM care_leavers WHERE in_touch = ? "
             "ORDER BY last_contact_on DESC, id DESC LIMIT 20")

    def plan() -> str:
        with engine.connect() as conn:
            return " ".join(row[-1] for row in conn.exec_driver_sql(query, ("YES",)))

    assert "TEMP B-TREE" in plan()
    db.analyze(engine)
    assert "TEMP B-TREE" not in plan() and "last_contact_on" in plan()


def test_a_dropped_connection_is_pinged_and_replaced_only_after_sitting_idle(pg_url, monkeypatch):
    """A busy pool is not pinged (a round trip per checkout); one idle past PING_IF_IDLE_SECONDS is."""
    engine = db.make_engine(pg_url)  # a pool of its own
    admin = sa.create_engine(pg_url, poolclass=sa.pool.NullPool)

    def drop_the_pooled_connection() -> int:
        with engine.connect() as conn:
            pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
        with admin.connect() as conn:
            assert conn.exec_driver_sql(f"SELECT pg_terminate_backend({pid})").scalar_one()
        return pid

    monkeypatch.setattr(db, "PING_IF_IDLE_SECONDS", 3600.0)
    drop_the_pooled_connection()
    with pytest.raises(sa.exc.OperationalError), engine.connect() as conn:
        conn.exec_driver_sql("SELECT 1")

    monkeypatch.setattr(db, "PING_IF_IDLE_SECONDS", 0.0)
    dropped = drop_the_pooled_connection()
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one() != dropped
    engine.dispose()


def test_refreshing_statistics_on_postgresql_also_vacuums(pg_url):
    """So index-only scans skip the table straight after a load, not once autovacuum gets round to it."""
    engine = db.engine_for(pg_url)
    with engine.connect() as conn:
        before = conn.exec_driver_sql("SELECT clock_timestamp()").scalar_one()
    db.analyze(engine)
    with engine.connect() as conn:
        vacuumed = conn.exec_driver_sql(
            "SELECT last_vacuum FROM pg_stat_user_tables WHERE relname = 'care_leavers'").scalar_one()
    assert vacuumed is not None and vacuumed >= before
