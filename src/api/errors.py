"""What goes wrong, said once for each audience.

The JSON API (`/api/`, `/schema`, `/health`) answers every error as RFC 9457 problem details naming the
field and the reason. Anywhere else a browser gets a GOV.UK page: "Page not found", "You cannot see this
page", or "Sorry, there is a problem with the service" with the request id to quote. An unexpected error
is logged once, with its request id, the route template and where in the code it happened, but never its
message or the values involved (an exception's text can carry a name, a date of birth or SQL parameters).
A write that lost an optimistic-lock race is a 409 saying the record changed and to reload; a database that
cannot serve (lost connection, read-only, full, every pooled connection in use) is a 503 with the reason and
Retry-After, logged as a warning with the request id.

The pages router has its own handlers for signed-out visits, 403 and 404 (api/pages/common.py); these are
the app-level ones: unknown URLs, errors from middleware (CSRF), and unexpected errors on any page.
"""

import logging
import secrets
import traceback
from collections.abc import Callable
from typing import Any

from litestar import Litestar, Request, Response
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
    ValidationException,
)
from litestar.openapi.datastructures import ResponseSpec
from litestar.plugins.problem_details import ProblemDetailsException
from litestar.response import Redirect, Template
from litestar.routes import HTTPRoute
from litestar.types import Scope
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm.exc import StaleDataError

from matching.errors import Conflict, DatabaseBusy, InvalidInput, NotFound, StaleVersion

log = logging.getLogger("springboard.errors")
JSON_PATHS = ("/api/", "/schema", "/health")
REQUEST_ID = "springboard.request_id"


def request_id(scope: Scope) -> str:
    """This request's id, made on first use: quoted on the error page, sent as X-Request-Id, logged."""
    found = scope.get(REQUEST_ID)  # type: ignore[call-overload]
    if found is None:
        found = scope[REQUEST_ID] = secrets.token_hex(8)  # type: ignore[literal-required]
    return found


def _problem(status: int, title: str, detail: str, errors: list[dict] | None = None) -> ProblemDetailsException:
    return ProblemDetailsException(status_code=status, title=title, detail=detail,
                                   extra={"errors": errors} if errors else None)


def _validation(exc: ValidationException) -> ProblemDetailsException:
    errors = [
        {"field": item.get("key") or item.get("source") or "body", "reason": item.get("message", "")}
        for item in (exc.extra if isinstance(exc.extra, list) else [])
    ]
    detail = "; ".join(f"{e['field']}: {e['reason']}" for e in errors) or str(exc.detail)
    return _problem(400, "Invalid request", detail, errors)


def _invalid(exc: InvalidInput) -> ProblemDetailsException:
    return _problem(422, "Invalid value", str(exc), [{"field": exc.field, "reason": exc.reason}])


def _conflict(exc: Conflict) -> ProblemDetailsException:
    if hasattr(exc, "allowed"):
        return ProblemDetailsException(status_code=409, title="Not allowed from this state", detail=str(exc),
                                       extra={"allowed_next": exc.allowed})
    return _problem(409, "Conflict", str(exc))


CHANGED = ("The record changed", "Someone else changed this record since you read it. Reload it, check it and "
                                  "make your change again.")


def _stale(exc: Exception) -> ProblemDetailsException:
    """A write whose optimistic lock failed: the service's own check (StaleVersion, which names the versions) or
    the database's (SQLAlchemy's StaleDataError, when another transaction committed between read and write)."""
    detail = str(exc) if isinstance(exc, StaleVersion) else CHANGED[1]
    return _problem(409, CHANGED[0], detail)


# Database faults a client can do nothing about but wait: (what to look for in the driver's message, the reason
# given, seconds to wait). A lost connection is usually back within seconds (a restart, a fail-over); a
# read-only or full database needs someone to act.
FAULTS = (
    (("readonly", "read-only", "read only"), "the database is read-only at the moment", 300),
    (("disk full", "database or disk is full", "no space left", "could not extend file", "diskfull"),
     "the database has no space left", 300),
    (("unable to open database",), "the database file cannot be opened", 60),
)
LOST = ("the connection to the database was lost", 10)
FULL = FAULTS[1][1:]
# Every pooled connection is in use (SQLAlchemy's pool timeout): requests are arriving faster than the database
# answers them, which passes when the burst does.
POOL_EXHAUSTED = ("every connection to the database is in use", 5)
# PostgreSQL says what went wrong in its SQLSTATE, whatever the message's words (they can be translated, or a
# trigger's own): the code itself, else its class (the first two characters).
SQLSTATES = {
    "53100": FULL,  # disk_full
    "53": ("the database server has run out of resources (memory or connections)", 30),  # insufficient_resources
    "25006": FAULTS[0][1:],  # read_only_sql_transaction
    "08": LOST,  # connection_exception
    "57P01": LOST, "57P02": LOST, "57P03": LOST,  # the server shutting down, crashed or starting up
}
DATABASE_FAULTS = (DBAPIError, PoolTimeout)


