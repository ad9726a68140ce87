"""Units of work: all or nothing, and SQLite writers queue rather than fail or hang."""

import threading

import pytest
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
