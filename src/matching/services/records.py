"""Create, read, update, list and close any of the core records, with the checks every one needs.

Each resource is described once (`Resource`); the functions here are generic over that description, so
departments, mentors, opportunities and care leavers behave the same way everywhere they are used.
"""

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from pydantic import ValidationError
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, SQLModel

from matching.coltypes import utcnow
from matching.errors import Conflict, InvalidInput, NotFound, StaleVersion
from matching.models import (
    CareLeaver,
    CareLeaverCreate,
    CareLeaverPublic,
    CareLeaverSummary,
    CareLeaverUpdate,
    Department,
    DepartmentCreate,
    DepartmentPublic,
    DepartmentUpdate,
    Mentor,
    MentorCreate,
    MentorPublic,
    MentorSummary,
    MentorUpdate,
    Opportunity,
    OpportunityCreate,
    OpportunityPublic,
    OpportunitySummary,
    OpportunityUpdate,
)


@dataclass(frozen=True)
class Resource:
    name: str
    table: type[SQLModel]
    create: type[SQLModel]
    update: type[SQLModel]
    public: type[SQLModel]
    summary: type[SQLModel]  # a line of a list: the columns a list shows, no free text
    sortable: tuple[str, ...]
    search: tuple[str, ...] = ()  # text columns searched by `q`
    closed_status: str | None = "closed"  # None: not closable through the generic close
    status_field: str = "status"
    natural_key: str | None = None  # what imports upsert on
    label: str = field(default="", compare=False)

    @property
    def title(self) -> str:
        return self.label or self.name.replace("_", " ")


DEPARTMENTS = Resource("department", Department, DepartmentCreate, DepartmentUpdate, DepartmentPublic,
                       DepartmentPublic,
                       sortable=("id", "name", "code", "updated_at"), search=("name", "code"),
                       natural_key="code")
MENTORS = Resource("mentor", Mentor, MentorCreate, MentorUpdate, MentorPublic, MentorSummary,
                   sortable=("id", "job_title", "capacity", "dbs_checked_on", "updated_at"),
                   search=("job_title",), closed_status="withdrawn")
OPPORTUNITIES = Resource("opportunity", Opportunity, OpportunityCreate, OpportunityUpdate, OpportunityPublic,
                         OpportunitySummary,
                         sortable=("id", "reference", "title", "closes_on", "starts_on", "updated_at"),
                         search=("title", "reference", "sector"), closed_status="withdrawn",
                         natural_key="reference")
# Closing a care leaver's case follows the statutory rules (services/cases.py), never the generic close.
CARE_LEAVERS = Resource("care_leaver", CareLeaver, CareLeaverCreate, CareLeaverUpdate, CareLeaverPublic,
                        CareLeaverSummary,
                        sortable=("id", "case_reference", "first_name", "date_of_birth", "last_contact_on",
                                  "pathway_plan_reviewed_on", "updated_at"),
                        search=("case_reference", "first_name", "preferred_name", "family_name"),
                        closed_status=None, status_field="case_status", natural_key="case_reference",
                        label="care leaver")


def get(session: Session, resource: Resource, record_id: int) -> Any:
    record = session.get(resource.table, record_id)
    if record is None:
        raise NotFound(resource.title, record_id)
    return record


def create(session: Session, resource: Resource, data: SQLModel) -> Any:
    values = resource.create.model_validate(data).model_dump()
    _check_references(session, resource, values)
    record = resource.table(**values)
    session.add(record)
    session.flush()
    return record


def update(session: Session, resource: Resource, record_id: int, patch: SQLModel) -> Any:
    record = get(session, resource, record_id)
    changes = patch.model_dump(exclude_unset=True)
    expected = changes.pop("version")
    if expected != record.version:
        raise StaleVersion(resource.title, record_id, expected, record.version)
    _refuse_clearing_required(resource, changes)
    merged = {name: getattr(record, name) for name in resource.create.model_fields} | changes
    _revalidate(resource, merged)
    _check_references(session, resource, changes, own_id=record_id)
    for name, value in changes.items():
        setattr(record, name, value)
    return _flush_versioned(session, resource, record, expected)


def close(session: Session, resource: Resource, record_id: int, *, version: int, reason: str,
          actor_id: int | None) -> Any:
    if resource.closed_status is None:
        raise Conflict(f"a {resource.title} is not closed this way")
    record = get(session, resource, record_id)
    if version != record.version:
        raise StaleVersion(resource.title, record_id, version, record.version)
    if getattr(record, resource.status_field) == resource.closed_status:
        raise Conflict(f"{resource.title} {record_id} is already {resource.closed_status}")
    setattr(record, resource.status_field, resource.closed_status)
    record.closed_at, record.closed_by_id, record.closed_reason = utcnow(), actor_id, reason
    return _flush_versioned(session, resource, record, version)


