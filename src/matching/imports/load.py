"""Validate every row of a file, then write all of them in one transaction, or none.

Re-importing the same file changes nothing: rows are upserted on their natural key (case reference,
e-mail, opportunity reference) and a record is only touched when a value really differs.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlmodel import Session, SQLModel, select

from matching.imports import convert, layouts
from matching.imports.layouts import Layout
from matching.imports.readers import Row, read_rows
from matching.models import (
    CareLeaver,
    CareLeaverCreate,
    Department,
    Mentor,
    MentorCreate,
    Opportunity,
    OpportunityCreate,
    User,
    UserCreate,
)

KINDS = ("care-leavers", "mentors", "opportunities")


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    reason: str

    def __str__(self) -> str:
        return f"row {self.row}, column {self.column}: {self.reason}"


class ImportFailed(Exception):
    def __init__(self, errors: list[RowError]):
        super().__init__(f"{len(errors)} problem(s); nothing was imported")
        self.errors = errors


@dataclass
class ImportReport:
    layout: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rows: int = 0


@dataclass
class _Context:
    session: Session
    layout: Layout
    errors: list[RowError] = field(default_factory=list)
    departments: dict[str, int] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    unreadable: set[str] = field(default_factory=set)  # columns of the current row already reported

    def fail(self, row: Row, column: str, reason: str) -> None:
        self.errors.append(RowError(row.number, column, reason))
        self.unreadable.add(column)


def import_file(session: Session, kind: str, path: Path) -> ImportReport:
    """Raises ImportFailed listing every bad row; the caller's transaction then writes nothing."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}")
    try:
        rows = read_rows(path)
    except (OSError, ValueError) as error:
        raise ImportFailed([RowError(0, "file", str(error))]) from error
    layout = _layout_for(kind, rows)
    ctx = _Context(session, layout,
                   departments={d.code: d.id for d in session.exec(select(Department))},
                   users={u.email: u for u in session.exec(select(User))})
    _check_header(ctx, rows)
    planned = [] if ctx.errors else _plan(ctx, kind, rows)
    if ctx.errors:
        raise ImportFailed(sorted(ctx.errors, key=lambda e: (e.row, e.column)))
    report = ImportReport(layout.name, rows=len(rows))
    for write in planned:
        outcome = write()
        setattr(report, outcome, getattr(report, outcome) + 1)
    session.flush()
    return report


def _layout_for(kind: str, rows: list[Row]) -> Layout:
    if kind == "care-leavers":
        is_ssd = bool(rows) and any(column.startswith("clea_") for column in rows[0].values)
        return layouts.SSD_CARE_LEAVERS if is_ssd else layouts.CARE_LEAVERS
    return {"mentors": layouts.MENTORS, "opportunities": layouts.OPPORTUNITIES}[kind]


def _check_header(ctx: _Context, rows: list[Row]) -> None:
    header = set(rows[0].values) if rows else set()
    if not rows:
        ctx.errors.append(RowError(1, "header", "the file has no data rows"))
    for column in sorted(header - set(ctx.layout.columns) - ctx.layout.ignored):
        ctx.errors.append(RowError(1, column, "is not a column Springboard knows (see docs/imports.md)"))
    for column in sorted(ctx.layout.required - header):
        ctx.errors.append(RowError(1, column, "this required column is missing"))


def _plan(ctx: _Context, kind: str, rows: list[Row]) -> list[Callable[[], str]]:
    planner = {"care-leavers": _plan_care_leaver, "mentors": _plan_mentor, "opportunities": _plan_opportunity}[kind]
    seen: dict[str, int] = {}
    planned = []
    for row in rows:
        key = row.values.get(ctx.layout.key_column, "").strip().lower()
        if key in seen:
            ctx.fail(row, ctx.layout.key_column, f"'{key}' also appears on row {seen[key]}")
            continue
        seen[key] = row.number
        failures_before = len(ctx.errors)
        ctx.unreadable = set()
        # Validate even a row with unreadable cells, so that all of its problems are reported at once.
        write = planner(ctx, row, _parse(ctx, row))
        if write and len(ctx.errors) == failures_before:
            planned.append(write)
    return planned


def _parse(ctx: _Context, row: Row) -> dict[str, Any]:
    """The row's readable values; each unreadable cell is reported and left out."""
    values: dict[str, Any] = {}
    for column, text in row.values.items():
        spec = ctx.layout.columns.get(column)
        if spec is None or not text:
            continue
        try:
            values[spec.field] = spec.parse(text)
        except ValueError as error:
            ctx.fail(row, column, str(error))
    suitable = values.pop("accommodation_suitable", "")
    if "accommodation" in values:
        try:
            values["accommodation"] = convert.accommodation(values["accommodation"], suitable)
        except ValueError as error:
            del values["accommodation"]
            ctx.fail(row, ctx.layout.column_of("accommodation"), str(error))
    return values


