"""Hotspot measures per grid / 社区 / 街道 / project for a time window: one SQL pass over the
cases for one level or several (geo/sql/hotspot_measures.sql; the refresh asks for all four at
once), scoped by the caller's role inside the query.

The window is [from, to) in China time; the trend is the case counts of the 6 periods of the
same length before it (a 1-year window: the 6 years before; a 30-day window: the 6 × 30 days
before), so a window and its trend always compare like with like.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy.orm import Session

from geo.access.scope import Scope
from geo.cases.schema import CHINA_TZ
from geo.errors import InvalidInput
from geo.models.cases import CASE_STATUSES
from geo.models.hotspots import HOTSPOT_LEVELS
from geo.sql_files import sql
from geo.workflow.machine import TERMINAL, WINDOW_RULES

TREND_PERIODS = 6
DEFAULT_WINDOW_MONTHS = 12
MAX_WINDOW = timedelta(days=366 * 5)


@dataclass(frozen=True)
class Window:
    """A time window [date_from, date_to), both timezone-aware."""

    date_from: datetime
    date_to: datetime

    @property
    def length(self) -> timedelta:
        """The window's length: each trailing period has it too."""
        return self.date_to - self.date_from

    @property
    def trail_from(self) -> datetime:
        """Where the oldest trailing period starts."""
        return self.date_from - TREND_PERIODS * self.length


def _aware(value: date | datetime) -> datetime:
    """A date is China midnight; a naive datetime is China time."""
    if not isinstance(value, datetime):
        return datetime.combine(value, time.min, CHINA_TZ)
    return value if value.tzinfo else value.replace(tzinfo=CHINA_TZ)


def _months_before(day: date, months: int) -> date:
    month0 = day.month - 1 - months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    for d in (day.day, 30, 29, 28):  # 31 March − 1 month: the last day of February
        try:
            return date(year, month, d)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def hotspot_window(date_from: date | datetime | None, date_to: date | datetime | None,
                   today: date) -> Window:
    """The window asked for; by default the last 12 months up to and including `today`.

    Only `from`: up to today; only `to`: the 12 months before it. 422 naming `to` when the
    window is empty or longer than 5 years (its trend reaches 6 windows further back)."""
    end = _aware(date_to) if date_to is not None else _aware(today + timedelta(days=1))
    if date_from is not None:
        start = _aware(date_from)
    else:
        local_end = end.astimezone(CHINA_TZ)
        start = datetime.combine(_months_before(local_end.date(), DEFAULT_WINDOW_MONTHS),
                                 local_end.timetz())
    if end <= start:
        raise InvalidInput("to", "`to` must be after `from`")
    if end - start > MAX_WINDOW:
        raise InvalidInput("to", "the window may be at most 5 years long (its trend reaches "
                           "6 windows further back)")
    return Window(start, end)


@dataclass(frozen=True)
class HotspotQuery:
    """What a hotspot layer is computed for: level, window and optional filters."""

    level: str
    window: Window
    categories: tuple[str, ...] | None = None
    statuses: tuple[str, ...] | None = None


def parse_list(value: str | None, field: str, known: Sequence[str] | None = None
               ) -> tuple[str, ...] | None:
    """A comma list parameter (None or empty: no filter); unknown values are a 422."""
    if value is None or not value.strip():
        return None
    items = tuple(dict.fromkeys(v.strip() for v in value.split(",") if v.strip()))
    if known is not None:
        bad = [v for v in items if v not in known]
        if bad:
            raise InvalidInput(field, f"unknown {field} {', '.join(bad)}; one of "
                               f"{', '.join(known)}")
    return items or None


def check_statuses(value: str | None) -> tuple[str, ...] | None:
    """The `status` filter: a comma list of workflow states."""
    return parse_list(value, "status", CASE_STATUSES)


def measure_params(scope: Scope, query: HotspotQuery, today: date,
                   levels: Sequence[str] | None = None) -> dict[str, Any]:
    """The bound parameters of hotspot_measures.sql: the query's level, or these levels."""
    wanted = [query.level] if levels is None else list(levels)
    for level in wanted:
        if level not in HOTSPOT_LEVELS:
            raise InvalidInput("level", f"level must be one of {', '.join(HOTSPOT_LEVELS)}")
    w = query.window
    return {
        **scope.params(),
        "levels": wanted,
        "date_from": w.date_from, "date_to": w.date_to, "trail_from": w.trail_from,
        "period_s": w.length.total_seconds(),
        "category": list(query.categories) if query.categories else None,
        "status": list(query.statuses) if query.statuses else None,
        "terminal": sorted(TERMINAL), "window_rules": sorted(WINDOW_RULES),
        "today": today,
    }


def aggregate(session: Session, scope: Scope, query: HotspotQuery, today: date
              ) -> list[dict[str, Any]]:
    """Per feature of the level in the caller's reach, ordered by code: level, code, name,
    households, generation_id, the counts, trend (oldest first) and the GeoJSON geometry
    (a string)."""
    return aggregate_levels(session, scope, query, today, [query.level])[query.level]


def aggregate_levels(session: Session, scope: Scope, query: HotspotQuery, today: date,
                     levels: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
    """aggregate() for several levels in one pass over the cases (the query's own level is
    ignored): per level its rows, ordered by code."""
    rows = session.execute(sql("hotspot_measures"),
                           measure_params(scope, query, today, levels))
    out: dict[str, list[dict[str, Any]]] = {level: [] for level in levels}
    for r in rows.mappings():
        d = dict(r)
        d["trend"] = [int(v) for v in d["trend"]]
        out[d["level"]].append(d)
    return out
