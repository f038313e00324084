"""The OGC `projects` and `hotspots` collections on the hand-made 7×7 lattice (tests/hotspot_world):
items (properties, counts, geometry), paging, bbox, filters, `datetime`, the GCJ-02 shift, the
scope inside the project counts, hotspots readable by command-level roles only (403 and left out
of /collections for the others), and both collections' vector tiles.

Everything lives in the test's rolled-back transaction (the `session` fixture): projects are
stored with upsert_projects and the hotspot layers with refresh_hotspots, never committed, so
no lock or row outlives the test.

World: cases received 2020-06-01 in the cells (2,2) ×8 (2 persons each), (2,3) ×6, (3,2) ×6,
(3,3) ×7 and (6,0) ×1; project P-1 (relocation, the cell (2,2), no buffer, 2020-01-01 to
2020-06-30, 示意) and P-2 (enterprise, the cell (5,5), no case, no dates); the layers refreshed
for 2020 (the clock's day 2020-12-31).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from shapely.geometry import box, shape
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo import crs as gcrs
from geo.cases.reference import load_reference_data
from geo.hotspots.refresh import refresh_hotspots
from geo.projects.store import upsert_projects
from geo.projects.validate import ProjectRow
from geo.settings import GeoSettings, HotspotSettings
from geo.tiles.matrix import BUFFER, EXTENT, Tile, lonlat_to_tile
from geo.tiles.mvt import MEDIA_TYPE
from tests.hotspot_world import Lattice, add_case, at, load_lattice
from tests.squares import COMMUNITY, STREET
from tests.test_tiles import decode
from tests.test_tiles import url as tile_url

GEOJSON = "application/geo+json"
JSON = "application/json"
PROJECTS = "/collections/projects/items"
HOTSPOTS = "/collections/hotspots/items"
# 49 cells, one 社区, one 街道, two projects.
STORED = 49 + 1 + 1 + 2
CASES = {(2, 2): 8, (2, 3): 6, (3, 2): 6, (3, 3): 7, (6, 0): 1}


@dataclass
class World:
    """The lattice, its projects' ids and a client factory."""

    session: Session
    lat: Lattice
    p1: int
    p2: int
    login_as: Callable[..., TestClient]


