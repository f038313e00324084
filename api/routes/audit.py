"""GET /audit: the audit trail, for admins only."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query

from api.deps import SessionDep
from api.security import ScopeDep
from geo.access.audit import AuditFilter, list_audit
from geo.errors import Forbidden, InvalidInput

router = APIRouter(prefix="/audit", tags=["audit"])


@router.get("", operation_id="list_audit")
def read_audit(
    session: SessionDep, scope: ScopeDep,
    username: Annotated[str | None, Query(alias="user", max_length=64)] = None,
    action: Annotated[str | None, Query(max_length=64)] = None,
    date_from: Annotated[datetime | None, Query(alias="from")] = None,
    date_to: Annotated[datetime | None, Query(alias="to")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    """Audit rows, newest first, filterable by user, action and time."""
    if scope.role != "admin":
        raise Forbidden(f"role {scope.role} may not read the audit log (admin only)")
    if date_from and date_to and date_to <= date_from:
        raise InvalidInput("to", "`to` must be after `from`")
    items, matched = list_audit(session, AuditFilter(username, action, date_from, date_to,
                                                     limit, offset))
    return {"items": items, "numberMatched": matched, "numberReturned": len(items)}
