"""Validate every row of a file (a first pass over it), then write all of them (a second), or none.

Re-importing the same file changes nothing: rows are upserted on their natural key (case reference,
e-mail, opportunity reference) and a record is only touched when a value really differs.

Rows go through both passes in chunks of CHUNK: the chunk's existing records are read with one query (as
plain rows), its new records written with one executemany INSERT (and their ids read back with one query),
its changed ones with one executemany UPDATE that keeps the optimistic lock, and its audit rows with one
statement per action. A query and a flush per row made 50,000 rows take 625 s on SQLite.
"""

import itertools
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from pydantic import ValidationError
from sqlalchemy.orm.util import identity_key
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
CHUNK = 1000  # rows looked up, written, flushed and audited together
PROGRESS_EVERY = 5000  # rows between two progress reports (a multiple of CHUNK); each pass also reports its end
PARSED_LIMIT = 100_000  # distinct cells whose reading is remembered during one import


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


@dataclass(frozen=True)
class Progress:
    """How far an import has got, for a progress line: counts only, nothing from the rows."""

    stage: str  # "checking" (the first pass) or "writing" (the second)
    done: int  # rows
    total: int | None  # known once the file has been checked
    finished: bool = False


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
    failed_rows: set[int] = field(default_factory=set)  # row numbers with a problem
    parsed: dict[tuple[str, str], Any] = field(default_factory=dict)  # (column, text) -> value or _Refused
    writing: bool = False  # the second pass: every row has been checked
    respelt: dict[str, str] = field(default_factory=dict)  # e-mails whose checked form is not just lower case
    advisers: dict[str, list[int]] | None = None  # adviser ids by e-mail and by full name, built when needed
    progress: Callable[[Progress], None] | None = None
    actor_id: int | None = None  # who ran the import, for the audit trail
    route: str = ""
    # table -> (its rows when its statistics were last made, its rows now), on PostgreSQL
    analysed: dict[str, tuple[float, float]] = field(default_factory=dict)

    def fail(self, row: Row, column: str, reason: str) -> None:
        self.report(RowError(row.number, column, reason))
        self.unreadable.add(column)

    def report(self, error: RowError) -> None:
        if len(self.errors) >= ERROR_LIMIT:
            self.errors.append(RowError(0, "file", f"more than {ERROR_LIMIT:,} problems; the first {ERROR_LIMIT:,} "
                                                   "are listed (is it the right file, or the right kind?)"))
            raise _TooManyProblems
        self.errors.append(error)
        self.failed_rows.add(error.row)

    def wrote(self, action: str, entity: str, record_id: int) -> None:
        self.written.setdefault((action, entity), []).append(record_id)