def _by_sqlstate(orig: BaseException | None) -> tuple[str, int] | None:
    code = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    if not isinstance(code, str):
        return None
    return SQLSTATES.get(code) or SQLSTATES.get(code[:2])


def database_fault(exc: BaseException) -> tuple[str, int] | None:
    """(reason, Retry-After seconds) when `exc` is a database that cannot serve now, else None (a bug: 500)."""
    if isinstance(exc, PoolTimeout):
        return POOL_EXHAUSTED
    if not isinstance(exc, DBAPIError):
        return None
    if fault := _by_sqlstate(exc.orig):
        return fault
    said = f"{type(exc.orig).__name__} {exc.orig}".lower()
    for words, reason, wait in FAULTS:
        if any(word in said for word in words):
            return reason, wait
    if exc.connection_invalidated or ("connection" in said and any(
            word in said for word in ("closed", "terminat", "lost", "refused"))):
        return LOST
    return None


def _unavailable(exc: DBAPIError | PoolTimeout) -> ProblemDetailsException | None:
    fault = database_fault(exc)
    if fault is None:
        return None
    reason, wait = fault
    return ProblemDetailsException(status_code=503, title="Database unavailable",
                                   detail=f"The database could not answer ({reason}): a change you sent may not "
                                          f"have been saved, so check it when you try again in {wait} seconds.",
                                   headers={"Retry-After": str(wait)})


def _http(exc: HTTPException) -> ProblemDetailsException:
    return ProblemDetailsException(status_code=exc.status_code, title=exc.detail, extra=exc.extra, headers=exc.headers)


# Most specific first: the first class in an exception's MRO found here converts it.
# A converter may decline (None): the error is then unexpected (500), e.g. a database error that is a bug.
MAP: dict[type[Exception], Callable[[Any], ProblemDetailsException | None]] = {
    ProblemDetailsException: lambda exc: exc,
    ValidationException: _validation,
    InvalidInput: _invalid,
    NotFound: lambda exc: _problem(404, "Not found", str(exc)),
    NotFoundException: lambda exc: _problem(404, "Not found", str(exc.detail)),
    StaleVersion: _stale,
    StaleDataError: _stale,
    Conflict: _conflict,
    DatabaseBusy: lambda exc: ProblemDetailsException(status_code=503, title="Busy", detail=str(exc),
                                                      headers={"Retry-After": "5"}),
    DBAPIError: _unavailable,
    PoolTimeout: _unavailable,
    HTTPException: _http,
}


def _converted(exc: Exception) -> ProblemDetailsException | None:
    for kind in type(exc).__mro__:
        if kind in MAP:
            return MAP[kind](exc)
    return None


def _log_unavailable(request: Request, exc: Exception, rid: str) -> None:
    """A database fault is logged as a warning naming its kind (no driver message: it can quote SQL values)."""
    reason, _ = database_fault(exc) or ("", 0)
    route = request.scope.get("path_template") or "(no route)"
    error = f"{type(exc).__module__}.{type(exc).__qualname__}"
    log.warning("database unavailable (%s) on %s %s [request %s]: %s", reason, request.method, route, rid, error,
                extra={"request_id": rid, "method": request.method, "route": route, "error": error,
                       "reason": reason})