@pytest.fixture
def world(session: Session, tmp_path: Path, login_as: Callable[..., TestClient]) -> World:
    load_reference_data(session)
    lat = load_lattice(session, tmp_path)
    for (r, c), n in CASES.items():
        for i in range(n):
            dx, dy = (i % 3 - 1) * 0.3, (i // 3 - 1) * 0.3
            lon, lat_ = lat.centre(r, c, dx, dy)
            add_case(session, lat.code(r, c), lon, lat_, at("2020-06-01"),
                     persons=2 if (r, c) == (2, 2) else 1)
    (p1, p2), _ = upsert_projects(session, [
        ProjectRow("P-1", "某某回迁项目", "relocation", lat.cell(2, 2), households=70,
                   phase="安置", start_date=date(2020, 1, 1), end_date=date(2020, 6, 30),
                   approximate=True, source="示意"),
        ProjectRow("P-2", "某某欠薪企业", "enterprise", lat.cell(5, 5)),
    ])
    refresh_hotspots(session, GeoSettings(), HotspotSettings(permutations=99),
                     today=date(2020, 12, 31))
    session.flush()
    return World(session, lat, p1, p2, login_as)


def _get(client: TestClient, url: str, **params: Any) -> dict[str, Any]:
    # No params at all for a link's URL: an empty mapping would replace its query.
    r = client.get(url, params=params or None)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == GEOJSON
    body: dict[str, Any] = r.json()
    return body


def _rels(body: dict[str, Any], rel: str) -> list[dict[str, str]]:
    return [link for link in body["links"] if link["rel"] == rel]


def _by_code(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["properties"]["code"]: f for f in body["features"]}


# --- projects ------------------------------------------------------------------------------------


def test_project_items_carry_properties_counts_and_the_polygon(world: World) -> None:
    body = _get(world.login_as("commander"), PROJECTS)
    assert (body["numberMatched"], body["numberReturned"]) == (2, 2)
    assert [f["id"] for f in body["features"]] == sorted([world.p1, world.p2])
    feats = _by_code(body)
    one = feats["P-1"]
    assert one["id"] == world.p1
    assert one["properties"] == {
        "code": "P-1", "name": "某某回迁项目", "project_type": "relocation",
        "type_label": "回迁/动迁", "households": 70, "phase": "安置",
        "start_date": "2020-01-01", "end_date": "2020-06-30", "buffer_m": 0.0,
        "community_code": COMMUNITY, "community_name": "测试社区居委会", "approximate": True,
        "source": "示意", "cases": 8, "open_cases": 8, "submissions": 8, "persons": 16}
    assert one["geometry"]["type"] == "MultiPolygon"
    assert shape(one["geometry"]).symmetric_difference(world.lat.cell(2, 2)).area < 1e-12
    two = feats["P-2"]["properties"]
    assert (two["project_type"], two["type_label"], two["cases"], two["persons"],
            two["start_date"], two["approximate"]) == ("enterprise", "欠薪企业", 0, 0, None,
                                                       False)
    single = _get(world.login_as("commander"), f"{PROJECTS}/{world.p1}")
    assert (single["id"], single["properties"]) == (world.p1, one["properties"])


def test_project_counts_are_of_the_cases_the_caller_may_see(world: World) -> None:
    lat = world.lat
    mine = world.login_as("grid_worker", grid_codes=[lat.code(2, 2)])
    other = world.login_as("grid_worker", grid_codes=[lat.code(0, 0)])
    assert _by_code(_get(mine, PROJECTS))["P-1"]["properties"]["cases"] == 8
    # Projects are places: every role reads them all, but counts only what it may see.
    theirs = _by_code(_get(other, PROJECTS))
    assert set(theirs) == {"P-1", "P-2"}
    assert {k: (f["properties"]["cases"], f["properties"]["persons"])
            for k, f in theirs.items()} == {"P-1": (0, 0), "P-2": (0, 0)}


def test_project_filters_bbox_and_datetime(world: World) -> None:
    client = world.login_as("street", street_code=STREET)
    by_type = _get(client, PROJECTS, project_type="enterprise")
    assert [f["properties"]["code"] for f in by_type["features"]] == ["P-2"]
    assert by_type["numberMatched"] == 1
    x0, y0, x1, y1 = world.lat.cell(5, 5).bounds
    inner = ",".join(map(str, (x0 + 0.001, y0 + 0.001, x1 - 0.001, y1 - 0.001)))
    assert [f["id"] for f in _get(client, PROJECTS, bbox=inner)["features"]] == [world.p2]
    # P-1 ran in the first half of 2020; P-2 has no dates (it overlaps every interval).
    later = _get(client, PROJECTS, datetime="2020-07-01/..")
    assert [f["properties"]["code"] for f in later["features"]] == ["P-2"]
    both = _get(client, PROJECTS, datetime="2020-06-30")
    assert sorted(f["properties"]["code"] for f in both["features"]) == ["P-1", "P-2"]
    bad = client.get(PROJECTS, params={"project_type": "castle"})
    assert bad.status_code == 422 and "project_type" in bad.text


def test_project_output_shifts_to_gcj02(world: World) -> None:
    client = world.login_as("commander")
    plain = _get(client, f"{PROJECTS}/{world.p1}")
    shifted = _get(client, f"{PROJECTS}/{world.p1}", crs="gcj02")
    lon, lat = plain["geometry"]["coordinates"][0][0][0]
    gx, gy = gcrs.wgs84_to_gcj02(lon, lat)
    assert shifted["geometry"]["coordinates"][0][0][0] == pytest.approx(
        [float(gx), float(gy)], abs=2e-7)
    # ≈ 430 m here: a shift, not a rounding.
    assert abs(float(gx) - lon) + abs(float(gy) - lat) > 0.002
    assert shifted["properties"] == plain["properties"]


# --- hotspots ------------------------------------------------------------------------------------


def test_hotspot_items_are_the_stored_layers(world: World) -> None:
    body = _get(world.login_as("commander"), HOTSPOTS, level="grid", limit=100)
    assert (body["numberMatched"], body["numberReturned"]) == (49, 49)
    feats = _by_code(body)
    stored = world.session.execute(text(
        "SELECT code, id, cases, gi_class FROM hotspot_stat WHERE level = 'grid'")).all()
    assert {r.code: (r.id, r.cases, r.gi_class) for r in stored} == {
        k: (f["id"], f["properties"]["cases"], f["properties"]["gi_class"])
        for k, f in feats.items()}
    busy = feats[world.lat.code(2, 2)]
    props = busy["properties"]
    assert (props["level"], props["level_label"], props["cases"], props["submissions"],
            props["persons"], props["open"], props["households"]) == (
        "grid", "网格", 8, 8, 16, 8, 400)
    assert props["per_1000_households"] == 20.0
    assert props["trend"] == "0,0,0,0,0,0" and props["change"] is None
    assert props["window_from"] == "2020-01-01T00:00:00+08:00"
    assert props["window_to"] == "2021-01-01T00:00:00+08:00"
    assert props["gi_class"] in ("hot99", "hot95", "hot90")
    assert isinstance(props["gi_z"], float) and props["gi_z"] > 0
    assert busy["geometry"]["type"] == "MultiPolygon"
    assert shape(busy["geometry"]).symmetric_difference(world.lat.cell(2, 2)).area < 1e-12
    project = _by_code(_get(world.login_as("admin"), HOTSPOTS, level="project"))
    assert {k: f["properties"]["cases"] for k, f in project.items()} == {"P-1": 8, "P-2": 0}
    assert project["P-1"]["properties"]["level_label"] == "项目"


def test_hotspot_pages_follow_next_links_to_every_feature(world: World) -> None:
    client = world.login_as("commander")
    url: str | None = f"{HOTSPOTS}?limit=20"
    pages = []
    while url is not None:
        page = _get(client, url)
        pages.append(page)
        nexts = _rels(page, "next")
        assert len(nexts) <= 1
        url = nexts[0]["href"] if nexts else None
    assert [p["numberReturned"] for p in pages] == [20, 20, STORED - 40]
    assert {p["numberMatched"] for p in pages} == {STORED}
    assert [len(_rels(p, "prev")) for p in pages] == [0, 1, 1]
    ids = [f["id"] for p in pages for f in p["features"]]
    assert ids == list(world.session.scalars(text("SELECT id FROM hotspot_stat ORDER BY id")))


def test_hotspot_filters_and_bbox(world: World) -> None:
    client = world.login_as("discipline")
    x0, y0, x1, y1 = world.lat.cell(2, 2).bounds
    inner = ",".join(map(str, (x0 + 0.001, y0 + 0.001, x1 - 0.001, y1 - 0.001)))
    # Inside one cell: the cell, its 社区 and 街道, and the project drawn on it.
    everything = _get(client, HOTSPOTS, bbox=inner)
    assert sorted((f["properties"]["level"], f["properties"]["code"])
                  for f in everything["features"]) == sorted([
        ("grid", world.lat.code(2, 2)), ("community", COMMUNITY),
        ("street", STREET), ("project", "P-1")])
    grid = _get(client, HOTSPOTS, bbox=inner, level="grid")
    assert [f["properties"]["code"] for f in grid["features"]] == [world.lat.code(2, 2)]
    hot = _get(client, HOTSPOTS, gi_class="hot99", limit=100)
    expected = set(world.session.scalars(text(
        "SELECT code FROM hotspot_stat WHERE gi_class = 'hot99'")))
    assert {f["properties"]["code"] for f in hot["features"]} == expected
    assert hot["numberMatched"] == len(expected)
    bad = client.get(HOTSPOTS, params={"level": "parish"})
    assert bad.status_code == 422 and "level" in bad.text


@pytest.mark.parametrize("role", ["grid_worker", "street", "registrar", "unit_handler"])
def test_hotspots_are_forbidden_below_command_level(world: World, role: str) -> None:
    unit = world.session.scalar(text("SELECT id FROM unit ORDER BY id LIMIT 1"))
    client = world.login_as(role, **{
        "grid_worker": {"grid_codes": [world.lat.code(2, 2)]}, "street": {"street_code": STREET},
        "registrar": {}, "unit_handler": {"unit_id": unit}}[role])
    tile = lonlat_to_tile(*world.lat.centre(2, 2), 15)
    for url in ("/collections/hotspots", HOTSPOTS, f"{HOTSPOTS}/1",
                "/collections/hotspots/schema", "/collections/hotspots/tiles",
                "/collections/hotspots/tiles/WebMercatorQuad",
                "/collections/hotspots/tiles/WebMercatorQuad/tilejson.json",
                f"/collections/hotspots/tiles/WebMercatorQuad/{tile.z}/{tile.y}/{tile.x}"):
        r = client.get(url)
        assert r.status_code == 403, (url, r.text)
        assert r.json()["detail"] == (f"role {role} may not read collection 'hotspots'; "
                                      "readable by: commander, discipline, admin"), url
    listed = client.get("/collections").json()["collections"]
    assert [c["id"] for c in listed] == ["streets", "communities", "grids", "cases",
                                         "projects"]
    assert client.get(PROJECTS).status_code == 200


def test_command_level_roles_see_all_six_collections(world: World) -> None:
    for role in ("commander", "discipline", "admin"):
        body = world.login_as(role).get("/collections").json()
        ids = [c["id"] for c in body["collections"]]
        assert ids == ["streets", "communities", "grids", "cases", "projects", "hotspots"]
    doc = world.login_as("commander").get("/collections/hotspots").json()
    assert doc["title"] == "热点 Hotspots" and "command-level" in doc["description"]
    [bbox] = doc["extent"]["spatial"]["bbox"]
    outline = world.lat.cell(6, 0).union(world.lat.cell(0, 6)).bounds
    assert bbox == pytest.approx(list(outline), abs=1e-9)
    projects = world.login_as("commander").get("/collections/projects").json()
    assert projects["extent"]["temporal"]["interval"] == [
        ["2019-12-31T16:00:00Z", "2020-06-29T16:00:00Z"]]


# --- tiles ---------------------------------------------------------------------------------------


def _tile(client: TestClient, collection: str, t: Tile, **params: Any) -> list[dict[str, Any]]:
    r = client.get(tile_url(collection, t), params=params)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == MEDIA_TYPE
    layers = decode(r.content, t)
    assert set(layers) == {collection}
    found: list[dict[str, Any]] = layers[collection]["features"]
    return found


def test_project_tiles_carry_the_projects_with_scoped_counts(world: World) -> None:
    t = lonlat_to_tile(*world.lat.centre(2, 2), 15)
    feats = {f["id"]: f for f in _tile(world.login_as("commander"), "projects", t)}
    assert world.p1 in feats
    props = feats[world.p1]["properties"]
    assert (props["code"], props["project_type"], props["type_label"], props["cases"],
            props["open_cases"], props["approximate"], props["community_code"]) == (
        "P-1", "relocation", "回迁/动迁", 8, 8, True, COMMUNITY)
    # The polygon comes back where it is, clipped to the tile and its buffer.
    expected = world.lat.cell(2, 2).intersection(box(*t.bounds_lonlat(BUFFER / EXTENT)))
    got = shape(feats[world.p1]["geometry"])
    assert got.symmetric_difference(expected).area < 0.01 * expected.area
    other = world.login_as("grid_worker", grid_codes=[world.lat.code(0, 0)])
    theirs = {f["id"]: f["properties"]["cases"] for f in _tile(other, "projects", t)}
    assert theirs[world.p1] == 0


def test_hotspot_tiles_match_postgis_and_filter_by_level(world: World) -> None:
    client = world.login_as("commander")
    t = lonlat_to_tile(*world.lat.centre(2, 2), 15)
    grid = _tile(client, "hotspots", t, level="grid")
    expected = dict(world.session.execute(text(
        "SELECT id, code FROM hotspot_stat WHERE level = 'grid' AND ST_Intersects("
        "ST_Transform(geom, 3857), ST_TileEnvelope(:z, :x, :y, margin => :m))"),
        {"z": t.z, "x": t.x, "y": t.y, "m": BUFFER / EXTENT}).all())
    assert len(grid) == len(expected) > 0
    assert {f["id"]: f["properties"]["code"] for f in grid} == expected
    assert {f["properties"]["level"] for f in grid} == {"grid"}
    busy = next(f for f in grid if f["properties"]["code"] == world.lat.code(2, 2))
    assert busy["properties"]["cases"] == 8
    assert busy["properties"]["gi_class"].startswith("hot")
    everything = _tile(client, "hotspots", t)
    assert {f["properties"]["level"] for f in everything} == {
        "grid", "community", "street", "project"}


def test_an_empty_tile_is_204_and_gcj02_tiles_are_shifted(world: World) -> None:
    client = world.login_as("commander")
    far = lonlat_to_tile(100.0, 30.0, 12)
    for collection in ("projects", "hotspots"):
        r = client.get(tile_url(collection, far))
        assert r.status_code == 204 and r.content == b""
    # The cell shifted to GCJ-02 (≈ 430 m), and the zoom-14 tile that holds all of it.
    x0, y0, x1, y1 = world.lat.cell(2, 2).bounds
    (gx0, gx1), (gy0, gy1) = (list(map(float, v)) for v in gcrs.wgs84_to_gcj02([x0, x1],
                                                                               [y0, y1]))
    assert abs(gx0 - x0) > 0.002
    t = lonlat_to_tile((gx0 + gx1) / 2, (gy0 + gy1) / 2, 14)
    assert box(*t.bounds_lonlat()).contains(box(gx0, gy0, gx1, gy1))
    shifted = {f["id"]: f for f in _tile(client, "projects", t, crs="gcj02")}
    # Within a tile unit at zoom 14 (≈ 0.6 m ≈ 7e-6°) plus the affine fit.
    assert shape(shifted[world.p1]["geometry"]).bounds == pytest.approx(
        (gx0, gy0, gx1, gy1), abs=2e-5)
