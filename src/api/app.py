"""The Litestar application, assembled in one place."""

import gc
from pathlib import Path

import httpx
from litestar import Litestar, Router
from litestar.config.csrf import CSRFConfig
from litestar.di import Provide
from litestar.logging.config import LoggingConfig
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from api.access import require_access
from api.auth import IdentityCache, bearer_auth
from api.cases import AttentionController, CaseController, EntitlementController, LocalOfferController
from api.deps import UnitOfWork, provide_uow, refuse_impossible_input
from api.engine import controllers as engine_controllers
from api.errors import EXCEPTION_HANDLERS, document_problems
from api.health import health
from api.matches import MatchController
from api.pages import pages_router
from api.people import AccountsController, MeController
from api.records import controllers
from api.security import security_headers
from api.stores import DatabaseStore, SessionConfig
from api.templating import template_engine
from matching import db
from matching.settings import Settings, get_settings

HERE = Path(__file__).parent
# The JSON API takes bearer tokens, not cookies: no session to load, and CSRF cannot reach it.
NO_COOKIES = ["^/api/", "^/health", "^/schema", "^/static/"]


def api_v1() -> Router:
    """Every JSON route: signed in with a bearer token, and allowed by its policy (api/access.py)."""
    return Router(path="/api/v1", route_handlers=[*controllers, AccountsController, MeController, MatchController,
                                                     CaseController, AttentionController, EntitlementController,
                                                     LocalOfferController, *engine_controllers],
                  middleware=[bearer_auth], guards=[require_access])


SWAGGER_UI = "/static/swagger-ui"  # vendored swagger-ui-dist (static/README.md): /schema works offline


def swagger_ui() -> SwaggerRenderPlugin:
    return SwaggerRenderPlugin(js_url=f"{SWAGGER_UI}/swagger-ui-bundle.js", css_url=f"{SWAGGER_UI}/swagger-ui.css",
                               standalone_preset_js_url=f"{SWAGGER_UI}/swagger-ui-standalone-preset.js",
                               favicon="<link rel='icon' href='data:,'>")


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or get_settings()
    engine = db.engine_for(settings.db_url)

    def remember_engine(app: Litestar) -> None:
        app.state.engine = engine
        app.state.uow = UnitOfWork(engine)
        app.state.identities = IdentityCache(settings.identity_cache_seconds)
        app.state.settings = settings
        app.state.http = httpx.Client(timeout=10)  # for the single sign-on provider; tests replace it

    sessions = SessionConfig(key="springboard_session", max_age=8 * 3600, secure=settings.secure_cookies,
                                       httponly=True, samesite="lax", renew_on_access=True, exclude=NO_COOKIES)
    app = Litestar(
        route_handlers=[health, api_v1(), pages_router(),
                        create_static_files_router(path="/static", directories=[HERE / "static"])],
        dependencies={"uow": Provide(provide_uow, sync_to_thread=False)},
        exception_handlers=EXCEPTION_HANDLERS,
        guards=[refuse_impossible_input],
        # api/errors.py logs each unexpected error once, without its message; Litestar's own traceback
        # (in debug mode) would log it a second time with the values in it.
        logging_config=LoggingConfig(log_exceptions="never"),
        before_send=[security_headers],
        on_startup=[remember_engine],
        middleware=[sessions.middleware],
        stores={"sessions": DatabaseStore(engine, "session"), "rate_limit": DatabaseStore(engine, "sign-in")},
        csrf_config=CSRFConfig(secret=settings.secret_key, cookie_secure=settings.secure_cookies,
                               cookie_httponly=False, exclude=NO_COOKIES, cookie_name="springboard_csrf"),
        template_config=TemplateConfig(instance=template_engine()),
        openapi_config=OpenAPIConfig(title="Springboard", version="1", path="/schema",
                                     render_plugins=[swagger_ui()]),
        debug=settings.debug,
    )
    document_problems(app)
    return app


def serving_app() -> Litestar:
    """The app as `springboard serve` runs it in each worker process."""
    app = create_app()
    app.on_startup.append(_settle_memory)
    return app


def _settle_memory(_app: Litestar) -> None:
    """Load the matching engine now rather than on the first young person's page (scikit-learn takes seconds),
    then move everything loaded so far out of the garbage collector's reach: its full collections walked all of
    it, some 230,000 objects, pausing every request in the process for 100-160 ms (London scale, bench/RESULTS.md).
    Not in tests: objects frozen are never collected, and a test session creates many apps."""
    import matching.engine.runs  # noqa: F401

    gc.freeze()
