"""indexes for list filters and text search

Substring search (`q` on the list endpoints) is a trigram index: SQLite's FTS5 trigram tokenizer in a table
`<table>_text` kept in step by triggers, PostgreSQL's pg_trgm GIN index on each searched column. Without
them every search read the whole table twice (count and page). The columns are each resource's `search`
(services/records.py); tests/test_api_records.py checks the two agree.

Note for later migrations: SQLite batch mode rebuilds a table by copying it, which drops its triggers.
A migration that alters one of these tables in batch mode must call `create_text_search` again.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-24 01:16:36.418783
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SEARCHED = {
    "departments": ("name", "code"),
    "mentors": ("job_title",),
    "opportunities": ("title", "reference", "sector"),
    "care_leavers": ("case_reference", "first_name", "preferred_name", "family_name"),
}


def create_text_search(table: str, columns: tuple[str, ...]) -> None:
    if op.get_bind().dialect.name == "postgresql":
        for column in columns:
            op.execute(f"CREATE INDEX IF NOT EXISTS ix_{table}_{column}_trgm ON {table} "
                       f"USING gin ({column} gin_trgm_ops)")
        return
    names = ", ".join(columns)
    new, old = ", ".join(f"new.{c}" for c in columns), ", ".join(f"old.{c}" for c in columns)
    text = f"{table}_text"
    op.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS {text} USING fts5({names}, content='{table}', "
               "content_rowid='id', tokenize='trigram')")
    forget = f"INSERT INTO {text}({text}, rowid, {names}) VALUES ('delete', old.id, {old});"
    remember = f"INSERT INTO {text}(rowid, {names}) VALUES (new.id, {new});"
    op.execute(f"CREATE TRIGGER IF NOT EXISTS {text}_insert AFTER INSERT ON {table} BEGIN {remember} END")
    op.execute(f"CREATE TRIGGER IF NOT EXISTS {text}_delete AFTER DELETE ON {table} BEGIN {forget} END")
    op.execute(f"CREATE TRIGGER IF NOT EXISTS {text}_update AFTER UPDATE OF {names} ON {table} "
               f"BEGIN {forget} {remember} END")
    op.execute(f"INSERT INTO {text}({text}) VALUES ('rebuild')")


def upgrade() -> None:
    with op.batch_alter_table('care_leavers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_care_leavers_former_uasc'), ['former_uasc'], unique=False)
        batch_op.create_index(batch_op.f('ix_care_leavers_in_touch'), ['in_touch'], unique=False)
        batch_op.create_index(batch_op.f('ix_care_leavers_leaving_care_category'), ['leaving_care_category'],
                              unique=False)

    with op.batch_alter_table('opportunities', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_opportunities_ring_fenced'), ['ring_fenced'], unique=False)

    if op.get_bind().dialect.name == "postgresql":
        # A trusted extension: the database's owner may create it.
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for table, columns in SEARCHED.items():
        create_text_search(table, columns)


def downgrade() -> None:
    for table, columns in SEARCHED.items():
        if op.get_bind().dialect.name == "postgresql":
            for column in columns:
                op.execute(f"DROP INDEX IF EXISTS ix_{table}_{column}_trgm")
        else:
            for event in ("insert", "delete", "update"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_text_{event}")
            op.execute(f"DROP TABLE IF EXISTS {table}_text")

    with op.batch_alter_table('opportunities', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_opportunities_ring_fenced'))

    with op.batch_alter_table('care_leavers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_care_leavers_leaving_care_category'))
        batch_op.drop_index(batch_op.f('ix_care_leavers_in_touch'))
        batch_op.drop_index(batch_op.f('ix_care_leavers_former_uasc'))
