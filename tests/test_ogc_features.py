"""OGC API – Features over the boundary collections: documents, paging, filters, CRS, and GDAL
reading it as a real client over HTTP (all six collections — boundaries, cases, projects and
the stored hotspot layers — paging included). The cases collection's own rules are in
test_ogc_cases.py, the projects' and hotspots' in test_ogc_projects_hotspots.py."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi.testclient import TestClient
from shapely.geometry import box, shape
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from api.app import AppSettings, create_app
from api.deps import get_session
from geo import crs as gcrs
from geo.access.keys import resolve_keys
from geo.access.tokens import issue_token
from geo.access.users import create_user
from geo.cases.intake import create_cases
from geo.cases.reference import load_reference_data
from geo.cases.schema import CaseIn, LocationIn, PetitionerIn
from geo.errors import InvalidInput
from geo.hotspots.refresh import refresh_hotspots
from geo.ogc.items import shift_features
from geo.ogc.params import OFFICE_TZ, parse_datetime
from geo.settings import CaseSettings, GeoSettings, HotspotSettings, SecuritySettings
from tests.conftest import TEST_DATA_KEY, TEST_SECRET_KEY

GEOJSON = "application/geo+json"
JSON = "application/json"
OGRINFO = "/usr/bin/ogrinfo"
OGR2OGR = "/usr/bin/ogr2ogr"
# Zhongshan district, WGS84 (NOTES.md), with a little slack.
DISTRICT = (121.60, 38.83, 121.85, 38.95)

ACTIVE_GRIDS = """
    FROM grid_cell gc JOIN boundary_generation g ON g.id = gc.generation_id AND g.is_active
