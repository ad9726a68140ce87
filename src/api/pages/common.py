"""What every page module shares: the role guard, the menus, rendering a page, and the notices and
error pages that follow an action.

Pages call the same domain functions as the JSON API, with the same scope rules (matching/scopes.py);
every view of a young person is audited; forms carry CSRF tokens (Litestar's CSRF middleware checks them)
and are read through api/forms.py.
"""

from datetime import date
from typing import Any

from litestar import Request, Response
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, NotFoundException, PermissionDeniedException
from litestar.handlers import BaseRouteHandler
from litestar.response import Redirect, Template

from api import oidc
from matching import clock

MENUS = {
    "adviser": [("/caseload", "My caseload"), ("/proposals", "Proposals to review"), ("/follow-ups", "Follow-ups due")],
    "mentor": [("/mentees", "My mentees"), ("/profile", "My profile")],
    "department": [("/referrals", "Referrals"), ("/opportunities", "Opportunities")],
    "manager": [("/overview", "Overview"), ("/proposals", "Proposals to review"), ("/follow-ups", "Follow-ups due"),
                ("/mentors/pending", "Mentors to vet"), ("/fairness", "Fairness"), ("/settings", "Settings")],
    "admin": [("/people", "People"), ("/mentors/pending", "Mentors to vet")],
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
    """A page; a form's errors (context `form` or `errors`) give the summary and the 'Error:' title."""
    user = request.scope.get("user")
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
        return page(request, "error.html", "This form has expired", status_code=403,
                    message="Nothing was changed: the form had expired or came from another site. Go back, "
                            "reload the page and try again.")
    return page(request, "error.html", "You cannot see this page", status_code=403,
                message="Your role does not give you access to this page.")


def not_found(request: Request, _: NotFoundException) -> Template:
    # A record outside the person's own scope is "not found" too, so ids cannot be probed.
    return page(request, "error.html", "Page not found", status_code=404,
                message="There is nothing here, or it is not one of yours.")


EXCEPTION_HANDLERS = {NotAuthorizedException: not_signed_in, PermissionDeniedException: not_allowed,
                      NotFoundException: not_found}
