"""The generated Zhongshan district loaded into PostGIS end to end: official codes, every grid
inside its community, no overlaps, lookups that agree with the polygons, and the map page."""

from __future__ import annotations

import csv
import json
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.settings import PROJECT_ROOT

SOURCES = PROJECT_ROOT / "data" / "boundaries" / "sources"
pytestmark = pytest.mark.usefixtures("zhongshan")


def _official(name: str) -> dict[str, str]:
    with (SOURCES / name).open(encoding="utf-8", newline="") as fh:
        return {row["code12"]: row["name"] for row in csv.DictReader(fh)}


def _active(session: Session, level: str) -> dict[str, str]:
    rows = session.execute(text(
        "SELECT a.code, a.name FROM area a JOIN boundary_generation g ON g.id = a.generation_id "
        "AND g.is_active WHERE a.level = :level"), {"level": level})
    return {r.code: r.name for r in rows}


def test_six_streets_with_official_codes_and_names(session: Session) -> None:
    streets = _active(session, "street")
    assert len(streets) == 6
    assert streets == _official("zhongshan_210202_subdistricts.csv")


def test_65_communities_with_official_codes_and_names(session: Session) -> None:
    communities = _active(session, "community")
    assert len(communities) == 65
    assert communities == _official("zhongshan_210202_communities.csv")


def test_grid_counts_and_codes(session: Session) -> None:
    rows = session.execute(text(
        "SELECT gc.community_code, count(*) AS n, bool_and(left(gc.code, 12) = gc.community_code) "
        "AS prefixed, bool_and(gc.approximate) AS approx FROM grid_cell gc JOIN "
        "boundary_generation g ON g.id = gc.generation_id AND g.is_active "
        "GROUP BY gc.community_code")).all()
    assert len(rows) == 65
    assert all(r.n >= 2 and r.prefixed and r.approx for r in rows)
    assert 300 <= sum(r.n for r in rows) <= 500


def test_every_grid_lies_inside_its_community(session: Session) -> None:
    # Measured by PostGIS itself, independently of the importer's own check.
    outside = session.execute(text("""
        SELECT gc.code, ST_Area(ST_Transform(ST_Difference(gc.geom, c.geom), 4550)) AS m2
        FROM grid_cell gc
        JOIN boundary_generation g ON g.id = gc.generation_id AND g.is_active
        JOIN area c ON c.code = gc.community_code AND c.level = 'community'
        JOIN boundary_generation gcom ON gcom.id = c.generation_id AND gcom.is_active
        WHERE ST_Area(ST_Transform(ST_Difference(gc.geom, c.geom), 4550)) > 0.01
    """)).all()
    assert outside == []
    joined = session.scalar(text(
        "SELECT count(*) FROM grid_cell gc JOIN boundary_generation g ON g.id = gc.generation_id "
        "AND g.is_active JOIN area c ON c.code = gc.community_code AND c.level = 'community'"))
    assert joined == session.scalar(text(
        "SELECT count(*) FROM grid_cell gc JOIN boundary_generation g ON g.id = gc.generation_id "
        "AND g.is_active"))


def test_no_two_grids_overlap(session: Session) -> None:
    overlaps = session.execute(text("""
        WITH cells AS (
            SELECT gc.code, gc.geom FROM grid_cell gc
            JOIN boundary_generation g ON g.id = gc.generation_id AND g.is_active
        )
        SELECT a.code, b.code, ST_Area(ST_Transform(ST_Intersection(a.geom, b.geom), 4550)) AS m2
        FROM cells a JOIN cells b ON a.code < b.code AND a.geom && b.geom
        WHERE ST_Relate(a.geom, b.geom, '2********')
          AND ST_Area(ST_Transform(ST_Intersection(a.geom, b.geom), 4550)) > 0.01
    """)).all()
    assert overlaps == []


def test_lookup_inside_each_community_returns_that_community(client: TestClient,
                                                             session: Session) -> None:
    points = session.execute(text("""
        SELECT c.code, s.name AS street, ST_X(ST_PointOnSurface(c.geom)) AS lon,
               ST_Y(ST_PointOnSurface(c.geom)) AS lat
        FROM area c JOIN boundary_generation g ON g.id = c.generation_id AND g.is_active
        JOIN area s ON s.code = c.parent_code AND s.level = 'street'
        WHERE c.level = 'community'
    """)).all()
    assert len(points) == 65
    for p in points:
        resp = client.get("/grids/lookup", params={"lon": p.lon, "lat": p.lat})
        assert resp.status_code == 200, resp.text
        body = resp.json()
        assert body["community_code"] == p.code and body["street_name"] == p.street
        assert body["grid_code"].startswith(p.code)


def test_vertex_shared_by_several_grids_goes_to_the_lowest_code(client: TestClient,
                                                                session: Session) -> None:
    row = session.execute(text("""
        WITH cells AS (
            SELECT gc.code, gc.geom FROM grid_cell gc
            JOIN boundary_generation g ON g.id = gc.generation_id AND g.is_active
        ), vertices AS (
            SELECT code, (ST_DumpPoints(geom)).geom AS pt FROM cells
        )
        SELECT ST_X(pt) AS lon, ST_Y(pt) AS lat, array_agg(DISTINCT code ORDER BY code) AS codes
        FROM vertices GROUP BY pt HAVING count(DISTINCT code) >= 3
        ORDER BY 3 LIMIT 1
    """)).one()
    resp = client.get("/grids/lookup", params={"lon": row.lon, "lat": row.lat})
    assert resp.status_code == 200
    assert resp.json()["grid_code"] == row.codes[0]


def test_map_page_draws_every_area_without_other_hosts(client: TestClient) -> None:
    resp = client.get("/map")
    assert resp.status_code == 200
    html = resp.text
    assert not re.search(r"https?://", html)
    for layer in ("街道", "社区", "网格"):
        assert layer in html
    codes = set(re.findall(r'"code":\s*"(\d{15})"', html))
    assert len(codes) == json.loads(
        (PROJECT_ROOT / "data" / "boundaries" / "zhongshan_grids.geojson").read_text()
    )["features"].__len__()
    assert "示意" in html
    for community in _official("zhongshan_210202_communities.csv").values():
        # folium embeds GeoJSON with ASCII escapes; either spelling is the same string to JS.
        assert community in html or json.dumps(community)[1:-1] in html, community
