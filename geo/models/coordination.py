"""Models of the coordination records around cases: 清单 (backlog lists, each item owned by a
包案 leader and struck off — 销号 — only with evidence and the supervising role's approval),
联合接访 (one reception fanned out to several units, each with its own part and deadline) and
三调联动 (people's / administrative / judicial mediation with its agreement and the 30-day
judicial confirmation window)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
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
from sqlalchemy.orm import Mapped, mapped_column

from geo.models.base import Base

BACKLOG_KINDS = ("backlog", "key", "special")  # 积案清单 / 重点清单 / 专项清单
ITEM_STATUSES = ("open", "pending", "struck")  # 在办 / 待审核销号 / 已销号
MEDIATION_KINDS = ("people", "administrative", "judicial")  # 人民 / 行政 / 司法调解
MEDIATION_OUTCOMES = ("pending", "agreement", "no_agreement")
PART_STATUSES = ("open", "done")


class BacklogList(Base):
    """A 清单: a named list of matters with an owner and a deadline for the whole list."""

    __tablename__ = "backlog_list"
    __table_args__ = (
        CheckConstraint("kind IN ('backlog','key','special')", name="backlog_kind_known"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(16), server_default=text("'backlog'"))
    owner: Mapped[str] = mapped_column(Text)
    owner_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    due_date: Mapped[date] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class BacklogItem(Base):
    """One matter on a 清单: usually a case, or a matter described in words; 包案 by a leader.

    销号 takes two people: the owner submits evidence (status pending), the supervising role
    approves (struck) or sends it back (open again, with the reason)."""

    __tablename__ = "backlog_item"
    __table_args__ = (
        CheckConstraint("status IN ('open','pending','struck')", name="item_status_known"),
        CheckConstraint("status = 'open' OR evidence IS NOT NULL", name="struck_needs_evidence"),
        CheckConstraint("(status = 'struck') = (approved_at IS NOT NULL)",
                        name="struck_iff_approved"),
        CheckConstraint("case_id IS NOT NULL OR title IS NOT NULL", name="item_has_subject"),
        UniqueConstraint("list_id", "case_id", name="item_case_once_per_list"),
        Index("backlog_item_leader", "leader_staff_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    list_id: Mapped[int] = mapped_column(ForeignKey("backlog_list.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("petition_case.id"), index=True)
    title: Mapped[str | None] = mapped_column(Text)
    leader: Mapped[str | None] = mapped_column(Text)
    leader_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    due_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), server_default=text("'open'"))
    evidence: Mapped[str | None] = mapped_column(Text)
    evidence_by: Mapped[str | None] = mapped_column(String(64))
    evidence_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    approved_by: Mapped[str | None] = mapped_column(String(64))
    approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    returned_note: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class JointReception(Base):
    """联合接访: one reception (the petitioner met several units at once), usually with a case."""

    __tablename__ = "joint_reception"
    __table_args__ = (CheckConstraint("persons_count >= 1", name="reception_persons_positive"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("petition_case.id"), index=True)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    place: Mapped[str] = mapped_column(Text)
    persons_count: Mapped[int] = mapped_column(Integer, server_default=text("1"))
    note: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class JointReceptionPart(Base):
    """One unit's part of a joint reception, with its own deadline and answer."""

    __tablename__ = "joint_reception_part"
    __table_args__ = (
        UniqueConstraint("reception_id", "unit_id", name="one_part_per_unit"),
        CheckConstraint("status IN ('open','done')", name="part_status_known"),
        CheckConstraint("(status = 'done') = (done_at IS NOT NULL AND response IS NOT NULL)",
                        name="done_has_response"),
        Index("joint_reception_part_unit", "unit_id", "status"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    reception_id: Mapped[int] = mapped_column(ForeignKey("joint_reception.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    part: Mapped[str] = mapped_column(Text)
    due_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(8), server_default=text("'open'"))
    response: Mapped[str | None] = mapped_column(Text)
    done_by: Mapped[str | None] = mapped_column(String(64))
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Mediation(Base):
    """A 三调联动 mediation record of a case; an agreement opens the 30-day window for judicial
    confirmation (司法确认, 人民调解法 第三十三条), kept as the case's mediation_confirmation
    deadline and copied here."""

    __tablename__ = "mediation"
    __table_args__ = (
        CheckConstraint("kind IN ('people','administrative','judicial')",
                        name="mediation_kind_known"),
        CheckConstraint("outcome IN ('pending','agreement','no_agreement')",
                        name="mediation_outcome_known"),
        CheckConstraint("(outcome = 'agreement') = (agreement_date IS NOT NULL)",
                        name="agreement_has_date"),
        CheckConstraint("confirmed_on IS NULL OR agreement_date IS NOT NULL",
                        name="confirmed_after_agreement"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("petition_case.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    organization: Mapped[str] = mapped_column(Text)
    mediator: Mapped[str | None] = mapped_column(Text)
    started_on: Mapped[date] = mapped_column(Date)
    outcome: Mapped[str] = mapped_column(String(16), server_default=text("'pending'"))
    agreement_date: Mapped[date | None] = mapped_column(Date)
    confirmation_due: Mapped[date | None] = mapped_column(Date)
    confirmed_on: Mapped[date | None] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