def import_file(session: Session, kind: str, path: Path, *, actor_id: int | None = None,
                route: str = "springboard import", progress: Callable[[Progress], None] | None = None) -> ImportReport:
    """Raises ImportFailed listing every problem (of the header and of every row, in one run); the caller's
    transaction then writes nothing. The file is read twice, a row at a time: once to check every row,
    then, when none has a problem, to write them, so memory stays flat however long the file is. Every
    record created or changed is audited as done by `actor_id` (the person who ran the import).
    `progress` is told how far each pass has got, every PROGRESS_EVERY rows and at its end."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}")
    ctx = _Context(session, layouts.CARE_LEAVERS,
                   departments={d.code: d.id for d in session.exec(select(Department))},
                   users={u.email: u for u in session.exec(select(User))}, progress=progress,
                   actor_id=actor_id, route=route)
    with _key_lookups_by_btree(session):
        _read(ctx, kind, path, write=False)
        report = None if ctx.errors else _read(ctx, kind, path, write=True, total=ctx.rows)
    if ctx.errors or report is None:
        raise ImportFailed(sorted(ctx.errors, key=lambda e: (e.row, e.column)))
    return report


@contextmanager
def _key_lookups_by_btree(session: Session) -> Iterator[None]:
    """On PostgreSQL, no bitmap scans during the import. The planner has no statistics for the rows this
    transaction adds, and costs the keys' trigram (GIN, for search) index below their unique one: a chunk's
    thousand keys then read the trigram index's posting lists, seconds a chunk and more as the table grows.
    GIN indexes are read only by bitmap scans, so this leaves the unique index (or a scan of a small table)."""
    if session.get_bind().dialect.name != "postgresql":
        yield
        return
    session.connection().exec_driver_sql("SET LOCAL enable_bitmapscan = off")
    try:
        yield
    except ImportFailed:
        session.connection().exec_driver_sql("SET LOCAL enable_bitmapscan TO DEFAULT")
        raise
    session.connection().exec_driver_sql("SET LOCAL enable_bitmapscan TO DEFAULT")


def _read(ctx: _Context, kind: str, path: Path, *, write: bool, total: int | None = None) -> ImportReport:
    """One pass over the file: every row checked, and (`write`) written when the whole file is good."""
    report = ImportReport(ctx.layout.name)
    stage = "writing" if write else "checking"
    ctx.writing = write
    try:
        with open_sheet(path, formulas=not write) as (header, lines):
            ctx.layout = _layout_for(kind, [normal_header(cell) for cell in header])
            report.layout = ctx.layout.name
            names = _check_header(ctx, header)
            ctx.rows = reported = 0
            for writes in _plan(ctx, kind, _rows(ctx, names, lines)):
                if write and not ctx.errors:
                    _write_chunk(ctx, writes, report)
                if ctx.progress and ctx.rows // PROGRESS_EVERY > reported // PROGRESS_EVERY:
                    reported = ctx.rows
                    ctx.progress(Progress(stage, ctx.rows, total))
            report.rows = ctx.rows
            if header and not ctx.rows:
                ctx.report(RowError(2, "file", "the file has no data rows below the header"))
    except FileProblem as problem:
        ctx.errors.append(RowError(problem.row, problem.column, str(problem)))
    except _TooManyProblems:
        pass
    if ctx.progress:  # a pass's end is reported even when a problem stopped it (ending a terminal's line)
        ctx.progress(Progress(stage, ctx.rows, total, finished=True))
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


@dataclass
class _Write:
    """One record to create (`existing` None) or to bring up to date with `values`."""

    table: type[SQLModel]
    existing: Any
    values: dict[str, Any]
    account: "_Write | None" = None  # a mentor's sign-in account, written first: its id is the mentor's user_id
    id: int | None = None  # once written


def _plan(ctx: _Context, kind: str, rows: Iterator[Row]) -> Iterator[list[_Write]]:
    """Each chunk's writes for its good rows, as the chunk is read (a row with a problem is reported and has
    none). The chunk's existing records are looked up at once, by the key column's text."""
    planner, lookup = _KINDS[kind]
    key_column = ctx.layout.key_column
    seen: dict[str, int] = {}
    while chunk := list(itertools.islice(rows, CHUNK)):
        found = lookup(ctx, {row.values.get(key_column, "") for row in chunk} - {""})
        writes = []
        for row in chunk:
            ctx.unreadable = set(ctx.absent)
            for column, reason in row.problems:
                ctx.fail(row, column, reason)
            key = row.values.get(key_column, "").strip().lower()
            if key and key in seen:
                ctx.fail(row, key_column, f"'{key}' also appears on row {seen[key]}")
                continue
            seen[key] = row.number
            # Validate even a row with unreadable cells, so that all of its problems are reported at once.
            write = planner(ctx, row, _parse(ctx, row), found)
            if write and row.number not in ctx.failed_rows:
                writes.append(write)
        yield writes


class _Refused(str):
    """A cell's remembered reason for refusal."""


def _parse(ctx: _Context, row: Row) -> dict[str, Any]:
    """The row's readable values; each unreadable cell is reported and left out. A text already read in a
    column is not read again (a file repeats its codes, dates and yes/no answers on every row)."""
    values: dict[str, Any] = {}
    for column, text in row.values.items():
        spec = ctx.layout.columns.get(column)
        if spec is None or not text:
            continue
        value = text if spec.parse is str else _parsed(ctx, column, spec.parse, text)
        if isinstance(value, _Refused):
            ctx.fail(row, column, str(value))
            continue
        if value is not convert.NOT_GIVEN:
            values[spec.field] = list(value) if isinstance(value, list) else value  # rows never share a list
    suitable = values.pop("accommodation_suitable", "")
    if "accommodation" in values and ctx.layout.column_of("accommodation_suitable") in ctx.unreadable:
        del values["accommodation"]  # its suitability could not be read, and that is already reported
    elif "accommodation" in values:
        code = _parsed(ctx, f"accommodation+{suitable}", lambda text: convert.accommodation(text, suitable),
                       values["accommodation"])
        if isinstance(code, _Refused):
            del values["accommodation"]
            ctx.fail(row, ctx.layout.column_of("accommodation"), str(code))
        else:
            values["accommodation"] = code
    return values


