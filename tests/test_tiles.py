"""Mapbox Vector Tiles of the collections, decoded as a client would (mapbox-vector-tile): layer,
features against a direct PostGIS count for the tile's envelope, properties, the role scope
inside the tile query, bands for the request clock, the GCJ-02 shift, simplification per zoom,
empty tiles, bad z/x/y, caching, and the TileJSON and OGC API – Tiles documents.

Cases are those of test_ogc_cases.py (a–f on the hand-made squares, clock at 2020-05-11).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import mapbox_vector_tile
import numpy as np
import pytest
import shapely
from fastapi.testclient import TestClient
from shapely.geometry import shape
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo import crs as gcrs
from geo.cases.schema import CHINA_TZ
from geo.privacy.crypto import PersonalDataCipher
from geo.tiles.matrix import (
    BUFFER,
    EXTENT,
    Tile,
    check_tile,
    lonlat_to_tile,
    mercator_to_lonlat,
    simplify_tolerance,
)
from geo.tiles.mvt import MEDIA_TYPE
from geo.tiles.shift import tile_affine
from geo.workflow.deadlines import warning_band
from tests.squares import grid_code
from tests.test_ogc_cases import World, centre, make_world

MVT_CASE_FIELDS = {"external_id", "received_at", "category", "category_name", "status",
                   "status_label", "grid_code", "persons_count", "is_repeat", "is_collective",
                   "due_date", "band", "overdue", "supervised"}
ACTIVE_GRIDS = """
    FROM grid_cell gc JOIN boundary_generation g ON g.id = gc.generation_id AND g.is_active
"""


@pytest.fixture
def world(session: Session, tmp_path: Path, app: Any, cipher: PersonalDataCipher,
          login_as: Callable[..., TestClient]) -> World:
    return make_world(session, tmp_path, app, cipher, login_as)


def url(collection: str, t: Tile) -> str:
    return f"/collections/{collection}/tiles/WebMercatorQuad/{t.z}/{t.y}/{t.x}"


def decode(data: bytes, t: Tile) -> dict[str, Any]:
    """The tile's layers with lon/lat coordinates (tile units → EPSG:3857 → degrees)."""
    minx, _, _, maxy = t.bounds_3857()
    size = t.size_m

    def to_lonlat(x: float, y: float) -> tuple[float, float]:
        return mercator_to_lonlat(minx + x / EXTENT * size, maxy - y / EXTENT * size)

    layers: dict[str, Any] = mapbox_vector_tile.decode(data, default_options={
        "y_coord_down": True, "transformer": to_lonlat})
    return layers


def fetch(client: TestClient, collection: str, t: Tile, **params: Any) -> dict[str, Any]:
    r = client.get(url(collection, t), params=params)
    assert r.status_code in (200, 204), r.text
    if r.status_code == 204:
        assert r.content == b""
        return {}
    assert r.headers["content-type"] == MEDIA_TYPE
    return decode(r.content, t)


def features(layers: dict[str, Any], layer: str) -> list[dict[str, Any]]:
    assert set(layers) <= {layer}, set(layers)
    found: list[dict[str, Any]] = layers.get(layer, {}).get("features", [])
    return found


def _scope_sql(session: Session, t: Tile, where: str, **params: Any) -> set[int]:
    """Case ids whose point lies in the tile's envelope with ST_AsMVTGeom's buffer."""
    return set(session.scalars(text(
        "SELECT c.id FROM petition_case c JOIN category cat ON cat.code = c.category_code "
        "WHERE ST_Intersects(ST_Transform(c.location, 3857), "
        "ST_TileEnvelope(:z, :x, :y, margin => :m)) AND " + where),
        {"z": t.z, "x": t.x, "y": t.y, "m": BUFFER / EXTENT, **params}))


# --- boundaries -------------------------------------------------------------------------------


