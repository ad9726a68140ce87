"""Who may use each page, one module per area, gathered here for the route-table tests in test_pages.py."""

import re

from tests.page_rules import (
    admin,
    adviser,
    department,
    housing,
    local_offer,
    manager,
    match_runs,
    matches,
    mentor,
    notices,
    oversight,
    reports,
    sign_in,
)

EVERY_ROLE = {"admin", "manager", "adviser", "mentor", "department"}
AREAS = [sign_in, adviser, housing, matches, mentor, department, manager, match_runs, admin, reports, oversight,
         local_offer, notices]
PUBLIC = {route for area in AREAS for route in getattr(area, "PUBLIC", set())}
PAGES = {route: allowed for area in AREAS for route, allowed in area.PAGES.items()}


def example(path: str) -> str:
    """A path with its parameters filled in with ids that exist nowhere."""
    return re.sub(r"\{[a-z_]+:str\}", "nothing-here", re.sub(r"\{[a-z_]+:int\}", "999999", path))
