"""Models of petition cases and the people around them: units, categories, staff, grid people,
petitioners (kept apart from cases), submissions (件次), cases (案次) and assignment history."""

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
    LargeBinary,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from geo.models.base import Base

CHANNELS = ("letter", "visit", "phone", "online", "patrol", "platform")
ROLES = ("grid_worker", "grid_leader", "responsible_unit")
# located: a point we trust; needs_location: the address matched nothing precise enough.
LOCATION_STATUSES = ("located", "needs_location")
# How the point relates to the grid layer: inside a grid, near the district edge (nearest grid
# taken), or outside the district (rejected at intake, listed in import reports).
ASSIGNMENT_FLAGS = ("inside", "near_boundary", "out_of_area", "unassigned")
# Workflow states (geo.workflow.machine documents each) and the petitioner's evaluation.
CASE_STATUSES = ("registered", "assigned", "disputed", "accepted", "in_progress", "mediating",
                 "replied", "closed", "redirected", "not_accepted", "merged", "review",
                 "reviewed", "rereview", "finalized")
EVALUATIONS = ("satisfied", "basically_satisfied", "unsatisfied", "not_evaluated")


class Unit(Base):
    """A responsible unit (责任单位): a bureau, a 街道 office, a community, an enterprise."""

    __tablename__ = "unit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(32))
    area_code: Mapped[str | None] = mapped_column(String(12))


class Category(Base):
    """A petition category (住建, 物业, …) and the unit that owns it by default."""

    __tablename__ = "category"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(Text, unique=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    restricted: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    sort_order: Mapped[int] = mapped_column(Integer, server_default=text("0"))


class Staff(Base):
    """A person who works on cases: grid worker, grid leader, unit handler."""

    __tablename__ = "staff"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    approximate: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))


