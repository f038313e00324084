"""Models of hotspots: projects that generate petitions (relocation sites, residential complexes,
enterprises in arrears, construction sites), how each case is attached to a project, and the
hotspot layers `gridmap hotspots refresh` materialises for the map."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from geo.models.base import Base

# 回迁/动迁 relocation, 住宅小区 residential complex, 欠薪企业 enterprise in arrears, 建设工地.
PROJECT_TYPES = ("relocation", "residential", "enterprise", "construction", "other")
# How a case came to a project: linked by hand, lying within the project's buffer, or naming
# one of its keywords in the content / address. One row per case and project, the strongest.
ATTACH_METHODS = ("link", "buffer", "keyword")
HOTSPOT_LEVELS = ("grid", "community", "street", "project")
GI_CLASSES = ("hot99", "hot95", "hot90", "cold99", "cold95", "cold90", "ns")


class Project(Base):
    """A place that generates petitions: a polygon with its type, households and phase."""

    __tablename__ = "project"
    __table_args__ = (
        CheckConstraint("project_type IN ('relocation','residential','enterprise',"
                        "'construction','other')", name="project_type_known"),
        CheckConstraint("households IS NULL OR households >= 0", name="households_not_negative"),
        CheckConstraint("buffer_m >= 0", name="buffer_not_negative"),
        CheckConstraint("end_date IS NULL OR start_date IS NULL OR end_date >= start_date",
                        name="project_dates_ordered"),
        Index("project_geom_idx", "geom", postgresql_using="gist"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(Text)
    project_type: Mapped[str] = mapped_column(String(16))
    households: Mapped[int | None] = mapped_column(Integer)
    phase: Mapped[str | None] = mapped_column(Text)
    start_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    # Cases this many metres from the polygon (or inside it) attach to the project.
    buffer_m: Mapped[float] = mapped_column(Float, server_default=text("0"))
    # Words that attach a case naming them (the project's name always does).
    keywords: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default=text("'{}'"))
    community_code: Mapped[str | None] = mapped_column(String(12))
    approximate: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    source: Mapped[str | None] = mapped_column(Text)
    properties: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    geom: Mapped[Any] = mapped_column(
        Geometry("MULTIPOLYGON", srid=4326, spatial_index=False), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class CaseProject(Base):
    """A case attached to a project, and how: `link` (by hand, kept until unlinked), `buffer`
    (within the project's buffer: distance_m) or `keyword` (which one); the automatic ones are
    recomputed by every attach run."""

    __tablename__ = "case_project"
    __table_args__ = (
        CheckConstraint("method IN ('link','buffer','keyword')", name="attach_method_known"),
        Index("case_project_project_idx", "project_id", "case_id"),
    )

    case_id: Mapped[int] = mapped_column(
        ForeignKey("petition_case.id", ondelete="CASCADE"), primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("project.id", ondelete="CASCADE"), primary_key=True)
    method: Mapped[str] = mapped_column(String(8))
    distance_m: Mapped[float | None] = mapped_column(Float)
    keyword: Mapped[str | None] = mapped_column(Text)
    attached_by: Mapped[str | None] = mapped_column(String(64))
    attached_at: Mapped[datetime] = mapped_column(DateTime(timezone=True),
                                                  server_default=func.now())


class HotspotStat(Base):
    """One feature of a materialised hotspot layer: the commander's view (district-wide, no
    suppression) of the refresh window, per grid / 社区 / 街道 / project."""

    __tablename__ = "hotspot_stat"
    __table_args__ = (
        UniqueConstraint("level", "code", name="hotspot_stat_one_per_feature"),
        CheckConstraint("level IN ('grid','community','street','project')",
                        name="hotspot_level_known"),
        Index("hotspot_stat_geom_idx", "geom", postgresql_using="gist"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    level: Mapped[str] = mapped_column(String(16))
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(Text)
    window_from: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    window_to: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    cases: Mapped[int] = mapped_column(Integer)
    submissions: Mapped[int] = mapped_column(Integer)
    persons: Mapped[int] = mapped_column(Integer)
    open: Mapped[int] = mapped_column(Integer)
    overdue: Mapped[int] = mapped_column(Integer)
    repeat: Mapped[int] = mapped_column(Integer)
    collective: Mapped[int] = mapped_column(Integer)
    households: Mapped[int | None] = mapped_column(Integer)
    per_1000_households: Mapped[float | None] = mapped_column(Float)
    trend: Mapped[list[int]] = mapped_column(ARRAY(Integer))
    change: Mapped[float | None] = mapped_column(Float)
    gi_z: Mapped[float | None] = mapped_column(Float)
    gi_p: Mapped[float | None] = mapped_column(Float)
    gi_class: Mapped[str | None] = mapped_column(String(8))
    geom: Mapped[Any] = mapped_column(
        Geometry("MULTIPOLYGON", srid=4326, spatial_index=False), nullable=False)
    computed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True),
                                                  server_default=func.now())


class HotspotCluster(Base):
    """One materialised density cluster (ST_ClusterDBSCAN) of the refresh window: its hull,
    its case count and its dominant category."""

    __tablename__ = "hotspot_cluster"
    __table_args__ = (Index("hotspot_cluster_geom_idx", "geom", postgresql_using="gist"),)

    cluster_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    window_from: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    window_to: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    eps_m: Mapped[float] = mapped_column(Float)
    min_points: Mapped[int] = mapped_column(Integer)
    cases: Mapped[int] = mapped_column(Integer)
    dominant_category: Mapped[str] = mapped_column(String(32))
    geom: Mapped[Any] = mapped_column(
        Geometry("POLYGON", srid=4326, spatial_index=False), nullable=False)
    computed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True),
                                                  server_default=func.now())
