"""SQLAlchemy models of the boundary hierarchy: district, generations, areas and grid cells.

Codes follow the national statistical division codes: 街道 and 社区 12 digits, 网格 15 digits
(社区 code + 3-digit serial). Areas and cells belong to a *generation*; exactly one generation
per level is active, and activating one is an explicit act.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from geo.models.base import Base

LEVELS = ("district", "street", "community", "grid")


class BoundaryGeneration(Base):
    """One import of one level's boundaries; becomes current only when activated."""

    __tablename__ = "boundary_generation"
    __table_args__ = (
        CheckConstraint("level IN ('district','street','community','grid')", name="level_known"),
        Index("one_active_generation_per_level", "level", unique=True,
              postgresql_where=text("is_active")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    level: Mapped[str] = mapped_column(String(16))
    source_path: Mapped[str] = mapped_column(Text)
    source_crs: Mapped[str] = mapped_column(String(32))
    source_sha256: Mapped[str] = mapped_column(String(64))
    feature_count: Mapped[int] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    activated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    retired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    is_active: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))


class Area(Base):
    """An administrative area: the 区 itself, a 街道 or a 社区, in one generation."""

    __tablename__ = "area"
    __table_args__ = (
        UniqueConstraint("generation_id", "code"),
        CheckConstraint("level IN ('district','street','community')", name="area_level_known"),
        Index("area_geom_idx", "geom", postgresql_using="gist"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    generation_id: Mapped[int] = mapped_column(ForeignKey("boundary_generation.id"))
    level: Mapped[str] = mapped_column(String(16))
    code: Mapped[str] = mapped_column(String(12))
    name: Mapped[str] = mapped_column(Text)
    short_name: Mapped[str | None] = mapped_column(Text)
    parent_code: Mapped[str | None] = mapped_column(String(12))
    approximate: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    households: Mapped[int | None] = mapped_column(Integer)
    properties: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    geom: Mapped[Any] = mapped_column(
        Geometry("MULTIPOLYGON", srid=4326, spatial_index=False), nullable=False
    )


class GridCell(Base):
    """A 网格: the smallest unit of grid management, inside exactly one 社区."""

    __tablename__ = "grid_cell"
    __table_args__ = (
        UniqueConstraint("generation_id", "code"),
        CheckConstraint("code ~ '^[0-9]{15}$'", name="grid_code_15_digits"),
        Index("grid_cell_geom_idx", "geom", postgresql_using="gist"),
        Index("grid_cell_code_idx", "code"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    generation_id: Mapped[int] = mapped_column(ForeignKey("boundary_generation.id"))
    code: Mapped[str] = mapped_column(String(15))
    community_code: Mapped[str] = mapped_column(String(12))
    name: Mapped[str] = mapped_column(Text)
    grid_type: Mapped[str] = mapped_column(Text, server_default=text("'综合网格'"))
    households: Mapped[int | None] = mapped_column(Integer)
    approximate: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    properties: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    geom: Mapped[Any] = mapped_column(
        Geometry("MULTIPOLYGON", srid=4326, spatial_index=False), nullable=False
    )


class GridCellPart(Base):
    """ST_Subdivide'd pieces of grid cells: small boxes make point lookups index-only fast."""

    __tablename__ = "grid_cell_part"
    __table_args__ = (Index("grid_cell_part_geom_idx", "geom", postgresql_using="gist"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    grid_cell_id: Mapped[int] = mapped_column(ForeignKey("grid_cell.id", ondelete="CASCADE"),
                                              index=True)
    geom: Mapped[Any] = mapped_column(
        Geometry("POLYGON", srid=4326, spatial_index=False), nullable=False
    )


class GridCodeRegistry(Base):
    """Every grid code ever issued; a retired code is never issued again."""

    __tablename__ = "grid_code_registry"

    code: Mapped[str] = mapped_column(String(15), primary_key=True)
    first_generation_id: Mapped[int] = mapped_column(ForeignKey("boundary_generation.id"))
    retired_generation_id: Mapped[int | None] = mapped_column(
        ForeignKey("boundary_generation.id"))
    retired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
