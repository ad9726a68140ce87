"""Matching runs asked for from a page or the API: queued, carried out by the worker, their progress readable
by any process while they run.

A run is one write transaction that can last minutes at England scale (`engine.run`). Holding a request for
that long (and, on SQLite, the only writer's lock) stopped every other write, so a page or the API only
*queues* a run (`queue`: a `match_runs` row with status "queued", committed at once) and the worker carries
it out (`carry_out`, from the job `run_queued_matching` in `jobs/matching.py`).

Progress cannot be written to the run's own row while it runs: on SQLite the run holds the only writer (a
second write would wait for the whole run), and on PostgreSQL the run's transaction has already updated the
row (a second connection's update would wait on its row lock, and the run, waiting on its own progress,
would never finish). So progress goes through a side channel outside the database's transactions:

- SQLite (one machine): a small JSON file beside the database, `<database>-match-run-progress`, replaced
  atomically at each step; any process on the machine reads it.
- PostgreSQL (possibly several machines): the `application_name` of a connection of the run's own
  (`springboard run 12 37/120 candidates (opportunity)`), which every session of the database can read in
  `pg_stat_activity`. It is in no table and needs no transaction; it vanishes with the connection, so a
  worker that died shows no progress rather than a frozen one.

A run whose worker died stays "running" in its row. No run lock is then held (the engine's flock on SQLite,
its advisory lock on PostgreSQL, both dropped when their holder dies), so `recover_stale` marks it failed and
a new run may be queued.
"""

import json
import os
import re
import threading
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from matching import clock, db
from matching.errors import Conflict, DomainError
from matching.models import MatchRun, User

ACTIVE = ("queued", "running")
# A run claimed by a worker takes the engine's lock within milliseconds (the engine is imported before the
# claim); a "running" row with no lock held for longer than this lost its worker.
STALE_AFTER = timedelta(minutes=2)
QUEUE_LOCK_KEY = 0x5B0A2E  # PostgreSQL: two managers queuing at the same moment queue one run, not two
STAGES = {
    "queued": "Waiting for the worker to start it",
    "starting": "Reading the young people, mentors and opportunities",
    "candidates (opportunity)": "Finding opportunities that fit each young person",
    "proposals (opportunity)": "Writing the opportunity proposals",
    "candidates (mentoring)": "Finding mentors who fit each young person",
    "proposals (mentoring)": "Writing the mentoring proposals",
}
KINDS = {"opportunity": "opportunity", "mentoring": "mentoring"}


# --- asking for a run ---------------------------------------------------------------------------------------

def pending(session: Session) -> MatchRun | None:
    """The run queued or under way, if any (the oldest, should two ever be)."""
    return session.exec(select(MatchRun).where(MatchRun.status.in_(ACTIVE)).order_by(MatchRun.id)).first()


def refusal(session: Session) -> str | None:
    """Why a run cannot be queued now, or None. Only reads, so a page can ask while a run holds SQLite's
    writer; a "running" row whose worker died is not a reason (`queue` recovers it)."""
    found = pending(session)
    if found is None or (found.status == "running" and _stale(session, found)):
        return None
    asked = when(found.started_at)
    if found.status == "queued":
        return f"run {found.id} is already queued (asked for {asked}); it starts when the worker next looks"
    return f"run {found.id} is already running (asked for {asked}); wait for it to finish"


