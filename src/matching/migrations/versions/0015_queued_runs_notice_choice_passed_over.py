"""queued runs, notice choice, passed over

A matching run asked for from a page is queued to the worker, so its row is written first, with a status,
its progress and, when it fails, the reason. Each person chooses immediate notices or one daily digest. The
engine remembers, per young person and kind, how many runs in a row they were eligible and proposed nothing.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 00:10:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0015'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('match_runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status', sa.String(length=10), nullable=False, server_default='finished'))
        batch_op.add_column(sa.Column('progress', sa.JSON(), nullable=False, server_default='{}'))
        batch_op.add_column(sa.Column('error', sa.String(length=400), nullable=False, server_default=''))
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('notices', sa.String(length=10), nullable=False, server_default='immediate'))
    op.create_table(
        'passed_over',
        sa.Column('care_leaver_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=12), nullable=False),
        sa.Column('runs', sa.Integer(), nullable=False),
        sa.Column('last_run_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['care_leaver_id'], ['care_leavers.id'],
                                name=op.f('fk_passed_over_care_leaver_id_care_leavers')),
        sa.ForeignKeyConstraint(['last_run_id'], ['match_runs.id'], name=op.f('fk_passed_over_last_run_id_match_runs')),
        sa.PrimaryKeyConstraint('care_leaver_id', 'kind', name=op.f('pk_passed_over')),
    )


def downgrade() -> None:
    op.drop_table('passed_over')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('notices')
    with op.batch_alter_table('match_runs', schema=None) as batch_op:
        batch_op.drop_column('error')
        batch_op.drop_column('progress')
        batch_op.drop_column('status')
