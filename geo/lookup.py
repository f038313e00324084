"""Point → grid lookup against the active generation (PostGIS, subdivided cells).

Edge rule: cells are closed sets; when a point lies on a shared edge or corner, the cell with
the lowest grid code wins. Input coordinates in GCJ-02/BD-09 are converted to WGS84 first.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sqlalchemy.orm import Session

from geo import crs as gcrs
from geo.errors import InvalidInput, NotFound
from geo.sql_files import sql


@dataclass(frozen=True)
class GridLookup:
    """Where a point falls: grid, 社区, 街道 and the generation of the grid layer."""

    grid_code: str
    grid_name: str
    grid_type: str
    generation_id: int
    approximate: bool
    community_code: str | None
    community_name: str | None
    street_code: str | None
    street_name: str | None
    lon: float
    lat: float


def check_lon_lat(lon: float, lat: float) -> None:
    """Reject non-finite, out-of-range and (recognisably) swapped coordinates, naming the field."""
    if not math.isfinite(lon):
        raise InvalidInput("lon", "lon must be a finite number")
    if not math.isfinite(lat):
        raise InvalidInput("lat", "lat must be a finite number")
    if abs(lat) > 90:
        hint = " — lon and lat look swapped" if abs(lon) <= 90 else ""
        raise InvalidInput("lat", f"lat={lat} is outside -90..90{hint}")
    if abs(lon) > 180:
        raise InvalidInput("lon", f"lon={lon} is outside -180..180")


def lookup_grid(session: Session, lon: float, lat: float, crs: str = "wgs84") -> GridLookup:
    """The active grid containing the point; NotFound when no grid covers it."""
    check_lon_lat(lon, lat)
    spec = gcrs.parse_crs(crs)
    x, y = gcrs.to_wgs84(lon, lat, spec)
    wlon, wlat = float(x), float(y)
    row = session.execute(sql("lookup_grid"), {"lon": wlon, "lat": wlat}).first()
    if row is None:
        raise NotFound(f"no grid covers lon={lon}, lat={lat} ({spec.name}): the point is outside "
                       "every grid of the active generation")
    return GridLookup(row.grid_code, row.grid_name, row.grid_type, row.generation_id,
                      row.approximate, row.community_code, row.community_name, row.street_code,
                      row.street_name, wlon, wlat)