def _validated(ctx: _Context, row: Row, schema: type[SQLModel], values: dict[str, Any]) -> dict[str, Any] | None:
    try:
        # The model's own validator: SQLModel's model_validate wraps it in work only table models need.
        return schema.__pydantic_validator__.validate_python(values).model_dump()
    except ValidationError as error:
        for problem in error.errors():
            name = str(problem["loc"][0]) if problem["loc"] else ""
            column = ctx.layout.column_of(name) if name else "(whole row)"
            if column in ctx.unreadable:
                continue  # already reported
            reason = "a value is required" if problem["type"] == "missing" else problem["msg"]
            ctx.errors.append(RowError(row.number, column, reason.removeprefix("Value error, ")))
            ctx.failed_rows.add(row.number)
        return None


def _parsed(ctx: _Context, column: str, parse: Callable[[str], Any], text: str) -> Any:
    key = (column, text)
    if key in ctx.parsed:
        return ctx.parsed[key]
    try:
        value = parse(text)
    except ValueError as error:
        value = _Refused(str(error))
    if len(ctx.parsed) < PARSED_LIMIT:
        ctx.parsed[key] = value
    return value


_ENTITIES = {CareLeaver: "care_leaver", Mentor: "mentor", Opportunity: "opportunity", User: "user"}
_KEYS = {CareLeaver: "case_reference", Mentor: "user_id", Opportunity: "reference", User: "email"}  # unique


def _write_chunk(ctx: _Context, writes: list[_Write], report: ImportReport) -> None:
    """A chunk's records (mentors' accounts first), then its audit rows."""
    accounts = [write.account for write in writes if write.account is not None]
    _store(ctx, accounts)
    for write in writes:
        if write.account is not None:
            write.values["user_id"] = write.account.id
    for outcome in _store(ctx, writes):
        setattr(report, outcome, getattr(report, outcome) + 1)
    for (action, entity), ids in ctx.written.items():
        audit.record_access(ctx.session, actor_id=ctx.actor_id, action=action, entity=entity, ids=ids,
                            route=ctx.route)
    ctx.written.clear()


def _keep_statistics(ctx: _Context, table: sa.Table, inserted: int) -> None:
    """PostgreSQL plans the foreign-key checks of the rows the table's triggers write (care_leaver_statuses
    refers to care_leavers) from the table's statistics as they were: on a new table, a sequential scan a row,
    so each chunk took longer than the one before (50,000 new care leavers: 129 s). The statistics are made again
    each time the table has doubled since they were (a handful of times in an import; the checks are planned
    afresh after each)."""
    connection = ctx.session.connection()
    if connection.dialect.name != "postgresql":
        return
    if table.name not in ctx.analysed:
        counted = connection.execute(sa.text("SELECT reltuples FROM pg_class WHERE oid = CAST(:name AS regclass)"),
                                     {"name": table.name}).scalar()
        ctx.analysed[table.name] = (max(0.0, counted), max(0.0, counted))
    then, now = ctx.analysed[table.name]
    now += inserted
    if now >= 2 * max(then, CHUNK / 2):
        connection.execute(sa.text(f"ANALYZE {connection.dialect.identifier_preparer.quote(table.name)}"))
        then = now
    ctx.analysed[table.name] = (then, now)


def _store(ctx: _Context, writes: list[_Write]) -> list[str]:
    """Each write's outcome. The new records (all of one table) are inserted with one statement and the
    changed ones updated with another (an executemany: the unit of work sent an UPDATE a row)."""
    if not writes:
        return []
    table = writes[0].table
    entity = _ENTITIES[table]
    new = [write for write in writes if write.existing is None]
    if new:
        defaults = _defaults(table, new[0].values)
        connection = ctx.session.connection()
        # An executemany, and the ids read back by key: with RETURNING, SQLAlchemy renders one INSERT of a
        # thousand rows, which psycopg re-parses in Python (seconds a chunk), or a row at a time on SQLite.
        connection.execute(sa.insert(table.__table__), [defaults | write.values for write in new])
        _keep_statistics(ctx, table.__table__, len(new))
        columns = table.__table__.c
        key = columns[_KEYS[table]]
        keys = [write.values[key.key] for write in new]
        ids = dict(connection.execute(sa.select(key, columns.id).where(_one_of(key, keys))).all())
        for write in new:
            write.id = ids[write.values[key.key]]
        ctx.written.setdefault(("create", entity), []).extend(write.id for write in new)
    outcomes, changed = [], []
    for write in writes:
        if write.existing is None:
            outcomes.append("created")
            continue
        write.id = write.existing["id"]
        differs = any(write.existing[name] != value for name, value in write.values.items())
        if differs:
            changed.append(write)
        outcomes.append("updated" if differs else "unchanged")
    if changed:
        _update(ctx, table, changed)
        ctx.written.setdefault(("update", entity), []).extend(write.id for write in changed)
    return outcomes


