"""The base-map setting: GRIDMAP_BASEMAP and friends, what each choice puts on the pages (none
by default: no other host at all; 天地图 with its key, unshifted; Amap with the overlays in
GCJ-02; OSM), and the local tiles gridmap serves itself from an MBTiles file (made here, a tiny
SQLite file; rows counted from the south) or a z/x/y directory — also in the browser."""

from __future__ import annotations

import math
import re
import sqlite3
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.settings import MapSettings
from static_map.basemap import (
    EMPTY_TILE,
    NONE,
    DirectoryTiles,
    MBTiles,
    basemap_for,
    tile_media_type,
    valid_tile,
)
from tests.live_site import (
    CHROMIUM,
    CHROMIUM_ARGS,
    LiveSite,
    chromium_or_skip,
    log_in,
    watched_page,
)

ARTIFACTS = Path(__file__).parent / "artifacts"


def png(rgb: tuple[int, int, int], size: int = 4) -> bytes:
    """A small opaque PNG of one colour."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data)))

    rows = b"".join(b"\x00" + bytes(rgb) * size for _ in range(size))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 2, 0,
                                                              0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def make_mbtiles(path: Path, tiles: dict[tuple[int, int, int], bytes],
                 maxzoom: int | None = None) -> Path:
    """An MBTiles file holding `tiles` keyed by XYZ (z, x, y); stored with TMS rows."""
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE metadata (name text, value text)")
        conn.execute("CREATE TABLE tiles (zoom_level integer, tile_column integer, "
                      "tile_row integer, tile_data blob)")
        conn.executemany("INSERT INTO metadata VALUES (?, ?)", [
            ("name", "测试底图"), ("format", "png"),
            *([("maxzoom", str(maxzoom))] if maxzoom is not None else [])])
        conn.executemany("INSERT INTO tiles VALUES (?, ?, ?, ?)", [
            (z, x, (1 << z) - 1 - y, data) for (z, x, y), data in tiles.items()])
    conn.close()
    return path


RED, BLUE = png((220, 38, 38)), png((37, 99, 235))


@pytest.fixture
def mbtiles(tmp_path: Path) -> Path:
    """z=2 has one red tile at XYZ (1, 1) — TMS row 2 — and z=3 one blue at (2, 3)."""
    return make_mbtiles(tmp_path / "base.mbtiles", {(2, 1, 1): RED, (3, 2, 3): BLUE},
                        maxzoom=3)


# --- the setting --------------------------------------------------------------------------------

def test_default_is_no_base_map(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("GRIDMAP_BASEMAP", "GRIDMAP_BASEMAP_PATH", "GRIDMAP_TIANDITU_KEY"):
        monkeypatch.delenv(name, raising=False)
    settings = MapSettings()
    assert (settings.basemap, settings.basemap_path, settings.tianditu_key) == ("none", None, "")
    assert basemap_for(settings) is NONE
    assert (NONE.layers, NONE.overlay_crs, NONE.external) == ((), "wgs84", False)


def test_read_from_the_environment(monkeypatch: pytest.MonkeyPatch, mbtiles: Path) -> None:
    monkeypatch.setenv("GRIDMAP_BASEMAP", " OSM ")
    assert MapSettings().basemap == "osm"
    monkeypatch.setenv("GRIDMAP_BASEMAP", "local")
    monkeypatch.setenv("GRIDMAP_BASEMAP_PATH", str(mbtiles))
    assert MapSettings().basemap_path == mbtiles


@pytest.mark.parametrize(("values", "message"), [
    ({"basemap": "local"}, "needs GRIDMAP_BASEMAP_PATH"),
    ({"basemap": "local", "basemap_path": "/nowhere/tiles.mbtiles"}, "does not exist"),
    ({"basemap": "tianditu"}, "needs GRIDMAP_TIANDITU_KEY"),
    ({"basemap": "tianditu", "tianditu_key": "  "}, "needs GRIDMAP_TIANDITU_KEY"),
    ({"basemap": "google"}, "basemap"),
])
def test_half_configured_base_maps_are_refused(values: dict[str, str], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        MapSettings(**values)  # type: ignore[arg-type]


def test_what_each_base_map_draws(mbtiles: Path) -> None:
    osm = basemap_for(MapSettings(basemap="osm"))
    assert [t.url for t in osm.layers] == ["https://tile.openstreetmap.org/{z}/{x}/{y}.png"]
    assert "OpenStreetMap" in osm.layers[0].attribution and osm.overlay_crs == "wgs84"
    assert osm.external

    amap = basemap_for(MapSettings(basemap="amap"))
    assert amap.overlay_crs == "gcj02"  # Amap draws GCJ-02: the overlays are shifted to it
    assert "autonavi.com" in amap.layers[0].url and amap.layers[0].subdomains == "1234"

    tianditu = basemap_for(MapSettings(basemap="tianditu", tianditu_key="k y&1"))
    assert tianditu.overlay_crs == "wgs84"  # CGCS2000: no shift
    assert [re.search(r"LAYER=(\w+)", t.url).group(1)  # type: ignore[union-attr]
            for t in tianditu.layers] == ["vec", "cva"]
    assert all(t.url.endswith("&tk=k%20y%261") for t in tianditu.layers)
    assert all("TILEMATRIXSET=w" in t.url and "TILEMATRIX={z}" in t.url
               for t in tianditu.layers)

    local = basemap_for(MapSettings(basemap="local", basemap_path=mbtiles))
    assert [t.url for t in local.layers] == ["/basemap/{z}/{x}/{y}.png"]
    assert not local.external and local.overlay_crs == "wgs84"
    assert local.layers[0].max_native_zoom == 3  # deeper, Leaflet enlarges level 3


# --- local tiles --------------------------------------------------------------------------------

def test_mbtiles_rows_count_from_the_south(mbtiles: Path) -> None:
    tiles = MBTiles(mbtiles)
    assert tiles.get(2, 1, 1) == RED
    assert tiles.get(2, 1, 2) is None  # the TMS row 1 is XYZ row 2: nothing stored there
    assert tiles.get(3, 2, 3) == BLUE
    assert tiles.max_zoom() == 3


def test_mbtiles_without_maxzoom_uses_the_deepest_level(tmp_path: Path) -> None:
    path = make_mbtiles(tmp_path / "m.mbtiles", {(5, 0, 0): RED, (7, 0, 0): RED})
    assert MBTiles(path).max_zoom() == 7


def test_tile_directory(tmp_path: Path) -> None:
    (tmp_path / "4" / "3").mkdir(parents=True)
    (tmp_path / "4" / "3" / "5.jpg").write_bytes(b"\xff\xd8\xff\xe0jpeg")
    (tmp_path / "6" / "1").mkdir(parents=True)
    (tmp_path / "6" / "1" / "1.png").write_bytes(RED)
    tiles = DirectoryTiles(tmp_path)
    assert tiles.get(4, 3, 5) == b"\xff\xd8\xff\xe0jpeg"
    assert tiles.get(4, 3, 6) is None
    assert tiles.max_zoom() == 6


def test_media_types_and_the_empty_tile() -> None:
    assert tile_media_type(RED) == "image/png"
    assert tile_media_type(b"\xff\xd8\xff") == "image/jpeg"
    assert tile_media_type(b"RIFF\x00\x00\x00\x00WEBPVP8 ") == "image/webp"
    assert tile_media_type(EMPTY_TILE) == "image/png"
    width, height, depth, colour = struct.unpack(">IIBB", EMPTY_TILE[16:26])
    assert (width, height, depth, colour) == (1, 1, 8, 6)  # 1×1 RGBA
    assert zlib.decompress(EMPTY_TILE[41:41 + struct.unpack(">I", EMPTY_TILE[33:37])[0]]) == (
        b"\x00\x00\x00\x00\x00")  # alpha 0


@pytest.mark.parametrize(("z", "x", "y", "ok"), [
    (0, 0, 0, True), (2, 3, 3, True), (2, 4, 0, False), (2, 0, -1, False), (24, 0, 0, True),
    (25, 0, 0, False), (-1, 0, 0, False)])
def test_valid_tile(z: int, x: int, y: int, ok: bool) -> None:
    assert valid_tile(z, x, y) is ok


def _serve(app: FastAPI, maps: MapSettings) -> None:
    app.state.map_settings, app.state.basemap = maps, None


def test_tiles_are_served_from_the_mbtiles(app: FastAPI, client: TestClient,
                                           mbtiles: Path) -> None:
    _serve(app, MapSettings(basemap="local", basemap_path=mbtiles))
    resp = client.get("/basemap/2/1/1.png")
    assert resp.status_code == 200 and resp.content == RED
    assert resp.headers["content-type"] == "image/png"
    assert "max-age" in resp.headers["cache-control"]
    empty = client.get("/basemap/2/1/2.png")
    assert empty.status_code == 200 and empty.content == EMPTY_TILE
    assert empty.headers["x-gridmap-tile"] == "empty"
    for bad in ("/basemap/2/4/0.png", "/basemap/25/0/0.png", "/basemap/2/-1/0.png"):
        assert client.get(bad).status_code == 404, bad
    assert client.get("/basemap/2/x/0.png").status_code == 422


def test_tiles_are_served_from_a_directory(app: FastAPI, client: TestClient,
                                          tmp_path: Path) -> None:
    (tmp_path / "12" / "3419").mkdir(parents=True)
    (tmp_path / "12" / "3419" / "1548.jpg").write_bytes(b"\xff\xd8\xff\xe0tile")
    _serve(app, MapSettings(basemap="local", basemap_path=tmp_path))
    resp = client.get("/basemap/12/3419/1548.png")
    assert resp.status_code == 200 and resp.headers["content-type"] == "image/jpeg"
    assert resp.content == b"\xff\xd8\xff\xe0tile"


def test_no_tiles_without_a_local_base_map(app: FastAPI, client: TestClient) -> None:
    _serve(app, MapSettings(basemap="osm"))
    resp = client.get("/basemap/0/0/0.png")
    assert resp.status_code == 404 and "GRIDMAP_BASEMAP" in resp.json()["detail"]


def test_tiles_need_a_login(app: FastAPI, anon_client: TestClient, mbtiles: Path) -> None:
    _serve(app, MapSettings(basemap="local", basemap_path=mbtiles))
    assert anon_client.get("/basemap/2/1/1.png").status_code == 401


# --- the setting on the pages -------------------------------------------------------------------

@pytest.fixture
def grid_code(zhongshan: None, session: Session) -> str:
    code: str = session.execute(text(
        "SELECT gc.code FROM grid_cell gc JOIN boundary_generation g ON g.id = gc.generation_id "
        "AND g.is_active ORDER BY gc.code LIMIT 1")).scalar_one()
    return code


def test_default_pages_name_no_other_host(client: TestClient, grid_code: str) -> None:
    for path in (f"/map/grid/{grid_code}", "/map/command"):
        page = client.get(path).text
        assert "L.tileLayer" not in page and not re.search(r"https?://", page), path


def test_local_base_map_is_served_by_gridmap(app: FastAPI, client: TestClient,
                                             grid_code: str, mbtiles: Path) -> None:
    _serve(app, MapSettings(basemap="local", basemap_path=mbtiles))
    for path in (f"/map/grid/{grid_code}", "/map/command"):
        page = client.get(path).text
        assert 'L.tileLayer(\n                "/basemap/{z}/{x}/{y}.png"' in page
        assert '"maxNativeZoom": 3' in page
        assert not re.search(r"https?://", page), path


@pytest.mark.parametrize(("kind", "host", "crs"), [
    ("osm", "tile.openstreetmap.org", "wgs84"),
    ("amap", "is.autonavi.com", "gcj02"),
    ("tianditu", "tianditu.gov.cn", "wgs84"),
])
def test_external_base_maps_keep_everything_else_local(
        app: FastAPI, client: TestClient, grid_code: str, kind: str, host: str,
        crs: str) -> None:
    _serve(app, MapSettings(basemap=kind, tianditu_key="abc123"))  # type: ignore[arg-type]
    for path in (f"/map/grid/{grid_code}", "/map/command"):
        page = client.get(path).text
        assert host in page
        assert f'"crs":"{crs}"' in page
        scripts = re.findall(r'<(?:script|link)[^>]*(?:src|href)="([^"]*)"', page)
        assert scripts and all(u.startswith(("/", "data:")) for u in scripts), scripts
    if kind == "tianditu":
        assert "tk=abc123" in page


# --- in the browser -----------------------------------------------------------------------------

def _tile_range(west: float, south: float, east: float, north: float,
                z: int) -> Iterator[tuple[int, int, int]]:
    def xy(lon: float, lat: float) -> tuple[int, int]:
        n = 1 << z
        rad = math.radians(lat)
        return (int((lon + 180) / 360 * n),
                int((1 - math.asinh(math.tan(rad)) / math.pi) / 2 * n))

    x0, y0 = xy(west, north)
    x1, y1 = xy(east, south)
    for x in range(x0, x1 + 1):
        for y in range(y0, y1 + 1):
            yield z, x, y


@pytest.mark.browser
def test_browser_draws_the_local_mbtiles_base_map(live_site: LiveSite, tmp_path: Path) -> None:
    sync_api = chromium_or_skip()
    site = live_site
    west, south, east, north = (float(v) for v in site.scalar(
        "SELECT ARRAY[ST_XMin(e) - 0.02, ST_YMin(e) - 0.02, ST_XMax(e) + 0.02, ST_YMax(e) + "
        "0.02] FROM (SELECT ST_Extent(geom) AS e FROM grid_cell WHERE code = :c) s",
        c=site.grid_code))
    tiles = {key: (BLUE if (key[1] + key[2]) % 2 else png((230, 230, 220)))
             for z in range(13, 17) for key in _tile_range(west, south, east, north, z)}
    path = make_mbtiles(tmp_path / "district.mbtiles", tiles, maxzoom=16)
    with site.base_map(MapSettings(basemap="local", basemap_path=path)), \
            sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                                     args=CHROMIUM_ARGS)
        try:
            page, watch = watched_page(browser, {"width": 1000, "height": 700})
            log_in(page, site, "grid_worker", f"/map/grid/{site.grid_code}")
            page.wait_for_function("document.documentElement.dataset.gridmapState === 'ready'")
            page.wait_for_load_state("networkidle")
            drawn = page.locator("img.leaflet-tile-loaded")
            assert drawn.count() > 0
            assert page.locator("path.gridmap-own-grid").count() == 1
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "grid_map_local_basemap.png"))
        finally:
            browser.close()

    tile_urls = [u for u in watch.requested if "/basemap/" in u]
    assert tile_urls and all(u.startswith(f"{site.url}/basemap/") for u in tile_urls)
    assert watch.other_hosts() == []
    assert watch.errors == []
    assert watch.bad_responses == []