def _validated(ctx: _Context, row: Row, schema: type[SQLModel], values: dict[str, Any]) -> dict[str, Any] | None:
    try:
        return schema.model_validate(values).model_dump()
    except ValidationError as error:
        for problem in error.errors():
            name = str(problem["loc"][0]) if problem["loc"] else ""
            column = ctx.layout.column_of(name) if name else "(whole row)"
            if column in ctx.unreadable:
                continue  # already reported
            reason = "a value is required" if problem["type"] == "missing" else problem["msg"]
            ctx.errors.append(RowError(row.number, column, reason.removeprefix("Value error, ")))
        return None


def _upsert(ctx: _Context, table: type[SQLModel], existing: Any, values: dict[str, Any]) -> Callable[[], str]:
    def write() -> str:
        if existing is None:
            ctx.session.add(table(**values))
            ctx.session.flush()
            return "created"
        changed = {name: value for name, value in values.items() if getattr(existing, name) != value}
        for name, value in changed.items():
            setattr(existing, name, value)
        return "updated" if changed else "unchanged"

    return write


def _current(record: Any, schema: type[SQLModel]) -> dict[str, Any]:
    return {name: getattr(record, name) for name in schema.model_fields} if record is not None else {}


def _adviser_id(ctx: _Context, row: Row, values: dict[str, Any]) -> None:
    """The adviser column holds an e-mail or (in SSD extracts) a full name; it must name an adviser."""
    given = values.pop("personal_adviser", None)
    if not given:
        return
    wanted = given.strip().lower()
    matches = [u for u in ctx.users.values()
               if u.role == "adviser" and wanted in {u.email, u.full_name.strip().lower()}]
    column = ctx.layout.column_of("personal_adviser")
    if len(matches) != 1:
        ctx.fail(row, column, f"'{given}' is not {'one' if not matches else 'a unique'} personal adviser "
                              "(add them with `springboard users create --role adviser`)")
        return
    values["personal_adviser_id"] = matches[0].id


def _department_id(ctx: _Context, row: Row, values: dict[str, Any]) -> None:
    code = values.pop("department_code", "").strip().upper()
    if code and code not in ctx.departments:
        ctx.fail(row, "department_code", f"no department has the code '{code}'")
    values["department_id"] = ctx.departments.get(code)


def _plan_keyed(ctx: _Context, row: Row, values: dict[str, Any], *, table: type[SQLModel],
                schema: type[SQLModel], key: str, resolve: Callable[[_Context, Row, dict[str, Any]], None]):
    """Upsert one record on its natural key, after turning looked-up columns into ids."""
    existing = ctx.session.exec(select(table).where(getattr(table, key) == values.get(key, ""))).first()
    resolve(ctx, row, values)
    validated = _validated(ctx, row, schema, _current(existing, schema) | values)
    return validated and _upsert(ctx, table, existing, validated)


def _plan_care_leaver(ctx: _Context, row: Row, values: dict[str, Any]):
    return _plan_keyed(ctx, row, values, table=CareLeaver, schema=CareLeaverCreate, key="case_reference",
                       resolve=_adviser_id)


def _plan_opportunity(ctx: _Context, row: Row, values: dict[str, Any]):
    return _plan_keyed(ctx, row, values, table=Opportunity, schema=OpportunityCreate, key="reference",
                       resolve=_department_id)


def _plan_mentor(ctx: _Context, row: Row, values: dict[str, Any]):
    _department_id(ctx, row, values)
    user = ctx.users.get(values.get("email", "").strip().lower())
    person = {"email": values.pop("email", ""), "full_name": values.pop("full_name", ""),
              "role": user.role if user else "mentor", "department_id": values["department_id"]}
    person = _validated(ctx, row, UserCreate, person)
    mentor = ctx.session.exec(select(Mentor).where(Mentor.user_id == user.id)).first() if user else None
    profile = _validated(ctx, row, MentorCreate, _current(mentor, MentorCreate) | values | {"user_id": 0})
    if person is None or profile is None:
        return None
    person.pop("password", None)

    def write() -> str:
        account = user
        if account is None:
            account = User(**person)
            ctx.session.add(account)
            ctx.session.flush()
        else:
            for name in ("full_name", "department_id"):
                if getattr(account, name) != person[name]:
                    setattr(account, name, person[name])
        return _upsert(ctx, Mentor, mentor, profile | {"user_id": account.id})()

    return write
