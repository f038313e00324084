"""包案 by leader: who owns which cases and backlog items, with open and overdue counts — the
list a commander goes through at the weekly 包案 meeting. A leader is keyed by the name as
given (and the staff id when there is one). Counts are over what the caller may see."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from geo.access.scope import Scope
from geo.sql_files import sql
from geo.workflow.machine import OBLIGATION_RULES, TERMINAL


def leaders(session: Session, scope: Scope, today: date) -> list[dict[str, Any]]:
    """Every leader with cases or list items in the caller's scope, most open work first."""
    rows = session.execute(sql("leaders"), {**scope.params(), "today": today,
                                            "terminal": sorted(TERMINAL),
                                            "rules": list(OBLIGATION_RULES)})
    return [{"leader": r.leader, "staff_id": r.staff_id,
             "cases": {"total": r.cases, "open": r.open_cases, "overdue": r.overdue_cases},
             "items": {"total": r.items, "open": r.open_items, "overdue": r.overdue_items}}
            for r in rows]