"""


def _get(client: TestClient, url: str, **params: Any) -> dict[str, Any]:
    r = client.get(url, params=params)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def _rels(body: dict[str, Any], rel: str) -> list[dict[str, str]]:
    return [link for link in body["links"] if link["rel"] == rel]


# --- documents -----------------------------------------------------------------------------------


def test_landing_page_links_to_api_docs_conformance_and_data(client: TestClient) -> None:
    r = client.get("/")
    assert r.status_code == 200
    assert r.headers["content-type"] == JSON
    body = r.json()
    assert body["title"]
    links = {link["rel"]: link for link in body["links"]}
    assert links["self"]["href"] == "http://testserver/"
    assert links["service-desc"] == {
        "href": "http://testserver/api", "rel": "service-desc",
        "type": "application/vnd.oai.openapi+json;version=3.0",
        "title": links["service-desc"]["title"]}
    assert links["service-doc"]["href"] == "http://testserver/docs"
    assert links["conformance"]["href"] == "http://testserver/conformance"
    assert links["data"]["href"] == "http://testserver/collections"
    assert links["data"]["type"] == JSON


def test_conformance_lists_features_core_geojson_oas30_and_tiles(client: TestClient) -> None:
    r = client.get("/conformance")
    assert r.status_code == 200 and r.headers["content-type"] == JSON
    assert r.json() == {"conformsTo": [
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
        "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/core",
        "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tileset",
        "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tilesets-list",
        "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/geodata-tilesets",
        "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/mvt",
    ]}


def test_api_document_lists_the_property_filters_on_the_items_path(client: TestClient) -> None:
    r = client.get("/api")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/vnd.oai.openapi+json;version=3.0"
    doc = r.json()
    assert doc["openapi"].startswith("3.")
    items = doc["paths"]["/collections/{collectionId}/items"]["get"]
    params = {p["name"]: p for p in items["parameters"]}
    for name in ("collectionId", "bbox", "bbox-crs", "limit", "offset", "crs", "datetime",
                 "code", "name", "parent_code", "street_code", "grid_type"):
        assert name in params, name
    assert params["limit"]["schema"]["maximum"] == 10_000
    assert "grids" in params["street_code"]["description"]
    assert items["operationId"] == "list_items"
    assert "/collections/{collectionId}/items/{featureId}" in doc["paths"]


def test_collections_describe_the_boundary_layers_and_cases(zhongshan: None,
                                                           client: TestClient) -> None:
    r = client.get("/collections")
    assert r.status_code == 200 and r.headers["content-type"] == JSON
    body = r.json()
    assert _rels(body, "self")[0]["href"] == "http://testserver/collections"
    collections = {c["id"]: c for c in body["collections"]}
    assert list(collections) == ["streets", "communities", "grids", "cases", "projects",
                                 "hotspots"]
    assert collections["cases"]["title"] == "信访事项 Petition cases"
    # No case in this database: the cases extent is the whole world, its time unknown.
    assert collections.pop("cases")["extent"]["temporal"]["interval"] == [[None, None]]
    # Nor a project or a hotspot refresh: the same.
    assert collections["projects"]["title"] == "项目 Projects"
    assert collections["hotspots"]["title"] == "热点 Hotspots"
    for empty in ("projects", "hotspots"):
        extent = collections.pop(empty)["extent"]
        assert extent["spatial"]["bbox"] == [[-180.0, -90.0, 180.0, 90.0]], empty
        assert extent["temporal"]["interval"] == [[None, None]], empty
    assert collections["streets"]["title"] == "街道 Streets"
    assert collections["communities"]["title"].startswith("社区")
    assert collections["grids"]["title"].startswith("网格")
    for cid, c in collections.items():
        [bbox] = c["extent"]["spatial"]["bbox"]
        minx, miny, maxx, maxy = bbox
        assert DISTRICT[0] <= minx < maxx <= DISTRICT[2], (cid, bbox)
        assert DISTRICT[1] <= miny < maxy <= DISTRICT[3], (cid, bbox)
        assert c["extent"]["temporal"]["interval"] == [[None, None]]
        assert c["crs"] == ["http://www.opengis.net/def/crs/OGC/1.3/CRS84",
                            "http://www.opengis.net/def/crs/EPSG/0/4326"]
        base = f"http://testserver/collections/{cid}"
        assert _rels(c, "self")[0] == {"href": base, "rel": "self", "type": JSON,
                                       "title": c["title"]}
        [items] = _rels(c, "items")
        assert (items["href"], items["type"]) == (f"{base}/items", GEOJSON)
        [described] = _rels(c, "describedBy")
        assert (described["href"], described["type"]) == (f"{base}/schema",
                                                          "application/schema+json")
        [tiles] = _rels(c, "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector")
        assert (tiles["href"], tiles["type"]) == (f"{base}/tiles", JSON)


def test_collection_extent_matches_postgis(zhongshan: None, client: TestClient,
                                           session: Session) -> None:
    body = _get(client, "/collections/grids")
    expected = session.execute(text(
        f"SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT ST_Extent(gc.geom) e"
        f" {ACTIVE_GRIDS}) x")).one()
    assert body["extent"]["spatial"]["bbox"][0] == pytest.approx(list(expected), abs=1e-9)


def test_unknown_collection_is_404_naming_it(client: TestClient) -> None:
    for url in ("/collections/parcels", "/collections/parcels/items",
                "/collections/parcels/schema", "/collections/parcels/items/1"):
        r = client.get(url)
        assert r.status_code == 404, url
        assert r.headers["content-type"] == JSON
        assert "'parcels'" in r.json()["detail"] and "grids" in r.json()["detail"]


def test_schema_types_every_property_for_gdal(client: TestClient) -> None:
    r = client.get("/collections/grids/schema")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/schema+json"
    schema = r.json()
    assert schema["$id"] == "http://testserver/collections/grids/schema"
    assert schema["type"] == "object"
    assert schema["properties"]["id"]["type"] == "integer"
    props = schema["properties"]["properties"]["properties"]
    assert {k: v["type"] for k, v in props.items()} == {
        "code": "string", "name": "string", "grid_type": "string", "parent_code": "string",
        "parent_name": "string", "street_code": "string", "street_name": "string",
        "households": "integer", "approximate": "boolean", "generation_id": "integer"}
    # No ["x", "null"] unions or anyOf anywhere: GDAL would type those fields as strings.
    assert all(isinstance(v["type"], str) and "anyOf" not in v for v in props.values())


# --- items ---------------------------------------------------------------------------------------


def test_items_page_through_396_grids_with_one_next_link_per_page(
        zhongshan: None, client: TestClient, session: Session) -> None:
    url: str | None = "/collections/grids/items?limit=100"
    pages: list[dict[str, Any]] = []
    while url is not None:
        r = client.get(url)
        assert r.status_code == 200, r.text
        assert r.headers["content-type"] == GEOJSON
        page = r.json()
        pages.append(page)
        nexts = _rels(page, "next")
        assert len(nexts) <= 1
        url = nexts[0]["href"] if nexts else None
        if url is not None:
            assert url.startswith("http://testserver/collections/grids/items?")
            assert nexts[0]["type"] == GEOJSON
    assert [p["numberReturned"] for p in pages] == [100, 100, 100, 96]
    assert [len(p["features"]) for p in pages] == [100, 100, 100, 96]
    assert {p["numberMatched"] for p in pages} == {396}
    assert [len(_rels(p, "next")) for p in pages] == [1, 1, 1, 0]
    assert [len(_rels(p, "prev")) for p in pages] == [0, 1, 1, 1]
    assert all(p["type"] == "FeatureCollection" and p["timeStamp"].endswith("Z")
               for p in pages)
    ids = [f["id"] for p in pages for f in p["features"]]
    assert all(isinstance(i, int) for i in ids)
    assert len(set(ids)) == 396
    # The ids are the table's, in order: stable across requests, pages and clients.
    db_ids = session.scalars(text(f"SELECT gc.id {ACTIVE_GRIDS} ORDER BY gc.id")).all()
    assert ids == list(db_ids)
    again = _get(client, "/collections/grids/items", limit=100, offset=200)
    assert [f["id"] for f in again["features"]] == ids[200:300]
    feature = pages[0]["features"][0]
    assert feature["type"] == "Feature"
    assert feature["geometry"]["type"] == "MultiPolygon"
    assert re.fullmatch(r"\d{15}", feature["properties"]["code"])
    assert feature["properties"]["parent_code"] == feature["properties"]["code"][:12]
    assert "社区" in feature["properties"]["parent_name"]
    assert "街道" in feature["properties"]["street_name"]


def test_item_by_id_is_the_same_feature(zhongshan: None, client: TestClient) -> None:
    listed = _get(client, "/collections/communities/items", limit=3)["features"][2]
    r = client.get(f"/collections/communities/items/{listed['id']}")
    assert r.status_code == 200 and r.headers["content-type"] == GEOJSON
    one = r.json()
    assert (one["id"], one["properties"], one["geometry"]) == (
        listed["id"], listed["properties"], listed["geometry"])
    assert _rels(one, "self")[0]["href"] == (
        f"http://testserver/collections/communities/items/{listed['id']}")


def test_missing_feature_is_404(zhongshan: None, client: TestClient) -> None:
    for fid in ("999999999", "abc", "1.5", "99999999999999999999999"):
        r = client.get(f"/collections/grids/items/{fid}")
        assert r.status_code == 404, fid
        assert "does not exist in collection 'grids'" in r.json()["detail"]
    r = client.get("/collections/streets/items/999999999")
    assert r.status_code == 404
    assert r.json()["detail"] == "feature 999999999 does not exist in collection 'streets'"


def test_counts_per_collection(zhongshan: None, client: TestClient) -> None:
    counts = {cid: _get(client, f"/collections/{cid}/items", limit=1)["numberMatched"]
              for cid in ("streets", "communities", "grids")}
    assert counts == {"streets": 6, "communities": 65, "grids": 396}


def test_offset_past_the_end_is_an_empty_page_that_still_counts(
        zhongshan: None, client: TestClient) -> None:
    page = _get(client, "/collections/grids/items", limit=100, offset=500)
    assert (page["numberMatched"], page["numberReturned"], page["features"]) == (396, 0, [])
    assert _rels(page, "next") == []
    assert "offset=400" in _rels(page, "prev")[0]["href"]


def _postgis_codes(session: Session, bbox: tuple[float, float, float, float]) -> set[str]:
    rows = session.scalars(text(
        f"SELECT gc.code {ACTIVE_GRIDS} WHERE ST_Intersects(gc.geom, "
        "ST_MakeEnvelope(:a, :b, :c, :d, 4326))"),
        dict(zip("abcd", bbox, strict=True))).all()
    return set(rows)


def test_bbox_returns_exactly_the_intersecting_cells(zhongshan: None, client: TestClient,
                                                     session: Session) -> None:
    bbox = (121.66, 38.90, 121.68, 38.915)
    expected = _postgis_codes(session, bbox)
    assert 3 < len(expected) < 396
    page = _get(client, "/collections/grids/items", bbox=",".join(map(str, bbox)), limit=1000)
    got = {f["properties"]["code"] for f in page["features"]}
    assert got == expected
    assert page["numberMatched"] == len(expected)
    query = box(*bbox)
    assert all(shape(f["geometry"]).intersects(query) for f in page["features"])
    # The same box given in GCJ-02 (as Amap would hand it out) selects the same cells.
    (gx0, gx1), (gy0, gy1) = gcrs.wgs84_to_gcj02([bbox[0], bbox[2]], [bbox[1], bbox[3]])
    shifted = _get(client, "/collections/grids/items", limit=1000, **{
        "bbox": ",".join(repr(float(v)) for v in (gx0, gy0, gx1, gy1)), "bbox-crs": "gcj02"})
    assert {f["properties"]["code"] for f in shifted["features"]} == expected


def test_bbox_paging_keeps_the_filter_in_the_next_link(zhongshan: None, client: TestClient,
                                                       session: Session) -> None:
    bbox = "121.62,38.86,121.75,38.93"
    expected = _postgis_codes(session, (121.62, 38.86, 121.75, 38.93))
    url: str | None = f"/collections/grids/items?bbox={bbox}&limit=50"
    got: list[str] = []
    while url:
        page = client.get(url).json()
        got += [f["properties"]["code"] for f in page["features"]]
        url = next((link["href"] for link in _rels(page, "next")), None)
    assert len(got) == len(set(got)) and set(got) == expected


def test_parent_code_filter_returns_exactly_one_communitys_grids(
        zhongshan: None, client: TestClient, session: Session) -> None:
    community, n = session.execute(text(
        f"SELECT gc.community_code, count(*) {ACTIVE_GRIDS} GROUP BY 1 ORDER BY 2 DESC, 1 "
        "LIMIT 1")).one()
    expected = set(session.scalars(text(
        f"SELECT gc.code {ACTIVE_GRIDS} WHERE gc.community_code = :c"), {"c": community}))
    page = _get(client, "/collections/grids/items", parent_code=community, limit=1000)
    assert page["numberMatched"] == n == len(expected) > 1
    assert {f["properties"]["code"] for f in page["features"]} == expected
    assert {f["properties"]["parent_code"] for f in page["features"]} == {community}
    # The same community among the communities, and its street's grids include these.
    [com] = _get(client, "/collections/communities/items", code=community)["features"]
    street = com["properties"]["parent_code"]
    by_street = _get(client, "/collections/grids/items", street_code=street, limit=1000)
    assert expected < {f["properties"]["code"] for f in by_street["features"]}
    assert {f["properties"]["street_code"] for f in by_street["features"]} == {street}
    communities = _get(client, "/collections/communities/items", parent_code=street, limit=100)
    assert com["id"] in {f["id"] for f in communities["features"]}


def test_name_and_code_filters_are_exact(zhongshan: None, client: TestClient) -> None:
    streets = _get(client, "/collections/streets/items")["features"]
    target = streets[3]["properties"]
    by_name = _get(client, "/collections/streets/items", name=target["name"])
    assert [f["properties"]["code"] for f in by_name["features"]] == [target["code"]]
    assert _get(client, "/collections/streets/items", name=target["name"][:2])[
        "numberMatched"] == 0
    by_code = _get(client, "/collections/streets/items", code=target["code"])
    assert by_code["numberMatched"] == 1
    # A filter survives into the next link.
    page = _get(client, "/collections/grids/items", street_code=target["code"], limit=1)
    assert page["numberMatched"] > 1
    assert f"street_code={target['code']}" in _rels(page, "next")[0]["href"]


def test_a_filter_of_another_collection_is_422_naming_it(client: TestClient) -> None:
    r = client.get("/collections/streets/items", params={"grid_type": "综合网格"})
    assert r.status_code == 422
    [err] = r.json()["detail"]
    assert err["loc"] == ["query", "grid_type"]
    assert "streets" in err["msg"]


def test_crs_gcj02_shifts_east_and_north(zhongshan: None, client: TestClient) -> None:
    wgs = _get(client, "/collections/grids/items", limit=5)["features"]
    gcj = _get(client, "/collections/grids/items", limit=5, crs="gcj02")["features"]
    bd = _get(client, "/collections/grids/items", limit=5, crs="bd09")["features"]
    for a, b, c in zip(wgs, gcj, bd, strict=True):
        assert (a["id"], a["properties"]) == (b["id"], b["properties"])
        ring_w = a["geometry"]["coordinates"][0][0]
        ring_g = b["geometry"]["coordinates"][0][0]
        assert len(ring_w) == len(ring_g)
        for (x, y), (gx, gy), (bx, by) in zip(ring_w, ring_g, c["geometry"]["coordinates"][0][0],
                                              strict=True):
            ex, ey = gcrs.wgs84_to_gcj02(x, y)
            assert (gx, gy) == pytest.approx((ex, ey), abs=1e-7)
            assert (bx, by) == pytest.approx(gcrs.wgs84_to_bd09(x, y), abs=1e-7)
            east_m = (gx - x) * 111_320 * 0.7782  # cos(38.9°)
            north_m = (gy - y) * 110_950
            assert 380 < east_m < 480 and 50 < north_m < 130, (east_m, north_m)
    # The CRS84 URI (OGC Part 2 clients) means WGS84.
    uri = _get(client, "/collections/grids/items", limit=5,
               crs="http://www.opengis.net/def/crs/OGC/1.3/CRS84")["features"]
    assert uri == wgs


def test_epsg_4326_uri_means_latitude_first(zhongshan: None, client: TestClient) -> None:
    epsg = "http://www.opengis.net/def/crs/EPSG/0/4326"
    wgs = client.get("/collections/grids/items", params={"limit": 3})
    assert wgs.headers["content-crs"] == "<http://www.opengis.net/def/crs/OGC/1.3/CRS84>"
    r = client.get("/collections/grids/items", params={"limit": 3, "crs": epsg})
    assert r.status_code == 200 and r.headers["content-crs"] == f"<{epsg}>"
    for a, b in zip(wgs.json()["features"], r.json()["features"], strict=True):
        ring_a, ring_b = a["geometry"]["coordinates"][0][0], b["geometry"]["coordinates"][0][0]
        assert ring_b == [[y, x] for x, y in ring_a]
    one = client.get(f"/collections/grids/items/{a['id']}", params={"crs": epsg}).json()
    assert one["geometry"] == b["geometry"]
    # A bbox in EPSG:4326 is latitude first too.
    lonlat = _get(client, "/collections/grids/items", bbox="121.66,38.90,121.68,38.915")
    latlon = _get(client, "/collections/grids/items", bbox="38.90,121.66,38.915,121.68",
                  **{"bbox-crs": epsg})
    assert [f["id"] for f in latlon["features"]] == [f["id"] for f in lonlat["features"]]


@pytest.mark.parametrize(("params", "field"), [
    ({"limit": 10_001}, "limit"),
    ({"limit": 0}, "limit"),
    ({"limit": "ten"}, "limit"),
    ({"offset": -1}, "offset"),
    ({"bbox": "121.6,38.8,121.7"}, "bbox"),
    ({"bbox": "121.7,38.8,121.6,38.9"}, "bbox"),
    ({"bbox": "a,b,c,d"}, "bbox"),
    ({"bbox": "-170,-80,170,80"}, "bbox"),
    ({"bbox-crs": "EPSG:3857", "bbox": "1,2,3,4"}, "bbox-crs"),
    ({"crs": "EPSG:3857"}, "crs"),
    ({"datetime": "yesterday"}, "datetime"),
    ({"f": "html"}, "f"),
])
def test_bad_parameters_are_422_naming_them(client: TestClient, params: dict[str, Any],
                                            field: str) -> None:
    r = client.get("/collections/grids/items", params=params)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == JSON
    assert any(e["loc"][-1] == field for e in r.json()["detail"]), r.json()


def test_six_number_bbox_and_datetime_on_timeless_collections(
        zhongshan: None, client: TestClient) -> None:
    four = _get(client, "/collections/grids/items", bbox="121.66,38.90,121.68,38.915")
    six = _get(client, "/collections/grids/items", bbox="121.66,38.90,0,121.68,38.915,100")
    assert six["features"] == four["features"]
    # Boundaries have no time: a well-formed datetime selects everything.
    timed = _get(client, "/collections/grids/items", datetime="2020-01-01/..", limit=1)
    assert timed["numberMatched"] == 396


def test_everything_needs_the_token(anon_client: TestClient) -> None:
    for url in ("/", "/conformance", "/api", "/collections", "/collections/grids",
                "/collections/grids/schema", "/collections/grids/items",
                "/collections/grids/items/1"):
        r = anon_client.get(url)
        assert r.status_code == 401, url
        assert r.headers["content-type"] == JSON


def test_page_of_10000_is_accepted(zhongshan: None, client: TestClient) -> None:
    page = _get(client, "/collections/grids/items", limit=10_000, crs="gcj02")
    assert page["numberReturned"] == 396 and _rels(page, "next") == []


# --- the core without HTTP -----------------------------------------------------------------------


def test_parse_datetime_forms() -> None:
    day = parse_datetime("2020-05-01")
    assert (day.start, day.end) == (
        datetime(2020, 5, 1, tzinfo=OFFICE_TZ),
        datetime(2020, 5, 1, 23, 59, 59, 999999, tzinfo=OFFICE_TZ))
    opened = parse_datetime("2020-05-01T08:00:00Z/..")
    assert (opened.start, opened.end) == (datetime(2020, 5, 1, 8, tzinfo=UTC), None)
    assert parse_datetime("/2020-05-01").start is None
    for bad in ("../..", "2020-05-02/2020-05-01", "2020-13-01", "soon/.."):
        with pytest.raises(InvalidInput) as err:
            parse_datetime(bad)
        assert err.value.field == "datetime"


def test_shift_features_moves_every_geometry_type_in_place() -> None:
    p, q = [121.70, 38.90], [121.71, 38.91]
    ring = [p, q, [121.70, 38.91], p]
    geometries: list[dict[str, Any] | None] = [
        {"type": "Point", "coordinates": p},
        {"type": "MultiPoint", "coordinates": [p, q]},
        {"type": "LineString", "coordinates": [p, q]},
        {"type": "Polygon", "coordinates": [ring]},
        {"type": "MultiPolygon", "coordinates": [[ring], [ring]]},
        {"type": "GeometryCollection", "geometries": [
            {"type": "Point", "coordinates": q}, {"type": "LineString", "coordinates": [q, p]}]},
        None,
    ]
    features = [{"type": "Feature", "id": i, "geometry": json.loads(json.dumps(g)),
                 "properties": {}} for i, g in enumerate(geometries)]
    shift_features(features, "gcj02")

    def moved(pos: list[float]) -> list[float]:
        x, y = gcrs.wgs84_to_gcj02(*pos)
        return [round(float(x), 7), round(float(y), 7)]

    mp, mq = moved(p), moved(q)
    mring = [mp, mq, moved([121.70, 38.91]), mp]
    assert [f["geometry"] for f in features] == [
        {"type": "Point", "coordinates": mp},
        {"type": "MultiPoint", "coordinates": [mp, mq]},
        {"type": "LineString", "coordinates": [mp, mq]},
        {"type": "Polygon", "coordinates": [mring]},
        {"type": "MultiPolygon", "coordinates": [[mring], [mring]]},
        {"type": "GeometryCollection", "geometries": [
            {"type": "Point", "coordinates": mq}, {"type": "LineString", "coordinates": [mq, mp]}]},
        None,
    ]


# --- GDAL as a real client -----------------------------------------------------------------------


def _require(tool: str) -> str:
    if not os.path.exists(tool):
        reason = f"{tool} missing (gridmap system test-deps installs gdal-bin)"
        pytest.fail(reason) if os.environ.get("CI") else pytest.skip(reason)
    return tool


# Cases GDAL reads: this many the commander may see, and two 检举控告 cases they may not.
GDAL_CASES = 130
GDAL_RESTRICTED = 2
# Stored hotspot features after the fixture's refresh: 396 grids, 65 社区, 6 街道, 2 projects.
GDAL_HOTSPOTS = 396 + 65 + 6 + 2


def _load_gdal_cases(session: Session) -> list[int]:
    """Located cases at the first grids' inner points, with petitioners and room-level
    addresses (to be masked); the ids of those a commander may see."""
    load_reference_data(session)
    points = session.execute(text(
        "SELECT ST_X(p) AS lon, ST_Y(p) AS lat FROM (SELECT ST_PointOnSurface(gc.geom) AS p"
        f" {ACTIVE_GRIDS} ORDER BY gc.code LIMIT :n) x"),
        {"n": GDAL_CASES + GDAL_RESTRICTED}).all()
    categories = ["property", "housing", "labour", "urban", "relocation"]
    cases = [CaseIn(
        external_id=f"GDAL-{i:04d}", channel="visit",
        received_at=datetime(2020, 3, 2, 9, tzinfo=OFFICE_TZ) + timedelta(hours=i),
        category="accusation" if i >= GDAL_CASES else categories[i % len(categories)],
        content="楼道灯坏了无人修", address=f"人民路{i + 1}号3单元502室",
        petitioners=[PetitionerIn(name="张三"), PetitionerIn(name="欧阳小明")],
        location=LocationIn(lon=p.lon, lat=p.lat, crs="wgs84"))
        for i, p in enumerate(points)]
    ids, outcomes = create_cases(session, cases, None, CaseSettings())
    assert {o.flag for o in outcomes} == {"inside"}
    return ids[:GDAL_CASES]


def _load_gdal_projects_and_hotspots(session: Session) -> None:
    """Two projects drawn on grid cells — GDAL-P1 on the first grid (its case is attached),
    GDAL-P2 on the grid of the first 检举控告 case (which the commander may not count) — and the
    hotspot layers refreshed for 2020, all in the caller's transaction (plain INSERTs: no
    advisory lock is held across the module)."""
    session.execute(text(
        "INSERT INTO project (code, name, project_type, households, approximate, geom, "
        "community_code) SELECT :code, :name, :kind, 50, true, gc.geom, gc.community_code"
        f" {ACTIVE_GRIDS} ORDER BY gc.code OFFSET :n LIMIT 1"),
        [{"code": "GDAL-P1", "name": "测试回迁地块", "kind": "relocation", "n": 0},
         {"code": "GDAL-P2", "name": "测试欠薪企业", "kind": "enterprise", "n": GDAL_CASES}])
    refresh_hotspots(session, GeoSettings(), HotspotSettings(permutations=99),
                     today=date(2020, 12, 31))


@dataclass
class OgcServer:
    """The app served over HTTP, a commander's bearer token and the cases they may see."""

    url: str
    token: str
    case_ids: list[int]


