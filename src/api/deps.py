"""Request-scoped dependencies: units of work on the database, who is asking, and what no request may carry.

Handlers open their unit of work themselves (`with uow.write() as session:`), so a transaction begins
and ends in the handler's own thread. A generator dependency would commit in Litestar's cleanup, which
runs on the same small thread pool as the handlers: when every thread waits for a lock whose holder's
commit is queued behind them, the process deadlocks (found by bench/api_lists.py).
"""

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from litestar import Request
from litestar.connection import ASGIConnection
from litestar.datastructures import State
from litestar.exceptions import NotFoundException, SerializationException, ValidationException
from litestar.handlers import BaseRouteHandler

from matching import db
from matching.models.base import MAX_INT, MIN_INT


@dataclass(frozen=True)
class UnitOfWork:
    engine: sa.Engine
    # The audit rows of concurrent reads, committed together (db.GroupCommit).
    audit_rows: db.GroupCommit = field(init=False)

    def __post_init__(self):
        object.__setattr__(self, "audit_rows", db.GroupCommit(self.engine))

    def read(self):
        return db.session_scope(self.engine)

    def write(self):
        return db.session_scope(db.writer(self.engine))


def provide_uow(state: State) -> UnitOfWork:
    return state.uow


def actor_id(request: Request) -> int | None:
    user = request.scope.get("user")
    return getattr(user, "id", None)


def client_address(request: Request) -> str:
    return request.client.host if request.client else ""


# What no request may carry, refused in one place before any handler or database sees it. Each check is one
# the databases would otherwise fail on with a server error, or answer wrongly: PostgreSQL refuses a NUL
# character in text, SQLite's search read it as the end of the text and matched every row, both refuse to
# compare an INTEGER column with a number it cannot hold, and the JSON decoder recursed until Python gave up.
MAX_JSON_DEPTH = 32  # the deepest body the API documents is 3 levels
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
NUL = "\x00"
IN_RANGE = f"must be a whole number from {MIN_INT} to {MAX_INT}"


async def refuse_impossible_input(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """An app-wide guard (async: it runs on the event loop). An id in the path that no record can have is
    "not found", as any other unknown id is; a query or body value the service could never accept is refused
    naming the field. Guards run after sign-in, so nobody learns anything here without a valid credential."""
    _check_path(connection.path_params)
    for name, value in connection.query_params.multi_items():
        if NUL in name or NUL in value:
            raise _refusal(_printable(name), "must not contain a NUL character")
    if isinstance(connection, Request) and connection.method in BODY_METHODS:
        await _check_body(connection)


def _check_path(params: dict[str, Any]) -> None:
    for value in params.values():
        if isinstance(value, int) and not 1 <= value <= MAX_INT:
            raise NotFoundException(f"nothing has the id {value}")
        if NUL in str(value):
            raise NotFoundException("no such address")


async def _check_body(request: Request) -> None:
    """A JSON body is decoded here (Litestar keeps the result for the handler) and walked once."""
    kind = request.content_type[0]
    if kind == "multipart/form-data":
        return  # uploads (imports) are left whole to their handlers, which may read them as a stream
    if kind == "application/x-www-form-urlencoded":  # the pages' forms
        form = await request.form()
        for name, value in form.multi_items():
            if isinstance(value, str) and (NUL in name or NUL in value):
                raise _refusal(_printable(name), "must not contain a NUL character")
        return
    if not await request.body():
        return
    try:
        document = await request.json()
    except RecursionError:
        raise _refusal("body", f"is nested more than {MAX_JSON_DEPTH} levels deep") from None
    except SerializationException:
        return  # not JSON at all: the handler's own decoding says so (400)
    _check_document(document)


def _check_document(document: Any) -> None:
    """Depth, NUL characters and the size of numbers, walked without recursion (the depth is not yet known)."""
    stack: list[tuple[Any, tuple[str, ...]]] = [(document, ())]
    while stack:
        value, path = stack.pop()
        field = ".".join(path) or "body"
        if isinstance(value, dict | list) and len(path) >= MAX_JSON_DEPTH:
            raise _refusal("body", f"is nested more than {MAX_JSON_DEPTH} levels deep")
        if isinstance(value, str):
            if NUL in value:
                raise _refusal(field, "must not contain a NUL character")
        elif isinstance(value, bool):
            continue
        elif isinstance(value, int | float):
            if not MIN_INT <= value <= MAX_INT:  # NaN compares false too
                raise _refusal(field, IN_RANGE)
        elif isinstance(value, dict):
            for key, item in value.items():
                if NUL in key:
                    raise _refusal(_printable(".".join((*path, key))), "must not contain a NUL character")
                stack.append((item, (*path, key)))
        elif isinstance(value, list):
            stack.extend((item, (*path, str(index))) for index, item in enumerate(value))


def _printable(name: str) -> str:
    return name.replace(NUL, "\\u0000")


def _refusal(field: str, reason: str) -> ValidationException:
    return ValidationException(f"{field}: {reason}", extra=[{"key": field, "message": reason}])
