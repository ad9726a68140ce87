"""What every page module shares: the role guard, the menus, rendering a page, and the notices and
error pages that follow an action.

Pages call the same domain functions as the JSON API, with the same scope rules (matching/scopes.py);
every view of a young person is audited; forms carry CSRF tokens (Litestar's CSRF middleware checks them)
and are read through api/forms.py.
"""

from datetime import date
from typing import Any
from urllib.parse import urlencode

from litestar import Request, Response
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, NotFoundException, PermissionDeniedException
from litestar.handlers import BaseRouteHandler
from litestar.middleware.session.server_side import ServerSideSessionBackend
from litestar.response import Redirect, Template
from litestar.utils.scope.state import ScopeState

from api import oidc
from api.auth import Principal
from api.stores import DatabaseStore
from matching import clock
from matching.services import users

TELLING = ("/notices", "How we tell you")  # every role chooses immediate notices or a daily digest
MENUS = {
    "adviser": [("/caseload", "My caseload"), ("/proposals", "Proposals to review"), ("/follow-ups", "Follow-ups due"),
                TELLING],
    "mentor": [("/mentees", "My mentees"), ("/profile", "My profile"), TELLING],
    "department": [("/referrals", "Referrals"), ("/opportunities", "Opportunities"), TELLING],
    "manager": [("/overview", "Overview"), ("/match-runs", "Matching runs"), ("/proposals", "Proposals to review"),
                ("/follow-ups", "Follow-ups due"), ("/mentors/pending", "Mentors to vet"), ("/reports", "Reports"),
                ("/models", "Models and fairness"), ("/audit-log", "Audit log"), ("/imports", "Imports"),
                ("/local-offer/items", "Local offer"), ("/settings", "Settings"), TELLING],
    "admin": [("/people", "People"), ("/departments", "Departments"), ("/tokens", "API tokens"),
              ("/mentors/pending", "Mentors to vet"), TELLING],
}
HOME = {role: items[0][0] for role, items in MENUS.items()}
EVERY_ROLE = tuple(MENUS)


def roles(*allowed: str) -> dict[str, Any]:
    return {"roles": frozenset(allowed)}


PUBLIC = {"public": True}