@dataclass(frozen=True)
class Page:
    items: list[Any]  # read-only rows of the resource's summary columns
    total: int


def list_records(session: Session, resource: Resource, *, filters: dict[str, Any], q: str | None = None,
                 sort: str = "id", limit: int = 50, offset: int = 0) -> Page:
    table = resource.table
    conditions = [getattr(table, name) == value for name, value in filters.items() if value is not None]
    if q:
        conditions.append(_text_search(session, resource, q))
    # Plain Core rows of the summary's columns, not ORM objects: a page of records is only read, and building
    # identity-mapped objects (or decoding JSON and free text no list shows) cost more than the query.
    connection, columns = session.connection(), table.__table__.c
    # A separate count, not count(*) OVER (): the window makes SQLite materialise every filtered row.
    total = connection.execute(sa.select(sa.func.count()).select_from(table.__table__).where(*conditions)).scalar_one()
    page = (sa.select(*(columns[name] for name in resource.summary.model_fields)).where(*conditions)
            .order_by(*_order(resource, sort)).limit(limit).offset(offset))
    rows = connection.execute(page).all()
    return Page(items=list(rows), total=total)


def _text_search(session: Session, resource: Resource, text: str) -> Any:
    """Rows with `text` anywhere in one of the resource's searched columns, case aside. Both databases
    answer from a trigram index (migration 0011); SQLite's needs three characters or more."""
    table = resource.table.__table__
    sqlite = session.get_bind().dialect.name == "sqlite"
    if sqlite and len(text) >= 3:
        # A quoted FTS5 phrase of the text's trigrams is a substring match.
        index = sa.table(f"{table.name}_text", sa.column("rowid"))
        phrase = '"' + text.replace('"', '""') + '"'
        return table.c.id.in_(sa.select(index.c.rowid).where(sa.literal_column(index.name).op("MATCH")(phrase)))
    pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    # SQLite's LIKE already ignores (ASCII) case; its ILIKE is lower() on both sides, three times slower.
    return sa.or_(*((table.c[name].like if sqlite else table.c[name].ilike)(pattern, escape="\\")
                    for name in resource.search))


def _order(resource: Resource, sort: str) -> list[Any]:
    name = sort.removeprefix("-")
    if name not in resource.sortable:
        raise InvalidInput("sort", f"cannot sort by '{name}'; choose one of: {', '.join(resource.sortable)}")
    column, descending = getattr(resource.table, name), sort.startswith("-")
    # id breaks ties, so pages never overlap; in the same direction, so one index walk serves both.
    return [column.desc(), resource.table.id.desc()] if descending else [column.asc(), resource.table.id.asc()]


def _refuse_clearing_required(resource: Resource, changes: dict[str, Any]) -> None:
    for name, value in changes.items():
        if value is None and resource.create.model_fields[name].is_required():
            raise InvalidInput(name, "is required and cannot be cleared")


def _revalidate(resource: Resource, merged: dict[str, Any]) -> None:
    """The record as it would be after the update must pass the same checks as a new one."""
    try:
        resource.create.model_validate(merged)
    except ValidationError as error:
        first = error.errors()[0]
        raise InvalidInput(".".join(map(str, first["loc"])) or "body", first["msg"]) from error


def _check_references(session: Session, resource: Resource, values: dict[str, Any], own_id: int | None = None):
    """Name the field when a referenced record is missing or a unique value is taken (before the DB does)."""
    table = resource.table.__table__
    for name, value in values.items():
        if value is None or name not in table.c:
            continue
        column = table.c[name]
        for foreign_key in column.foreign_keys:
            target = foreign_key.column.table
            if session.execute(sa.select(target.c.id).where(target.c.id == value)).first() is None:
                raise InvalidInput(name, f"no {target.name.rstrip('s').replace('_', ' ')} with id {value}")
        if column.unique or any(ix.unique and name in ix.columns for ix in table.indexes):
            clash = session.execute(sa.select(table.c.id).where(column == value, table.c.id != own_id)).first()
            if clash is not None:
                raise InvalidInput(name, f"'{value}' is already used by {resource.title} {clash.id}")


def _flush_versioned(session: Session, resource: Resource, record: Any, expected: int) -> Any:
    try:
        session.flush()
    except StaleDataError as error:  # someone else updated it between our read and our write
        session.rollback()
        raise StaleVersion(resource.title, record.id, expected, expected + 1) from error
    return record
