"""Engines, sessions and migrations. SQLite by default; PostgreSQL through DATABASE_URL."""

import fcntl
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from functools import lru_cache, partial
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec
import sqlalchemy as sa
from sqlalchemy.pool import StaticPool
from sqlmodel import Session

from matching.errors import DatabaseBusy

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"


# msgspec reads and writes the JSON columns (lists of interests, languages, reasons) several times faster
# than the standard library, which matters when a match run reads every profile.
JSON = {"json_serializer": lambda value: msgspec.json.encode(value).decode(), "json_deserializer": msgspec.json.decode}


def make_engine(url: str) -> sa.Engine:
    if url.startswith("sqlite"):
        in_memory = url in {"sqlite://", "sqlite:///:memory:"}
        engine = sa.create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            poolclass=StaticPool if in_memory else None,
            # As many connections as anyio's worker threads (40): past the pool, each request would open and
            # close a connection, PRAGMAs included. Last in, first out: the few connections in steady use keep
            # their page caches and prepared statements warm, where first in, first out cycled through all 40.
            **({} if in_memory else {"pool_size": 40, "max_overflow": 0, "pool_use_lifo": True}),
            **JSON,
        )
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        sa.event.listen(engine, "begin", _sqlite_begin)
        return engine
    # PostgreSQL's default random_page_cost (4) prices an index lookup for a spinning disk. Springboard's
    # working set is small enough to stay in memory, where that price made the planner scan whole tables
    # rather than read a page's rows through an index (bench/RESULTS.md); 1.1 is the usual figure for SSDs.
    # JIT compilation pays off only for long analytic queries; on a page's short ones it adds milliseconds.
    engine = sa.create_engine(url, pool_size=10, max_overflow=20,
                              connect_args={"options": "-c random_page_cost=1.1 -c jit=off"}, **JSON)
    sa.event.listen(engine, "connect", _note_idle_since)
    sa.event.listen(engine, "checkin", _note_idle_since)
    sa.event.listen(engine, "checkout", partial(_ping_if_idle, engine.dialect))
    return engine


# A pooled connection that sat idle may have been dropped (a database restart, a firewall's timeout), so it
# is pinged before use, and replaced if dead. One in steady use is not: pool_pre_ping's round trip on every
# checkout was a sixth of a list request's time.
PING_IF_IDLE_SECONDS = 5.0


def _note_idle_since(_dbapi_connection, record) -> None:
    record.info["idle_since"] = time.monotonic()


def _ping_if_idle(dialect: sa.Dialect, dbapi_connection, record, _proxy) -> None:
    if time.monotonic() - record.info["idle_since"] < PING_IF_IDLE_SECONDS:
        return
    try:
        dialect.do_ping(dbapi_connection)
    except dialect.loaded_dbapi.Error as error:
        if dialect.is_disconnect(error, dbapi_connection, None):
            raise sa.exc.DisconnectionError("the pooled connection was dropped; the pool opens another") from error
        raise


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    dbapi_connection.isolation_level = None  # let the "begin" listener issue BEGIN itself
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # Any write (an audit row: every page view) resets every other connection's page cache, so most reads
    # start cold; read through a memory map, a cold page costs no system call and no copy.
    cursor.execute("PRAGMA mmap_size=1073741824")
    cursor.close()


def _sqlite_begin(conn: sa.Connection) -> None:
    # A deferred BEGIN lets readers run side by side (WAL). A writing unit of work takes the write lock
    # at BEGIN instead, so read-check-write sequences serialise rather than fail with SQLITE_BUSY.
    immediate = conn.get_execution_options().get("writer", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def writer(engine: sa.Engine, wait: float | None = None) -> sa.Engine:
    """The same pool, for units of work that write (PostgreSQL ignores the option). `wait`: how long, at most,
    to wait for SQLite's writer before DatabaseBusy (default WRITE_WAIT_SECONDS; 0 for a write that may be
    skipped, such as renewing a session while a matching run holds the writer)."""
    return engine.execution_options(writer=True, writer_wait=wait)


@lru_cache
def engine_for(url: str) -> sa.Engine:
    return make_engine(url)


# SQLite has one writer at a time. Writers queue for their database here rather than in SQLite's busy
# handler, which sleeps in steps of up to 100 ms: threads of this process on a lock, then (for a database
# file) processes on an exclusive flock of a file beside it, polled every millisecond or two. The kernel
# drops a flock when its holder dies, so a crashed worker cannot wedge the others.
_SQLITE_WRITERS: dict[str, threading.Lock] = {}
_LOCK_FILES: dict[tuple[int, str], int] = {}
WRITE_WAIT_SECONDS = 30


def _lock_file(database: str) -> int:
    key = (os.getpid(), database)  # a forked process opens its own: a flock belongs to the open file
    if key not in _LOCK_FILES:
        _LOCK_FILES[key] = os.open(f"{database}-writer", os.O_RDWR | os.O_CREAT, 0o600)
    return _LOCK_FILES[key]


def _busy(waited: float = WRITE_WAIT_SECONDS) -> DatabaseBusy:
    return DatabaseBusy(f"the database stayed busy for {waited:g} s; try again")


@contextmanager
def _file_turn(database: str, deadline: float) -> Iterator[None]:
    """This process's turn among the processes writing to `database`."""
    fd, pause = _lock_file(database), 0.0002
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise _busy() from None
            time.sleep(pause)
            pause = min(pause * 2, 0.002)
    try:
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)