def test_grid_tile_has_the_grids_of_its_envelope_with_properties(
        world: World, client: TestClient, session: Session) -> None:
    for z in (13, 14, 16):
        t = lonlat_to_tile(*centre(5), z)
        got = features(fetch(client, "grids", t), "grids")
        expected = dict(session.execute(text(
            f"SELECT gc.id, gc.code {ACTIVE_GRIDS} WHERE ST_Intersects(ST_Transform(gc.geom, "
            "3857), ST_TileEnvelope(:z, :x, :y, margin => :m))"),
            {"z": t.z, "x": t.x, "y": t.y, "m": BUFFER / EXTENT}).all())
        assert len(got) == len(expected) > 0, z
        assert {f["id"]: f["properties"]["code"] for f in got} == expected
    t = lonlat_to_tile(*centre(5), 14)
    five = next(f for f in features(fetch(client, "grids", t), "grids")
                if f["properties"]["code"] == grid_code(5))
    assert five["properties"] == {
        "code": grid_code(5), "name": "测试社区第5网格", "grid_type": "综合网格",
        "parent_code": "210202001002", "street_code": "210202001000", "households": 400,
        "approximate": False}
    # The square comes back where it is, to within a unit of the tile's grid.
    unit_deg = 360 / (1 << 14) / EXTENT
    polygon = shape(five["geometry"])
    x0, y0 = centre(5)
    assert polygon.bounds == pytest.approx((x0 - 0.005, y0 - 0.005, x0 + 0.005, y0 + 0.005),
                                           abs=2 * unit_deg)


def test_polygons_are_simplified_per_zoom(zhongshan: None, client: TestClient,
                                          session: Session) -> None:
    # The community with the most vertices (the generated ones follow the real coastline).
    cid, lon, lat = session.execute(text(
        "SELECT a.id, ST_X(ST_PointOnSurface(a.geom)), ST_Y(ST_PointOnSurface(a.geom)) "
        "FROM area a JOIN boundary_generation g ON g.id = a.generation_id AND g.is_active "
        "WHERE a.level = 'community' ORDER BY ST_NPoints(a.geom) DESC LIMIT 1")).one()
    for z in (9, 12):
        t = lonlat_to_tile(lon, lat, z)
        [feature] = [f for f in features(fetch(client, "communities", t), "communities")
                     if f["id"] == cid]
        ours = shapely.get_num_coordinates(shape(feature["geometry"]))
        # What ST_AsMVTGeom alone (snapping to the tile grid) would keep.
        plain = session.scalar(text(
            "SELECT ST_NPoints(ST_AsMVTGeom(ST_Transform(a.geom, 3857), "
            "ST_TileEnvelope(:z, :x, :y), 4096, 64, true)) FROM area a WHERE a.id = :id"),
            {"z": t.z, "x": t.x, "y": t.y, "id": cid})
        # Fewer vertices than the tile grid alone leaves (at zoom 9: 99 of 190, of 215).
        assert 4 <= ours < plain, (z, ours, plain)
        assert shape(feature["geometry"]).is_valid
    # One tile unit: halving with each zoom.
    assert simplify_tolerance(9) == pytest.approx(8 * simplify_tolerance(12))
    assert simplify_tolerance(12) == pytest.approx(40075016.68557849 / 4096 / 4096)


# --- cases ------------------------------------------------------------------------------------


def test_case_tile_is_scoped_inside_the_query(world: World, client: TestClient,
                                              session: Session) -> None:
    t = lonlat_to_tile(*centre(5), 13)
    roles = {
        "admin": (client, "true"),
        "commander": (world.login_as("commander"), "NOT cat.restricted"),
        "grid_worker": (world.login_as("grid_worker", grid_codes=[grid_code(5)]),
                        "c.grid_code = :g"),
        "unit": (world.login_as("unit_handler", unit_id=world.unit_a), "c.routed_unit_id = :u"),
    }
    seen = {}
    for role, (c, where) in roles.items():
        got = features(fetch(c, "cases", t), "cases")
        expected = _scope_sql(session, t, where, g=grid_code(5), u=world.unit_a)
        assert {f["id"] for f in got} == expected, role
        seen[role] = {world.key(f["id"]) for f in got}
    # The tile holds the whole 3×3: each role gets exactly its cases.
    assert seen == {"admin": set("abcdf"), "commander": set("abcf"), "grid_worker": set("ab"),
                    "unit": {"b"}}
    a = next(f for f in features(fetch(client, "cases", t), "cases")
             if f["id"] == world.ids["a"])
    assert set(a["properties"]) == MVT_CASE_FIELDS  # no address, no petitioner
    assert a["properties"] == {
        "external_id": "T-A", "received_at": "2020-05-06T09:30:00+08:00",
        "category": "property", "category_name": "物业", "status": "registered",
        "status_label": "登记", "grid_code": grid_code(5), "persons_count": 2,
        "is_repeat": False, "is_collective": False, "due_date": "2020-05-10", "band": "red",
        "overdue": True, "supervised": True}
    assert a["geometry"]["type"] == "Point"
    unit_deg = 360 / (1 << 13) / EXTENT
    assert a["geometry"]["coordinates"] == pytest.approx(list(centre(5)), abs=unit_deg)


