"""Bounding boxes from request text (OGC `bbox=minx,miny,maxx,maxy`), checked and capped.

A bbox is WGS84 lon/lat unless its CRS says otherwise (GCJ-02/BD-09 boxes are converted corner
by corner, which is exact enough at box scale). Its area is capped so one request cannot ask
the database for a province.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from shapely.geometry import box

from geo import crs as gcrs
from geo.errors import InvalidInput


@dataclass(frozen=True)
class BBox:
    """A WGS84 box."""

    minx: float
    miny: float
    maxx: float
    maxy: float

    def params(self) -> dict[str, float]:
        """Bound parameters bbox_minx … bbox_maxy for SQL."""
        return {"bbox_minx": self.minx, "bbox_miny": self.miny,
                "bbox_maxx": self.maxx, "bbox_maxy": self.maxy}


NO_BBOX: dict[str, float | None] = {"bbox_minx": None, "bbox_miny": None,
                                    "bbox_maxx": None, "bbox_maxy": None}


def parse_bbox(text: str, crs: str = "wgs84", *, max_km2: float, field: str = "bbox") -> BBox:
    """Parse and check `minx,miny,maxx,maxy`; InvalidInput naming `field` when it is wrong."""
    parts = text.split(",")
    if len(parts) != 4:
        raise InvalidInput(field, f"bbox needs 4 numbers minx,miny,maxx,maxy; got {len(parts)}")
    try:
        minx, miny, maxx, maxy = (float(p) for p in parts)
    except ValueError as exc:
        raise InvalidInput(field, f"bbox has a value that is not a number: {text!r}") from exc
    if not all(math.isfinite(v) for v in (minx, miny, maxx, maxy)):
        raise InvalidInput(field, "bbox values must be finite numbers")
    if not (-180 <= minx <= 180 and -180 <= maxx <= 180):
        raise InvalidInput(field, "bbox longitudes must lie in -180..180")
    if not (-90 <= miny <= 90 and -90 <= maxy <= 90):
        hint = " (lon and lat swapped?)" if -90 <= minx <= 90 and -90 <= maxx <= 90 else ""
        raise InvalidInput(field, f"bbox latitudes must lie in -90..90{hint}")
    if minx >= maxx or miny >= maxy:
        raise InvalidInput(field, "bbox must be minx,miny,maxx,maxy with min < max")
    if crs not in ("wgs84", "cgcs2000"):
        xs, ys = gcrs.to_wgs84(np.array([minx, maxx]), np.array([miny, maxy]), crs)
        minx, maxx = float(np.min(xs)), float(np.max(xs))
        miny, maxy = float(np.min(ys)), float(np.max(ys))
    km2 = float(gcrs.area_m2(box(minx, miny, maxx, maxy))) / 1e6
    if km2 > max_km2:
        raise InvalidInput(field, f"bbox covers {km2:,.0f} km², more than the {max_km2:,.0f} km² "
                           "allowed per request; zoom in or page by area")
    return BBox(float(minx), float(miny), float(maxx), float(maxy))
