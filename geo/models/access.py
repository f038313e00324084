"""Models of access control: users with a role and a scope, and the append-only audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

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
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from geo.models.base import Base

ROLES = ("grid_worker", "grid_leader", "community", "street", "unit_handler", "registrar",
         "commander", "discipline", "admin")


class AppUser(Base):
    """A person who logs in: a role, and the grids / 社区 / 街道 / unit the role is scoped to."""

    __tablename__ = "app_user"
    __table_args__ = (
        CheckConstraint("role IN ('grid_worker','grid_leader','community','street',"
                        "'unit_handler','registrar','commander','discipline','admin')",
                        name="user_role_known"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str | None] = mapped_column(Text)
    password_hash: Mapped[str] = mapped_column(Text)
    role: Mapped[str] = mapped_column(String(20))
    grid_codes: Mapped[list[str]] = mapped_column(ARRAY(String(15)), server_default=text("'{}'"))
    community_code: Mapped[str | None] = mapped_column(String(12))
    street_code: Mapped[str | None] = mapped_column(String(12))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    disabled: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    failed_logins: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True),
                                                 server_default=func.now())


class AuditLog(Base):
    """One audited act: who, when, what (endpoint, filters, row count) and why (purpose).

    Append-only: a trigger (migration 0003) refuses UPDATE, DELETE and TRUNCATE.
    """

    __tablename__ = "audit_log"
    __table_args__ = (Index("audit_log_user_at", "username", "at"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(),
                                         index=True)
    username: Mapped[str | None] = mapped_column(String(64))
    role: Mapped[str | None] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(64))
    method: Mapped[str | None] = mapped_column(String(8))
    path: Mapped[str | None] = mapped_column(Text)
    params: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    row_count: Mapped[int | None] = mapped_column(Integer)
    purpose: Mapped[str | None] = mapped_column(Text)
    unmasked: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    client: Mapped[str | None] = mapped_column(String(64))
