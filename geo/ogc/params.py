"""OGC API request parameters as domain values: bbox, datetime, CRS names and property filters.

Each parser takes the request's text and returns checked values, or raises InvalidInput naming
the parameter (a 422 in `api`). Nothing here is ever pasted into SQL: filters come back keyed
by the collection's allow-listed property names, for binding.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone

from geo.bbox import BBox, parse_bbox
from geo.errors import InvalidInput
from geo.ogc.collections import Collection, Filter, filter_names

# The OGC URI of WGS84 lon/lat. Clients that know OGC API – Features Part 2 send it as `crs` or
# `bbox-crs`; it means exactly our "wgs84".
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
# The same datum by its EPSG URI, whose axis order is latitude, longitude (OGC API – Features
# Part 2): positions and bbox numbers come in that order for it, never in GeoJSON's lon, lat.
EPSG4326 = "http://www.opengis.net/def/crs/EPSG/0/4326"
# Output CRSs of items: WGS84, or shifted to line up on Amap/Tencent (GCJ-02) or Baidu (BD-09).
OUTPUT_CRS = ("wgs84", "gcj02", "bd09")
# Input CRSs of a bbox: cgcs2000 is WGS84 at map scale (see geo.crs).
BBOX_CRS = ("wgs84", "cgcs2000", "gcj02", "bd09")
# Dates and times without an offset are the office's clock: China Standard Time, no DST.
OFFICE_TZ = timezone(timedelta(hours=8), "CST")
MAX_FILTER_CHARS = 200


def crs_name(value: str) -> str:
    """Our CRS name for a request value: the CRS84 and EPSG:4326 URIs are "wgs84" (see
    `lat_first` for the axis order), anything else unchanged."""
    return "wgs84" if value in (CRS84, EPSG4326) else value


def lat_first(value: str) -> bool:
    """Whether positions in this CRS are latitude first (the EPSG:4326 URI)."""
    return value == EPSG4326


def parse_bbox_param(text: str, crs: str = "wgs84", *, max_km2: float) -> BBox:
    """The WGS84 box of an OGC `bbox` (4 numbers, or 6 with heights, which are dropped)."""
    parts = text.split(",")
    if len(parts) == 6:
        # minx,miny,minz,maxx,maxy,maxz: every feature here is 2D, so heights select nothing.
        parts = [parts[0], parts[1], parts[3], parts[4]]
    if lat_first(crs) and len(parts) == 4:
        parts = [parts[1], parts[0], parts[3], parts[2]]
    return parse_bbox(",".join(parts), crs_name(crs), max_km2=max_km2, field="bbox")


@dataclass(frozen=True)
class Interval:
    """A closed time interval; None on a side means open (`..`)."""

    start: datetime | None
    end: datetime | None


def _instant(text: str, *, end: bool) -> datetime:
    try:
        if "T" not in text.upper() and len(text) == 10:
            # A bare date is the whole day: its first instant as a start, its last as an end.
            day = date.fromisoformat(text)
            moment = datetime.combine(day, time.max if end else time.min)
        else:
            moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise InvalidInput("datetime", f"{text!r} is not an RFC 3339 date or date-time "
                           "(e.g. 2020-05-01 or 2020-05-01T08:00:00Z)") from exc
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=OFFICE_TZ)


def parse_datetime(text: str) -> Interval:
    """An OGC `datetime`: an instant, or `start/end` with `..` (or nothing) for an open side."""
    if "/" not in text:
        return Interval(_instant(text, end=False), _instant(text, end=True))
    first, _, second = text.partition("/")
    start = None if first in ("", "..") else _instant(first, end=False)
    end = None if second in ("", "..") else _instant(second, end=True)
    if start is None and end is None:
        raise InvalidInput("datetime", "an interval needs at least one bounded end")
    if start is not None and end is not None and end.astimezone(UTC) < start.astimezone(UTC):
        raise InvalidInput("datetime", "the interval ends before it starts")
    return Interval(start, end)


def parse_filters(collection: Collection, query: Mapping[str, str]) -> dict[str, object]:
    """Filters of the request (`code=…`, `status=a,b`) for this collection, typed by their
    declaration (a comma list becomes a list); other query parameters are not filters and are
    left alone."""
    allowed = {f.name: f for f in collection.filters}
    found: dict[str, object] = {}
    for name in filter_names():
        if name not in query:
            continue
        flt = allowed.get(name)
        if flt is None:
            raise InvalidInput(name, f"collection {collection.id!r} cannot be filtered on "
                               f"{name!r}; it filters on: {', '.join(allowed) or 'nothing'}")
        found[name] = parse_filter(flt, query[name])
    return found


def parse_filter(flt: Filter, text: str) -> object:
    """One filter's value: typed, checked against its allowed values; a list when `multi`."""
    if len(text) > MAX_FILTER_CHARS:
        raise InvalidInput(flt.name, f"longer than {MAX_FILTER_CHARS} characters")
    parts = [t.strip() for t in text.split(",")] if flt.multi else [text]
    if flt.multi:
        parts = [t for t in parts if t]
        if not parts:
            raise InvalidInput(flt.name, f"{flt.name} needs at least one value")
    values = [parse_filter_value(flt.name, flt.type, t) for t in parts]
    if flt.values:
        bad = [v for v in values if v not in flt.values]
        if bad:
            raise InvalidInput(flt.name, f"{bad[0]!r} is not one of: {', '.join(flt.values)}")
    return values if flt.multi else values[0]


def parse_filter_value(name: str, json_type: str, text: str) -> object:
    """One filter value in its property's JSON type."""
    if len(text) > MAX_FILTER_CHARS:
        raise InvalidInput(name, f"longer than {MAX_FILTER_CHARS} characters")
    if json_type == "integer":
        try:
            return int(text)
        except ValueError as exc:
            raise InvalidInput(name, f"{name} must be an integer") from exc
    if json_type == "number":
        try:
            value = float(text)
        except ValueError as exc:
            raise InvalidInput(name, f"{name} must be a number") from exc
        if not math.isfinite(value):
            raise InvalidInput(name, f"{name} must be a finite number")
        return value
    if json_type == "boolean":
        if text.lower() not in ("true", "false"):
            raise InvalidInput(name, f"{name} must be true or false")
        return text.lower() == "true"
    return text