def _log_unexpected(request: Request, exc: Exception, rid: str) -> None:
    """One line per unexpected error: no message, no values, no query string, just where it happened."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = " <- ".join(f"{frame.filename.rsplit('/src/', 1)[-1]}:{frame.lineno} {frame.name}"
                        for frame in reversed(frames[-6:]))
    route = request.scope.get("path_template") or "(no route)"
    error = f"{type(exc).__module__}.{type(exc).__qualname__}"
    # The same facts as fields too, for a structured (JSON) formatter; the route is its template, never the path.
    log.error("unexpected %s on %s %s [request %s] at %s", error, request.method, route, rid, where,
              extra={"request_id": rid, "method": request.method, "route": route, "error": error, "where": where})


class FieldProblem(BaseModel):
    field: str = Field(description="The query parameter or body field, dotted for a nested one (value.weights)")
    reason: str


class Problem(BaseModel):
    """RFC 9457 problem details: how the JSON API answers every error."""

    model_config = ConfigDict(extra="allow")

    status: int
    title: str | None = None
    detail: str | None = None
    type: str | None = None
    errors: list[FieldProblem] | None = Field(None, description="What was refused, field by field (400, 422)")
    allowed_next: list[str] | None = Field(None, description="The states a match may move to from here (409)")
    request_id: str | None = Field(None, description="Quote it when reporting a server error (500)")


PROBLEMS = {
    400: "The request is malformed: a parameter or field has the wrong type, is missing or is out of range",
    401: "No valid API token: send 'Authorization: Bearer <token>'",
    403: "Your role may not do this",
    404: "No such record, or none you may see",
    409: "A conflict: the record changed since you read it (send the version you read), or the step is not "
         "allowed from its state",
    422: "A value the rules refuse, naming the field and the reason",
    503: "The database is busy or unavailable; try again shortly",
}


def document_problems(app: Litestar, prefix: str = "/api/") -> None:
    """Every JSON operation documents each problem it can answer with, in its real shape (the schema
    Litestar writes for its own 400 is not the body these handlers send), so a client, and schemathesis's
    status-code and response-schema checks, know them all."""
    responses = {status: ResponseSpec(data_container=Problem, description=description, generate_examples=False,
                                      media_type="application/problem+json")
                 for status, description in PROBLEMS.items()}
    for route in app.routes:
        if isinstance(route, HTTPRoute) and route.path.startswith(prefix):
            for handler in route.route_handlers:
                handler.responses = responses | dict(handler.responses or {})


PAGES = {
    403: ("You cannot see this page", "Your role does not give you access to this page."),
    404: ("Page not found", "If you typed the web address, check it is correct. If you pasted it, check you "
                            "copied the entire address."),
    405: ("Page not found", "If you typed the web address, check it is correct."),
}


def _page(request: Request, status: int, rid: str) -> Template:
    if status >= 500:
        title, message = "Sorry, there is a problem with the service", "Try again later."
    else:
        title, message = PAGES.get(status, ("There is a problem with your request", "Go back and try again."))
    if status == 403 and request.method == "POST":
        message = "The form had expired or came from another site. Go back, reload the page and try again."
    # Signed-in visitors keep their menu (no personal data in it); nothing about the request is echoed.
    from api.pages.common import error_page  # the pages import this module's neighbours: imported when needed

    return error_page(request, status, title, message, rid if status >= 500 else None)


def handle(request: Request, exc: Exception) -> Response:
    rid = request_id(request.scope)
    problem = _converted(exc)
    unavailable = problem is not None and isinstance(exc, DATABASE_FAULTS)
    unexpected = problem is None or (problem.status_code >= 500
                                     and not isinstance(exc, (DatabaseBusy, *DATABASE_FAULTS)))
    if unavailable:
        _log_unavailable(request, exc, rid)
    if unexpected:
        _log_unexpected(request, exc, rid)
        problem = ProblemDetailsException(status_code=500, title="Internal server error",
                                          detail="Something went wrong on our side; quote the request id.",
                                          extra={"request_id": rid})
    if request.url.path.startswith(JSON_PATHS):
        return problem.to_response(request)
    if isinstance(exc, NotAuthorizedException):
        return Redirect("/sign-in", status_code=303)
    if problem.status_code == 409 and isinstance(exc, StaleVersion | StaleDataError):
        return _said(request, 409, *CHANGED, rid)
    if problem.status_code == 503:
        return _said(request, 503, "Sorry, the service is unavailable", str(problem.detail), rid,
                     problem.headers)
    return _page(request, 403 if isinstance(exc, PermissionDeniedException) else problem.status_code, rid)


def _said(request: Request, status: int, title: str, message: str, rid: str,
          headers: dict[str, str] | None = None) -> Response:
    """A GOV.UK error page with the JSON answer's own words. If the database is what failed, the page's menu
    (read from the session store) may fail too: then the words go out as plain text."""
    from api.pages.common import error_page

    try:
        response: Response = error_page(request, status, title, message, rid if status >= 500 else None)
    except DATABASE_FAULTS:
        response = Response(f"{title}\n\n{message}\n", status_code=status, media_type="text/plain")
    response.headers.update(headers or {})
    return response


EXCEPTION_HANDLERS: dict[type[Exception], Callable[[Request, Any], Response]] = {
    kind: handle for kind in [Exception, *MAP]
}
