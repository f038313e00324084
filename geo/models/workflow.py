"""Models of the case workflow: the append-only transition history, computed deadlines (each with
the rule that made it) and supervision (督办). The state itself lives on petition_case."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from geo.models.base import Base


class CaseTransition(Base):
    """One workflow action on a case: who, in which role, when, from which state to which.

    Append-only: a trigger (migration 0004) refuses UPDATE, DELETE and TRUNCATE.
    """

    __tablename__ = "case_transition"
    __table_args__ = (Index("case_transition_case_at", "case_id", "at"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("petition_case.id"))
    action: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[str] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    note: Mapped[str | None] = mapped_column(Text)
    # The action's fields as given (unit, 四定, reason, reply text, …), for the record.
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    version_after: Mapped[int] = mapped_column(Integer)


class CaseDeadline(Base):
    """A computed time limit of a case, stored with the rule, basis and counting that made it.

    `active` while it still runs; `met_at` when the act it waits for happened. A deadline that
    stops running without being met (superseded by an extension, the case merged) has active
    false and met_at NULL.
    """

    __tablename__ = "case_deadline"
    __table_args__ = (
        CheckConstraint("due_date > start_date", name="due_after_start"),
        CheckConstraint("days >= 1", name="days_positive"),
        CheckConstraint("NOT (active AND met_at IS NOT NULL)", name="met_is_inactive"),
        # One running deadline per rule and case: recomputing never duplicates.
        Index("case_deadline_one_active", "case_id", "rule", unique=True,
              postgresql_where=text("active")),
        Index("case_deadline_due", "due_date", postgresql_where=text("active")),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("petition_case.id"), index=True)
    rule: Mapped[str] = mapped_column(String(32))
    start_date: Mapped[date] = mapped_column(Date)
    due_date: Mapped[date] = mapped_column(Date)
    days: Mapped[int] = mapped_column(Integer)
    working_days: Mapped[bool] = mapped_column(Boolean)
    basis: Mapped[str] = mapped_column(Text)
    statutory: Mapped[bool] = mapped_column(Boolean)
    active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    met_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Supervision(Base):
    """督办: opened on an overdue deadline (reason 'overdue:<rule>') or by hand ('manual'); the
    unit answers with feedback by `feedback_due`; accepting the feedback closes it."""

    __tablename__ = "supervision"
    __table_args__ = (
        # At most one open supervision per case and reason: the automatic opener is idempotent.
        Index("supervision_one_open", "case_id", "reason", unique=True,
              postgresql_where=text("closed_at IS NULL")),
        CheckConstraint("accepted_at IS NULL OR feedback_at IS NOT NULL",
                        name="accepted_after_feedback"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("petition_case.id"), index=True)
    reason: Mapped[str] = mapped_column(String(64))
    deadline_id: Mapped[int | None] = mapped_column(ForeignKey("case_deadline.id"), index=True)
    note: Mapped[str | None] = mapped_column(Text)
    opened_by: Mapped[str] = mapped_column(String(64))
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    feedback_due: Mapped[date] = mapped_column(Date)
    feedback: Mapped[str | None] = mapped_column(Text)
    feedback_by: Mapped[str | None] = mapped_column(String(64))
    feedback_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    accepted_by: Mapped[str | None] = mapped_column(String(64))
    accepted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
