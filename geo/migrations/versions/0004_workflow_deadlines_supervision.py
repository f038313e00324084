"""The case workflow: petition_case gets its routing, 首接首办 (first unit and handler, fixed once
set by a trigger), 四定 plan, 包案 leader, evaluation, repeat/collective flags, milestones and a
check on its states; new tables case_transition (append-only by trigger), case_deadline (each
deadline with its rule) and supervision (督办, at most one open per case and reason).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 23:51:27.851625
"""
from alembic import op
import sqlalchemy as sa
import geoalchemy2
from sqlalchemy.dialects import postgresql

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('case_deadline',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('case_id', sa.BigInteger(), nullable=False),
    sa.Column('rule', sa.String(length=32), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('days', sa.Integer(), nullable=False),
    sa.Column('working_days', sa.Boolean(), nullable=False),
    sa.Column('basis', sa.Text(), nullable=False),
    sa.Column('statutory', sa.Boolean(), nullable=False),
    sa.Column('active', sa.Boolean(), server_default=sa.text('true'), nullable=False),
    sa.Column('met_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('NOT (active AND met_at IS NOT NULL)', name='met_is_inactive'),
    sa.CheckConstraint('days >= 1', name='days_positive'),
    sa.CheckConstraint('due_date > start_date', name='due_after_start'),
    sa.ForeignKeyConstraint(['case_id'], ['petition_case.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('case_deadline_due', 'case_deadline', ['due_date'], unique=False, postgresql_where=sa.text('active'))
    op.create_index('case_deadline_one_active', 'case_deadline', ['case_id', 'rule'], unique=True, postgresql_where=sa.text('active'))
    op.create_index(op.f('ix_case_deadline_case_id'), 'case_deadline', ['case_id'], unique=False)
    op.create_table('case_transition',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('case_id', sa.BigInteger(), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('from_status', sa.String(length=20), nullable=False),
    sa.Column('to_status', sa.String(length=20), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('data', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
    sa.Column('version_after', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['petition_case.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('case_transition_case_at', 'case_transition', ['case_id', 'at'], unique=False)
    op.create_table('supervision',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('case_id', sa.BigInteger(), nullable=False),
    sa.Column('reason', sa.String(length=64), nullable=False),
    sa.Column('deadline_id', sa.BigInteger(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('opened_by', sa.String(length=64), nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('feedback_due', sa.Date(), nullable=False),
    sa.Column('feedback', sa.Text(), nullable=True),
    sa.Column('feedback_by', sa.String(length=64), nullable=True),
    sa.Column('feedback_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('accepted_by', sa.String(length=64), nullable=True),
    sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('accepted_at IS NULL OR feedback_at IS NOT NULL', name='accepted_after_feedback'),
    sa.ForeignKeyConstraint(['case_id'], ['petition_case.id'], ),
    sa.ForeignKeyConstraint(['deadline_id'], ['case_deadline.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_supervision_case_id'), 'supervision', ['case_id'], unique=False)
    op.create_index(op.f('ix_supervision_deadline_id'), 'supervision', ['deadline_id'], unique=False)
    op.create_index('supervision_one_open', 'supervision', ['case_id', 'reason'], unique=True, postgresql_where=sa.text('closed_at IS NULL'))
    op.add_column('petition_case', sa.Column('routed_unit_id', sa.Integer(), nullable=True))
    op.add_column('petition_case', sa.Column('first_unit_id', sa.Integer(), nullable=True))
    op.add_column('petition_case', sa.Column('first_handler', sa.String(length=64), nullable=True))
    op.add_column('petition_case', sa.Column('handlers', postgresql.ARRAY(sa.Text()), nullable=True))
    op.add_column('petition_case', sa.Column('plan', sa.Text(), nullable=True))
    op.add_column('petition_case', sa.Column('target_close_date', sa.Date(), nullable=True))
    op.add_column('petition_case', sa.Column('leader_staff_id', sa.Integer(), nullable=True))
    op.add_column('petition_case', sa.Column('leader', sa.Text(), nullable=True))
    op.add_column('petition_case', sa.Column('evaluation', sa.String(length=20), nullable=True))
    op.add_column('petition_case', sa.Column('evaluated_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('petition_case', sa.Column('is_repeat', sa.Boolean(), server_default=sa.text('false'), nullable=False))
    op.add_column('petition_case', sa.Column('is_collective', sa.Boolean(), server_default=sa.text('false'), nullable=False))
    op.add_column('petition_case', sa.Column('assigned_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('petition_case', sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('petition_case', sa.Column('replied_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('petition_case', sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('petition_case', sa.Column('merged_into_id', sa.BigInteger(), nullable=True))
    op.add_column('petition_case', sa.Column('extension_days', sa.Integer(), nullable=True))
    op.create_index('petition_case_leader_idx', 'petition_case', ['leader_staff_id'], unique=False, postgresql_where=sa.text('leader_staff_id IS NOT NULL'))
    op.create_index('petition_case_responsible_unit_idx', 'petition_case', ['responsible_unit_id'], unique=False)
    op.create_index('petition_case_routed_unit_idx', 'petition_case', ['routed_unit_id'], unique=False)
    op.create_foreign_key('petition_case_first_unit_id_fkey', 'petition_case', 'unit',
                          ['first_unit_id'], ['id'])
    op.create_foreign_key('petition_case_merged_into_id_fkey', 'petition_case', 'petition_case',
                          ['merged_into_id'], ['id'])
    op.create_foreign_key('petition_case_routed_unit_id_fkey', 'petition_case', 'unit',
                          ['routed_unit_id'], ['id'])
    op.create_foreign_key('petition_case_leader_staff_id_fkey', 'petition_case', 'staff',
                          ['leader_staff_id'], ['id'])
    # Autogenerate does not see check constraints added to an existing table.
    op.create_check_constraint(
        'status_known', 'petition_case',
        "status IN ('registered','assigned','disputed','accepted','in_progress','mediating',"
        "'replied','closed','redirected','not_accepted','merged','review','reviewed',"
        "'rereview','finalized')")
    op.create_check_constraint(
        'evaluation_known', 'petition_case',
        "evaluation IN ('satisfied','basically_satisfied','unsatisfied','not_evaluated')")
    op.create_check_constraint('extension_at_most_30', 'petition_case',
                               'extension_days BETWEEN 1 AND 30')
    op.create_check_constraint('not_merged_into_itself', 'petition_case',
                               'merged_into_id <> id')
    # 首接首办: the first unit and handler are written once and then never change, whoever asks.
    op.execute("""
        CREATE FUNCTION petition_case_first_contact_fixed() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            IF OLD.first_unit_id IS NOT NULL
               AND NEW.first_unit_id IS DISTINCT FROM OLD.first_unit_id THEN
                RAISE EXCEPTION 'petition_case %: first_unit_id is set once (首接首办) and '
                                'never changes', OLD.id;
            END IF;
            IF OLD.first_handler IS NOT NULL
               AND NEW.first_handler IS DISTINCT FROM OLD.first_handler THEN
                RAISE EXCEPTION 'petition_case %: first_handler is set once (首接首办) and '
                                'never changes', OLD.id;
            END IF;
            RETURN NEW;
        END $$
    """)
    op.execute("CREATE TRIGGER petition_case_first_contact BEFORE UPDATE ON petition_case "
               "FOR EACH ROW EXECUTE FUNCTION petition_case_first_contact_fixed()")
    # The case history is append-only, like the audit log.
    op.execute("""
        CREATE FUNCTION case_transition_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'case_transition is append-only (% refused)', TG_OP;
        END $$
    """)
    op.execute("CREATE TRIGGER case_transition_no_update_delete BEFORE UPDATE OR DELETE "
               "ON case_transition FOR EACH ROW EXECUTE FUNCTION case_transition_append_only()")
    op.execute("CREATE TRIGGER case_transition_no_truncate BEFORE TRUNCATE ON case_transition "
               "FOR EACH STATEMENT EXECUTE FUNCTION case_transition_append_only()")


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS case_transition_no_truncate ON case_transition")
    op.execute("DROP TRIGGER IF EXISTS case_transition_no_update_delete ON case_transition")
    op.execute("DROP FUNCTION IF EXISTS case_transition_append_only()")
    op.execute("DROP TRIGGER IF EXISTS petition_case_first_contact ON petition_case")
    op.execute("DROP FUNCTION IF EXISTS petition_case_first_contact_fixed()")
    for name in ('not_merged_into_itself', 'extension_at_most_30', 'evaluation_known',
                 'status_known'):
        op.drop_constraint(name, 'petition_case', type_='check')
    for name in ('leader_staff_id', 'routed_unit_id', 'merged_into_id', 'first_unit_id'):
        op.drop_constraint(f'petition_case_{name}_fkey', 'petition_case', type_='foreignkey')
    op.drop_index('petition_case_routed_unit_idx', table_name='petition_case')
    op.drop_index('petition_case_responsible_unit_idx', table_name='petition_case')
    op.drop_index('petition_case_leader_idx', table_name='petition_case', postgresql_where=sa.text('leader_staff_id IS NOT NULL'))
    op.drop_column('petition_case', 'extension_days')
    op.drop_column('petition_case', 'merged_into_id')
    op.drop_column('petition_case', 'closed_at')
    op.drop_column('petition_case', 'replied_at')
    op.drop_column('petition_case', 'accepted_at')
    op.drop_column('petition_case', 'assigned_at')
    op.drop_column('petition_case', 'is_collective')
    op.drop_column('petition_case', 'is_repeat')
    op.drop_column('petition_case', 'evaluated_at')
    op.drop_column('petition_case', 'evaluation')
    op.drop_column('petition_case', 'leader')
    op.drop_column('petition_case', 'leader_staff_id')
    op.drop_column('petition_case', 'target_close_date')
    op.drop_column('petition_case', 'plan')
    op.drop_column('petition_case', 'handlers')
    op.drop_column('petition_case', 'first_handler')
    op.drop_column('petition_case', 'first_unit_id')
    op.drop_column('petition_case', 'routed_unit_id')
    op.drop_index('supervision_one_open', table_name='supervision', postgresql_where=sa.text('closed_at IS NULL'))
    op.drop_index(op.f('ix_supervision_deadline_id'), table_name='supervision')
    op.drop_index(op.f('ix_supervision_case_id'), table_name='supervision')
    op.drop_table('supervision')
    op.drop_index('case_transition_case_at', table_name='case_transition')
    op.drop_table('case_transition')
    op.drop_index(op.f('ix_case_deadline_case_id'), table_name='case_deadline')
    op.drop_index('case_deadline_one_active', table_name='case_deadline', postgresql_where=sa.text('active'))
    op.drop_index('case_deadline_due', table_name='case_deadline', postgresql_where=sa.text('active'))
    op.drop_table('case_deadline')
