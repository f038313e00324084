"""The base map setting as the map pages draw it (Leaflet tile layers and the CRS the overlays
must be requested in), and the local tiles gridmap serves itself (a z/x/y directory or MBTiles).

`none` — the default — has no tile layer at all: the pages then ask nothing of any other host.
天地图's `_w` tile sets are Web Mercator on CGCS2000, which equals WGS84 at map scale: no shift.
Amap's tiles are drawn in GCJ-02, so the overlays come from the API with `crs=gcj02`.
"""

from __future__ import annotations

import contextlib
import sqlite3
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from geo.settings import MapSettings

BASEMAP_URL = "/basemap"
# Leaflet fills {z}/{x}/{y}; the route answers this one pattern, whatever the stored format.
LOCAL_TEMPLATE = "{z}/{x}/{y}.png"
MAX_ZOOM = 24
_DIRECTORY_EXTENSIONS = ("png", "jpg", "jpeg", "webp")


@dataclass(frozen=True)
class TileLayer:
    """One Leaflet tile layer: URL template, attribution (HTML) and zoom limits."""

    url: str
    attribution: str
    subdomains: str = "abc"
    max_zoom: int = 19
    max_native_zoom: int = 18
    min_zoom: int = 0


@dataclass(frozen=True)
class BaseMap:
    """What a page draws under its overlays, and the CRS the overlays must be in."""

    kind: str
    label: str  # Chinese name shown in the legend
    layers: tuple[TileLayer, ...] = ()
    # "wgs84" or "gcj02": the `crs=` the page asks the API for (see geo.crs).
    overlay_crs: str = "wgs84"

    @property
    def external(self) -> bool:
        """Whether the tiles come from another host (then the page is not self-contained)."""
        return any("://" in layer.url for layer in self.layers)


NONE = BaseMap("none", "无底图")

_TIANDITU = ("https://t{{s}}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile"
             "&VERSION=1.0.0&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
             "&TILEMATRIX={{z}}&TILEROW={{y}}&TILECOL={{x}}&tk={key}")
_TIANDITU_ATTRIBUTION = "&copy; 天地图 国家地理信息公共服务平台"
_AMAP = ("https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8"
         "&x={x}&y={y}&z={z}")
_OSM = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
_OSM_ATTRIBUTION = ('&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap'
                    "</a> contributors")


def basemap_for(settings: MapSettings, base_url: str = BASEMAP_URL) -> BaseMap:
    """The base map the setting names (local tiles under `base_url`, served by gridmap)."""
    kind = settings.basemap
    if kind == "none":
        return NONE
    if kind == "local":
        max_native = 18
        if settings.basemap_path is not None:
            # Deeper than the set goes, Leaflet enlarges its last level. An unreadable set is
            # reported by the tile route on the first request, not here.
            with contextlib.suppress(OSError, sqlite3.Error):
                max_native = tile_source(settings.basemap_path).max_zoom() or max_native
        return BaseMap("local", "本地底图", (TileLayer(
            url=f"{base_url.rstrip('/')}/{LOCAL_TEMPLATE}", attribution="本地底图",
            subdomains="", max_native_zoom=max_native),))
    if kind == "tianditu":
        key = quote(settings.tianditu_key.strip(), safe="")
        return BaseMap("tianditu", "天地图", tuple(
            TileLayer(url=_TIANDITU.format(layer=layer, key=key),
                      attribution=_TIANDITU_ATTRIBUTION if layer == "vec" else "",
                      subdomains="01234567", max_native_zoom=18)
            for layer in ("vec", "cva")))  # the map, then its labels (注记) on top
    if kind == "amap":
        return BaseMap("amap", "高德地图", (TileLayer(
            url=_AMAP, attribution="&copy; 高德地图", subdomains="1234", max_native_zoom=18),),
            overlay_crs="gcj02")
    if kind == "osm":
        return BaseMap("osm", "OpenStreetMap", (TileLayer(
            url=_OSM, attribution=_OSM_ATTRIBUTION, subdomains="", max_native_zoom=19),))
    raise ValueError(f"unknown base map {kind!r}")


# --- local tiles ------------------------------------------------------------------------------

def _png_chunk(kind: bytes, data: bytes) -> bytes:
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))


def _transparent_png() -> bytes:
    """A 1×1 fully transparent PNG (RGBA)."""
    header = struct.pack(">IIBBBBB", 1, 1, 8, 6, 0, 0, 0)
    pixels = zlib.compress(b"\x00\x00\x00\x00\x00")  # filter byte + one RGBA pixel
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", pixels)
            + _png_chunk(b"IEND", b""))


# Where the tile set has no tile (outside its area or zooms): an empty tile, not a 404 — a
# browser logs every failed image load as a console error, and a map edge is not an error.
EMPTY_TILE = _transparent_png()


def tile_media_type(data: bytes) -> str:
    """The image type of a stored tile, from its first bytes."""
    if data.startswith(b"\x89PNG"):
        return "image/png"
    if data.startswith(b"\xff\xd8"):
        return "image/jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return "application/octet-stream"


def valid_tile(z: int, x: int, y: int) -> bool:
    """Whether z/x/y names a tile of the Web Mercator pyramid."""
    return 0 <= z <= MAX_ZOOM and 0 <= x < (1 << z) and 0 <= y < (1 << z)


class DirectoryTiles:
    """Tiles in `root/{z}/{x}/{y}.png|jpg|jpeg|webp`, rows counted from the north (XYZ)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def get(self, z: int, x: int, y: int) -> bytes | None:
        """The tile's bytes, None when the directory has none there."""
        folder = self.root / str(z) / str(x)
        for ext in _DIRECTORY_EXTENSIONS:
            path = folder / f"{y}.{ext}"
            if path.is_file():
                return path.read_bytes()
        return None

    def max_zoom(self) -> int | None:
        """The deepest zoom level present."""
        levels = [int(p.name) for p in self.root.iterdir() if p.is_dir() and p.name.isdigit()]
        return max(levels) if levels else None


class MBTiles:
    """An MBTiles file (SQLite; rows counted from the south, TMS), opened read-only per read."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _connect(self) -> sqlite3.Connection:
        # Read-only URI: serving tiles can never write to (or create) the file.
        return sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True)

    def get(self, z: int, x: int, y: int) -> bytes | None:
        """The tile's bytes, None when the file has none there."""
        tms_row = (1 << z) - 1 - y
        with self._connect() as conn:
            row = conn.execute(
                "SELECT tile_data FROM tiles WHERE zoom_level = ? AND tile_column = ? "
                "AND tile_row = ?", (z, x, tms_row)).fetchone()
        return bytes(row[0]) if row and row[0] is not None else None

    def max_zoom(self) -> int | None:
        """The metadata's maxzoom, else the deepest zoom level stored."""
        with self._connect() as conn:
            meta = conn.execute("SELECT value FROM metadata WHERE name = 'maxzoom'").fetchone()
            if meta and str(meta[0]).strip().isdigit():
                return int(meta[0])
            row = conn.execute("SELECT max(zoom_level) FROM tiles").fetchone()
        return int(row[0]) if row and row[0] is not None else None


def tile_source(path: Path) -> DirectoryTiles | MBTiles:
    """The local tile set at `path`: a directory, or else an MBTiles file."""
    return DirectoryTiles(path) if path.is_dir() else MBTiles(path)
