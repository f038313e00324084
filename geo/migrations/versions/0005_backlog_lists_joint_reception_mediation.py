"""清单/销号 (backlog_list, backlog_item with evidence and approval), 联合接访 (joint_reception and
one part per unit with its own deadline) and 三调联动 (mediation with agreement and judicial
confirmation window).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 00:56:17.492503
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('backlog_list',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('kind', sa.String(length=16), server_default=sa.text("'backlog'"), nullable=False),
    sa.Column('owner', sa.Text(), nullable=False),
    sa.Column('owner_staff_id', sa.Integer(), nullable=True),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("kind IN ('backlog','key','special')", name='backlog_kind_known'),
    sa.ForeignKeyConstraint(['owner_staff_id'], ['staff.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('backlog_item',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('list_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.BigInteger(), nullable=True),
    sa.Column('title', sa.Text(), nullable=True),
    sa.Column('leader', sa.Text(), nullable=True),
    sa.Column('leader_staff_id', sa.Integer(), nullable=True),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=16), server_default=sa.text("'open'"), nullable=False),
    sa.Column('evidence', sa.Text(), nullable=True),
    sa.Column('evidence_by', sa.String(length=64), nullable=True),
    sa.Column('evidence_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('approved_by', sa.String(length=64), nullable=True),
    sa.Column('approved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('returned_note', sa.Text(), nullable=True),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("(status = 'struck') = (approved_at IS NOT NULL)", name='struck_iff_approved'),
    sa.CheckConstraint("status = 'open' OR evidence IS NOT NULL", name='struck_needs_evidence'),
    sa.CheckConstraint("status IN ('open','pending','struck')", name='item_status_known'),
    sa.CheckConstraint('case_id IS NOT NULL OR title IS NOT NULL', name='item_has_subject'),
    sa.ForeignKeyConstraint(['case_id'], ['petition_case.id'], ),
    sa.ForeignKeyConstraint(['leader_staff_id'], ['staff.id'], ),
    sa.ForeignKeyConstraint(['list_id'], ['backlog_list.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('list_id', 'case_id', name='item_case_once_per_list')
    )
    op.create_index('backlog_item_leader', 'backlog_item', ['leader_staff_id'], unique=False)
    op.create_index(op.f('ix_backlog_item_case_id'), 'backlog_item', ['case_id'], unique=False)
    op.create_index(op.f('ix_backlog_item_list_id'), 'backlog_item', ['list_id'], unique=False)
    op.create_table('joint_reception',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('case_id', sa.BigInteger(), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('place', sa.Text(), nullable=False),
    sa.Column('persons_count', sa.Integer(), server_default=sa.text('1'), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('persons_count >= 1', name='reception_persons_positive'),
    sa.ForeignKeyConstraint(['case_id'], ['petition_case.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_joint_reception_case_id'), 'joint_reception', ['case_id'], unique=False)
    op.create_table('mediation',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('case_id', sa.BigInteger(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('organization', sa.Text(), nullable=False),
    sa.Column('mediator', sa.Text(), nullable=True),
    sa.Column('started_on', sa.Date(), nullable=False),
    sa.Column('outcome', sa.String(length=16), server_default=sa.text("'pending'"), nullable=False),
    sa.Column('agreement_date', sa.Date(), nullable=True),
    sa.Column('confirmation_due', sa.Date(), nullable=True),
    sa.Column('confirmed_on', sa.Date(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("(outcome = 'agreement') = (agreement_date IS NOT NULL)", name='agreement_has_date'),
    sa.CheckConstraint("kind IN ('people','administrative','judicial')", name='mediation_kind_known'),
    sa.CheckConstraint("outcome IN ('pending','agreement','no_agreement')", name='mediation_outcome_known'),
    sa.CheckConstraint('confirmed_on IS NULL OR agreement_date IS NOT NULL', name='confirmed_after_agreement'),
    sa.ForeignKeyConstraint(['case_id'], ['petition_case.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_mediation_case_id'), 'mediation', ['case_id'], unique=False)
    op.create_table('joint_reception_part',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('reception_id', sa.BigInteger(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('part', sa.Text(), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=8), server_default=sa.text("'open'"), nullable=False),
    sa.Column('response', sa.Text(), nullable=True),
    sa.Column('done_by', sa.String(length=64), nullable=True),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("(status = 'done') = (done_at IS NOT NULL AND response IS NOT NULL)", name='done_has_response'),
    sa.CheckConstraint("status IN ('open','done')", name='part_status_known'),
    sa.ForeignKeyConstraint(['reception_id'], ['joint_reception.id'], ),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('reception_id', 'unit_id', name='one_part_per_unit')
    )
    op.create_index(op.f('ix_joint_reception_part_reception_id'), 'joint_reception_part', ['reception_id'], unique=False)
    op.create_index('joint_reception_part_unit', 'joint_reception_part', ['unit_id', 'status'], unique=False)


def downgrade() -> None:
    op.drop_index('joint_reception_part_unit', table_name='joint_reception_part')
    op.drop_index(op.f('ix_joint_reception_part_reception_id'), table_name='joint_reception_part')
    op.drop_table('joint_reception_part')
    op.drop_index(op.f('ix_mediation_case_id'), table_name='mediation')
    op.drop_table('mediation')
    op.drop_index(op.f('ix_joint_reception_case_id'), table_name='joint_reception')
    op.drop_table('joint_reception')
    op.drop_index(op.f('ix_backlog_item_list_id'), table_name='backlog_item')
    op.drop_index(op.f('ix_backlog_item_case_id'), table_name='backlog_item')
    op.drop_index('backlog_item_leader', table_name='backlog_item')
    op.drop_table('backlog_item')
    op.drop_table('backlog_list')
