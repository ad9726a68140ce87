"""The worker: APScheduler 3 with its job store in the service's own database, run by one leader at a time.

Two schedulers sharing a job store run every job twice, so only the process holding the leader's lock runs
one. On PostgreSQL the lock is a session advisory lock held on a connection of its own: the server drops it
the moment that connection ends, so a worker that dies (even by `kill -9`) passes leadership on at the
next try of a waiting worker (every `SCHEDULER_LEADER_RETRY_SECONDS`, 10 s by default, at most 30). The
lock connection keeps TCP keepalives both ways, so a leader whose machine vanishes is let go within a
minute too, and a leader cut off from the database notices and stops first. On SQLite (one machine) the
lock is an exclusive `flock` of `<database>-scheduler`, which the kernel drops when its holder dies; the
scheduler then runs in `springboard worker`, or inside `springboard serve` with SCHEDULER_IN_SERVE=true.
"""

import fcntl
import logging
import os
import threading
from typing import Protocol

import sqlalchemy as sa

from jobs import registry
from matching import db
from matching.clock import ZONE
from matching.settings import Settings

log = logging.getLogger("springboard.worker")
LOCK_KEY = 0x53707262  # "Sprb": an advisory lock key of this service's own (locks are per database)
SCHEDULER_TABLE = "apscheduler_jobs"  # created by migration 0013, so two workers starting never race to
JOB_DEFAULTS = {"coalesce": True,  # a day's runs missed while no worker led run once, not once per miss
                "misfire_grace_time": 6 * 3600,  # a leader taking over at 03:30 still runs the 03:10 job
                "max_instances": 1}


class Leadership(Protocol):
    def acquire(self) -> bool: ...
    def held(self) -> bool: ...
    def release(self) -> None: ...


class AdvisoryLock:
    """PostgreSQL: `pg_try_advisory_lock` on a dedicated connection, named after this process."""

    def __init__(self, url: str):
        # Keepalives both ways: the server lets a vanished leader's lock go after about 25 s of silence, and
        # the leader, whose check would otherwise hang on a dead network, gives up within 10 s (TCP user
        # timeout), so it stops its scheduler before another can take over.
        self.engine = sa.create_engine(url, poolclass=sa.pool.NullPool, isolation_level="AUTOCOMMIT", connect_args={
            "application_name": f"springboard worker pid={os.getpid()}",
            "options": "-c tcp_keepalives_idle=10 -c tcp_keepalives_interval=5 -c tcp_keepalives_count=3",
            "keepalives": 1, "keepalives_idle": 5, "keepalives_interval": 2, "keepalives_count": 3,
            "tcp_user_timeout": 10_000, "connect_timeout": 10})
        self.connection: sa.Connection | None = None

    def acquire(self) -> bool:
        try:
            connection = self.engine.connect()
        except sa.exc.OperationalError:
            log.warning("the database is unreachable; trying again")
            return False
        if connection.execute(sa.text("SELECT pg_try_advisory_lock(:key)"), {"key": LOCK_KEY}).scalar():
            self.connection = connection
            return True
        connection.close()
        return False

    def held(self) -> bool:
        try:
            self.connection.execute(sa.text("SELECT 1"))
            return True
        except sa.exc.DBAPIError:
            self.connection = None
            return False

    def release(self) -> None:
        if self.connection is not None:
            self.connection.close()  # ending the session releases its advisory locks
            self.connection = None


class FileLock:
    """SQLite: an exclusive flock of a file beside the database."""

    def __init__(self, database: str):
        self.path, self.fd = f"{database}-scheduler", None

    def acquire(self) -> bool:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self.fd = fd
        return True

    def held(self) -> bool:
        return self.fd is not None

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)  # closing the file drops the flock
            self.fd = None


class Alone:
    """An in-memory SQLite database belongs to one process: it always leads."""

    def acquire(self) -> bool:
        return True

    def held(self) -> bool:
        return True

    def release(self) -> None:
        pass


def leadership_for(url: str) -> Leadership:
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "postgresql":
        return AdvisoryLock(url)
    return FileLock(parsed.database) if parsed.database not in (None, "", ":memory:") else Alone()


def leader(engine: sa.Engine) -> str | None:
    """Which worker leads (its lock connection's name), on PostgreSQL; None if none does or on SQLite."""
    if engine.dialect.name != "postgresql":
        return None
    with engine.connect() as connection:
        return connection.execute(sa.text(
            "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE l.locktype = 'advisory' AND l.granted AND l.classid = 0 AND l.objid = :key "
            "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"),
            {"key": LOCK_KEY}).scalar()


