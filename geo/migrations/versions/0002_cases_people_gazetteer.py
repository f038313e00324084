"""Cases (案次) with submissions, petitioners, units, categories, grid people, assignment history;
the offline gazetteer.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 22:53:47.804312
"""
from alembic import op
import sqlalchemy as sa
import geoalchemy2
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_geospatial_table('gazetteer_entry',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('normalized', sa.Text(), nullable=False),
    sa.Column('aliases', postgresql.ARRAY(sa.Text()), server_default=sa.text("'{}'"), nullable=False),
    sa.Column('community_code', sa.String(length=12), nullable=True),
    sa.Column('street_code', sa.String(length=12), nullable=True),
    sa.Column('number_from', sa.Integer(), nullable=True),
    sa.Column('number_to', sa.Integer(), nullable=True),
    sa.Column('approximate', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('properties', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
    sa.Column('geom', Geometry(srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.CheckConstraint("kind IN ('building','landmark','project','road','community','street','district')", name='gazetteer_kind_known'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_geospatial_index('gazetteer_entry_geom_idx', 'gazetteer_entry', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_index('gazetteer_entry_normalized_idx', 'gazetteer_entry', ['normalized'], unique=False)
    op.create_table('petitioner',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('unit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('area_code', sa.String(length=12), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code')
    )
    op.create_table('category',
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('restricted', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('sort_order', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], ),
    sa.PrimaryKeyConstraint('code'),
    sa.UniqueConstraint('name')
    )
    op.create_table('staff',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('approximate', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('grid_assignment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('grid_code', sa.String(length=15), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=True),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.CheckConstraint("(role = 'responsible_unit') = (unit_id IS NOT NULL AND staff_id IS NULL)", name='unit_role_has_unit'),
    sa.CheckConstraint("role IN ('grid_worker','grid_leader','responsible_unit')", name='role_known'),
    sa.CheckConstraint('end_date IS NULL OR end_date >= start_date', name='dates_ordered'),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], ),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('grid_assignment_current', 'grid_assignment', ['grid_code', 'role'], unique=True, postgresql_where=sa.text('end_date IS NULL'))
    op.create_index(op.f('ix_grid_assignment_grid_code'), 'grid_assignment', ['grid_code'], unique=False)
    op.create_geospatial_table('petition_case',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('external_id', sa.Text(), nullable=True),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('category_code', sa.String(length=32), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('persons_count', sa.Integer(), nullable=False),
    sa.Column('via_community_agent', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('address', sa.Text(), nullable=True),
    sa.Column('location', Geometry(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=True), nullable=True),
    sa.Column('input_lon', sa.Float(), nullable=True),
    sa.Column('input_lat', sa.Float(), nullable=True),
    sa.Column('input_crs', sa.String(length=16), nullable=True),
    sa.Column('location_status', sa.String(length=16), nullable=False),
    sa.Column('geocode_level', sa.String(length=16), nullable=True),
    sa.Column('geocode_confidence', sa.Float(), nullable=True),
    sa.Column('geocode_source', sa.Text(), nullable=True),
    sa.Column('geocode_match', sa.Text(), nullable=True),
    sa.Column('assignment_flag', sa.String(length=16), server_default=sa.text("'unassigned'"), nullable=False),
    sa.Column('grid_code', sa.String(length=15), nullable=True),
    sa.Column('grid_generation_id', sa.Integer(), nullable=True),
    sa.Column('community_code', sa.String(length=12), nullable=True),
    sa.Column('street_code', sa.String(length=12), nullable=True),
    sa.Column('grid_worker_id', sa.Integer(), nullable=True),
    sa.Column('grid_leader_id', sa.Integer(), nullable=True),
    sa.Column('responsible_unit_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=20), server_default=sa.text("'registered'"), nullable=False),
    sa.Column('properties', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('version', sa.Integer(), server_default=sa.text('1'), nullable=False),
    sa.CheckConstraint("assignment_flag IN ('inside','near_boundary','out_of_area','unassigned')", name='assignment_flag_known'),
    sa.CheckConstraint("location_status IN ('located','needs_location')", name='location_status_known'),
    sa.CheckConstraint('persons_count >= 1', name='persons_positive'),
    sa.ForeignKeyConstraint(['category_code'], ['category.code'], ),
    sa.ForeignKeyConstraint(['grid_generation_id'], ['boundary_generation.id'], ),
    sa.ForeignKeyConstraint(['grid_leader_id'], ['staff.id'], ),
    sa.ForeignKeyConstraint(['grid_worker_id'], ['staff.id'], ),
    sa.ForeignKeyConstraint(['responsible_unit_id'], ['unit.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('external_id')
    )
    op.create_index('petition_case_grid_idx', 'petition_case', ['grid_code', 'received_at'], unique=False)
    op.create_geospatial_index('petition_case_location_idx', 'petition_case', ['location'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_index('petition_case_received_idx', 'petition_case', ['received_at'], unique=False)
    op.create_table('case_assignment',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('case_id', sa.BigInteger(), nullable=False),
    sa.Column('flag', sa.String(length=16), nullable=False),
    sa.Column('grid_code', sa.String(length=15), nullable=True),
    sa.Column('grid_generation_id', sa.Integer(), nullable=True),
    sa.Column('community_code', sa.String(length=12), nullable=True),
    sa.Column('street_code', sa.String(length=12), nullable=True),
    sa.Column('grid_worker_id', sa.Integer(), nullable=True),
    sa.Column('grid_leader_id', sa.Integer(), nullable=True),
    sa.Column('responsible_unit_id', sa.Integer(), nullable=True),
    sa.Column('distance_m', sa.Float(), nullable=True),
    sa.Column('assigned_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('superseded_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['petition_case.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['grid_generation_id'], ['boundary_generation.id'], ),
    sa.ForeignKeyConstraint(['grid_leader_id'], ['staff.id'], ),
    sa.ForeignKeyConstraint(['grid_worker_id'], ['staff.id'], ),
    sa.ForeignKeyConstraint(['responsible_unit_id'], ['unit.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_case_assignment_case_id'), 'case_assignment', ['case_id'], unique=False)
    op.create_table('case_petitioner',
    sa.Column('case_id', sa.BigInteger(), nullable=False),
    sa.Column('petitioner_id', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['petition_case.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['petitioner_id'], ['petitioner.id'], ),
    sa.PrimaryKeyConstraint('case_id', 'petitioner_id')
    )
    op.create_table('submission',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('case_id', sa.BigInteger(), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('persons_count', sa.Integer(), nullable=False),
    sa.Column('via_community_agent', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.CheckConstraint('persons_count >= 1', name='submission_persons_positive'),
    sa.ForeignKeyConstraint(['case_id'], ['petition_case.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_submission_case_id'), 'submission', ['case_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_submission_case_id'), table_name='submission')
    op.drop_table('submission')
    op.drop_table('case_petitioner')
    op.drop_index(op.f('ix_case_assignment_case_id'), table_name='case_assignment')
    op.drop_table('case_assignment')
    op.drop_index('petition_case_received_idx', table_name='petition_case')
    op.drop_geospatial_index('petition_case_location_idx', table_name='petition_case', postgresql_using='gist', column_name='location')
    op.drop_index('petition_case_grid_idx', table_name='petition_case')
    op.drop_geospatial_table('petition_case')
    op.drop_index(op.f('ix_grid_assignment_grid_code'), table_name='grid_assignment')
    op.drop_index('grid_assignment_current', table_name='grid_assignment', postgresql_where=sa.text('end_date IS NULL'))
    op.drop_table('grid_assignment')
    op.drop_table('staff')
    op.drop_table('category')
    op.drop_table('unit')
    op.drop_table('petitioner')
    op.drop_index('gazetteer_entry_normalized_idx', table_name='gazetteer_entry')
    op.drop_geospatial_index('gazetteer_entry_geom_idx', table_name='gazetteer_entry', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('gazetteer_entry')
