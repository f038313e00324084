"""Indexes: case_petitioner by petitioner (repeat detection walks petitioner → their other
cases; the primary key leads with case_id) and submission by received_at (件次/人次 per window).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25 02:46:16.242504
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('case_petitioner_petitioner_idx', 'case_petitioner', ['petitioner_id'], unique=False)
    op.create_index('submission_received_idx', 'submission', ['received_at'], unique=False)


def downgrade() -> None:
    op.drop_index('submission_received_idx', table_name='submission')
    op.drop_index('case_petitioner_petitioner_idx', table_name='case_petitioner')
