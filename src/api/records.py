"""The four core resources of the JSON API, each with its own list filters."""

from typing import Annotated, Any, Literal

from litestar import Request
from litestar.params import QueryParameter
from sqlmodel import Session

from api.deps import UnitOfWork, actor_id, client_address
from api.resources import IdFilter, audited_read, resource_controller
from matching import vocab
from matching.services import audit, records


def _one_of(vocabulary: dict[str, str]) -> Any:
    return Annotated[Literal[tuple(vocabulary)] | None, QueryParameter()]  # type: ignore[valid-type]


OptionalBool = Annotated[bool | None, QueryParameter()]


def department_filters(status: _one_of(vocab.RECORD_STATUSES) = None) -> dict[str, Any]:
    return {"status": status}


def mentor_filters(department_id: IdFilter = None,
                   status: _one_of(vocab.MENTOR_STATUSES) = None) -> dict[str, Any]:
    return {"department_id": department_id, "status": status}


def opportunity_filters(department_id: IdFilter = None, kind: _one_of(vocab.OPPORTUNITY_KINDS) = None,
                        status: _one_of(vocab.OPPORTUNITY_STATUSES) = None,
                        ring_fenced: OptionalBool = None) -> dict[str, Any]:
    return {"department_id": department_id, "kind": kind, "status": status, "ring_fenced": ring_fenced}


def care_leaver_filters(personal_adviser_id: IdFilter = None,
                        case_status: _one_of(vocab.CASE_STATUSES) = None,
                        in_touch: _one_of(vocab.IN_TOUCH) = None,
                        leaving_care_category: _one_of(vocab.LEAVING_CARE_CATEGORIES) = None,
                        former_uasc: OptionalBool = None) -> dict[str, Any]:
    return {"personal_adviser_id": personal_adviser_id, "case_status": case_status, "in_touch": in_touch,
            "leaving_care_category": leaving_care_category, "former_uasc": former_uasc}


def audit_care_leaver_access(request: Request, session: Session, ids: list[int], action: str) -> None:
    """Inside the unit of work that read or changed the records, so the row commits with it."""
    audit.record_access(session, actor_id=actor_id(request), action=action, entity="care_leaver", ids=ids,
                        route=f"{request.method} {request.url.path}", client=client_address(request))


def audit_change(request: Request, session: Session, entity: str, ids: list[int], action: str,
                 actor: int | None = None) -> None:
    """A change to a record that is not a care leaver's (a mentor's profile, a logged meeting): who (`actor`,
    for someone not yet signed in: a new mentor signing up), when, from where, in the unit of work that makes
    it."""
    audit.record_access(session, actor_id=actor if actor is not None else actor_id(request), action=action,
                        entity=entity, ids=ids, route=f"{request.method} {request.url.path}",
                        client=client_address(request))


def audit_mentor_change(request: Request, session: Session, ids: list[int], action: str) -> None:
    audit_change(request, session, "mentor", ids, action)


def audit_care_leaver_reads(request: Request, uow: UnitOfWork, session: Session, ids: list[int], action: str) -> None:
    audited_read(audit_care_leaver_access, request, uow, session, ids, action)


controllers = [
    resource_controller(records.DEPARTMENTS, "/departments", department_filters),
    resource_controller(records.MENTORS, "/mentors", mentor_filters, audit_changes=audit_mentor_change),
    resource_controller(records.OPPORTUNITIES, "/opportunities", opportunity_filters),
    resource_controller(records.CARE_LEAVERS, "/care-leavers", care_leaver_filters,
                        audit=audit_care_leaver_access),
]
