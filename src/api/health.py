"""Readiness: the service is up and its database answers, and can be written to.

A database that answers reads but refuses every write (a read-only file, folder or mount on SQLite; a
PostgreSQL database or server set read-only, such as a standby) would fail every change and every audited
read, so health reports it too. It is found without writing anything: SQLite's PRAGMA query_only, how the
file was opened and whether the file and its folder may be written; PostgreSQL's own `transaction_read_only`
(which `default_transaction_read_only` and a standby both set).
"""

import os
from pathlib import Path

import sqlalchemy as sa
from litestar import Response, get
from litestar.datastructures import State
from sqlalchemy.exc import SQLAlchemyError

from api.errors import FAULTS, LOST, database_fault

READ_ONLY = FAULTS[0][1:]


def _sqlite_file_read_only(url: sa.URL) -> bool:
    """The database file, its folder (where the WAL and its index live) or their mount refuse writes, or the
    URL opened it read-only (`?mode=ro`, `?immutable=1`)."""
    if url.query.get("mode") == "ro" or url.query.get("immutable") in {"1", "true"}:
        return True
    name = (url.database or "").removeprefix("file:").partition("?")[0]
    if name in {"", ":memory:"} or url.query.get("mode") == "memory":
        return False
    file = Path(name)
    folder = file.parent
    mount_read_only = bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    return mount_read_only or not os.access(folder, os.W_OK) or (file.exists() and not os.access(file, os.W_OK))


def read_only(engine: sa.Engine) -> bool:
    """Whether the database would refuse a write now (raises SQLAlchemyError when it does not answer at all)."""
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            return bool(conn.exec_driver_sql("PRAGMA query_only").scalar()) or _sqlite_file_read_only(engine.url)
        return conn.exec_driver_sql("SHOW transaction_read_only").scalar() == "on"


def _unavailable(state: str, reason: str, wait: int) -> Response[dict[str, str]]:
    return Response({"status": "unavailable", "database": state, "reason": reason}, status_code=503,
                    headers={"Retry-After": str(wait)})


@get("/health", sync_to_thread=True, tags=["Service"], summary="Readiness, including a database that can be written")
def health(state: State) -> Response[dict[str, str]]:
    try:
        refuses_writes = read_only(state.engine)
    except SQLAlchemyError as error:
        return _unavailable("unreachable", *(database_fault(error) or LOST))
    if refuses_writes:
        return _unavailable("read-only", *READ_ONLY)
    return Response({"status": "ok", "database": "ok"})