def _update(ctx: _Context, table: type[SQLModel], writes: list[_Write]) -> None:
    """Every value of each changed record, and its version bumped only where it is still the version read:
    a record someone else changed meanwhile fails the import (ImportFailed, so the caller's transaction
    writes nothing), as the optimistic lock fails any other write."""
    columns = table.__table__.c
    names = list(writes[0].values)
    update = (sa.update(table.__table__)
              .where(columns.id == sa.bindparam("record_id"), columns.version == sa.bindparam("read_version"))
              .values({name: sa.bindparam(name, type_=columns[name].type) for name in names}
                      | {"version": columns.version + 1}))
    done = ctx.session.connection().execute(update, [
        {name: write.values[name] for name in names} | {"record_id": write.id,
                                                        "read_version": write.existing["version"]}
        for write in writes])
    if done.rowcount != len(writes):
        raise ImportFailed([RowError(0, "file", f"{len(writes) - done.rowcount} of its records were changed by "
                                                "someone else while the import ran: run it again")])
    for write in writes:  # a copy the session holds (a mentor's account, say) is now out of date
        loaded = ctx.session.identity_map.get(identity_key(table, write.id))
        if loaded is not None:
            ctx.session.expire(loaded)


def _defaults(table: type[SQLModel], given: Iterable[str]) -> dict[str, Any]:
    """The model's defaults for the columns a row does not give (version, timestamps, status), which the
    model's constructor would fill in: one construction per row cost more than the INSERT."""
    return {name: table.model_fields[name].get_default(call_default_factory=True)
            for name in (column.key for column in table.__table__.columns)
            if name != "id" and name not in given and name in table.model_fields}


def _current(record: Mapping[str, Any] | None, schema: type[SQLModel]) -> dict[str, Any]:
    return {name: record[name] for name in schema.model_fields} if record is not None else {}


def _adviser_id(ctx: _Context, row: Row, values: dict[str, Any]) -> None:
    """The adviser column holds an e-mail or (in SSD extracts) a full name; it must name an adviser."""
    given = values.pop("personal_adviser", None)
    if not given:
        return
    if ctx.advisers is None:
        ctx.advisers = {}
        for user in ctx.users.values():
            if user.role == "adviser" and user.active:
                for name in {user.email, user.full_name.strip().lower()}:
                    ctx.advisers.setdefault(name, []).append(user.id)
    matches = ctx.advisers.get(given.strip().lower(), [])
    column = ctx.layout.column_of("personal_adviser")
    if len(matches) != 1:
        ctx.fail(row, column, f"'{given}' is not {'one' if not matches else 'a unique'} personal adviser "
                              "(add them with `springboard users create --role adviser`)")
        return
    values["personal_adviser_id"] = matches[0]


def _department_id(ctx: _Context, row: Row, values: dict[str, Any]) -> None:
    code = values.pop("department_code", "").strip().upper()
    if code and code not in ctx.departments:
        ctx.fail(row, "department_code", f"no department has the code '{code}'")
    values["department_id"] = ctx.departments.get(code)


def _one_of(column: sa.Column, values: Iterable[Any]) -> sa.ColumnElement[bool]:
    """`column IN (...)` with the values written into the statement (SQLAlchemy quotes them), so that each
    chunk's lookup is planned for the table as it now is, with a hashed list: as bound parameters, psycopg
    prepares a statement run five times and PostgreSQL may keep a generic plan made for a smaller table."""
    return column.in_(sa.bindparam(f"{column.key}_wanted", list(values), expanding=True, literal_execute=True))


def _stored(ctx: _Context, table: type[SQLModel], key: str, wanted: Iterable[Any]) -> dict[Any, Mapping[str, Any]]:
    """The stored rows of `table` whose `key` is one of `wanted` (one query), as plain rows: building the
    models' instances cost more than the query."""
    rows = ctx.session.connection().execute(sa.select(table.__table__).where(_one_of(table.__table__.c[key], wanted)))
    return {row[key]: row for row in rows.mappings()}


