"""The audit trail: every export and every unmasked read is written here (append-only table)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from geo.access.scope import Scope
from geo.models import AuditLog


def record(session: Session, scope: Scope | None, action: str, *, method: str | None = None,
           path: str | None = None, params: dict[str, Any] | None = None,
           row_count: int | None = None, purpose: str | None = None, unmasked: bool = False,
           client: str | None = None) -> None:
    """Append one audit row in the caller's transaction (it commits with what it records)."""
    session.execute(insert(AuditLog).values(
        username=scope.username if scope else None, role=scope.role if scope else None,
        action=action, method=method, path=path, params=params or {}, row_count=row_count,
        purpose=purpose, unmasked=unmasked, client=client))


@dataclass(frozen=True)
class AuditFilter:
    """Filters of the audit listing."""

    username: str | None = None
    action: str | None = None
    date_from: datetime | None = None
    date_to: datetime | None = None
    limit: int = 100
    offset: int = 0


def list_audit(session: Session, f: AuditFilter) -> tuple[list[dict[str, Any]], int]:
    """Audit rows, newest first, and how many match."""
    conds = []
    if f.username:
        conds.append(AuditLog.username == f.username)
    if f.action:
        conds.append(AuditLog.action == f.action)
    if f.date_from:
        conds.append(AuditLog.at >= f.date_from)
    if f.date_to:
        conds.append(AuditLog.at < f.date_to)
    total = session.scalar(select(func.count()).select_from(AuditLog).where(*conds)) or 0
    rows = session.scalars(select(AuditLog).where(*conds)
                           .order_by(AuditLog.at.desc(), AuditLog.id.desc())
                           .limit(f.limit).offset(f.offset)).all()
    return [{"id": r.id, "at": r.at.isoformat(), "username": r.username, "role": r.role,
             "action": r.action, "method": r.method, "path": r.path, "params": r.params,
             "row_count": r.row_count, "purpose": r.purpose, "unmasked": r.unmasked,
             "client": r.client} for r in rows], int(total)
