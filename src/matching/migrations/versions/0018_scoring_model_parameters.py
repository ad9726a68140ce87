"""scoring model parameters

A trained model keeps the numbers it scores with (its coefficients, intercept and calibration) on its row, so
scoring reads them and never loads the model's file, or the libraries that load it. Models trained before get
{}, like every other JSON column here (never NULL, so there is one way to say "none"): they are scored from
their file, as before, until retraining replaces them.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02 01:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0018'
down_revision: str | None = '0017'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('scoring_models', schema=None) as batch_op:
        batch_op.add_column(sa.Column('parameters', sa.JSON(), nullable=False, server_default='{}'))


def downgrade() -> None:
    with op.batch_alter_table('scoring_models', schema=None) as batch_op:
        batch_op.drop_column('parameters')