def _by_key(table: type[SQLModel], key: str) -> Callable[[_Context, set[str]], dict[str, Any]]:
    """The chunk's existing records of `table`, by their key's exact text."""
    return lambda ctx, keys: _stored(ctx, table, key, keys)


def _plan_keyed(ctx: _Context, row: Row, values: dict[str, Any], found: dict[str, Any], *, table: type[SQLModel],
                schema: type[SQLModel], key: str, resolve: Callable[[_Context, Row, dict[str, Any]], None]):
    """Upsert one record on its natural key, after turning looked-up columns into ids."""
    existing = found.get(values.get(key, ""))
    resolve(ctx, row, values)
    validated = _validated(ctx, row, schema, _current(existing, schema) | values)
    return validated and _Write(table, existing, validated)


def _plan_care_leaver(ctx: _Context, row: Row, values: dict[str, Any], found: dict[str, Any]):
    return _plan_keyed(ctx, row, values, found, table=CareLeaver, schema=CareLeaverCreate, key="case_reference",
                       resolve=_adviser_id)


def _plan_opportunity(ctx: _Context, row: Row, values: dict[str, Any], found: dict[str, Any]):
    return _plan_keyed(ctx, row, values, found, table=Opportunity, schema=OpportunityCreate, key="reference",
                       resolve=_department_id)


def _mentors_of(ctx: _Context, emails: set[str]) -> dict[Any, Mapping[str, Any]]:
    """The chunk's existing mentor profiles, by their account's id (the accounts are all loaded already)."""
    accounts = {user.id for email in emails if (user := ctx.users.get(email.strip().lower()))}
    return dict.fromkeys(accounts) | _stored(ctx, Mentor, "user_id", accounts)  # None: no profile yet


def _plan_mentor(ctx: _Context, row: Row, values: dict[str, Any], found: dict[Any, Mapping[str, Any]]):
    _department_id(ctx, row, values)
    given = values.pop("email", "")
    person = _account(ctx, row, {"email": given, "full_name": values.pop("full_name", ""), "role": "mentor",
                                 "department_id": values["department_id"]})
    user = ctx.users.get(person["email"] if person else given.strip().lower())  # as it was stored: checked
    if user is not None and user.role != "mentor":
        # An import never changes an account of another role: a typo'd or hostile row could otherwise
        # rename an administrator and give them a mentor's profile.
        ctx.fail(row, "email", f"'{user.email}' is the e-mail of an existing {vocab.ROLES[user.role].lower()} "
                               "account, not a mentor's; an import changes only mentor accounts")
        return None
    if user is not None and user.id not in found:  # found by its checked e-mail only (rare): not looked up yet
        found.update(dict.fromkeys([user.id]) | _stored(ctx, Mentor, "user_id", [user.id]))
    mentor = found.get(user.id) if user else None
    profile = _validated(ctx, row, MentorCreate, _current(mentor, MentorCreate) | values | {"user_id": 0})
    if person is None or profile is None:
        return None
    person.pop("password", None)
    stored = None
    if user is not None:  # an existing account keeps its e-mail and role; only these follow the file
        person = {name: person[name] for name in ("full_name", "department_id")}
        stored = {name: getattr(user, name) for name in ("id", "version", *person)}
    return _Write(Mentor, mentor, profile, account=_Write(User, stored, person))


class _CheckedAccount(UserCreate):
    """A mentor's account whose e-mail the first pass checked: the e-mail check (email_validator) costs more
    than everything else in a row, and the file has not changed."""

    email: str


def _account(ctx: _Context, row: Row, person: dict[str, Any]) -> dict[str, Any] | None:
    given = person["email"]
    if ctx.writing:
        return _validated(ctx, row, _CheckedAccount, person | {"email": ctx.respelt.get(given, given)})
    checked = _validated(ctx, row, UserCreate, person)
    if checked and checked["email"] != given.strip().lower():  # normalised (Unicode): rare, and remembered
        ctx.respelt[given] = checked["email"]
    return checked


_KINDS = {"care-leavers": (_plan_care_leaver, _by_key(CareLeaver, "case_reference")),
          "mentors": (_plan_mentor, _mentors_of),
          "opportunities": (_plan_opportunity, _by_key(Opportunity, "reference"))}
