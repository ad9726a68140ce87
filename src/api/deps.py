"""Request-scoped dependencies: units of work on the database, and who is asking.

Handlers open their unit of work themselves (`with uow.write() as session:`), so a transaction begins
and ends in the handler's own thread. A generator dependency would commit in Litestar's cleanup, which
runs on the same small thread pool as the handlers: when every thread waits for a lock whose holder's
commit is queued behind them, the process deadlocks (found by bench/api_lists.py).
"""

from dataclasses import dataclass

import sqlalchemy as sa
from litestar import Request
from litestar.datastructures import State

from matching import db


@dataclass(frozen=True)
class UnitOfWork:
    engine: sa.Engine

    def read(self):
        return db.session_scope(self.engine)

    def write(self):
        return db.session_scope(db.writer(self.engine))

    @property
    def writers_queue(self) -> bool:
        """SQLite: one writing unit at a time, across every worker process (db.py)."""
        return self.engine.dialect.name == "sqlite"


def provide_uow(state: State) -> UnitOfWork:
    return state.uow


def actor_id(request: Request) -> int | None:
    user = request.scope.get("user")
    return getattr(user, "id", None)


def client_address(request: Request) -> str:
    return request.client.host if request.client else ""
