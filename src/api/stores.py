"""Sessions for the pages: a Litestar store kept in the database, so every instance of the service shares
sign-in sessions and the sign-in rate limit (Litestar's own stores live in one process's memory, a file or
Redis), and a session backend that issues a new session id at sign-in."""

from dataclasses import dataclass
from datetime import timedelta

import anyio
import sqlalchemy as sa
from litestar.connection import ASGIConnection
from litestar.middleware.session.server_side import ServerSideSessionBackend, ServerSideSessionConfig
from litestar.stores.base import Store
from litestar.types import Message, ScopeSession
from sqlalchemy.dialects import postgresql, sqlite

from matching import db
from matching.clock import utcnow
from matching.models import StoredValue

TABLE = StoredValue.__table__


class DatabaseStore(Store):
    def __init__(self, engine: sa.Engine, namespace: str):
        self.engine, self.prefix = engine, f"{namespace}:"

    async def set(self, key: str, value: str | bytes, expires_in: int | timedelta | None = None) -> None:
        await anyio.to_thread.run_sync(self._set, key, value.encode() if isinstance(value, str) else value, expires_in)

    async def get(self, key: str, renew_for: int | timedelta | None = None) -> bytes | None:
        return await anyio.to_thread.run_sync(self._get, key, renew_for)

    async def delete(self, key: str) -> None:
        await anyio.to_thread.run_sync(self._delete, key)

    async def delete_all(self) -> None:
        await anyio.to_thread.run_sync(self._delete_all)

    async def exists(self, key: str) -> bool:
        return await self.get(key) is not None

    async def expires_in(self, key: str) -> int | None:
        return await anyio.to_thread.run_sync(self._expires_in, key)

    def _set(self, key: str, value: bytes, expires_in: int | timedelta | None) -> None:
        expires_at = utcnow() + _delta(expires_in) if expires_in else None
        # One upsert: a delete then an insert let two requests of the same browser session both insert on
        # PostgreSQL (a unique violation, so a 500, found by bench/pages.py under 20 clients).
        insert = (postgresql.insert if self.engine.dialect.name == "postgresql" else sqlite.insert)(TABLE)
        with db.session_scope(db.writer(self.engine)) as session:
            session.execute(insert.values(key=self.prefix + key, value=value, expires_at=expires_at)
                            .on_conflict_do_update(index_elements=[TABLE.c.key],
                                                   set_={"value": value, "expires_at": expires_at}))

    def _get(self, key: str, renew_for: int | timedelta | None) -> bytes | None:
        query = sa.select(TABLE.c.value, TABLE.c.expires_at).where(TABLE.c.key == self.prefix + key)
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        if row is None or (row.expires_at is not None and row.expires_at <= utcnow()):
            return None
        if renew_for and row.expires_at is not None:
            with db.session_scope(db.writer(self.engine)) as session:
                session.execute(sa.update(TABLE).where(TABLE.c.key == self.prefix + key)
                                .values(expires_at=utcnow() + _delta(renew_for)))
        return row.value

    def _delete(self, key: str) -> None:
        with db.session_scope(db.writer(self.engine)) as session:
            session.execute(sa.delete(TABLE).where(TABLE.c.key == self.prefix + key))

    def _delete_all(self) -> None:
        with db.session_scope(db.writer(self.engine)) as session:
            session.execute(sa.delete(TABLE).where(TABLE.c.key.startswith(self.prefix)))

    def _expires_in(self, key: str) -> int | None:
        with self.engine.connect() as conn:
            expires_at = conn.execute(sa.select(TABLE.c.expires_at).where(TABLE.c.key == self.prefix + key)).scalar()
        return max(0, int((expires_at - utcnow()).total_seconds())) if expires_at else None


def _delta(value: int | timedelta) -> timedelta:
    return value if isinstance(value, timedelta) else timedelta(seconds=value)


class RotatingSessionBackend(ServerSideSessionBackend):
    """Litestar keeps whatever session id the browser sends. At sign-in (and single sign-on) the pages ask
    for a fresh one (`rotate_session`), and the old one is deleted, so a session id planted in someone's
    browser before they sign in never becomes a signed-in session."""

    def get_session_id(self, connection: ASGIConnection) -> str:
        if connection.scope.get("rotate_session"):
            return connection.scope.setdefault("rotated_session_id", self.generate_session_id())
        return super().get_session_id(connection)

    async def store_in_message(self, scope_session: ScopeSession, message: Message, connection: ASGIConnection) -> None:
        planted = connection.cookies.get(self.config.key)
        if connection.scope.get("rotate_session") and planted and planted != "null":
            await self.delete(planted, store=self.config.get_store_from_app(connection.scope["app"]))
        await super().store_in_message(scope_session, message, connection)


@dataclass
class SessionConfig(ServerSideSessionConfig):
    _backend_class = RotatingSessionBackend


def rotate_session(connection: ASGIConnection) -> None:
    connection.scope["rotate_session"] = True  # type: ignore[typeddict-unknown-key]
