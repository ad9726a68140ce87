"""check-in, match-event and contact indexes

The overview's charts at each month end read every check-in due and not done in the last twelve months, the
events of their matches in order (dashboard.py `_overdue_check_ins`), and who was contacted in each month's
window of weeks (`_not_in_touch`); the charts by month count the events of the twelve months (`_reached`); and
when a match reached a state is one look-up (the referrals page sorts by it, the stale-match list and the
decision times ask it). These indexes hold what they read, so none visits the tables' rows; the first three
each replace a one-column index that they begin with.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02 14:00:00.000000
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0019'
down_revision: str | None = '0018'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (new index, table, its columns, the index it replaces, that index's column)
REPLACED = [("ix_match_events_match_id_at", "match_events", ["match_id", "at"], "ix_match_events_match_id", "match_id"),
            ("ix_check_ins_due_on_done_on", "check_ins", ["due_on", "done_on", "match_id"], "ix_check_ins_due_on",
             "due_on"),
            ("ix_check_ins_match_id_due_on", "check_ins", ["match_id", "due_on", "done_on"], "ix_check_ins_match_id",
             "match_id")]
ADDED = [("ix_contacts_contact_on", "contacts", ["contact_on", "care_leaver_id"]),
         ("ix_match_events_at_to_state", "match_events", ["at", "to_state"]),
         ("ix_match_events_match_id_to_state_at", "match_events", ["match_id", "to_state", "at"])]


def upgrade() -> None:
    for name, table, columns, old, _ in REPLACED:
        op.create_index(name, table, columns)
        op.drop_index(old, table_name=table)
    for name, table, columns in ADDED:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _ in ADDED:
        op.drop_index(name, table_name=table)
    for name, table, _, old, column in REPLACED:
        op.create_index(old, table, [column])
        op.drop_index(name, table_name=table)
