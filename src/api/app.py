"""The Litestar application, assembled in one place."""

from datetime import datetime
from zoneinfo import ZoneInfo

from litestar import Litestar, Router
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin

from api.access import require_access
from api.auth import bearer_auth
from api.cases import AttentionController, CaseController, EntitlementController, LocalOfferController
from api.deps import UnitOfWork, provide_uow
from api.engine import controllers as engine_controllers
from api.errors import problem_details
from api.health import health
from api.matches import MatchController
from api.people import AccountsController, MeController
from api.records import controllers
from api.security import security_headers
from matching import db
from matching.settings import Settings, get_settings


def api_v1() -> Router:
    """Every JSON route: signed in with a bearer token, and allowed by its policy (api/access.py)."""
    return Router(path="/api/v1", route_handlers=[*controllers, AccountsController, MeController, MatchController,
                                                     CaseController, AttentionController, EntitlementController,
                                                     LocalOfferController, *engine_controllers],
                  middleware=[bearer_auth], guards=[require_access])


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or get_settings()
    engine = db.engine_for(settings.db_url)

    def remember_engine(app: Litestar) -> None:
        app.state.engine = engine
        app.state.uow = UnitOfWork(engine)
        app.state.settings = settings
        app.state.clock = lambda: datetime.now(ZoneInfo(settings.timezone)).date()  # tests replace it

    return Litestar(
        route_handlers=[health, api_v1()],
        dependencies={"uow": Provide(provide_uow, sync_to_thread=False)},
        plugins=[problem_details],
        before_send=[security_headers],
        on_startup=[remember_engine],
        openapi_config=OpenAPIConfig(title="Springboard", version="1", path="/schema",
                                     render_plugins=[SwaggerRenderPlugin()]),
        debug=settings.debug,
    )