async def require_role(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
    """Every page names the roles it is for; a page with no roles is refused (sign-in is public).
    Async because Litestar runs a sync guard on a worker thread: a hop that costs more than the check."""
    if handler.opt.get("public"):
        return
    allowed = handler.opt.get("roles")
    if allowed is None or connection.user.role not in allowed:
        raise PermissionDeniedException("Your role does not include this page")


def page(request: Request, template: str, title: str, status_code: int | None = None, **context: Any) -> Template:
    """A page; a form's errors (context `form` or `errors`) give the summary and the 'Error:' title.
    The menu is the signed-in person's (context `user` overrides who that is, for error pages)."""
    user = context.pop("user", None) or request.scope.get("user")
    # A notice waiting in the session is shown once, unless the page says what to show (error pages: none).
    if "notice" in context:
        notice = context.pop("notice")
    else:
        notice = request.session.pop("notice", None) if isinstance(request.scope.get("session"), dict) else None
    form = context.get("form")
    errors = context.pop("errors", None) or (form.errors if form is not None else {})
    status_code = status_code or (400 if errors else 200)
    return Template(template_name=template, status_code=status_code, context={
        "title": title, "user": user, "menu": MENUS.get(user.role, []) if user else [],
        "oidc": oidc.enabled(request.app.state.settings), "here": request.url.path, "notice": notice,
        "errors": errors, "today": today(), **context})


def done(request: Request, path: str, text: str) -> Redirect:
    """After a change that was made: back to `path` with a green success banner."""
    request.session["notice"] = {"kind": "success", "text": text}
    return Redirect(path, status_code=303)


def tell(request: Request, path: str, text: str) -> Redirect:
    """After something that changed nothing: back to `path` with an 'Important' banner (never green)."""
    request.session["notice"] = {"kind": "important", "text": text}
    return Redirect(path, status_code=303)


def version(data: dict[str, Any], field: str = "version") -> int:
    """The version a form was rendered with; anything else counts as stale (a message, not a crash)."""
    value = data.get(field, "")
    value = value[-1] if isinstance(value, list) and value else value
    return int(value) if isinstance(value, str) and value.isdigit() else -1


def today() -> date:
    return clock.today()


def not_signed_in(request: Request, _: NotAuthorizedException) -> Response:
    """To the sign-in page, which brings the person back here afterwards (a GET page only: a form post
    cannot be replayed)."""
    if request.method == "GET" and request.url.path not in {"/", "/sign-in"}:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return Redirect("/sign-in", query_params={"next": target}, status_code=303)
    return Redirect("/sign-in", status_code=303)


def not_allowed(request: Request, error: PermissionDeniedException) -> Template:
    if "csrf" in str(error.detail).lower():  # the form's token is missing or from an old session
        return error_page(request, 403, "This form has expired",
                          "Nothing was changed: the form had expired or came from another site. Go back, reload "
                          "the page and try again.")
    return error_page(request, 403, "You cannot see this page", "Your role does not give you access to this page.")


def not_found(request: Request, _: NotFoundException) -> Template:
    # A record outside the person's own scope is "not found" too, so ids cannot be probed.
    return error_page(request, 404, "Page not found", "There is nothing here, or it is not one of yours.")


EXCEPTION_HANDLERS = {NotAuthorizedException: not_signed_in, PermissionDeniedException: not_allowed,
                      NotFoundException: not_found}


# Error pages ----------------------------------------------------------------------------------------------

SESSION_COOKIE = "springboard_session"  # the key of api/app.py's SessionConfig


def error_page(request: Request, status: int, title: str, message: str, request_id: str | None = None) -> Template:
    """A GOV.UK error page (404, 403, 500 ...) with the signed-in person's menu, also at an address no route
    answers (api/errors.py), where the session, sign-in and CSRF middleware never ran. A signed-out
    visitor gets the plain page. Nothing about the request is echoed."""
    user = signed_in_visitor(request)
    if user is not None and request.scope.get("user") is None:
        _csrf_token_from_cookie(request)
    return page(request, "error.html", title, status_code=status, user=user, message=message,
                request_id=request_id, notice=None)  # a notice waiting for the next page keeps waiting


def signed_in_visitor(request: Request) -> Principal | None:
    """Who is signed in: the sign-in middleware's answer on a route; elsewhere the same session store and the
    same check of the account (api/auth.SessionMiddleware) made here. Synchronous, as Litestar calls
    exception handlers: one indexed read of the session and one of the account, only for a visitor who
    sends a session cookie to an address that does not exist."""
    if (user := request.scope.get("user")) is not None:
        return user
    session_id = request.cookies.get(SESSION_COOKIE)
    store = request.app.stores.get("sessions")
    if not session_id or session_id == "null" or not isinstance(store, DatabaseStore):
        return None
    stored = store.read(session_id)
    user_id = ServerSideSessionBackend.deserialize_data(stored).get("user_id") if stored else None
    if not isinstance(user_id, int):
        return None
    with request.app.state.engine.connect() as connection:
        found = users.identity_for_user(connection, user_id)
    return Principal(*found) if found else None


def _csrf_token_from_cookie(request: Request) -> None:
    """The menu's sign-out form needs the token the CSRF middleware would have given this browser: its cookie."""
    state = ScopeState.from_scope(request.scope)
    if not isinstance(state.csrf_token, str):
        cookie = request.cookies.get(request.app.csrf_config.cookie_name) if request.app.csrf_config else None
        if cookie:
            state.csrf_token = cookie


def query_of(request: Request) -> dict[str, list[str]]:
    """The request's query, every value of each name (checkbox filters repeat a name)."""
    return {key: request.query_params.getall(key) for key in request.query_params}


def pagination(path: str, query: dict[str, Any], number: int, pages: int, label: str) -> dict[str, Any] | None:
    """GOV.UK pagination keeping the filters (`query`: a name to a value or a list of values): previous, next,
    the first, last and nearby pages, and ellipses between."""
    if pages <= 1:
        return None
    kept = [(key, str(value)) for key, values in query.items() if key != "page"
            for value in (values if isinstance(values, list) else [values]) if value not in ("", None)]

    def link(to: int) -> str:
        return f"{path}?{urlencode([*kept, ('page', str(to))])}"

    near = {1, pages, number - 1, number, number + 1}
    items: list[dict[str, Any]] = []
    for at in range(1, pages + 1):
        if at in near:
            items.append({"number": at, "href": link(at), "current": at == number})
        elif items and not items[-1].get("ellipsis"):
            items.append({"ellipsis": True})
    return {"items": items, "previous": {"href": link(number - 1)} if number > 1 else None,
            "next": {"href": link(number + 1)} if number < pages else None, "landmarkLabel": label}
