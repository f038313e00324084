"""包案: GET /leaders (who owns which cases and backlog items, open and overdue) and
GET /leaders/{leader}/cases (one leader's cases and items). Scoped like the case list."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from api.deps import CipherDep, NowDep, SessionDep
from api.security import ScopeDep
from geo.cases.read import CaseFilter, list_cases
from geo.sql_files import sql
from geo.workflow.backlog import item_dict
from geo.workflow.deadlines import china_date
from geo.workflow.leaders import leaders

router = APIRouter(prefix="/leaders", tags=["workflow"])


@router.get("", operation_id="list_leaders")
def get_leaders(session: SessionDep, scope: ScopeDep, now: NowDep) -> dict[str, Any]:
    """Every 包案 leader with their cases and list items (total, open, overdue)."""
    items = leaders(session, scope, china_date(now))
    return {"items": items, "numberReturned": len(items)}


@router.get("/{leader}/cases", operation_id="leader_cases")
def get_leader_cases(leader: Annotated[str, Path(min_length=1, max_length=50,
                                                 description="name or staff id")],
                     session: SessionDep, scope: ScopeDep, cipher: CipherDep, now: NowDep,
                     limit: Annotated[int, Query(ge=1, le=1000)] = 100,
                     offset: Annotated[int, Query(ge=0)] = 0) -> dict[str, Any]:
    """The cases one leader owns (newest first, masked) and their backlog items."""
    today = china_date(now)
    cases, matched = list_cases(session, scope, CaseFilter(leader=leader, limit=limit,
                                                           offset=offset),
                                cipher=cipher, today=today)
    items = [item_dict(r, today) for r in session.execute(
        sql("backlog_items"), {**scope.params(), "list_id": None, "item_id": None,
                               "leader": leader})]
    return {"leader": leader, "cases": cases, "numberMatched": matched,
            "numberReturned": len(cases), "backlog_items": items}
