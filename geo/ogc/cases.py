"""The `cases` collection's Python side: the constants its SQL binds and the page finish that
masks personal data and turns due dates into warning bands.

Bands come from geo.workflow.deadlines.warning_band for the request's China day (the request
clock, never the wall clock). The SQL mirrors that rule only where Python cannot reach — the
`band=` / `overdue=` filters and the tiles — with the same thresholds bound from
geo.workflow.deadlines, and tests/test_ogc_cases.py pins the two to each other.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date
from functools import lru_cache
from types import MappingProxyType
from typing import Any

from geo.privacy.mask import mask_address, mask_name
from geo.workflow.deadlines import ORANGE_FROM, YELLOW_FROM, warning_band
from geo.workflow.machine import STATES, TERMINAL, WINDOW_RULES

BANDS = ("green", "yellow", "orange", "red", "none")
STATUS_VALUES = tuple(STATES)
PETITIONER_SEPARATOR = "、"

# Bound into ogc_case_items.sql / tile_cases.sql / _ogc_case_filters.sql on every request.
SQL_PARAMS: Mapping[str, Any] = MappingProxyType({
    # Windows (objection, review requests …) are rights, not obligations: no band, no overdue.
    "window_rules": sorted(WINDOW_RULES),
    "terminal": sorted(TERMINAL),
    "yellow_from": YELLOW_FROM,
    "orange_from": ORANGE_FROM,
    "status_labels": json.dumps(dict(STATES), ensure_ascii=False),
})


def band_of(due: str | date | None, today: date) -> str:
    """The warning band of a running obligation due on `due` (ISO date), "none" without one."""
    if due is None:
        return "none"
    return warning_band(due if isinstance(due, date) else date.fromisoformat(due), today)


@lru_cache(maxsize=4096)
def _masked_address(address: str) -> str:
    # A page holds many cases of one building: the cut is parsed once per address.
    return mask_address(address)


def finish_case_page(features: list[dict[str, Any]], today: date | None) -> None:
    """Mask the page's personal data and set its bands, in place: the SQL hands over the raw
    address, the petitioners' names as a list, and the local and statutory due dates under
    `_local_due` / `_statutory_due`, which are removed here."""
    if today is None:
        raise ValueError("the cases collection needs the request's day for its bands")
    for feature in features:
        p = feature["properties"]
        if p.get("address"):
            p["address"] = _masked_address(p["address"])
        names = p.get("petitioner") or []
        p["petitioner"] = PETITIONER_SEPARATOR.join(mask_name(n) for n in names) or None
        p["band"] = band_of(p.get("due_date"), today)
        p["local_band"] = band_of(p.pop("_local_due", None), today)
        p["statutory_band"] = band_of(p.pop("_statutory_due", None), today)
        p["overdue"] = p["band"] == "red"
