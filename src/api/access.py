"""What each role may do, enforced on the server: a guard per action, and a scope per record.

A policy maps a role to the actions it may take on a kind of record and, where it sees only some
records, the scope it is confined to (field values every record it touches must have). Outside its
scope a record is "not found", so ids cannot be probed. A handler with no policy is refused.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import PermissionDeniedException
from litestar.handlers import BaseRouteHandler

from api.auth import Principal
from matching import mentoring
from matching.errors import InvalidInput, NotFound

READ = frozenset({"list", "read"})
WRITE = frozenset({"create", "update", "close"})
ALL = READ | WRITE


@dataclass(frozen=True)
class Access:
    actions: frozenset[str]
    scope: Callable[[Principal], dict[str, Any]] = field(default=lambda user: {})
    # A domain rule on what this role may change in a record it may update: (record, changes) -> None, raising
    # InvalidInput naming the field it refuses (e.g. a mentor and their own vetting dates).
    changes: Callable[[Any, dict[str, Any]], None] | None = None


Policy = dict[str, Access]


async def require_access(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
    """Async so that Litestar runs it on the event loop, not on a worker thread (see pages.require_role)."""
    policy: Policy | None = handler.opt.get("policy")
    action: str | None = handler.opt.get("action")
    if policy is None and handler.http_methods == {"OPTIONS"}:
        # Litestar's own answer to OPTIONS (a CORS preflight): 204 with the Allow header, no data. A preflight
        # carries no credentials, so the sign-in middleware lets it through and there is no user to check.
        return
    user: Principal = connection.user
    access = policy.get(user.role) if policy else None
    if access is None or action not in access.actions:
        raise PermissionDeniedException(f"A {user.role} may not do this")


def scope_of(connection: ASGIConnection, policy: Policy) -> dict[str, Any]:
    return policy[connection.user.role].scope(connection.user)


def ensure_changes_allowed(connection: ASGIConnection, policy: Policy, record: Any, changes: dict[str, Any]) -> None:
    """The policy's rule on which fields this role may change, if it has one."""
    check = policy[connection.user.role].changes
    if check is not None:
        check(record, changes)


def ensure_in_scope(record: Any, scope: dict[str, Any], what: str, record_id: int) -> None:
    if any(getattr(record, name) != value for name, value in scope.items()):
        raise NotFound(what, record_id)


def ensure_values_in_scope(values: dict[str, Any], scope: dict[str, Any]) -> None:
    for name, value in scope.items():
        if name in values and values[name] is not None and values[name] != value:
            raise InvalidInput(name, f"must be {value}: you may only act within your own records")


def own_department(user: Principal) -> dict[str, Any]:
    return {"department_id": user.department_id}


def own_caseload(user: Principal) -> dict[str, Any]:
    return {"personal_adviser_id": user.id}


def own_profile(user: Principal) -> dict[str, Any]:
    return {"user_id": user.id}


EVERYTHING = Access(ALL)
POLICIES: dict[str, Policy] = {
    "department": {"admin": EVERYTHING, "manager": EVERYTHING, "adviser": Access(READ),
                   "mentor": Access(READ), "department": Access(READ)},
    "mentor": {"admin": EVERYTHING, "manager": EVERYTHING, "adviser": Access(READ),
               "mentor": Access(frozenset({"list", "read", "update"}), own_profile, mentoring.check_own_changes)},
    "opportunity": {"manager": EVERYTHING, "adviser": Access(READ), "mentor": Access(READ),
                    "department": Access(ALL, own_department)},
    # Admins see no case records (unless they are also managers); mentors and departments see care
    # leavers only through their own narrow views (/api/v1/me/...).
    "care_leaver": {"manager": Access(frozenset({"list", "read", "create", "update"})),
                    "adviser": Access(frozenset({"list", "read", "create", "update"}), own_caseload)},
}
