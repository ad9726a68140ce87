"""The audit trail: who read or changed which care leaver's record, when and from where.

Rows hold identifiers only, never the personal data itself, and nothing updates or deletes them.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import cache

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlmodel import Session, select

from matching.clock import utcnow
from matching.models import AuditEvent, User


def record_access(session: Session, *, actor_id: int | None, action: str, entity: str, ids: Iterable[int],
                  route: str = "", client: str = "") -> None:
    """One statement however many records a page shows: the rows differ only in the record's id."""
    ids = list(ids)
    if ids:
        connection = session.connection()
        connection.execute(_insert_for_each_id(connection.dialect.name), {
            "at": utcnow(), "actor_id": actor_id, "action": action, "entity": entity, "ids": ids,
            "route": route[:200], "client": client[:64]})


@cache
def _insert_for_each_id(dialect: str) -> sa.Insert:
    """INSERT ... SELECT over the ids unpacked in the database (an array on PostgreSQL, JSON on SQLite): a
    row per id cost a statement execution (or a bound row) each, which dominated an audited list page."""
    table = AuditEvent.__table__
    if dialect == "postgresql":
        unpacked = sa.func.unnest(sa.bindparam("ids", type_=postgresql.ARRAY(sa.Integer)))
        ids = unpacked.table_valued("value").render_derived()
    else:
        ids = sa.func.json_each(sa.bindparam("ids", type_=sa.JSON)).table_valued("value")
    shared = ["at", "actor_id", "action", "entity", "route", "client"]
    values = [sa.bindparam(name, type_=table.c[name].type) for name in shared]
    return sa.insert(table).from_select([*shared, "entity_id"], sa.select(*values, ids.c.value))


@dataclass(frozen=True)
class EventFilter:
    """Which audit rows to read: each condition is left out when None. `until` is exclusive."""

    actor_id: int | None = None
    actor_name: str | None = None  # part of the person's full name, any case
    entity_id: int | None = None
    entity: str | None = None
    action: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def find_events(session: Session, wanted: EventFilter, *, limit: int = 20,
                offset: int = 0) -> tuple[list[AuditEvent], int]:
    """A page of audit rows, newest first, and how many there are in all (the JSON API and the manager's
    audit-log page both read the trail through this)."""
    table = AuditEvent.__table__.c
    conditions = [column == value for column, value in ((table.actor_id, wanted.actor_id),
                  (table.entity_id, wanted.entity_id), (table.entity, wanted.entity),
                  (table.action, wanted.action)) if value is not None]
    conditions += [table.at >= wanted.since] if wanted.since else []
    conditions += [table.at < wanted.until] if wanted.until else []
    if wanted.actor_name:
        named = sa.select(User.id).where(sa.func.lower(User.full_name).contains(wanted.actor_name.strip().lower(),
                                                                                autoescape=True))
        conditions.append(table.actor_id.in_(named.scalar_subquery()))
    total = session.exec(select(sa.func.count()).select_from(AuditEvent).where(*conditions)).one()
    rows = session.exec(select(AuditEvent).where(*conditions).order_by(AuditEvent.id.desc())
                        .limit(limit).offset(offset)).all()
    return list(rows), total
