"""Projects and hotspots: project (relocation sites, residential complexes, enterprises in
arrears, construction sites: a polygon with type, households, phase, dates, buffer and keywords),
case_project (how each case was attached: link, buffer or keyword), and the materialised hotspot
layers hotspot_stat (per grid / 社区 / 街道 / project) and hotspot_cluster (DBSCAN hulls).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 01:03:43.786731
"""
from alembic import op
import sqlalchemy as sa
import geoalchemy2
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_geospatial_table('hotspot_cluster',
    sa.Column('cluster_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('window_from', sa.DateTime(timezone=True), nullable=False),
    sa.Column('window_to', sa.DateTime(timezone=True), nullable=False),
    sa.Column('eps_m', sa.Float(), nullable=False),
    sa.Column('min_points', sa.Integer(), nullable=False),
    sa.Column('cases', sa.Integer(), nullable=False),
    sa.Column('dominant_category', sa.String(length=32), nullable=False),
    sa.Column('geom', Geometry(geometry_type='POLYGON', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('computed_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('cluster_id')
    )
    op.create_geospatial_index('hotspot_cluster_geom_idx', 'hotspot_cluster', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_geospatial_table('hotspot_stat',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('level', sa.String(length=16), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('window_from', sa.DateTime(timezone=True), nullable=False),
    sa.Column('window_to', sa.DateTime(timezone=True), nullable=False),
    sa.Column('cases', sa.Integer(), nullable=False),
    sa.Column('submissions', sa.Integer(), nullable=False),
    sa.Column('persons', sa.Integer(), nullable=False),
    sa.Column('open', sa.Integer(), nullable=False),
    sa.Column('overdue', sa.Integer(), nullable=False),
    sa.Column('repeat', sa.Integer(), nullable=False),
    sa.Column('collective', sa.Integer(), nullable=False),
    sa.Column('households', sa.Integer(), nullable=True),
    sa.Column('per_1000_households', sa.Float(), nullable=True),
    sa.Column('trend', postgresql.ARRAY(sa.Integer()), nullable=False),
    sa.Column('change', sa.Float(), nullable=True),
    sa.Column('gi_z', sa.Float(), nullable=True),
    sa.Column('gi_p', sa.Float(), nullable=True),
    sa.Column('gi_class', sa.String(length=8), nullable=True),
    sa.Column('geom', Geometry(geometry_type='MULTIPOLYGON', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('computed_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("level IN ('grid','community','street','project')", name='hotspot_level_known'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('level', 'code', name='hotspot_stat_one_per_feature')
    )
    op.create_geospatial_index('hotspot_stat_geom_idx', 'hotspot_stat', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_geospatial_table('project',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('project_type', sa.String(length=16), nullable=False),
    sa.Column('households', sa.Integer(), nullable=True),
    sa.Column('phase', sa.Text(), nullable=True),
    sa.Column('start_date', sa.Date(), nullable=True),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.Column('buffer_m', sa.Float(), server_default=sa.text('0'), nullable=False),
    sa.Column('keywords', postgresql.ARRAY(sa.Text()), server_default=sa.text("'{}'"), nullable=False),
    sa.Column('community_code', sa.String(length=12), nullable=True),
    sa.Column('approximate', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('source', sa.Text(), nullable=True),
    sa.Column('properties', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
    sa.Column('geom', Geometry(geometry_type='MULTIPOLYGON', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("project_type IN ('relocation','residential','enterprise','construction','other')", name='project_type_known'),
    sa.CheckConstraint('buffer_m >= 0', name='buffer_not_negative'),
    sa.CheckConstraint('end_date IS NULL OR start_date IS NULL OR end_date >= start_date', name='project_dates_ordered'),
    sa.CheckConstraint('households IS NULL OR households >= 0', name='households_not_negative'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code')
    )
    op.create_geospatial_index('project_geom_idx', 'project', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_table('case_project',
    sa.Column('case_id', sa.BigInteger(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('method', sa.String(length=8), nullable=False),
    sa.Column('distance_m', sa.Float(), nullable=True),
    sa.Column('keyword', sa.Text(), nullable=True),
    sa.Column('attached_by', sa.String(length=64), nullable=True),
    sa.Column('attached_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("method IN ('link','buffer','keyword')", name='attach_method_known'),
    sa.ForeignKeyConstraint(['case_id'], ['petition_case.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('case_id', 'project_id')
    )
    op.create_index('case_project_project_idx', 'case_project', ['project_id', 'case_id'], unique=False)


def downgrade() -> None:
    op.drop_index('case_project_project_idx', table_name='case_project')
    op.drop_table('case_project')
    op.drop_geospatial_index('project_geom_idx', table_name='project', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('project')
    op.drop_geospatial_index('hotspot_stat_geom_idx', table_name='hotspot_stat', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('hotspot_stat')
    op.drop_geospatial_index('hotspot_cluster_geom_idx', table_name='hotspot_cluster', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('hotspot_cluster')
