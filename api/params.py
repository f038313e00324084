"""Query parameters shared by several endpoints, grouped in dataclasses used as dependencies."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import Query

from geo.cases.read import CaseFilter
from geo.errors import InvalidInput


@dataclass
class CaseFilterParams:
    """The case filters of GET /cases and GET /exports/cases."""

    grid_code: Annotated[str | None, Query(pattern=r"^\d{15}$")] = None
    community_code: Annotated[str | None, Query(pattern=r"^\d{12}$")] = None
    street_code: Annotated[str | None, Query(pattern=r"^\d{12}$")] = None
    status: Annotated[str | None, Query(max_length=20)] = None
    category: Annotated[str | None, Query(max_length=32)] = None
    date_from: Annotated[datetime | None, Query(alias="from")] = None
    date_to: Annotated[datetime | None, Query(alias="to")] = None
    leader: Annotated[str | None, Query(max_length=50,
                                        description="包案 leader: name or staff id")] = None

    def to_filter(self, **extra: Any) -> CaseFilter:
        """The geo-side filter; 422 naming `to` when the window is empty."""
        if self.date_from and self.date_to and self.date_to <= self.date_from:
            raise InvalidInput("to", "`to` must be after `from`")
        return CaseFilter(grid_code=self.grid_code, community_code=self.community_code,
                          street_code=self.street_code, status=self.status,
                          category=self.category, date_from=self.date_from,
                          date_to=self.date_to, leader=self.leader, **extra)