@pytest.fixture(scope="module")
def ogc_server(database_url: str, engine: Engine, zhongshan: None) -> Iterator[OgcServer]:
    """The app under uvicorn on 127.0.0.1 (a free port), a commander's bearer token and
    GDAL_CASES cases. User and cases live in one uncommitted transaction that every request
    shares (one at a time) and that is rolled back afterwards, so no other test sees them."""
    settings = AppSettings(database_url=database_url, security=SecuritySettings(
        secret_key=TEST_SECRET_KEY, data_key=TEST_DATA_KEY, demo=False))
    lock = threading.Lock()
    with engine.connect() as conn:
        trans = conn.begin()
        session = Session(bind=conn, join_transaction_mode="create_savepoint")

        def shared_session() -> Iterator[Session]:
            with lock:
                yield session

        try:
            user, _ = create_user(session, "ogc_gdal", "commander")
            case_ids = _load_gdal_cases(session)
            _load_gdal_projects_and_hotspots(session)
            session.flush()
            token, _ = issue_token(user, resolve_keys(settings.security), 30)
            app = create_app(settings)
            app.dependency_overrides[get_session] = shared_session
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
            server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
            thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]},
                                      daemon=True)
            thread.start()
            try:
                deadline = time.monotonic() + 15
                while not server.started:
                    assert thread.is_alive() and time.monotonic() < deadline, \
                        "uvicorn did not start"
                    time.sleep(0.02)
                yield OgcServer(f"http://127.0.0.1:{port}", token, case_ids)
            finally:
                server.should_exit = True
                thread.join(15)
                sock.close()
        finally:
            session.close()
            trans.rollback()


