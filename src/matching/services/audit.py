"""The audit trail: who read or changed which care leaver's record, when and from where.

Rows hold identifiers only, never the personal data itself, and nothing updates or deletes them.
"""

from collections.abc import Iterable

import sqlalchemy as sa
from sqlmodel import Session

from matching.coltypes import utcnow
from matching.models import AuditEvent


def record_access(session: Session, *, actor_id: int | None, action: str, entity: str, ids: Iterable[int],
                  route: str = "", client: str = "") -> None:
    """One INSERT for all the rows: a list page audits fifty records at once."""
    at = utcnow()
    rows = [{"at": at, "actor_id": actor_id, "action": action, "entity": entity, "entity_id": record_id,
             "route": route[:200], "client": client[:64]} for record_id in ids]
    if rows:  # Core executemany on the session's connection: the ORM bulk path cost several times more
        session.connection().execute(sa.insert(AuditEvent.__table__), rows)
