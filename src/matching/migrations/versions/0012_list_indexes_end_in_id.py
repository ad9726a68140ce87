"""list indexes end in id

Each column a list filters or sorts by gets an index on (column, id), id being the order's tie-break
(models/base.list_indexes). PostgreSQL then counts a filter and finds a deep page's ids from the index
alone, where before it read every skipped row; a sort walks the index with its ties already in order.
SQLite's indexes already ended in the rowid, so there the change only adds the sort indexes.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-24 04:48:47.801837
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LISTED = {
    "care_leavers": ("personal_adviser_id", "case_status", "in_touch", "leaving_care_category", "former_uasc",
                     "first_name", "date_of_birth", "last_contact_on", "pathway_plan_reviewed_on", "updated_at"),
    "mentors": ("department_id", "status", "job_title", "capacity", "dbs_checked_on", "updated_at"),
    "opportunities": ("department_id", "kind", "status", "ring_fenced", "title", "closes_on", "starts_on",
                      "updated_at"),
    "departments": ("status", "name", "updated_at"),
}
# Those with a one-column index of the same name before this revision.
WERE_INDEXED = {
    "care_leavers": ("personal_adviser_id", "case_status", "in_touch", "leaving_care_category", "former_uasc",
                     "date_of_birth", "last_contact_on", "pathway_plan_reviewed_on"),
    "mentors": ("department_id", "status"),
    "opportunities": ("department_id", "kind", "status", "ring_fenced", "closes_on"),
    "departments": ("status",),
}


def upgrade() -> None:
    for table, columns in LISTED.items():
        for column in columns:
            if column in WERE_INDEXED[table]:
                op.drop_index(f"ix_{table}_{column}", table_name=table)
            op.create_index(f"ix_{table}_{column}", table, [column, "id"])


def downgrade() -> None:
    for table, columns in LISTED.items():
        for column in columns:
            op.drop_index(f"ix_{table}_{column}", table_name=table)
            if column in WERE_INDEXED[table]:
                op.create_index(f"ix_{table}_{column}", table, [column])