class GridAssignment(Base):
    """Who is responsible for a grid, in which role, from when to when (person × grid × role)."""

    __tablename__ = "grid_assignment"
    __table_args__ = (
        CheckConstraint("role IN ('grid_worker','grid_leader','responsible_unit')",
                        name="role_known"),
        CheckConstraint("(role = 'responsible_unit') = (unit_id IS NOT NULL AND staff_id IS NULL)",
                        name="unit_role_has_unit"),
        CheckConstraint("end_date IS NULL OR end_date >= start_date", name="dates_ordered"),
        Index("grid_assignment_current", "grid_code", "role",
              unique=True, postgresql_where=text("end_date IS NULL")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    grid_code: Mapped[str] = mapped_column(String(15), index=True)
    role: Mapped[str] = mapped_column(String(20))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)


class Petitioner(Base):
    """A petitioner, kept apart from cases so case data can be shared without the person."""

    __tablename__ = "petitioner"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    # PIPL: ID and phone numbers only encrypted (AES-GCM) with a keyed hash (HMAC-SHA256) beside
    # each, so repeat petitioners are matched without decrypting anything.
    id_number_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    id_number_hash: Mapped[bytes | None] = mapped_column(LargeBinary, index=True)
    phone_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    phone_hash: Mapped[bytes | None] = mapped_column(LargeBinary, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class PetitionCase(Base):
    """A case (案次): the unit of state, deadlines and assignment."""

    __tablename__ = "petition_case"
    __table_args__ = (
        CheckConstraint("persons_count >= 1", name="persons_positive"),
        CheckConstraint("location_status IN ('located','needs_location')",
                        name="location_status_known"),
        CheckConstraint("assignment_flag IN ('inside','near_boundary','out_of_area','unassigned')",
                        name="assignment_flag_known"),
        Index("petition_case_location_idx", "location", postgresql_using="gist"),
        Index("petition_case_grid_idx", "grid_code", "received_at"),
        Index("petition_case_received_idx", "received_at"),
        CheckConstraint("status IN ('registered','assigned','disputed','accepted','in_progress',"
                        "'mediating','replied','closed','redirected','not_accepted','merged',"
                        "'review','reviewed','rereview','finalized')", name="status_known"),
        CheckConstraint("evaluation IN ('satisfied','basically_satisfied','unsatisfied',"
                        "'not_evaluated')", name="evaluation_known"),
        CheckConstraint("extension_days BETWEEN 1 AND 30", name="extension_at_most_30"),
        CheckConstraint("merged_into_id <> id", name="not_merged_into_itself"),
        Index("petition_case_routed_unit_idx", "routed_unit_id"),
        Index("petition_case_responsible_unit_idx", "responsible_unit_id"),
        Index("petition_case_leader_idx", "leader_staff_id",
              postgresql_where=text("leader_staff_id IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    external_id: Mapped[str | None] = mapped_column(Text, unique=True)
    channel: Mapped[str] = mapped_column(String(16))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    category_code: Mapped[str] = mapped_column(ForeignKey("category.code"))
    content: Mapped[str] = mapped_column(Text)
    persons_count: Mapped[int] = mapped_column(Integer)
    via_community_agent: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    address: Mapped[str | None] = mapped_column(Text)
    location: Mapped[Any | None] = mapped_column(
        Geometry("POINT", srid=4326, spatial_index=False), nullable=True)
    input_lon: Mapped[float | None] = mapped_column(Float)
    input_lat: Mapped[float | None] = mapped_column(Float)
    input_crs: Mapped[str | None] = mapped_column(String(16))
    location_status: Mapped[str] = mapped_column(String(16))
    geocode_level: Mapped[str | None] = mapped_column(String(16))
    geocode_confidence: Mapped[float | None] = mapped_column(Float)
    geocode_source: Mapped[str | None] = mapped_column(Text)
    geocode_match: Mapped[str | None] = mapped_column(Text)
    assignment_flag: Mapped[str] = mapped_column(String(16), server_default=text("'unassigned'"))
    grid_code: Mapped[str | None] = mapped_column(String(15))
    grid_generation_id: Mapped[int | None] = mapped_column(ForeignKey("boundary_generation.id"))
    community_code: Mapped[str | None] = mapped_column(String(12))
    street_code: Mapped[str | None] = mapped_column(String(12))
    grid_worker_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    grid_leader_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    responsible_unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    status: Mapped[str] = mapped_column(String(20), server_default=text("'registered'"))
    properties: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    version: Mapped[int] = mapped_column(Integer, server_default=text("1"))
    # Workflow (geo.workflow): the unit the case is routed to (交办); 首接首办 — the first unit
    # charged with the case and the first person of it who acted, set once (a trigger refuses
    # any change, migration 0004); 四定 — responsible_unit_id above, handlers, plan, target date.
    routed_unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    first_unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    first_handler: Mapped[str | None] = mapped_column(String(64))
    handlers: Mapped[list[str] | None] = mapped_column(ARRAY(Text))
    plan: Mapped[str | None] = mapped_column(Text)
    target_close_date: Mapped[date | None] = mapped_column(Date)
    # 包案: the leader who owns the case (a staff row when there is one, and the name as given).
    leader_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    leader: Mapped[str | None] = mapped_column(Text)
    evaluation: Mapped[str | None] = mapped_column(String(20))
    evaluated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    is_repeat: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    is_collective: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    assigned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    accepted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    replied_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("petition_case.id"))
    extension_days: Mapped[int | None] = mapped_column(Integer)


class CasePetitioner(Base):
    """Which petitioners a case names (many-to-many; the persons count may be larger)."""

    __tablename__ = "case_petitioner"
    # Repeat detection goes petitioner → their other cases: the primary key leads with case_id.
    __table_args__ = (Index("case_petitioner_petitioner_idx", "petitioner_id"),)

    case_id: Mapped[int] = mapped_column(ForeignKey("petition_case.id", ondelete="CASCADE"),
                                         primary_key=True)
    petitioner_id: Mapped[int] = mapped_column(ForeignKey("petitioner.id"), primary_key=True)


class Submission(Base):
    """One letter / visit / call / online form / patrol report / transfer (件次) of a case."""

    __tablename__ = "submission"
    __table_args__ = (
        CheckConstraint("persons_count >= 1", name="submission_persons_positive"),
        # 件次/人次 of a window (hotspots, 三率) are counted by when submissions came in.
        Index("submission_received_idx", "received_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("petition_case.id", ondelete="CASCADE"),
                                         index=True)
    channel: Mapped[str] = mapped_column(String(16))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    persons_count: Mapped[int] = mapped_column(Integer)
    via_community_agent: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))


class CaseAssignment(Base):
    """Every grid assignment a case has had; the current one has superseded_at NULL."""

    __tablename__ = "case_assignment"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("petition_case.id", ondelete="CASCADE"),
                                         index=True)
    flag: Mapped[str] = mapped_column(String(16))
    grid_code: Mapped[str | None] = mapped_column(String(15))
    grid_generation_id: Mapped[int | None] = mapped_column(ForeignKey("boundary_generation.id"))
    community_code: Mapped[str | None] = mapped_column(String(12))
    street_code: Mapped[str | None] = mapped_column(String(12))
    grid_worker_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    grid_leader_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    responsible_unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    distance_m: Mapped[float | None] = mapped_column(Float)
    assigned_at: Mapped[datetime] = mapped_column(DateTime(timezone=True),
                                                  server_default=func.now())
    superseded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
