"""Validate every row of a file (a first pass over it), then write all of them (a second), or none.

Re-importing the same file changes nothing: rows are upserted on their natural key (case reference,
e-mail, opportunity reference) and a record is only touched when a value really differs.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlmodel import Session, SQLModel, select

from matching import vocab
from matching.imports import convert, layouts, readers
from matching.imports.layouts import Layout
from matching.imports.readers import FileProblem, Row, normal_header, open_sheet
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
from matching.services import audit

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


ERROR_LIMIT = 1000  # problems listed; past that the file is plainly not the expected export


class _TooManyProblems(Exception):
    pass


@dataclass
class _Context:
    session: Session
    layout: Layout
    errors: list[RowError] = field(default_factory=list)
    departments: dict[str, int] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    unreadable: set[str] = field(default_factory=set)  # columns of the current row already reported
    absent: frozenset[str] = frozenset()  # required columns missing from the header (reported once, there)
    written: dict[tuple[str, str], list[int]] = field(default_factory=dict)  # (action, entity) -> ids
    rows: int = 0  # data rows read in this pass

    def fail(self, row: Row, column: str, reason: str) -> None:
        self.report(RowError(row.number, column, reason))
        self.unreadable.add(column)

    def report(self, error: RowError) -> None:
        if len(self.errors) >= ERROR_LIMIT:
            self.errors.append(RowError(0, "file", f"more than {ERROR_LIMIT:,} problems; the first {ERROR_LIMIT:,} "
                                                   "are listed (is it the right file, or the right kind?)"))
            raise _TooManyProblems
        self.errors.append(error)

    def wrote(self, action: str, entity: str, record_id: int) -> None:
        self.written.setdefault((action, entity), []).append(record_id)


def import_file(session: Session, kind: str, path: Path, *, actor_id: int | None = None,
                route: str = "springboard import") -> ImportReport:
    """Raises ImportFailed listing every problem (of the header and of every row, in one run); the caller's
    transaction then writes nothing. The file is read twice, a row at a time: once to check every row,
    then, when none has a problem, to write them, so memory stays flat however long the file is. Every
    record created or changed is audited as done by `actor_id` (the person who ran the import)."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}")
    ctx = _Context(session, layouts.CARE_LEAVERS,
                   departments={d.code: d.id for d in session.exec(select(Department))},
                   users={u.email: u for u in session.exec(select(User))})
    _read(ctx, kind, path, write=False)
    report = None if ctx.errors else _read(ctx, kind, path, write=True)
    if ctx.errors or report is None:
        raise ImportFailed(sorted(ctx.errors, key=lambda e: (e.row, e.column)))
    session.flush()
    for (action, entity), ids in ctx.written.items():
        audit.record_access(session, actor_id=actor_id, action=action, entity=entity, ids=ids, route=route)
    return report


def _read(ctx: _Context, kind: str, path: Path, *, write: bool) -> ImportReport:
    """One pass over the file: every row checked, and (`write`) written when the whole file is good."""
    report = ImportReport(ctx.layout.name)
    try:
        with open_sheet(path, formulas=not write) as (header, lines):
            ctx.layout = _layout_for(kind, [normal_header(cell) for cell in header])
            report.layout = ctx.layout.name
            names = _check_header(ctx, header)
            ctx.rows = 0
            for write_row in _plan(ctx, kind, _rows(ctx, names, lines)):
                if write and not ctx.errors:
                    outcome = write_row()
                    setattr(report, outcome, getattr(report, outcome) + 1)
            report.rows = ctx.rows
            if header and not ctx.rows:
                ctx.report(RowError(2, "file", "the file has no data rows below the header"))
    except FileProblem as problem:
        ctx.errors.append(RowError(problem.row, problem.column, str(problem)))
    except _TooManyProblems:
        pass
    return report


def _layout_for(kind: str, header: list[str]) -> Layout:
    if kind == "care-leavers":
        is_ssd = any(column.startswith("clea_") for column in header)
        return layouts.SSD_CARE_LEAVERS if is_ssd else layouts.CARE_LEAVERS
    return {"mentors": layouts.MENTORS, "opportunities": layouts.OPPORTUNITIES}[kind]


def _check_header(ctx: _Context, header: list[str]) -> list[str]:
    """Each column's name in the layout ("" for a column with no name); its problems go on row 1. The rows
    are still checked after a header problem, so that one run finds everything."""
    layout = ctx.layout
    names = [layout.canonical(normal_header(cell)) for cell in header]
    if not header:
        ctx.report(RowError(1, "header", "the file is empty: the first row must name the columns"))
    if len(names) > readers.COLUMN_LIMIT:
        ctx.report(RowError(1, "header", f"more than {readers.COLUMN_LIMIT} columns: is it the right sheet?"))
    first_at: dict[str, int] = {}
    for index, name in enumerate(names):
        if not name:
            continue
        if name in first_at:
            ctx.report(RowError(1, header[index], f"appears twice (columns {readers.column_letter(first_at[name])} "
                                                  f"and {readers.column_letter(index)}): keep one"))
            names[index] = ""  # its cells are then reported as a column without a usable name
        else:
            first_at[name] = index
    for name in sorted(set(first_at) - set(layout.columns) - layout.ignored):
        ctx.report(RowError(1, header[first_at[name]], "is not a column Springboard knows (see docs/imports.md)"))
    ctx.absent = frozenset(layout.required - set(first_at))
    for column in sorted(ctx.absent):
        ctx.report(RowError(1, column, "this required column is missing"))
    return names