def _gdal(args: list[str], token: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GDAL_HTTP_HEADERS": f"Authorization: Bearer {token}",
           "CPL_DEBUG": "ON", "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1"}
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def _layers(ogrinfo_out: str) -> dict[str, dict[str, str]]:
    """Layer name → {'Feature Count': …, field name: type} from `ogrinfo -so` output."""
    layers: dict[str, dict[str, str]] = {}
    current: dict[str, str] = {}
    for line in ogrinfo_out.splitlines():
        if line.startswith("Layer name: "):
            current = layers.setdefault(line.removeprefix("Layer name: ").strip(), {})
        elif line.startswith("Feature Count: "):
            current["Feature Count"] = line.removeprefix("Feature Count: ").strip()
        elif m := re.match(r"^(\w+): ([\w()]+) \(", line):
            current[m.group(1)] = m.group(2)
    return layers


def test_gdal_ogrinfo_lists_the_collections_with_counts_and_types(
        ogc_server: OgcServer) -> None:
    url, token = ogc_server.url, ogc_server.token
    done = _gdal([_require(OGRINFO), "-ro", "-al", "-so", f"OAPIF:{url}"], token)
    layers = _layers(done.stdout)
    assert set(layers) == {"streets", "communities", "grids", "cases", "projects",
                           "hotspots"}, done.stdout
    # The commander's count: the two 检举控告 cases are outside their scope.
    assert {k: v["Feature Count"] for k, v in layers.items()} == {
        "streets": "6", "communities": "65", "grids": "396", "cases": str(GDAL_CASES),
        "projects": "2", "hotspots": str(GDAL_HOTSPOTS)}
    projects, hotspots = layers["projects"], layers["hotspots"]
    assert (projects["cases"], projects["approximate"], projects["start_date"],
            projects["buffer_m"]) == ("Integer", "Integer(Boolean)", "Date", "Real")
    assert (hotspots["cases"], hotspots["per_1000_households"], hotspots["gi_class"],
            hotspots["window_from"]) == ("Integer", "Real", "String", "DateTime")
    cases = layers["cases"]
    assert (cases["received_at"], cases["due_date"], cases["persons_count"],
            cases["is_repeat"], cases["band"], cases["petitioner"]) == (
        "DateTime", "Date", "Integer", "Integer(Boolean)", "String", "String")
    grids = layers["grids"]
    assert (grids["code"], grids["households"], grids["parent_code"]) == (
        "String", "Integer", "String")
    assert layers["streets"]["households"] == "Integer"
    # The types came from the collection's JSON Schema, not from guessing at page 1.
    assert "Using JSON schema" in done.stderr
    assert "Unexpected Content-Type" not in done.stderr
    assert "Extent: (121." in done.stdout


