"""The audit trail: who read or changed which care leaver's record, when and from where.

Rows hold identifiers only, never the personal data itself, and nothing updates or deletes them.
"""

from collections.abc import Iterable

from sqlmodel import Session

from matching.models import AuditEvent


def record_access(session: Session, *, actor_id: int | None, action: str, entity: str, ids: Iterable[int],
                  route: str = "", client: str = "") -> None:
    session.add_all(
        AuditEvent(actor_id=actor_id, action=action, entity=entity, entity_id=record_id, route=route[:200],
                   client=client[:64])
        for record_id in ids
    )
