"""Two real `springboard worker` processes on one database: one leads and runs each job once; when the
leader is killed (`kill -9`) the other takes over. On PostgreSQL the leader's lock is an advisory lock; on
SQLite a flock. Waits poll with a deadline; the workers retry the lock every 0.2 s instead of 10."""

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import select

from jobs import registry, worker
from matching import db
from matching.models import JobRun
from tests.conftest import TEST_TODAY

ROOT = Path(__file__).resolve().parents[1]


class Worker:
    """A `springboard worker` process whose log lines are collected as they come."""

    def __init__(self, env: dict[str, str]):
        self.process = subprocess.Popen([sys.executable, "-m", "api", "worker"], env=env, cwd=ROOT,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.lines: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stderr:
            self.lines.append(line)

    @property
    def pid(self) -> int:
        return self.process.pid

    def said(self, words: str) -> bool:
        return any(f"worker pid={self.pid} {words}" in line for line in self.lines)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=30)


def until(condition, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "gave up waiting"
        time.sleep(0.05)


@pytest.fixture
def start_worker(database_url, tmp_path, engine):
    with db.session_scope(db.writer(engine)) as session:  # the suite does not empty APScheduler's table
        session.execute(sa.text(f"DELETE FROM {worker.SCHEDULER_TABLE}"))
    env = os.environ | {"DATABASE_URL": database_url, "DATA_DIR": str(tmp_path), "SCHEDULER_LEADER_RETRY_SECONDS": "0.2",
                        "SPRINGBOARD_TODAY": TEST_TODAY.isoformat(), "SMTP_HOST": ""}
    started: list[Worker] = []

    def start() -> Worker:
        started.append(Worker(env))
        return started[-1]
    yield start
    for one in started:
        one.stop()


def _runs(engine) -> list[JobRun]:
    with db.session_scope(engine) as session:
        return list(session.exec(select(JobRun).where(JobRun.finished_at.is_not(None)).order_by(JobRun.id)))


def test_one_worker_leads_each_job_runs_once_and_leadership_passes_when_the_leader_is_killed(
        start_worker, engine, database_url):
    first = start_worker()
    until(lambda: first.said("leads"))
    second = start_worker()
    until(lambda: second.said("waits"))
    if engine.dialect.name == "postgresql":
        assert worker.leader(engine) == f"springboard worker pid={first.pid}"
    assert set(worker.next_runs(engine)) == set(registry.all_jobs())  # every declared job is scheduled

    worker.queue_now(database_url, "purge_expired")  # a run asked for by another process
    until(lambda: len(_runs(engine)) == 1)
    until(lambda: not [name for name in worker.next_runs(engine) if ":now:" in name])  # gone from the store
    assert not second.said("leads") and [r.job for r in _runs(engine)] == ["purge_expired"]

    first.process.send_signal(signal.SIGKILL)
    first.process.wait(timeout=30)
    until(lambda: second.said("leads"))  # within the retry interval of the lock being dropped
    if engine.dialect.name == "postgresql":
        assert worker.leader(engine) == f"springboard worker pid={second.pid}"
    worker.queue_now(database_url, "vetting_warnings")
    until(lambda: len(_runs(engine)) == 2)
    assert [r.job for r in _runs(engine)] == ["purge_expired", "vetting_warnings"]

    second.process.send_signal(signal.SIGTERM)  # a clean stop lets the lock go too
    assert second.process.wait(timeout=30) == 0
    if engine.dialect.name == "postgresql":
        assert worker.leader(engine) is None
