"""Boundary hierarchy (district, 街道, 社区, 网格) with generations and the grid code registry.

Revision ID: 0001
Revises: 
Create Date: 2026-11-24 22:29:08.813044
"""
import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.create_table('boundary_generation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('level', sa.String(length=16), nullable=False),
    sa.Column('source_path', sa.Text(), nullable=False),
    sa.Column('source_crs', sa.String(length=32), nullable=False),
    sa.Column('source_sha256', sa.String(length=64), nullable=False),
    sa.Column('feature_count', sa.Integer(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('activated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('retired_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('is_active', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.CheckConstraint("level IN ('district','street','community','grid')", name='level_known'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('one_active_generation_per_level', 'boundary_generation', ['level'], unique=True, postgresql_where=sa.text('is_active'))
    op.create_geospatial_table('area',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('generation_id', sa.Integer(), nullable=False),
    sa.Column('level', sa.String(length=16), nullable=False),
    sa.Column('code', sa.String(length=12), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('short_name', sa.Text(), nullable=True),
    sa.Column('parent_code', sa.String(length=12), nullable=True),
    sa.Column('approximate', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('households', sa.Integer(), nullable=True),
    sa.Column('properties', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
    sa.Column('geom', Geometry(geometry_type='MULTIPOLYGON', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.CheckConstraint("level IN ('district','street','community')", name='area_level_known'),
    sa.ForeignKeyConstraint(['generation_id'], ['boundary_generation.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('generation_id', 'code')
    )
    op.create_geospatial_index('area_geom_idx', 'area', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_geospatial_table('grid_cell',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('generation_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=15), nullable=False),
    sa.Column('community_code', sa.String(length=12), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('grid_type', sa.Text(), server_default=sa.text("'综合网格'"), nullable=False),
    sa.Column('households', sa.Integer(), nullable=True),
    sa.Column('approximate', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('properties', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
    sa.Column('geom', Geometry(geometry_type='MULTIPOLYGON', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.CheckConstraint("code ~ '^[0-9]{15}$'", name='grid_code_15_digits'),
    sa.ForeignKeyConstraint(['generation_id'], ['boundary_generation.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('generation_id', 'code')
    )
    op.create_index('grid_cell_code_idx', 'grid_cell', ['code'], unique=False)
    op.create_geospatial_index('grid_cell_geom_idx', 'grid_cell', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_table('grid_code_registry',
    sa.Column('code', sa.String(length=15), nullable=False),
    sa.Column('first_generation_id', sa.Integer(), nullable=False),
    sa.Column('retired_generation_id', sa.Integer(), nullable=True),
    sa.Column('retired_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['first_generation_id'], ['boundary_generation.id'], ),
    sa.ForeignKeyConstraint(['retired_generation_id'], ['boundary_generation.id'], ),
    sa.PrimaryKeyConstraint('code')
    )
    op.create_geospatial_table('grid_cell_part',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('grid_cell_id', sa.BigInteger(), nullable=False),
    sa.Column('geom', Geometry(geometry_type='POLYGON', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.ForeignKeyConstraint(['grid_cell_id'], ['grid_cell.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_geospatial_index('grid_cell_part_geom_idx', 'grid_cell_part', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_index(op.f('ix_grid_cell_part_grid_cell_id'), 'grid_cell_part', ['grid_cell_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_grid_cell_part_grid_cell_id'), table_name='grid_cell_part')
    op.drop_geospatial_index('grid_cell_part_geom_idx', table_name='grid_cell_part', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('grid_cell_part')
    op.drop_table('grid_code_registry')
    op.drop_geospatial_index('grid_cell_geom_idx', table_name='grid_cell', postgresql_using='gist', column_name='geom')
    op.drop_index('grid_cell_code_idx', table_name='grid_cell')
    op.drop_geospatial_table('grid_cell')
    op.drop_geospatial_index('area_geom_idx', table_name='area', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('area')
    op.drop_index('one_active_generation_per_level', table_name='boundary_generation', postgresql_where=sa.text('is_active'))
    op.drop_table('boundary_generation')