def test_case_tile_takes_the_items_filters(world: World, client: TestClient) -> None:
    t = lonlat_to_tile(*centre(5), 13)
    for params, expected in (({"open": "true"}, "abdf"), ({"band": "red,orange"}, "af"),
                             ({"status": "closed"}, "c"), ({"datetime": "2020-04-01"}, "f"),
                             ({"grid_code": grid_code(5), "supervised": "false"}, "b")):
        got = features(fetch(client, "cases", t, **params), "cases")
        assert {world.key(f["id"]) for f in got} == set(expected), params
    r = client.get(url("cases", t), params={"band": "purple"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "band"]


def test_case_tile_bands_follow_the_request_clock(world: World, client: TestClient) -> None:
    t = lonlat_to_tile(*centre(5), 13)
    for offset in range(-6, 4):
        today = date(2020, 5, 10) + timedelta(days=offset)
        world.clock.now = datetime.combine(today, datetime.min.time(), CHINA_TZ)
        bands = {world.key(f["id"]): f["properties"]["band"]
                 for f in features(fetch(client, "cases", t), "cases")}
        items = {world.key(f["id"]): f["properties"]["band"]
                 for f in client.get("/collections/cases/items").json()["features"]}
        assert bands == items, today
        assert bands["a"] == warning_band(date(2020, 5, 10), today)


BAND_ORDER = ("none", "green", "yellow", "orange", "red")


@pytest.fixture
def set_limits(app: Any) -> Iterator[Callable[..., None]]:
    """Change the app's LimitSettings for one test."""
    original = app.state.limits

    def change(**values: Any) -> None:
        app.state.limits = original.model_copy(update=values)

    yield change
    app.state.limits = original


def test_a_crowded_case_tile_is_clustered(world: World, client: TestClient,
                                          set_limits: Callable[..., None]) -> None:
    t = lonlat_to_tile(*centre(5), 13)
    alone = features(fetch(client, "cases", t), "cases")
    assert len(alone) == 5 and all("cluster" not in f["properties"] for f in alone)
    # More than 4 cases in the tile, squares as large as the tile: one cluster (the points
    # inside the tile) that sums the features it replaces.
    set_limits(tile_cluster_above=4, tile_cluster_cell=EXTENT)
    got = features(fetch(client, "cases", t), "cases")
    clusters = [f for f in got if f["properties"].get("cluster")]
    assert len(clusters) == 1
    members = [f for f in alone if f["id"] not in {g.get("id") for g in got}]
    assert len(members) == clusters[0]["properties"]["point_count"] >= 2
    props = clusters[0]["properties"]
    assert "id" not in clusters[0] or not clusters[0]["id"]
    assert props == {
        "cluster": True, "point_count": len(members),
        "overdue_count": sum(f["properties"]["overdue"] for f in members),
        "supervised_count": sum(f["properties"]["supervised"] for f in members),
        "band": max((f["properties"]["band"] for f in members), key=BAND_ORDER.index),
        **({"due_date": min(f["properties"]["due_date"] for f in members
                            if "due_date" in f["properties"])}
           if any("due_date" in f["properties"] for f in members) else {}),
    }
    mean = np.mean([f["geometry"]["coordinates"] for f in members], axis=0)
    unit_deg = 360 / (1 << 13) / EXTENT
    assert clusters[0]["geometry"]["coordinates"] == pytest.approx(list(mean), abs=unit_deg)
    # The scope is applied before clustering: a grid worker's cluster holds only a and b.
    worker = world.login_as("grid_worker", grid_codes=[grid_code(5)])
    set_limits(tile_cluster_above=1, tile_cluster_cell=EXTENT)
    mine = features(fetch(worker, "cases", t), "cases")
    assert [f["properties"]["point_count"] for f in mine] == [2]
    # At the threshold, not above it: every case alone.
    set_limits(tile_cluster_above=5, tile_cluster_cell=EXTENT)
    assert {f["id"] for f in features(fetch(client, "cases", t), "cases")} == {
        f["id"] for f in alone}


def test_gcj02_tiles_line_up_with_the_shifted_points(world: World, client: TestClient) -> None:
    for z in (10, 14, 18):
        gx, gy = (float(v) for v in gcrs.wgs84_to_gcj02(*centre(5)))
        t = lonlat_to_tile(gx, gy, z)
        got = {f["id"]: f for f in features(fetch(client, "cases", t, crs="gcj02"), "cases")}
        a = got[world.ids["a"]]
        unit_deg = 360 / (1 << z) / EXTENT
        # Within the tile grid's rounding and the fitted shift's residual (geo.tiles.shift).
        assert a["geometry"]["coordinates"] == pytest.approx([gx, gy], abs=3 * unit_deg), z
        # The same tile without the shift is ~430 m off: a at z18 is elsewhere.
    t18 = lonlat_to_tile(*centre(5), 18)
    plain = features(fetch(client, "cases", t18), "cases")
    assert world.ids["a"] in {f["id"] for f in plain}
    shifted = fetch(client, "cases", t18, crs="gcj02")
    assert world.ids["a"] not in {f["id"] for f in features(shifted, "cases")}
    r = client.get(url("cases", t18), params={"crs": "bd09"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "crs"]


def test_the_tile_affine_matches_geo_crs_across_a_tile() -> None:
    for z in (8, 12, 16):
        t = lonlat_to_tile(121.70, 38.91, z)
        affine = tile_affine(t, "gcj02")
        w, s, e, n = t.bounds_lonlat()
        for fx in (0.1, 0.5, 0.9):
            for fy in (0.1, 0.5, 0.9):
                gx, gy = w + fx * (e - w), s + fy * (n - s)
                x, y = (float(v) for v in gcrs.gcj02_to_wgs84(gx, gy))
                ax, ay = (float(v) for v in affine.apply(np.array(x), np.array(y)))
                unit_deg = (e - w) / EXTENT
                assert math.hypot(ax - gx, ay - gy) < 3 * unit_deg, (z, fx, fy)
    assert tile_affine(lonlat_to_tile(121.7, 38.9, 12), "wgs84").params() == {
        "aff_a": 1.0, "aff_b": 0.0, "aff_d": 0.0, "aff_e": 1.0, "aff_xoff": 0.0,
        "aff_yoff": 0.0}


# --- empty, bad, cached -----------------------------------------------------------------------


def test_empty_tiles_are_204_without_a_body(world: World, client: TestClient) -> None:
    africa = lonlat_to_tile(20.0, 0.0, 12)
    for collection in ("cases", "grids", "communities", "streets"):
        r = client.get(url(collection, africa))
        assert r.status_code == 204, collection
        assert r.content == b"" and "content-type" not in r.headers
        assert r.headers["cache-control"].startswith("private, max-age=")
    # A grid worker's view of square 1 (none of their cases) is empty too.
    worker = world.login_as("grid_worker", grid_codes=[grid_code(5)])
    t = lonlat_to_tile(*centre(1), 16)
    assert worker.get(url("cases", t)).status_code == 204
    assert client.get(url("cases", t)).status_code == 200


@pytest.mark.parametrize(("path", "status"), [
    ("/collections/grids/tiles/WebMercatorQuad/7/48/107", 404),    # below the min zoom
    ("/collections/grids/tiles/WebMercatorQuad/19/1/1", 404),      # above the max zoom
    ("/collections/grids/tiles/WebMercatorQuad/12/4096/1", 404),   # row out of range
    ("/collections/grids/tiles/WebMercatorQuad/12/1/4096", 404),   # column out of range
    ("/collections/grids/tiles/WebMercatorQuad/12/-1/1", 404),
    ("/collections/grids/tiles/WebMercatorQuad/12/1/abc", 422),
    ("/collections/grids/tiles/WebMercatorQuad/12.5/1/1", 422),
    ("/collections/grids/tiles/WebMercatorQuad/12/1/1e3", 422),
    ("/collections/grids/tiles/WorldCRS84Quad/12/1/1", 404),
    ("/collections/parcels/tiles/WebMercatorQuad/12/1/1", 404),
    ("/collections/parcels/tiles", 404),
    ("/collections/grids/tiles/WorldCRS84Quad", 404),
])
def test_bad_tiles(client: TestClient, path: str, status: int) -> None:
    r = client.get(path)
    assert r.status_code == status, r.text
    detail = r.json()["detail"]
    if status == 422:
        assert detail[0]["loc"][0] == "path"
    else:
        assert isinstance(detail, str) and detail


def test_tile_zoom_checks_name_the_range() -> None:
    with pytest.raises(Exception, match=r"zoom\) 7 is not served; zooms 8..18"):
        check_tile(7, 0, 0, 8, 18)
    with pytest.raises(Exception, match=r"tile row 4 does not exist at zoom 2 \(0..3\)"):
        check_tile(2, 0, 4, 0, 18)
    assert check_tile(2, 3, 3, 0, 18) == Tile(2, 3, 3)


def test_tiles_are_private_with_an_etag(world: World, client: TestClient) -> None:
    t = lonlat_to_tile(*centre(5), 14)
    r = client.get(url("cases", t))
    assert r.status_code == 200
    assert r.headers["cache-control"] == "private, max-age=60"
    assert r.headers["vary"] == "Authorization, Cookie"
    again = client.get(url("cases", t), headers={"If-None-Match": r.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    grids = client.get(url("grids", t))
    assert grids.headers["cache-control"] == "private, max-age=300"


def test_tiles_need_the_token(anon_client: TestClient) -> None:
    t = lonlat_to_tile(121.7, 38.9, 12)
    for path in (url("cases", t), "/collections/cases/tiles",
                 "/collections/cases/tiles/WebMercatorQuad",
                 "/collections/cases/tiles/WebMercatorQuad/tilejson.json"):
        assert anon_client.get(path).status_code == 401, path


# --- documents --------------------------------------------------------------------------------


def test_tilejson_describes_the_layer_and_keeps_the_query(world: World,
                                                          client: TestClient) -> None:
    r = client.get("/collections/cases/tiles/WebMercatorQuad/tilejson.json",
                   params={"open": "true", "crs": "gcj02"})
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    doc = r.json()
    assert doc["tilejson"] == "3.0.0" and doc["scheme"] == "xyz"
    [template] = doc["tiles"]
    parts = urlsplit(template)
    assert parts.path == "/collections/cases/tiles/WebMercatorQuad/{z}/{y}/{x}"
    assert parse_qs(parts.query) == {"open": ["true"], "crs": ["gcj02"]}
    assert (doc["minzoom"], doc["maxzoom"]) == (8, 18)
    [layer] = doc["vector_layers"]
    assert layer["id"] == "cases"
    # A case's fields, and a crowded tile's clusters' (supercluster's names).
    assert set(layer["fields"]) == MVT_CASE_FIELDS | {"cluster", "point_count",
                                                      "overdue_count", "supervised_count"}
    assert (layer["fields"]["band"], layer["fields"]["persons_count"],
            layer["fields"]["overdue"], layer["fields"]["point_count"],
            layer["fields"]["cluster"]) == ("String", "Number", "Boolean", "Number", "Boolean")
    # The extent of what the caller sees, shifted like the tiles.
    (minx, maxx), (miny, maxy) = gcrs.wgs84_to_gcj02([centre(1)[0], centre(9)[0]],
                                                     [centre(9)[1], centre(1)[1]])
    assert doc["bounds"] == pytest.approx([minx, miny, maxx, maxy], abs=1e-9)
    # A client following the template gets the filtered, shifted tile.
    gx, gy = (float(v) for v in gcrs.wgs84_to_gcj02(*centre(5)))
    t = lonlat_to_tile(gx, gy, 11)  # the whole 3×3 in one tile
    tile_url = template.replace("{z}", str(t.z)).replace("{y}", str(t.y)).replace(
        "{x}", str(t.x))
    got = features(decode(client.get(tile_url).content, t), "cases")
    assert {world.key(f["id"]) for f in got} == set("abdf")
    r = client.get("/collections/cases/tiles/WebMercatorQuad/tilejson.json",
                   params={"status": "flying"})
    assert r.status_code == 422


def test_ogc_tileset_list_and_metadata(world: World, client: TestClient) -> None:
    r = client.get("/collections/grids/tiles")
    assert r.status_code == 200
    [tileset] = r.json()["tilesets"]
    assert tileset["dataType"] == "vector"
    assert tileset["tileMatrixSetURI"] == (
        "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad")
    self_link = next(link for link in tileset["links"] if link["rel"] == "self")
    assert self_link["href"] == "http://testserver/collections/grids/tiles/WebMercatorQuad"
    meta = client.get(self_link["href"]).json()
    item = next(link for link in meta["links"] if link["rel"] == "item")
    assert item["href"] == ("http://testserver/collections/grids/tiles/WebMercatorQuad/"
                            "{tileMatrix}/{tileRow}/{tileCol}")
    assert item["type"] == MEDIA_TYPE and item["templated"] is True
    assert (meta["minTileMatrix"], meta["maxTileMatrix"]) == ("8", "18")
    [layer] = meta["layers"]
    assert layer["id"] == "grids" and layer["geometryDimension"] == 2
    assert layer["propertiesSchema"]["properties"]["households"] == {"type": "integer"}
    cases = client.get("/collections/cases/tiles/WebMercatorQuad").json()
    assert cases["layers"][0]["geometryDimension"] == 0
