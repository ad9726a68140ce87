"""Request-scoped dependencies: one database unit of work per request, and who is asking."""

from collections.abc import Iterator

from litestar import Request
from litestar.datastructures import State
from sqlmodel import Session

from matching import db

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def provide_db(state: State, request: Request) -> Iterator[Session]:
    """Commits when the handler succeeds (before the response is sent); rolls back on any error."""
    engine = state.engine if request.method in SAFE_METHODS else db.writer(state.engine)
    with db.session_scope(engine) as session:
        yield session


def actor_id(request: Request) -> int | None:
    user = request.scope.get("user")
    return getattr(user, "id", None)


def client_address(request: Request) -> str:
    return request.client.host if request.client else ""
