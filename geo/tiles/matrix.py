"""The WebMercatorQuad tile matrix set (OGC 17-083r4, the XYZ tiles of web maps): tile bounds in
EPSG:3857 metres and in lon/lat, and the checks that turn a bad z/x/y into a 404.

Row 0 is the north edge (XYZ / OGC order, not TMS). Plain math, so the route can reject a tile
before any database work.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from geo.errors import NotFound

TMS_ID = "WebMercatorQuad"
TMS_URI = "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad"
TMS_CRS = "http://www.opengis.net/def/crs/EPSG/0/3857"
# Half the equator in EPSG:3857 metres: the matrix spans ±HALF on both axes.
HALF = 20037508.342789244
# Tile coordinates per side, and the margin around a tile ST_AsMVTGeom keeps (in the same
# units), the PostGIS defaults: a 4096 grid is finer than any screen pixel up to 16× zoom-in.
EXTENT = 4096
BUFFER = 64
MAX_LAT = 85.0511287798066


@dataclass(frozen=True)
class Tile:
    """One tile of WebMercatorQuad: zoom (tile matrix), column x and row y."""

    z: int
    x: int
    y: int

    @property
    def size_m(self) -> float:
        """The tile's width in EPSG:3857 metres."""
        return 2 * HALF / (1 << self.z)

    def bounds_3857(self, margin: float = 0.0) -> tuple[float, float, float, float]:
        """minx, miny, maxx, maxy in EPSG:3857, grown by `margin` of the tile's size on each
        side (as ST_TileEnvelope's margin)."""
        size = self.size_m
        minx = -HALF + self.x * size - margin * size
        maxx = -HALF + (self.x + 1) * size + margin * size
        maxy = HALF - self.y * size + margin * size
        miny = HALF - (self.y + 1) * size - margin * size
        return minx, miny, maxx, maxy

    def bounds_lonlat(self, margin: float = 0.0) -> tuple[float, float, float, float]:
        """The same box in lon/lat (west, south, east, north); clamped to the matrix."""
        minx, miny, maxx, maxy = self.bounds_3857(margin)
        w, s = mercator_to_lonlat(max(minx, -HALF), max(miny, -HALF))
        e, n = mercator_to_lonlat(min(maxx, HALF), min(maxy, HALF))
        return w, s, e, n


def mercator_to_lonlat(x: float, y: float) -> tuple[float, float]:
    """EPSG:3857 metres to lon/lat degrees (spherical Web Mercator)."""
    lon = math.degrees(x / HALF * math.pi)
    lat = math.degrees(math.atan(math.sinh(y / HALF * math.pi)))
    return lon, lat


def lonlat_to_tile(lon: float, lat: float, z: int) -> Tile:
    """The tile of zoom `z` holding the point (clamped to the matrix)."""
    n = 1 << z
    lat = max(-MAX_LAT, min(MAX_LAT, lat))
    x = int((lon + 180.0) / 360.0 * n)
    y = int((1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n)
    return Tile(z, min(max(x, 0), n - 1), min(max(y, 0), n - 1))


def simplify_tolerance(z: int, extent: int = EXTENT) -> float:
    """Metres of EPSG:3857 below which a vertex cannot show in a tile of zoom `z`: one unit of
    the tile's grid, so simplification removes only what ST_AsMVTGeom would snap together."""
    return 2 * HALF / (1 << z) / extent


def check_tile(z: int, x: int, y: int, min_zoom: int, max_zoom: int) -> Tile:
    """The tile, or NotFound naming what is out of range (zoom outside the served range, or a
    column/row the zoom does not have)."""
    if not min_zoom <= z <= max_zoom:
        raise NotFound(f"tile matrix (zoom) {z} is not served; zooms {min_zoom}..{max_zoom}")
    n = 1 << z
    if not 0 <= x < n:
        raise NotFound(f"tile column {x} does not exist at zoom {z} (0..{n - 1})")
    if not 0 <= y < n:
        raise NotFound(f"tile row {y} does not exist at zoom {z} (0..{n - 1})")
    return Tile(z, x, y)
