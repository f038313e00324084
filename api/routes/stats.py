"""Indicator endpoints: 三率 and the workflow counts of an area and a window (GET /stats/rates).

Scoped like every read: the numbers are those of the caller's scope ∩ the area asked for, so an
area outside the scope answers 200 with zeros and null rates (the same as an area without
cases) — never a count of cases the caller may not see. The rules of every number are in
geo.workflow.rates and in each answer's `rule` fields.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from api.deps import NowDep, SessionDep
from api.security import ScopeDep
from geo.workflow.rates import petition_rates, resolve_area, resolve_window

router = APIRouter(prefix="/stats", tags=["stats"])

Level = Literal["district", "grid", "community", "street", "unit"]


@router.get("/rates", operation_id="stats_rates")
def get_rates(
    session: SessionDep, scope: ScopeDep, now: NowDep,
    level: Annotated[Level, Query(description="district = everything in your scope")]
    = "district",
    code: Annotated[str | None, Query(max_length=64, description=(
        "grid: 15-digit code; community / street: 12-digit code; unit: id or code; "
        "none for district"))] = None,
    date_from: Annotated[date | None, Query(alias="from", description=(
        "first China day of the window (default: 364 days before `to`)"))] = None,
    date_to: Annotated[date | None, Query(alias="to", description=(
        "last China day of the window (default: today); at most three years long"))] = None,
) -> dict[str, Any]:
    """及时受理率, 按期办结率 (and the local 15-day target), 满意率 with numerators, denominators
    and rules; 件次, 人次, 案次, repeat, collective; overdue per rule; open 督办; 首接首办."""
    area = resolve_area(session, level, code)
    window_from, window_to = resolve_window(date_from, date_to, now)
    return petition_rates(session, scope, area, window_from, window_to, now)