def _rows(ctx: _Context, names: list[str], lines) -> Iterator[Row]:
    """Each line's cells by column name. Data that no column names (under an empty or repeated header, or
    past the header's last column) is refused rather than dropped."""
    unnamed_reported: set[int] = set()
    known = set(ctx.layout.columns)
    for line in lines:
        ctx.rows += 1
        row = Row(line.number, {})
        row.problems.extend((_column_name(names, index), reason) for index, reason in line.problems)
        unreadable = {index for index, _ in line.problems}  # never sent on (a NUL breaks PostgreSQL's queries)
        for index, text in enumerate(line.cells):
            if index in unreadable:
                continue
            if index >= len(names):
                if text:
                    row.problems.append((f"column {readers.column_letter(index)}",
                                         f"this row has more cells than the header has columns ({len(names)}): "
                                         "is there a stray comma, or a missing header?"))
                    break
            elif not names[index]:
                if text and index not in unnamed_reported:
                    unnamed_reported.add(index)
                    row.problems.append((f"column {readers.column_letter(index)}",
                                         "holds data but its header is empty or repeated: name the column or "
                                         "delete it"))
            elif names[index] in known:
                row.values[names[index]] = text
        yield row


def _column_name(names: list[str], index: int) -> str:
    return names[index] if index < len(names) and names[index] else f"column {readers.column_letter(index)}"


def _plan(ctx: _Context, kind: str, rows: Iterator[Row]) -> Iterator[Callable[[], str]]:
    """Each good row's write, as it is read (a row with a problem is reported and has none)."""
    planner = {"care-leavers": _plan_care_leaver, "mentors": _plan_mentor, "opportunities": _plan_opportunity}[kind]
    key_column = ctx.layout.key_column
    seen: dict[str, int] = {}
    for row in rows:
        failures_before = len(ctx.errors)
        ctx.unreadable = set(ctx.absent)
        for column, reason in row.problems:
            ctx.fail(row, column, reason)
        key = row.values.get(key_column, "").strip().lower()
        if key and key in seen:
            ctx.fail(row, key_column, f"'{key}' also appears on row {seen[key]}")
            continue
        seen[key] = row.number
        # Validate even a row with unreadable cells, so that all of its problems are reported at once.
        write = planner(ctx, row, _parse(ctx, row))
        if write and len(ctx.errors) == failures_before:
            yield write


def _parse(ctx: _Context, row: Row) -> dict[str, Any]:
    """The row's readable values; each unreadable cell is reported and left out."""
    values: dict[str, Any] = {}
    for column, text in row.values.items():
        spec = ctx.layout.columns.get(column)
        if spec is None or not text:
            continue
        try:
            value = spec.parse(text)
        except ValueError as error:
            ctx.fail(row, column, str(error))
            continue
        if value is not convert.NOT_GIVEN:
            values[spec.field] = value
    suitable = values.pop("accommodation_suitable", "")
    if "accommodation" in values and ctx.layout.column_of("accommodation_suitable") in ctx.unreadable:
        del values["accommodation"]  # its suitability could not be read, and that is already reported
    elif "accommodation" in values:
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


_ENTITIES = {CareLeaver: "care_leaver", Mentor: "mentor", Opportunity: "opportunity", User: "user"}


def _upsert(ctx: _Context, table: type[SQLModel], existing: Any, values: dict[str, Any]) -> Callable[[], str]:
    def write() -> str:
        if existing is None:
            record = table(**values)
            ctx.session.add(record)
            ctx.session.flush()
            ctx.wrote("create", _ENTITIES[table], record.id)
            return "created"
        changed = {name: value for name, value in values.items() if getattr(existing, name) != value}
        for name, value in changed.items():
            setattr(existing, name, value)
        if changed:
            ctx.wrote("update", _ENTITIES[table], existing.id)
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
               if u.role == "adviser" and u.active and wanted in {u.email, u.full_name.strip().lower()}]
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
    if user is not None and user.role != "mentor":
        # An import never changes an account of another role: a typo'd or hostile row could otherwise
        # rename an administrator and give them a mentor's profile.
        ctx.fail(row, "email", f"'{user.email}' is the e-mail of an existing {vocab.ROLES[user.role].lower()} "
                               "account, not a mentor's; an import changes only mentor accounts")
        return None
    person = {"email": values.pop("email", ""), "full_name": values.pop("full_name", ""),
              "role": "mentor", "department_id": values["department_id"]}
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
            ctx.users[account.email] = account
            ctx.wrote("create", "user", account.id)
        else:
            changed = [name for name in ("full_name", "department_id") if getattr(account, name) != person[name]]
            for name in changed:
                setattr(account, name, person[name])
            if changed:
                ctx.wrote("update", "user", account.id)
        return _upsert(ctx, Mentor, mentor, profile | {"user_id": account.id})()

    return write
