"""Signing in and out: a password, or the council's single sign-on; then the page asked for, or home."""

from typing import Annotated

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.middleware.rate_limit import RateLimitConfig
from litestar.params import FromQuery, QueryParameter
from litestar.response import Redirect, Template

from api import oidc
from api.deps import UnitOfWork, client_address
from api.forms import Posted
from api.pages.common import EVERY_ROLE, HOME, PUBLIC, page, roles
from api.stores import rotate_session
from matching.services import users


def _safe_next(target: str) -> str:
    """Only a path on this service: never another site (//host or a scheme), so sign-in cannot be used to
    send someone elsewhere."""
    return target if target.startswith("/") and not target.startswith("//") and "\\" not in target else ""


def _signed_in(request: Request, user_id: int, role: str, target: str = "") -> Redirect:
    rotate_session(request)
    request.set_session({"user_id": user_id})
    return Redirect(_safe_next(target) or HOME.get(role, "/"), status_code=303)


@get("/sign-in", sync_to_thread=False, opt=PUBLIC)
def sign_in_form(request: Request, next_page: Annotated[str, QueryParameter(name="next")] = "") -> Template:
    return page(request, "sign_in.html", "Sign in", email="", next=_safe_next(next_page))


@post("/sign-in", sync_to_thread=True, status_code=200, opt=PUBLIC,
      middleware=[RateLimitConfig(("minute", 10), store="rate_limit").middleware])
def sign_in(request: Request, uow: NamedDependency[UnitOfWork], data: Posted) -> Template | Redirect:
    email, password = str(data.get("email", "")).strip(), str(data.get("password", ""))
    target = _safe_next(str(data.get("next", "")))
    errors = {}
    if not email:
        errors["email"] = "Enter your email address"
    if not password:
        errors["password"] = "Enter your password"
    found = None
    if not errors:
        with uow.write() as session:  # failed attempts are counted, so this writes either way
            user = users.authenticate(session, email, password, route=f"POST {request.url.path}",
                                      client=client_address(request))
            found = (user.id, user.role) if user else None
        if found is None:
            errors["email"] = "The email address or password is not right, or the account is locked for a while"
    if errors:
        return page(request, "sign_in.html", "Sign in", email=email, errors=errors, next=target, status_code=200)
    return _signed_in(request, found[0], found[1], target)


@get("/sign-in/oidc", sync_to_thread=True, opt=PUBLIC)
def sign_in_with_council_account(request: Request) -> Redirect:
    settings = request.app.state.settings
    if not oidc.enabled(settings):
        raise NotFoundException("Single sign-on is not set up")
    url, flow = oidc.authorization_url(request.app.state.http, settings)
    request.set_session({"oidc": flow})
    return Redirect(url, status_code=302)


@get("/sign-in/oidc/callback", sync_to_thread=True, opt=PUBLIC)
def council_account_callback(request: Request, uow: NamedDependency[UnitOfWork], code: FromQuery[str] = "",
                             returned: Annotated[str, QueryParameter(name="state")] = "") -> Template | Redirect:
    if not oidc.enabled(request.app.state.settings):  # as /sign-in/oidc: nobody is signed out by calling it
        raise NotFoundException("Single sign-on is not set up")
    flow = request.session.get("oidc") or {}
    request.clear_session()
    try:
        email = oidc.verified_email(request.app.state.http, request.app.state.settings, flow, code, returned)
    except oidc.SignInFailed as failed:
        return page(request, "sign_in.html", "Sign in", email="", status_code=200,
                    errors={"email": f"Single sign-on failed: {failed}"})
    with uow.read() as session:
        user = users.by_email(session, email)
        found = (user.id, user.role) if user and user.active else None
    if found is None:
        return page(request, "sign_in.html", "Sign in", email="", status_code=200, errors={
            "email": "Your council account has no Springboard access; ask an administrator"})
    return _signed_in(request, found[0], found[1])


@post("/sign-out", status_code=303, sync_to_thread=False, opt=roles(*EVERY_ROLE))
def sign_out(request: Request) -> Redirect:
    request.clear_session()
    return Redirect("/sign-in", status_code=303)


@get("/", sync_to_thread=False, opt=roles(*EVERY_ROLE))
def home(request: Request) -> Redirect:
    return Redirect(HOME[request.user.role], status_code=303)


ROUTES = [sign_in_form, sign_in, sign_in_with_council_account, council_account_callback, sign_out, home]
