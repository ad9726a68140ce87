"""Create, read, update, list and close any of the core records, with the checks every one needs.

Each resource is described once (`Resource`); the functions here are generic over that description, so
departments, mentors, opportunities and care leavers behave the same way everywhere they are used.
"""

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from pydantic import ValidationError
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, SQLModel

from matching.clock import utcnow
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
    User,
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
    _check_allocation(session, resource, values)
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
    _check_allocation(session, resource, changes)
    for name, value in changes.items():
        setattr(record, name, value)
    updated = _flush_versioned(session, resource, record, expected)
    if resource.status_field in changes:
        _withdraw_proposals_if_stopped(session, resource, updated, reason=f"the {resource.title} is now "
                                       f"{getattr(updated, resource.status_field)}", actor_id=None)
    return updated


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
    closed = _flush_versioned(session, resource, record, version)
    _withdraw_proposals_if_stopped(session, resource, closed, reason=f"the {resource.title} was closed: {reason}",
                                   actor_id=actor_id)
    return closed


# A mentor or an opportunity that stops taking people has its waiting proposals withdrawn (with their
# history), so none of them holds a slot or a place for the next run (issue 16).
_TAKING = {"mentor": ("mentor_id", "active"), "opportunity": ("opportunity_id", "open")}


def _withdraw_proposals_if_stopped(session: Session, resource: Resource, record: Any, *, reason: str,
                                   actor_id: int | None) -> None:
    column, taking = _TAKING.get(resource.name, (None, None))
    if column and getattr(record, resource.status_field) != taking:
        from matching import lifecycle  # lifecycle imports this module's neighbours: imported when needed

        lifecycle.withdraw_pending(session, reason=reason[:500], actor_id=actor_id, **{column: record.id})


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]  # the resource's summary columns, by name
    total: int


def list_records(session: Session, resource: Resource, *, filters: dict[str, Any], q: str | None = None,
                 sort: str = "id", limit: int = 50, offset: int = 0) -> Page:
    given = {name: value for name, value in filters.items() if value is not None}
    dialect = session.get_bind().dialect.name
    search = _search_kind(dialect, q)
    page, count = _list_statements(resource, tuple(sorted(given)), _checked_sort(resource, sort), search, dialect)
    values = given | {"limit": limit, "offset": offset} | ({"q": _search_term(search, q)} if search else {})
    connection = session.connection()
    rows = connection.execute(page, values).all()
    if rows:  # the total is each row's last column, after the summary's
        names = resource.summary.model_fields
        return Page(items=[dict(zip(names, row, strict=False)) for row in rows], total=rows[0][-1])
    # A page past the end (or of nothing) carries no total.
    return Page(items=[], total=connection.execute(count, values).scalar_one() if offset else 0)


@lru_cache(maxsize=512)
def _list_statements(resource: Resource, filtered: tuple[str, ...], sort: str, search: str | None,
                     dialect: str) -> tuple[sa.Select, sa.Select]:
    """A list's page and count for one shape of request, its values left as parameters. Built once: building
    the statement and its cache key on every request cost more than the database took to answer it."""
    table = resource.table.__table__
    conditions = [table.c[name] == sa.bindparam(name) for name in filtered]
    if search:
        conditions.append(_text_search(resource, search, dialect))
    order = _order(table, sort)
    # The page's ids first, then only those rows: where an index covers the filter and the order
    # (models/base.list_indexes), a deep page skips index entries rather than whole rows.
    ids = (sa.select(table.c.id).where(*conditions).order_by(*order)
           .limit(sa.bindparam("limit")).offset(sa.bindparam("offset")))
    count = sa.select(sa.func.count()).select_from(table).where(*conditions)
    # The total rides on every row as an uncorrelated scalar subquery, which both databases run once: one
    # round trip. (count(*) OVER () would make them materialise every filtered row.)
    total = count.scalar_subquery().label("total")
    # Plain Core rows of the summary's columns, not ORM objects: a page of records is only read, and building
    # identity-mapped objects (or decoding JSON and free text no list shows) cost more than the query.
    page = (sa.select(*(table.c[name] for name in resource.summary.model_fields), total)
            .where(table.c.id.in_(ids)).order_by(*order))
    return page, count


def _search_kind(dialect: str, text: str | None) -> str | None:
    """Both databases answer `q` from a trigram index (migration 0011); SQLite's needs three characters."""
    if not text:
        return None
    return "phrase" if dialect == "sqlite" and len(text) >= 3 else "pattern"


def _search_term(kind: str, text: str) -> str:
    if kind == "phrase":  # a quoted FTS5 phrase of the text's trigrams is a substring match
        return '"' + text.replace('"', '""') + '"'
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _text_search(resource: Resource, kind: str, dialect: str) -> Any:
    """Rows with the text anywhere in one of the resource's searched columns, case aside."""
    table = resource.table.__table__
    if kind == "phrase":
        index = sa.table(f"{table.name}_text", sa.column("rowid"))
        return table.c.id.in_(sa.select(index.c.rowid).where(sa.literal_column(index.name).op("MATCH")(
            sa.bindparam("q"))))
    sqlite = dialect == "sqlite"
    # SQLite's LIKE already ignores (ASCII) case; its ILIKE is lower() on both sides, three times slower.
    matching = sa.or_(*((table.c[name].like if sqlite else table.c[name].ilike)(sa.bindparam("q"), escape="\\")
                        for name in resource.search))
    if sqlite:
        return matching
    # PostgreSQL: the matches once, from the trigram indexes, for both the count and the page. Left to
    # itself it walked the page's index running every ILIKE on each row it passed.
    found = sa.select(table.c.id).where(matching).cte(f"{table.name}_found")
    return table.c.id.in_(sa.select(found.c.id))


def _checked_sort(resource: Resource, sort: str) -> str:
    if sort.removeprefix("-") not in resource.sortable:
        raise InvalidInput("sort", f"cannot sort by '{sort.removeprefix('-')}'; choose one of: "
                                   f"{', '.join(resource.sortable)}")
    return sort


def _order(table: sa.Table, sort: str) -> list[Any]:
    column, descending = table.c[sort.removeprefix("-")], sort.startswith("-")
    # id breaks ties, so pages never overlap; in the same direction, so one index walk serves both.
    return [column.desc(), table.c.id.desc()] if descending else [column.asc(), table.c.id.asc()]


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


def _check_allocation(session: Session, resource: Resource, values: dict[str, Any]) -> None:
    """A young person is allocated only to an active personal adviser: a manager, a mentor or someone who has
    left would hold a caseload nobody works (cases.unallocated lists such cases for the manager)."""
    adviser_id = values.get("personal_adviser_id") if resource is CARE_LEAVERS else None
    if adviser_id is None:
        return
    from matching.cases import active_adviser  # cases imports the lifecycle, which imports this module's neighbours

    if session.execute(sa.select(User.id).where(User.id == adviser_id, active_adviser())).first() is None:
        raise InvalidInput("personal_adviser_id", f"user {adviser_id} is not an active personal adviser: allocate "
                                                  "the young person to an adviser whose account is active")


def _flush_versioned(session: Session, resource: Resource, record: Any, expected: int) -> Any:
    try:
        session.flush()
    except StaleDataError as error:  # someone else updated it between our read and our write
        session.rollback()
        raise StaleVersion(resource.title, record.id, expected, expected + 1) from error
    return record
