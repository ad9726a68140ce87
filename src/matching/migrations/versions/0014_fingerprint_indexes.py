"""fingerprint indexes

The young person's page checks whether the engine's cached mentors and opportunities are still current
(engine/state.py `_fingerprint`): the latest change to a match, and the slots and places taken, are then
read from these indexes instead of from every row of their tables.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 18:30:00.000000
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = [("ix_matches_updated_at", "matches", "updated_at"), ("ix_mentors_slots_taken", "mentors", "slots_taken"),
           ("ix_opportunities_places_taken", "opportunities", "places_taken")]


def upgrade() -> None:
    for name, table, column in INDEXES:
        op.create_index(name, table, [column])


def downgrade() -> None:
    for name, table, _ in INDEXES:
        op.drop_index(name, table_name=table)