def test_gdal_ogr2ogr_pages_through_every_grid(ogc_server: OgcServer,
                                               tmp_path: Path) -> None:
    url, token = ogc_server.url, ogc_server.token
    out = tmp_path / "grids.geojson"
    done = _gdal([_require(OGR2OGR), "-f", "GeoJSON", str(out), f"OAPIF:{url}", "grids",
                  "-oo", "PAGE_SIZE=50"], token)
    # 396 grids at 50 a page: GDAL followed 7 next links (offset 50 … 350).
    followed = set(re.findall(r"offset=(\d+)", done.stderr))
    assert {str(o) for o in range(50, 396, 50)} <= followed, done.stderr
    features = json.loads(out.read_text(encoding="utf-8"))["features"]
    assert len(features) == 396
    codes = [f["properties"]["code"] for f in features]
    assert len(set(codes)) == 396 and all(isinstance(c, str) and len(c) == 15 for c in codes)
    assert all(isinstance(f["properties"]["households"], int) for f in features)
    assert all(isinstance(f["properties"]["approximate"], bool) for f in features)


def test_gdal_pushes_property_filters_to_the_server(ogc_server: OgcServer,
                                                    engine: Engine) -> None:
    url, token = ogc_server.url, ogc_server.token
    with Session(engine) as s:
        community, n = s.execute(text(
            f"SELECT gc.community_code, count(*) {ACTIVE_GRIDS} GROUP BY 1 ORDER BY 1 "
            "LIMIT 1")).one()
    done = _gdal([_require(OGRINFO), "-ro", "-so", f"OAPIF:{url}", "grids",
                  "-where", f"parent_code = '{community}'"], token)
    assert _layers(done.stdout)["grids"]["Feature Count"] == str(n)
    # Listed in the OpenAPI document, so GDAL asked the server rather than filtering locally.
    assert f"parent_code={community}" in done.stderr, done.stderr


