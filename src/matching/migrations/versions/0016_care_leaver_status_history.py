"""care leaver status history

The statutory return (SSDA903 OC3) asks for IN_TOUCH, ACTIV and ACCOM as they stood around each birthday.
`care_leaver_statuses` keeps every value those fields (and the leaving-care category) have held, from the
record's `updated_at` of the change; triggers write it, so no path that changes a record (pages, API,
imports by COPY or executemany, jobs) can forget to. Existing records get one row each, from their last
change: what they held before that was never kept, and the return says so for earlier birthdays.

SQLite batch migrations of `care_leavers` recreate the table and drop these triggers (as they drop the text
search triggers of 0011): re-create both after any such migration.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 00:30:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0016'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FIELDS = ("leaving_care_category", "in_touch", "current_activity", "accommodation")
COLUMNS = ", ".join(FIELDS)
NEW_VALUES = ", ".join(f"NEW.{name}" for name in FIELDS)
REMEMBER = (f"INSERT INTO care_leaver_statuses (care_leaver_id, valid_from, {COLUMNS}) "
            f"VALUES (NEW.id, NEW.updated_at, {NEW_VALUES});")


def upgrade() -> None:
    op.create_table(
        'care_leaver_statuses',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('care_leaver_id', sa.Integer(), nullable=False),
        sa.Column('valid_from', sa.DateTime(timezone=True), nullable=False),
        sa.Column('leaving_care_category', sa.String(length=20), nullable=False),
        sa.Column('in_touch', sa.String(length=4), nullable=False),
        sa.Column('current_activity', sa.String(length=2), nullable=True),
        sa.Column('accommodation', sa.String(length=2), nullable=True),
        sa.ForeignKeyConstraint(['care_leaver_id'], ['care_leavers.id'],
                                name=op.f('fk_care_leaver_statuses_care_leaver_id_care_leavers')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_care_leaver_statuses')),
    )
    op.create_index('ix_care_leaver_statuses_person_from', 'care_leaver_statuses', ['care_leaver_id', 'valid_from'])
    op.execute(f"INSERT INTO care_leaver_statuses (care_leaver_id, valid_from, {COLUMNS}) "
               f"SELECT id, updated_at, {COLUMNS} FROM care_leavers")
    changed = " OR ".join(f"NEW.{name} IS DISTINCT FROM OLD.{name}" for name in FIELDS)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"CREATE FUNCTION care_leaver_status_remember() RETURNS trigger LANGUAGE plpgsql AS $$ "
                   f"BEGIN {REMEMBER} RETURN NULL; END $$")
        op.execute("CREATE TRIGGER care_leaver_status_insert AFTER INSERT ON care_leavers "
                   "FOR EACH ROW EXECUTE FUNCTION care_leaver_status_remember()")
        op.execute(f"CREATE TRIGGER care_leaver_status_update AFTER UPDATE OF {COLUMNS} ON care_leavers "
                   f"FOR EACH ROW WHEN ({changed}) "
                   "EXECUTE FUNCTION care_leaver_status_remember()")
    else:
        op.execute(f"CREATE TRIGGER care_leaver_status_insert AFTER INSERT ON care_leavers BEGIN {REMEMBER} END")
        op.execute(f"CREATE TRIGGER care_leaver_status_update AFTER UPDATE OF {COLUMNS} ON care_leavers "
                   f"WHEN {changed.replace('IS DISTINCT FROM', 'IS NOT')} BEGIN {REMEMBER} END")


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS care_leaver_status_update" +
               (" ON care_leavers" if op.get_bind().dialect.name == "postgresql" else ""))
    op.execute("DROP TRIGGER IF EXISTS care_leaver_status_insert" +
               (" ON care_leavers" if op.get_bind().dialect.name == "postgresql" else ""))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS care_leaver_status_remember()")
    op.drop_index('ix_care_leaver_statuses_person_from', table_name='care_leaver_statuses')
    op.drop_table('care_leaver_statuses')