def queue(session: Session, actor_id: int | None, source: str) -> MatchRun:
    """A run asked for now, committed with the caller's unit of work as "queued"; Conflict (with which run and
    when it was asked for) if one is already queued or running."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": QUEUE_LOCK_KEY})
    recover_stale(session)
    reason = refusal(session)
    if reason:
        raise Conflict(f"A matching run was not started: {reason}")
    run = MatchRun(actor_id=actor_id, source=source, status="queued", started_at=clock.utcnow(),
                   progress={"stage": "queued"})
    session.add(run)
    session.flush()
    return run


def next_queued(engine: sa.Engine) -> int | None:
    with db.session_scope(engine) as session:
        return session.exec(select(MatchRun.id).where(MatchRun.status == "queued").order_by(MatchRun.id)).first()


# --- carrying it out ----------------------------------------------------------------------------------------

def carry_out(engine: sa.Engine, run_id: int, today: date, *, watch=None) -> MatchRun | None:
    """Carry out a queued run, its progress on the side channel (and passed to `watch`, for tests). None if
    another worker had already claimed it. A failure marks the run "failed" with its reason, in a transaction
    of its own (the run's own rolled back), and is raised again for the job's record."""
    from matching import engine as matching_engine  # numpy, scikit-learn, OR-Tools: seconds, so before the claim

    claimed = _claim(engine, run_id)
    if claimed is None:
        return None
    board: Board | None = None

    def progress(stage: str, done: int, total: int) -> None:
        board.write(stage, done, total)
        if watch:
            watch(stage, done, total)

    try:
        board = board_for(engine, run_id)
        progress("starting", 0, 0)
        return matching_engine.run(engine, today=today, actor_id=claimed.actor_id, source=claimed.source,
                                   progress=progress, queued_id=run_id)
    except Exception as error:
        _fail(engine, run_id, failure_reason(error), board.last if board else {})
        raise
    finally:
        if board is not None:
            board.close()


def failure_reason(error: Exception) -> str:
    """In words and without personal data: the domain's own refusals say what they are about (a run under
    way, a tampered model file); anything else is named by its kind only, as the job runner does."""
    if isinstance(error, DomainError):
        return str(error)[:400]
    return f"The run stopped with an unexpected error ({type(error).__name__}); nothing it did was saved."


def _claim(engine: sa.Engine, run_id: int) -> MatchRun | None:
    began = {"stage": "starting", "began_at": clock.utcnow().isoformat()}
    with db.session_scope(db.writer(engine)) as session:
        claimed = session.execute(sa.update(MatchRun).where(MatchRun.id == run_id, MatchRun.status == "queued")
                                  .values(status="running", progress=began))
        return session.get(MatchRun, run_id) if claimed.rowcount == 1 else None


def _fail(engine: sa.Engine, run_id: int, reason: str, last: dict[str, Any]) -> None:
    with db.session_scope(db.writer(engine)) as session:
        session.execute(sa.update(MatchRun).where(MatchRun.id == run_id, MatchRun.status.in_(ACTIVE))
                        .values(status="failed", error=reason[:400], finished_at=clock.utcnow(), progress=last))


# --- runs whose worker died ---------------------------------------------------------------------------------

def recover_stale(session: Session) -> list[int]:
    """Mark failed each "running" run whose worker died: no run lock held, and claimed over STALE_AFTER ago."""
    running = session.exec(select(MatchRun).where(MatchRun.status == "running")).all()
    stale = [run for run in running if _stale(session, run)]
    for run in stale:
        run.status, run.finished_at = "failed", clock.utcnow()
        run.error = "The worker carrying out this run stopped before it finished; nothing it did was saved."
        session.add(run)
    session.flush()
    return [run.id for run in stale]


def _stale(session: Session, run: MatchRun) -> bool:
    began = run.progress.get("began_at") if run.progress else None
    claimed_at = datetime.fromisoformat(began) if began else run.started_at
    return clock.utcnow() - claimed_at > STALE_AFTER and not run_in_progress(session.get_bind().engine)


def run_in_progress(engine: sa.Engine) -> bool:
    """Whether any process holds the engine's run lock. Taking it for a moment is the only way to ask: a run
    starting in that moment is refused as if another were under way (and says so)."""
    from matching.engine import runs

    try:
        with runs._one_run_at_a_time(engine):
            if engine.dialect.name != "postgresql":
                return False
            with engine.connect() as connection:
                free = connection.execute(sa.text("SELECT pg_try_advisory_xact_lock(:key)"),
                                          {"key": runs.RUN_LOCK_KEY}).scalar()
                connection.rollback()  # lets the lock go at once
                return not free
    except Conflict:
        return True


# --- the side channel ---------------------------------------------------------------------------------------

class Board:
    """Where a run's progress is written while it runs; writes at most once per stage and percent."""

    def __init__(self, run_id: int):
        self.run_id, self.last, self.lock = run_id, {}, threading.Lock()
        self.shown: tuple[str, int] | None = None

    def write(self, stage: str, done: int, total: int) -> None:
        step = (stage, 100 * done // total if total else 0)
        with self.lock:  # the engine reports from its writer thread too
            self.last = {"stage": stage, "done": done, "total": total}
            if step != self.shown:
                self.shown = step
                self.publish(self.last)

    def publish(self, progress: dict[str, Any]) -> None:
        raise NotImplementedError

    def close(self) -> None:
        pass


class FileBoard(Board):
    def __init__(self, path: str, run_id: int):
        super().__init__(run_id)
        self.path = path

    def publish(self, progress: dict[str, Any]) -> None:
        draft = f"{self.path}.{os.getpid()}"
        with open(draft, "w") as file:
            json.dump({"run": self.run_id, **progress}, file)
        os.replace(draft, self.path)  # readers see the old step or the new one, never half of one

    def close(self) -> None:
        if _read_file(self.path, self.run_id) is not None:
            os.remove(self.path)


_IN_MEMORY: dict[int, dict[str, Any]] = {}


class MemoryBoard(Board):
    """An in-memory SQLite database belongs to one process, and so does its progress."""

    def publish(self, progress: dict[str, Any]) -> None:
        _IN_MEMORY[self.run_id] = dict(progress)

    def close(self) -> None:
        _IN_MEMORY.pop(self.run_id, None)


NAME_PREFIX = "springboard run"
NAME = re.compile(rf"^{NAME_PREFIX} (\d+) (\d+)/(\d+) (.*)$")


class ConnectionNameBoard(Board):
    """PostgreSQL: the application_name of a connection of the run's own (at most 63 characters)."""

    def __init__(self, engine: sa.Engine, run_id: int):
        super().__init__(run_id)
        self.connection = sa.create_engine(engine.url, poolclass=sa.pool.NullPool,
                                           isolation_level="AUTOCOMMIT").connect()

    def publish(self, progress: dict[str, Any]) -> None:
        name = f"{NAME_PREFIX} {self.run_id} {progress['done']}/{progress['total']} {progress['stage']}"[:63]
        self.connection.execute(sa.text("SELECT set_config('application_name', :name, false)"), {"name": name})

    def close(self) -> None:
        self.connection.close()


def board_for(engine: sa.Engine, run_id: int) -> Board:
    if engine.dialect.name == "postgresql":
        return ConnectionNameBoard(engine, run_id)
    path = _progress_path(engine)
    return FileBoard(path, run_id) if path else MemoryBoard(run_id)


def live_progress(engine: sa.Engine, run_id: int) -> dict[str, Any] | None:
    """A running run's progress as its worker last wrote it ({"stage", "done", "total"}), from any process."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            names = connection.execute(sa.text(
                "SELECT application_name FROM pg_stat_activity WHERE datname = current_database() "
                "AND application_name LIKE :prefix"), {"prefix": f"{NAME_PREFIX} {run_id} %"}).scalars()
            for name in names:
                if found := NAME.match(name):
                    return {"stage": found[4], "done": int(found[2]), "total": int(found[3])}
        return None
    path = _progress_path(engine)
    return _read_file(path, run_id) if path else _IN_MEMORY.get(run_id)


def _progress_path(engine: sa.Engine) -> str | None:
    database = engine.url.database
    return f"{database}-match-run-progress" if database and database != ":memory:" else None


def _read_file(path: str, run_id: int) -> dict[str, Any] | None:
    try:
        with open(path) as file:
            found = json.load(file)
    except (FileNotFoundError, ValueError):
        return None
    if found.pop("run", None) != run_id:
        return None
    return found


# --- reading runs for the pages and the API -----------------------------------------------------------------

@dataclass(frozen=True)
class Shown:
    run: MatchRun
    asked_by: str  # the person's name, or who else started it
    progress: dict[str, Any]  # the live progress while it runs, else what the row last recorded

    @property
    def stage(self) -> str:
        code = self.progress.get("stage", "")
        return STAGES.get(code, code)

    @property
    def proposals(self) -> dict[str, int]:
        counts = self.run.counts or {}
        return {kind: counts.get(kind, {}).get("proposals", 0) for kind in KINDS}

    @property
    def active(self) -> bool:
        return self.run.status in ACTIVE

    @property
    def how_far(self) -> str:
        """How far the stage has gone, in words ("" before it reports)."""
        done, total, stage = self.progress.get("done", 0), self.progress.get("total", 0), self.progress.get("stage", "")
        if not total:
            return ""
        if stage.startswith("proposals"):
            return _count(total, "proposal") + " written"
        return f"{done} of {total} groups of young people looked at ({100 * done // total}%)"

    @property
    def result(self) -> str:
        """What a finished run made, in words."""
        made = self.proposals
        people = (self.run.counts or {}).get("people", 0)
        return (f"{_count(made['opportunity'], 'opportunity proposal')} and "
                f"{_count(made['mentoring'], 'mentoring proposal')}, for {_count(people, 'open case')}")


SOURCES = {"job": "The nightly run", "cli": "The command line"}


def show(session: Session, run: MatchRun) -> Shown:
    progress = dict(run.progress or {})
    if run.status == "running":
        progress.update(live_progress(session.get_bind().engine, run.id) or {})
    user = session.get(User, run.actor_id) if run.actor_id else None
    return Shown(run, user.full_name if user else SOURCES.get(run.source, "Someone"), progress)


def recent(session: Session, limit: int = 50) -> list[Shown]:
    runs = session.exec(select(MatchRun).order_by(MatchRun.id.desc()).limit(limit)).all()
    return [show(session, run) for run in runs]


def _count(number: int, thing: str) -> str:
    return f"{number} {thing}" if number == 1 else f"{number} {thing}s"


def when(moment: datetime) -> str:
    local = moment.astimezone(clock.ZONE)
    return f"at {local:%-I:%M%p} on {local.day} {local:%B %Y}".replace("AM", "am").replace("PM", "pm")