def test_gdal_ogr2ogr_pages_through_every_case_masked_and_scoped(
        ogc_server: OgcServer, tmp_path: Path) -> None:
    url, token = ogc_server.url, ogc_server.token
    out = tmp_path / "cases.geojson"
    done = _gdal([_require(OGR2OGR), "-f", "GeoJSON", str(out), f"OAPIF:{url}", "cases",
                  "-oo", "PAGE_SIZE=50"], token)
    # 130 cases at 50 a page: GDAL followed the next links to offsets 50 and 100.
    assert re.search(r"/collections/cases/items\?[^ ]*offset=50", done.stderr), done.stderr
    assert re.search(r"/collections/cases/items\?[^ ]*offset=100", done.stderr), done.stderr
    features = json.loads(out.read_text(encoding="utf-8"))["features"]
    assert len(features) == GDAL_CASES
    # Every case the commander may see, once, under its own id; no 检举控告 case.
    assert sorted(f["properties"]["id"] for f in features) == sorted(ogc_server.case_ids)
    assert {f["properties"]["category"] for f in features} <= {
        "property", "housing", "labour", "urban", "relocation"}
    props = features[0]["properties"]
    assert props["petitioner"] == "张*、欧阳**"
    assert re.fullmatch(r"人民路\d+号", props["address"]), props["address"]
    assert props["status"] == "registered" and props["status_label"] == "登记"
    assert props["received_at"].startswith("2020/03/02") or \
        props["received_at"].startswith("2020-03-02"), props["received_at"]
    assert all(f["geometry"]["type"] == "Point" for f in features)
    assert all(isinstance(f["properties"]["is_repeat"], bool) for f in features)


