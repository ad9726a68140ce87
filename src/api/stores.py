"""Sessions for the pages: a Litestar store kept in the database, so every instance of the service shares
sign-in sessions and the sign-in rate limit (Litestar's own stores live in one process's memory, a file or
Redis), and a session backend that issues a new session id at sign-in."""

from copy import deepcopy
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import anyio
import sqlalchemy as sa
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie, MutableScopeHeaders
from litestar.middleware.session.server_side import ServerSideSessionBackend, ServerSideSessionConfig
from litestar.stores.base import Store
from litestar.types import Empty, Message, ScopeSession
from litestar.utils.dataclass import extract_dataclass_items
from sqlalchemy.dialects import postgresql, sqlite

from matching import db
from matching.clock import utcnow
from matching.errors import DatabaseBusy
from matching.models import StoredValue

TABLE = StoredValue.__table__
# A session's expiry slides with use, but is written at most this often: renewing on every page view put a
# write (on SQLite, a turn of the single writer) in front of every read, and a view then queued behind any
# long write such as a matching run. The idle timeout is therefore exact to within this many seconds.
RENEW_AFTER = timedelta(seconds=60)


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

    def read(self, key: str) -> bytes | None:
        """The value, read synchronously and without renewing it (for Litestar's synchronous error handlers)."""
        return self._get(key, None)

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
        renewed = utcnow() + _delta(renew_for) if renew_for else None
        if renewed and row.expires_at is not None and renewed - row.expires_at >= RENEW_AFTER:
            self._renew(key, renewed, row.expires_at)
        return row.value

    def _renew(self, key: str, renewed, expires_at) -> None:
        """Slide the expiry, unless another write holds SQLite's writer (a matching run can for a minute): then
        the view goes ahead unrenewed, and a later view renews, unless the session is within a minute of
        expiring, which is worth waiting for."""
        near_expiry = expires_at - utcnow() < RENEW_AFTER
        try:
            with db.session_scope(db.writer(self.engine, wait=None if near_expiry else 0)) as session:
                session.execute(sa.update(TABLE).where(TABLE.c.key == self.prefix + key).values(expires_at=renewed))
        except DatabaseBusy:
            if near_expiry:
                raise

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

    async def load_from_connection(self, connection: ASGIConnection) -> dict[str, Any]:
        data = await super().load_from_connection(connection)
        connection.scope["loaded_session"] = data  # type: ignore[typeddict-unknown-key]
        return deepcopy(data)  # a copy to compare with: flash messages are appended to a list in place

    async def store_in_message(self, scope_session: ScopeSession, message: Message, connection: ASGIConnection) -> None:
        planted = connection.cookies.get(self.config.key)
        rotating = connection.scope.get("rotate_session")
        if rotating and planted and planted != "null":
            await self.delete(planted, store=self.config.get_store_from_app(connection.scope["app"]))
        if not rotating and scope_session is not Empty and scope_session == connection.scope.get("loaded_session"):
            # Unchanged: nothing to write (the store renews its expiry when read). An anonymous visitor's empty
            # session is never written at all, so browsing the sign-in page leaves no row behind.
            if scope_session and planted:
                self._renew_cookie(message, planted)
            return
        await super().store_in_message(scope_session, message, connection)

    def _renew_cookie(self, message: Message, session_id: str) -> None:
        params = dict(extract_dataclass_items(self.config, exclude_none=True, include=Cookie.__dict__.keys()))
        MutableScopeHeaders.from_message(message).add(
            "Set-Cookie", Cookie(value=session_id, key=self.config.key, **params).to_header(header=""))


@dataclass
class SessionConfig(ServerSideSessionConfig):
    _backend_class = RotatingSessionBackend


def rotate_session(connection: ASGIConnection) -> None:
    connection.scope["rotate_session"] = True  # type: ignore[typeddict-unknown-key]
