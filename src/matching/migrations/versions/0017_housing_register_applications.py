"""housing register applications

Each care leaver's applications to the council's housing register: when, the band given, what came of it and
the day they were housed (the annual report publishes these outcomes).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02 00:45:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0017'
down_revision: str | None = '0016'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'housing_applications',
        sa.Column('applied_on', sa.Date(), nullable=False),
        sa.Column('band', sa.String(length=8), nullable=True),
        sa.Column('outcome', sa.String(length=12), nullable=False),
        sa.Column('housed_on', sa.Date(), nullable=True),
        sa.Column('note', sa.String(length=1000), nullable=False),
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('care_leaver_id', sa.Integer(), nullable=False),
        sa.Column('recorded_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['care_leaver_id'], ['care_leavers.id'],
                                name=op.f('fk_housing_applications_care_leaver_id_care_leavers')),
        sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'],
                                name=op.f('fk_housing_applications_recorded_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_housing_applications')),
    )
    op.create_index(op.f('ix_housing_applications_care_leaver_id'), 'housing_applications', ['care_leaver_id'])


def downgrade() -> None:
    op.drop_index(op.f('ix_housing_applications_care_leaver_id'), table_name='housing_applications')
    op.drop_table('housing_applications')