def test_gdal_pushes_case_filters_to_the_server(ogc_server: OgcServer) -> None:
    url, token = ogc_server.url, ogc_server.token
    done = _gdal([_require(OGRINFO), "-ro", "-so", f"OAPIF:{url}", "cases",
                  "-where", "category = 'labour'"], token)
    assert _layers(done.stdout)["cases"]["Feature Count"] == str(
        sum(1 for i in range(GDAL_CASES) if i % 5 == 2))
    assert "category=labour" in done.stderr, done.stderr


def test_gdal_ogr2ogr_pages_through_every_hotspot_and_project(ogc_server: OgcServer,
                                                               tmp_path: Path) -> None:
    url, token = ogc_server.url, ogc_server.token
    out = tmp_path / "hotspots.geojson"
    done = _gdal([_require(OGR2OGR), "-f", "GeoJSON", str(out), f"OAPIF:{url}", "hotspots",
                  "-oo", "PAGE_SIZE=100"], token)
    # 469 features at 100 a page: GDAL followed the next links to offsets 100 … 400.
    for offset in range(100, GDAL_HOTSPOTS, 100):
        assert re.search(rf"/collections/hotspots/items\?[^ ]*offset={offset}", done.stderr), \
            (offset, done.stderr)
    features = json.loads(out.read_text(encoding="utf-8"))["features"]
    assert len(features) == GDAL_HOTSPOTS
    keys = {(f["properties"]["level"], f["properties"]["code"]) for f in features}
    assert len(keys) == GDAL_HOTSPOTS
    levels: dict[str, int] = {}
    for level, _ in keys:
        levels[level] = levels.get(level, 0) + 1
    assert levels == {"grid": 396, "community": 65, "street": 6, "project": 2}
    # Every case the commander may see is counted once at grid level.
    assert sum(f["properties"]["cases"] for f in features
               if f["properties"]["level"] == "grid") == GDAL_CASES
    out = tmp_path / "projects.geojson"
    _gdal([_require(OGR2OGR), "-f", "GeoJSON", str(out), f"OAPIF:{url}", "projects"], token)
    projects = {f["properties"]["code"]: f["properties"]
                for f in json.loads(out.read_text(encoding="utf-8"))["features"]}
    # GDAL-P2's only case is 检举控告: the commander's count leaves it out.
    assert {k: (p["cases"], p["type_label"], p["approximate"]) for k, p in projects.items()} \
        == {"GDAL-P1": (1, "回迁/动迁", True), "GDAL-P2": (0, "欠薪企业", True)}
