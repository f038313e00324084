"""Users with role and scope, the append-only audit log, encrypted petitioner ID/phone numbers.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 23:19:44.967838
"""
from alembic import op
import sqlalchemy as sa
import geoalchemy2
from sqlalchemy.dialects import postgresql

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_log',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=True),
    sa.Column('role', sa.String(length=20), nullable=True),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('method', sa.String(length=8), nullable=True),
    sa.Column('path', sa.Text(), nullable=True),
    sa.Column('params', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
    sa.Column('row_count', sa.Integer(), nullable=True),
    sa.Column('purpose', sa.Text(), nullable=True),
    sa.Column('unmasked', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('client', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('audit_log_user_at', 'audit_log', ['username', 'at'], unique=False)
    op.create_index(op.f('ix_audit_log_at'), 'audit_log', ['at'], unique=False)
    op.create_table('app_user',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('display_name', sa.Text(), nullable=True),
    sa.Column('password_hash', sa.Text(), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('grid_codes', postgresql.ARRAY(sa.String(length=15)), server_default=sa.text("'{}'"), nullable=False),
    sa.Column('community_code', sa.String(length=12), nullable=True),
    sa.Column('street_code', sa.String(length=12), nullable=True),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('staff_id', sa.Integer(), nullable=True),
    sa.Column('disabled', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('failed_logins', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("role IN ('grid_worker','grid_leader','community','street','unit_handler','registrar','commander','discipline','admin')", name='user_role_known'),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], ),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('username')
    )
    op.add_column('petitioner', sa.Column('id_number_enc', sa.LargeBinary(), nullable=True))
    op.add_column('petitioner', sa.Column('id_number_hash', sa.LargeBinary(), nullable=True))
    op.add_column('petitioner', sa.Column('phone_enc', sa.LargeBinary(), nullable=True))
    op.add_column('petitioner', sa.Column('phone_hash', sa.LargeBinary(), nullable=True))
    op.create_index(op.f('ix_petitioner_id_number_hash'), 'petitioner', ['id_number_hash'], unique=False)
    op.create_index(op.f('ix_petitioner_phone_hash'), 'petitioner', ['phone_hash'], unique=False)
    # The audit log is append-only: no UPDATE, DELETE or TRUNCATE, whoever asks.
    op.execute("""
        CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'audit_log is append-only (% refused)', TG_OP;
        END $$
    """)
    op.execute("CREATE TRIGGER audit_log_no_update_delete BEFORE UPDATE OR DELETE ON audit_log "
               "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()")
    op.execute("CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
               "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()")


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log")
    op.execute("DROP TRIGGER IF EXISTS audit_log_no_update_delete ON audit_log")
    op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")
    op.drop_index(op.f('ix_petitioner_phone_hash'), table_name='petitioner')
    op.drop_index(op.f('ix_petitioner_id_number_hash'), table_name='petitioner')
    op.drop_column('petitioner', 'phone_hash')
    op.drop_column('petitioner', 'phone_enc')
    op.drop_column('petitioner', 'id_number_hash')
    op.drop_column('petitioner', 'id_number_enc')
    op.drop_table('app_user')
    op.drop_index(op.f('ix_audit_log_at'), table_name='audit_log')
    op.drop_index('audit_log_user_at', table_name='audit_log')
    op.drop_table('audit_log')