def job_store(url: str):
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore

    # An engine of its own: the store disposes of its engine when it shuts down.
    return SQLAlchemyJobStore(engine=db.make_engine(url), tablename=SCHEDULER_TABLE)


def make_scheduler(url: str):
    from apscheduler.schedulers.background import BackgroundScheduler

    return BackgroundScheduler(jobstores={"default": job_store(url)}, job_defaults=JOB_DEFAULTS, timezone=ZONE)


def schedule_all(scheduler) -> None:
    """Every registered job in the store, by name. A job already there keeps its next run time unless its
    schedule was changed: replacing it would move a run missed while no worker led (the leader died at 03:05,
    another took over at 03:12) to the next day, where keeping it lets the new leader run it now."""
    from apscheduler.triggers.cron import CronTrigger

    stored = {job.id: job for job in scheduler.get_jobs()}
    for job in registry.all_jobs().values():
        trigger = CronTrigger(timezone=ZONE, **job.cron)
        if job.name in stored and str(stored[job.name].trigger) == str(trigger):
            continue
        scheduler.add_job("jobs.runner:scheduled_run", trigger, args=[job.name], id=job.name, name=job.name,
                          replace_existing=True)


def next_runs(engine: sa.Engine) -> dict[str, float]:
    """Each scheduled job's next run (a POSIX timestamp) from the job store, without unpickling the jobs."""
    table = sa.table(SCHEDULER_TABLE, sa.column("id"), sa.column("next_run_time"))
    with engine.connect() as connection:
        return {row.id: row.next_run_time for row in connection.execute(sa.select(table.c.id, table.c.next_run_time))}


def queue_now(url: str, name: str) -> str:
    """Ask the leading worker to run job `name` once, as soon as it next looks (within its retry interval);
    returns the queued job's id. Any process may call this: it writes the job into the store without
    starting a scheduler (even a paused one would run due jobs in the moment of its shutdown)."""
    from uuid import uuid4

    from apscheduler.job import Job
    from apscheduler.triggers.date import DateTrigger

    registry.get(name)  # refuses an unknown job here rather than in the worker
    scheduler, store, trigger = make_scheduler(url), job_store(url), DateTrigger(timezone=ZONE)  # default: now
    store.start(scheduler, "default")
    job = Job(scheduler, id=f"{name}:now:{uuid4().hex}", func="jobs.runner:scheduled_run", args=[name], kwargs={},
              trigger=trigger, executor="default", name=name, next_run_time=trigger.run_date, **JOB_DEFAULTS)
    try:
        store.add_job(job)
    finally:
        store.shutdown()
    return job.id


def lead(settings: Settings, stop: threading.Event) -> None:
    """Until `stop` is set: take the lock when free, run the scheduler while it is held, and let it go when
    lost (the connection dropped), so that at most one scheduler runs jobs at any time."""
    leadership, scheduler, pause = leadership_for(settings.db_url), None, settings.scheduler_leader_retry_seconds
    said_waiting = False
    try:
        while not stop.is_set():
            if scheduler is None and leadership.acquire():
                scheduler = make_scheduler(settings.db_url)
                scheduler.start(paused=True)
                schedule_all(scheduler)
                scheduler.resume()
                log.info("worker pid=%s leads: the scheduler is running", os.getpid())
            elif scheduler is None and not said_waiting:
                said_waiting = True
                log.info("worker pid=%s waits: another worker leads; trying every %s s", os.getpid(), pause)
            elif scheduler is not None and not leadership.held():
                scheduler.shutdown(wait=False)
                scheduler = None
                log.warning("worker pid=%s lost the leader's lock: the scheduler has stopped", os.getpid())
            elif scheduler is not None:
                scheduler.wakeup()  # picks up jobs another process put in the store (a run queued from a page)
            stop.wait(pause)
    finally:
        if scheduler is not None:
            scheduler.shutdown(wait=True)
        leadership.release()


def start_in_background(settings: Settings) -> tuple[threading.Thread, threading.Event]:
    """The leader loop in a thread of this process (`springboard serve` with SCHEDULER_IN_SERVE)."""
    stop = threading.Event()
    thread = threading.Thread(target=lead, args=(settings, stop), name="springboard-scheduler", daemon=True)
    thread.start()
    return thread, stop
