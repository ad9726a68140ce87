"""Server-rendered pages (GOV.UK Design System patterns), one module per area: sign-in, and each role's own.

Each area module lists its handlers in ROUTES; this router gives them the session sign-in, the role
guard and the GOV.UK error pages.
"""

from litestar import Router

from api.auth import session_auth
from api.pages import (
    admin,
    adviser,
    department,
    housing,
    local_offer,
    manager,
    match_runs,
    matches,
    mentor,
    mentor_signup,
    notices,
    oversight,
    reports,
    sign_in,
    vetting,
)
from api.pages.common import EXCEPTION_HANDLERS, require_role

AREAS = [sign_in, adviser, housing, matches, mentor, mentor_signup, vetting, department, manager, match_runs, oversight,
         admin, reports, local_offer, notices]


def pages_router() -> Router:
    return Router(path="/", route_handlers=[handler for area in AREAS for handler in area.ROUTES],
                  middleware=[session_auth], guards=[require_role], exception_handlers=EXCEPTION_HANDLERS)
