"""Export filters: the one set of names the API and the CLI accept, checked against what the
collection supports, with codes, states, categories, hotspot levels and the time window
validated.

Errors are InvalidInput naming the public parameter (`grid_code`, `from`, …): a 422 in the API,
a one-line message and exit code 2 in the CLI.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields, replace
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.cases.schema import CHINA_TZ
from geo.errors import InvalidInput
from geo.models.hotspots import HOTSPOT_LEVELS
from geo.workflow.machine import STATES

# Public name of each filter (query parameter; the CLI flag is --name with dashes).
PUBLIC = {"grid_code": "grid_code", "community_code": "community_code",
          "street_code": "street_code", "status": "status", "category": "category",
          "date_from": "from", "date_to": "to", "level": "level"}
_CODE = {"grid_code": (re.compile(r"\d{15}"), "a 15-digit grid code"),
         "community_code": (re.compile(r"\d{12}"), "a 12-digit 社区 code"),
         "street_code": (re.compile(r"\d{12}"), "a 12-digit 街道 code")}


@dataclass(frozen=True)
class ExportFilter:
    """What to export; None means "any". `status` may be a comma list of states; `category`
    a code or its Chinese name; times without an offset are China time."""

    grid_code: str | None = None
    community_code: str | None = None
    street_code: str | None = None
    status: str | None = None
    category: str | None = None
    date_from: datetime | None = None
    date_to: datetime | None = None
    # Hotspot layer: grid, community, street or project.
    level: str | None = None

    def given(self) -> list[str]:
        """The attribute names of the filters that are set."""
        return [f.name for f in fields(self) if getattr(self, f.name) is not None]

    def statuses(self) -> list[str] | None:
        """The status filter as a list (None: any)."""
        if self.status is None:
            return None
        return [s.strip() for s in self.status.split(",") if s.strip()]

    def params(self) -> dict[str, Any]:
        """Bound parameters of the export SQL files (NULL: any)."""
        return {"grid_code": self.grid_code, "community_code": self.community_code,
                "street_code": self.street_code, "statuses": self.statuses(),
                "category": self.category, "date_from": self.date_from,
                "date_to": self.date_to, "level": self.level}


def _china_time(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=CHINA_TZ)


def check_filter(session: Session, collection: str, supported: frozenset[str],
                 f: ExportFilter) -> ExportFilter:
    """The filter made ready for SQL (category as its code, China time); InvalidInput naming
    the parameter for a filter the collection lacks, a malformed code, an unknown state or
    category, or an empty time window."""
    for name in f.given():
        if name not in supported:
            allowed = ", ".join(PUBLIC[n] for n in PUBLIC if n in supported) or "nothing"
            raise InvalidInput(PUBLIC[name], f"collection {collection!r} cannot be filtered "
                               f"on {PUBLIC[name]!r}; it filters on: {allowed}")
    for name, (pattern, what) in _CODE.items():
        value = getattr(f, name)
        if value is not None and not pattern.fullmatch(value):
            raise InvalidInput(name, f"{value!r} is not {what}")
    statuses = f.statuses()
    if statuses is not None:
        unknown = [s for s in statuses if s not in STATES]
        if unknown or not statuses:
            bad = unknown[0] if unknown else f.status
            raise InvalidInput("status", f"unknown status {bad!r}; states: "
                               f"{', '.join(STATES)}")
    if f.level is not None and f.level not in HOTSPOT_LEVELS:
        raise InvalidInput("level", f"unknown level {f.level!r}; levels: "
                           f"{', '.join(HOTSPOT_LEVELS)}")
    category = f.category
    if category is not None:
        category = session.scalar(
            text("SELECT code FROM category WHERE code = :c OR name = :c ORDER BY code = :c "
                 "DESC LIMIT 1"), {"c": category.strip()})
        if category is None:
            raise InvalidInput("category", f"unknown category {f.category!r} (a category "
                               "code such as property, or its name such as 物业)")
    start, end = _china_time(f.date_from), _china_time(f.date_to)
    if start is not None and end is not None and end <= start:
        raise InvalidInput("to", "`to` must be after `from`")
    return replace(f, category=category, date_from=start, date_to=end)