@contextmanager
def _writer_turn(engine: sa.Engine) -> Iterator[None]:
    wait = engine.get_execution_options().get("writer_wait")
    wait = WRITE_WAIT_SECONDS if wait is None else wait
    deadline = time.monotonic() + wait
    lock = _SQLITE_WRITERS.setdefault(str(engine.url), threading.Lock())
    if not (lock.acquire(timeout=wait) if wait > 0 else lock.acquire(blocking=False)):
        raise _busy(wait)
    database = engine.url.database
    try:
        with _file_turn(database, deadline) if database and database != ":memory:" else nullcontext():
            yield
    finally:
        lock.release()


@contextmanager
def session_scope(engine: sa.Engine) -> Iterator[Session]:
    """One unit of work: commit on success, roll back everything on any error."""
    sqlite_writer = engine.dialect.name == "sqlite" and engine.get_execution_options().get("writer")
    with _writer_turn(engine) if sqlite_writer else nullcontext(), Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


class GroupCommit:
    """Small writes from concurrent requests (the audit rows of reads) committed together.

    Each read of a care leaver's record must have its audit row committed before the data is sent, so
    every audited read was a writing unit of work of its own: on SQLite a turn on the single writer lock,
    on PostgreSQL a WAL flush; audited lists served a quarter of the requests unaudited ones did (issue 19).
    Here a caller adds its write and waits. If no batch is being written, it writes every waiting write in
    one unit of work and commits once; whoever arrives meanwhile waits for the next batch, which the first
    of them writes when this one is done (the leader changes at each batch, so nobody's request carries
    everybody else's writes for long). Each caller still returns only after its own write committed, and
    raises if that commit failed."""

    def __init__(self, engine: sa.Engine):
        self._engine = writer(engine)
        self._lock = threading.Lock()
        self._waiting: list[_Write] = []
        self._writing = False

    def write(self, work: Callable[[Session], None]) -> None:
        """Run `work(session)` in a unit of work shared with concurrent callers; return once it committed."""
        mine = _Write(work)
        with self._lock:
            self._waiting.append(mine)
            if not self._writing:
                self._writing = mine.leads = True
        if not mine.leads:
            mine.settled.wait()  # set when committed, or when this caller is to write the next batch
        if not mine.done:
            self._write_batch()
        if mine.error is not None:
            raise mine.error

    def _write_batch(self) -> None:
        with self._lock:
            batch, self._waiting = self._waiting, []
        try:
            with session_scope(self._engine) as session:
                for each in batch:
                    each.work(session)
        except BaseException as error:  # every caller in the batch is told: none of their rows was written
            for each in batch:
                each.error = error
        finally:
            for each in batch:
                each.done = True
                each.settled.set()
            with self._lock:
                if self._waiting:
                    self._waiting[0].leads = True
                    self._waiting[0].settled.set()
                else:
                    self._writing = False


class _Write:
    __slots__ = ("work", "settled", "leads", "done", "error")

    def __init__(self, work: Callable[[Session], None]):
        self.work, self.settled = work, threading.Event()
        self.leads = self.done = False
        self.error: BaseException | None = None


def bulk_insert(session: Session, table: sa.Table, rows: list[dict], shared: dict | None = None) -> None:
    """Many rows at once, inside the session's transaction; `shared` holds the values every row has.

    A match run writes tens of thousands of proposals. PostgreSQL takes them through COPY (one INSERT per
    row, even pipelined, cost two seconds at London scale); SQLite through the driver's executemany with
    each column's value converted once per column rather than by SQLAlchemy once per row and column."""
    if not rows:
        return
    shared = shared or {}
    names = [*rows[0], *shared]
    if session.get_bind().dialect.name == "postgresql":
        encoded = {name for name in names if isinstance(table.c[name].type, sa.JSON)}
        cursor = session.connection().connection.driver_connection.cursor()
        with cursor, cursor.copy(f"COPY {table.name} ({', '.join(names)}) FROM STDIN") as copy:
            for row in rows:
                values = {**row, **shared}
                copy.write_row([JSON["json_serializer"](values[n]) if n in encoded else values[n] for n in names])
        return
    connection = session.connection()
    convert = {name: table.c[name].type.bind_processor(connection.dialect) for name in names}
    fixed = tuple(convert[name](value) if convert[name] else value for name, value in shared.items())
    per_row = [(name, convert[name]) for name in rows[0]]
    params = [tuple(to(row[name]) if to else row[name] for name, to in per_row) + fixed for row in rows]
    connection.exec_driver_sql(f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
                               params)


def analyze(engine: sa.Engine) -> None:
    """Refresh the query planner's statistics after a bulk change: a migration, a load, an import.

    Without them SQLite guesses that a filter such as in_touch = 'YES' is selective, and sorts the eight
    thousand rows it matches instead of walking the sort column's index to the first page (11 ms against
    0.1 ms at London scale). A full analysis (0.1 s at London scale): SQLite's sampled one (analysis_limit)
    misjudged the skewed in-touch codes badly enough to bring the sort back.

    PostgreSQL also gets a VACUUM, which marks the loaded pages all-visible: only then do index-only scans
    (a list's count and page ids) skip the table. Autovacuum would do both a minute or so later, in the
    middle of people's work (it did, in the middle of a benchmark)."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM (ANALYZE)")
        return
    with session_scope(writer(engine)) as session:
        session.execute(sa.text("ANALYZE"))


def alembic_config(url: str) -> "Config":
    # Imported here: alembic takes 0.15 s to load, and only migrations need it, not `match explain`.
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    from alembic import command

    command.upgrade(alembic_config(url), revision)
    analyze(engine_for(url))


def check(url: str) -> None:
    """Fails when the models have changed without a migration."""
    from alembic import command

    command.check(alembic_config(url))


def ping(engine: sa.Engine) -> None:
    with engine.connect() as conn:
        conn.execute(sa.text("SELECT 1"))
