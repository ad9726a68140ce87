"""The audit trail: who read or changed which care leaver's record, when and from where.

Rows hold identifiers only, never the personal data itself, and nothing updates or deletes them.
"""

from collections.abc import Iterable
from functools import cache

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlmodel import Session

from matching.clock import utcnow
from matching.models import AuditEvent


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
