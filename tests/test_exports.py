"""Exports (GET /exports/{collection}, `gridmap export`): GeoPackage read back by GDAL, RFC 7946
GeoJSON with optional GCJ-02/BD-09 shift, CSV with lon/lat or WKT; scoped by role, masked by
default, audited with the row count; bad input is a 422 (API) or exit code 2 (CLI)."""

from __future__ import annotations

import csv
import io
import json
import math
import os
import subprocess
import tempfile
from contextlib import nullcontext
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import shapely
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from api import cli
from api.commands import export as export_cmd
from api.routes.exports import content_disposition
from geo import crs as gcrs
from geo.access.scope import scope_for
from geo.access.users import create_user
from geo.cases.intake import create_cases
from geo.cases.people import assign_grid_unit
from geo.cases.reference import ensure_area_units, load_reference_data
from geo.cases.schema import CaseIn
from geo.errors import InvalidInput
from geo.exports.plan import export_pages, export_source, plan_export
from geo.exports.sources import GRIDS
from geo.hotspots.refresh import refresh_hotspots
from geo.privacy.crypto import PersonalDataCipher
from geo.projects.store import upsert_projects
from geo.projects.validate import ProjectRow
from geo.settings import CaseSettings, GeoSettings, HotspotSettings
from tests.hotspot_world import Lattice, add_case, at, load_lattice
from tests.squares import COMMUNITY, STREET

pytestmark = pytest.mark.usefixtures("zhongshan")

OGRINFO, OGR2OGR = "/usr/bin/ogrinfo", "/usr/bin/ogr2ogr"
ID_17 = "21020219900101123"
PHONE = "13812345678"
ADDRESS = "中山区人民路15号3单元502室"


def _id_number() -> str:
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    total = sum(int(c) * w for c, w in zip(ID_17, weights, strict=True))
    return ID_17 + "10X98765432"[total % 11]


def _require(tool: str) -> str:
    if not os.path.exists(tool):
        reason = f"{tool} missing (gridmap system test-deps installs gdal-bin)"
        pytest.fail(reason) if os.environ.get("CI") else pytest.skip(reason)
    return tool


def _run(args: list[str]) -> str:
    done = subprocess.run(args, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    dx = (a[0] - b[0]) * 111_320 * math.cos(math.radians(a[1]))
    return math.hypot(dx, (a[1] - b[1]) * 110_574)


@pytest.fixture
def world(session: Session, cipher: PersonalDataCipher) -> dict[str, Any]:
    """Three located cases — two in grid A (one with a petitioner's ID, phone and a full
    address), one in grid B of another 街道 — and one waiting for a location (no point)."""
    load_reference_data(session)
    ensure_area_units(session)
    grids = session.execute(text("""
        SELECT DISTINCT ON (left(gc.code, 9)) gc.code, gc.community_code,
               ST_X(ST_PointOnSurface(gc.geom)) AS x, ST_Y(ST_PointOnSurface(gc.geom)) AS y
        FROM grid_cell gc JOIN boundary_generation g ON g.id = gc.generation_id AND g.is_active
        ORDER BY left(gc.code, 9), gc.code LIMIT 2""")).all()
    for g in grids:
        assign_grid_unit(session, g.code, g.code[:12], date(2019, 1, 1))
    a, b = grids
    person = {"name": "欧阳小明", "id_number": _id_number(), "phone": PHONE}
    cases = [
        {"category": "物业", "content": "电梯停运", "address": ADDRESS,
         "location": {"lon": a.x, "lat": a.y}, "petitioners": [person],
         "received_at": "2020-03-05T09:00:00+08:00"},
        {"category": "住建", "content": "墙体开裂", "location": {"lon": a.x + 1e-5, "lat": a.y},
         "received_at": "2020-04-05T09:00:00+08:00"},
        {"category": "物业", "content": "噪音扰民", "location": {"lon": b.x, "lat": b.y},
         "received_at": "2020-05-05T09:00:00+08:00"},
        {"category": "物业", "content": "地址不详", "address": "某小区",
         "received_at": "2020-06-05T09:00:00+08:00"},
    ]
    ids, _ = create_cases(session, [CaseIn.model_validate(c) for c in cases], None,
                          CaseSettings(), cipher=cipher)
    points = {r.id: (r.lon, r.lat) for r in session.execute(text(
        "SELECT id, ST_X(location) AS lon, ST_Y(location) AS lat FROM petition_case "
        "WHERE id = ANY(:ids) AND location IS NOT NULL"), {"ids": ids})}
    return {"ids": ids, "grid_a": a.code, "grid_b": b.code, "community_a": a.community_code,
            "points": points}


def _audit(session: Session) -> list[Any]:
    return session.execute(text(
        "SELECT username, action, method, path, row_count, unmasked, purpose, params "
        "FROM audit_log ORDER BY id")).all()


def _grid_count(session: Session, where: str = "true", **params: Any) -> int:
    return int(session.scalar(text(
        "SELECT count(*) FROM grid_cell gc JOIN boundary_generation g ON g.id = gc.generation_id"
        f" AND g.is_active WHERE {where}"), params))


def _save(resp: Any, path: Path) -> Path:
    assert resp.status_code == 200, resp.text
    path.write_bytes(resp.content)
    return path


def _gpkg_layer(path: Path) -> dict[str, str]:
    """`ogrinfo -so` of the single layer: Layer name, Feature Count, field → type."""
    out = _run([_require(OGRINFO), "-ro", "-so", "-al", str(path)])
    info: dict[str, str] = {}
    for line in out.splitlines():
        if ": " in line and not line.startswith(" "):
            key, _, value = line.partition(": ")
            info[key.strip()] = value.strip()
    return info


def _gpkg_as_geojson(path: Path, tmp: Path) -> dict[str, Any]:
    out = tmp / (path.stem + ".geojson")
    _run([_require(OGR2OGR), "-f", "GeoJSON", str(out), str(path)])
    body: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return body


# --- GeoPackage, read by GDAL ---------------------------------------------------------------------


def test_gdal_reads_the_grids_geopackage(client: TestClient, session: Session,
                                         tmp_path: Path) -> None:
    resp = client.get("/exports/grids", params={"format": "gpkg"})
    assert resp.headers["content-type"] == "application/geopackage+sqlite3"
    assert int(resp.headers["content-length"]) == len(resp.content)
    disposition = resp.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="gridmap_grids_district_wgs84_masked_')
    assert disposition.endswith('.gpkg"')
    path = _save(resp, tmp_path / "grids.gpkg")
    info = _gpkg_layer(path)
    total = _grid_count(session)
    assert (info["Layer name"], info["Geometry"], info["Feature Count"]) == (
        "grids", "Multi Polygon", str(total))
    assert (info["code"], info["households"], info["approximate"]) == (
        "String (0.0)", "Integer64 (0.0)", "Integer(Boolean) (0.0)")
    done = subprocess.run([OGRINFO, "-ro", "-so", "-al", str(path)], capture_output=True,
                          text=True, timeout=120, check=True)
    assert 'ID["EPSG",4326]' in done.stdout
    assert "Warning" not in done.stderr, done.stderr   # GeoPackage 1.2: GDAL 3.6 reads it fully

    fc = _gpkg_as_geojson(path, tmp_path)
    assert len(fc["features"]) == total
    source = {r.code: r for r in session.execute(text(
        "SELECT gc.code, ST_AsBinary(gc.geom) AS wkb, a.name AS community_name FROM grid_cell gc"
        " JOIN boundary_generation g ON g.id = gc.generation_id AND g.is_active JOIN area a"
        " ON a.code = gc.community_code AND a.level = 'community' JOIN boundary_generation ag"
        " ON ag.id = a.generation_id AND ag.is_active"))}
    for feature in fc["features"][:40]:
        props = feature["properties"]
        row = source[props["code"]]
        assert props["community_name"] == row.community_name        # Chinese round-trips
        got = shapely.geometry.shape(feature["geometry"])
        assert shapely.hausdorff_distance(got, shapely.from_wkb(row.wkb)) < 1e-6  # ≈ 0.1 m
    [row] = _audit(session)
    assert (row.action, row.row_count, row.unmasked, row.params) == (
        "export.grids", total, False, {"format": "gpkg"})


def test_gdal_reads_a_scoped_shifted_cases_geopackage(login_as: Any, session: Session,
                                                      world: dict[str, Any],
                                                      tmp_path: Path) -> None:
    worker = login_as(role="grid_worker", grid_codes=[world["grid_a"]])
    resp = worker.get("/exports/cases", params={"format": "gpkg", "crs": "gcj02"})
    assert f"gridmap_cases_{world['grid_a']}_gcj02_masked_" in resp.headers[
        "content-disposition"]
    path = _save(resp, tmp_path / "cases.gpkg")
    info = _gpkg_layer(path)
    assert (info["Layer name"], info["Feature Count"]) == ("cases", "2")
    described = _run([OGRINFO, "-ro", "-so", "-al", str(path)])
    assert "DESCRIPTION=信访事项 (cases), gridmap export; coordinates shifted to GCJ02" in described
    fc = _gpkg_as_geojson(path, tmp_path)
    by_id = {f["properties"]["id"]: f for f in fc["features"]}
    assert set(by_id) == set(world["ids"][:2])
    first = by_id[world["ids"][0]]["properties"]
    assert (first["petitioners"], first["crs"], first["category"]) == ("欧阳**", "gcj02", "物业")
    assert _id_number() not in json.dumps(fc, ensure_ascii=False) and PHONE not in json.dumps(fc)
    for case_id, feature in by_id.items():
        lon, lat = feature["geometry"]["coordinates"]
        back = gcrs.to_wgs84(lon, lat, "gcj02")
        assert _metres((float(back[0]), float(back[1])), world["points"][case_id]) < 0.5
    [row] = _audit(session)
    assert (row.action, row.row_count) == ("export.cases", 2)


def test_empty_geopackage_is_still_a_valid_layer(login_as: Any, world: dict[str, Any],
                                                 tmp_path: Path) -> None:
    worker = login_as(role="grid_worker", grid_codes=[world["grid_a"]])
    resp = worker.get("/exports/cases", params={"format": "gpkg", "status": "closed"})
    info = _gpkg_layer(_save(resp, tmp_path / "none.gpkg"))
    assert (info["Layer name"], info["Geometry"], info["Feature Count"]) == (
        "cases", "Point", "0")


def test_geopackage_temp_files_are_removed(client: TestClient, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    spool = tmp_path / "spool"
    spool.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spool))
    resp = client.get("/exports/streets", params={"format": "gpkg"})
    assert resp.status_code == 200 and resp.content.startswith(b"SQLite format 3")
    assert list(spool.iterdir()) == []


# --- GeoJSON ------------------------------------------------------------------------------------


@pytest.mark.parametrize("out_crs", ["wgs84", "gcj02", "bd09"])
def test_geojson_points_match_the_source_within_half_a_metre(
        client: TestClient, world: dict[str, Any], out_crs: str) -> None:
    resp = client.get("/exports/cases", params={"format": "geojson", "crs": out_crs})
    assert resp.status_code == 200 and resp.headers["content-type"] == "application/geo+json"
    assert f"_district_{out_crs}_masked_" in resp.headers["content-disposition"]
    fc = json.loads(resp.content)
    assert fc["type"] == "FeatureCollection" and fc["name"] == "cases" and "crs" not in fc
    assert ("coordinate_system" in fc) is (out_crs != "wgs84")
    if out_crs != "wgs84":
        assert fc["coordinate_system"] == out_crs and out_crs in fc["crs_note"]
    features = {f["id"]: f for f in fc["features"]}
    assert set(features) == set(world["ids"])
    assert features[world["ids"][3]]["geometry"] is None            # waiting for a location
    for case_id, (lon, lat) in world["points"].items():
        geometry = features[case_id]["geometry"]
        assert geometry["type"] == "Point"
        x, y = geometry["coordinates"]
        expected = gcrs.from_wgs84(lon, lat, out_crs)
        assert _metres((x, y), (float(expected[0]), float(expected[1]))) < 0.5
        back = gcrs.to_wgs84(x, y, out_crs)
        assert _metres((float(back[0]), float(back[1])), (lon, lat)) < 0.5
        if out_crs != "wgs84":
            assert _metres((x, y), (lon, lat)) > 100                # really shifted
        assert features[case_id]["properties"]["crs"] == out_crs


def test_geojson_polygons_follow_rfc7946(login_as: Any, session: Session,
                                         world: dict[str, Any]) -> None:
    community = login_as(role="community", community_code=world["community_a"])
    fc = json.loads(community.get("/exports/communities",
                                  params={"format": "geojson"}).content)
    [feature] = fc["features"]
    assert feature["properties"]["code"] == world["community_a"]
    geometry = shapely.geometry.shape(feature["geometry"])
    assert geometry.geom_type == "MultiPolygon"
    assert all(p.exterior.is_ccw for p in geometry.geoms)          # right-hand rule
    stored = shapely.from_wkb(session.scalar(text(
        "SELECT ST_AsBinary(a.geom) FROM area a JOIN boundary_generation g ON g.id ="
        " a.generation_id AND g.is_active WHERE a.code = :c"), {"c": world["community_a"]}))
    assert shapely.hausdorff_distance(geometry, stored) < 1e-6


# --- CSV ----------------------------------------------------------------------------------------


def _csv(resp: Any) -> tuple[list[str], list[dict[str, str]]]:
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"] == "text/csv; charset=utf-8"
    assert resp.content.startswith("\ufeff".encode())               # BOM for Excel
    reader = csv.DictReader(io.StringIO(resp.content.decode("utf-8-sig")))
    rows = list(reader)
    return list(reader.fieldnames or []), rows


def test_csv_of_cases_has_lonlat_columns_and_masked_people(client: TestClient,
                                                            world: dict[str, Any]) -> None:
    header, rows = _csv(client.get("/exports/cases"))
    assert header[:3] == ["id", "external_id", "received_at"] and header[-3:] == [
        "lon", "lat", "crs"]
    assert [int(r["id"]) for r in rows] == list(reversed(world["ids"]))   # newest first
    first = next(r for r in rows if int(r["id"]) == world["ids"][0])
    assert first["petitioners"] == "欧阳**" and first["petitioner_phones"] == "138****5678"
    assert first["petitioner_id_numbers"] == "210202********" + _id_number()[-4:]
    assert "人民路15号" in first["address"] and "502" not in first["address"]  # cut to building
    lon, lat = world["points"][world["ids"][0]]
    assert _metres((float(first["lon"]), float(first["lat"])), (lon, lat)) < 0.01
    unplaced = next(r for r in rows if int(r["id"]) == world["ids"][3])
    assert (unplaced["lon"], unplaced["lat"]) == ("", "")


def test_csv_geometry_styles(client: TestClient, world: dict[str, Any],
                             session: Session) -> None:
    header, rows = _csv(client.get("/exports/cases", params={"geometry": "wkt"}))
    assert header[-2:] == ["wkt", "crs"] and "lon" not in header
    first = next(r for r in rows if int(r["id"]) == world["ids"][0])
    point = shapely.from_wkt(first["wkt"])
    assert _metres((point.x, point.y), world["points"][world["ids"][0]]) < 0.01

    header, rows = _csv(client.get("/exports/grids", params={"street_code": world[
        "grid_a"][:9] + "000"}))
    assert header == ["id", "code", "name", "grid_type", "community_code", "community_name",
                      "street_code", "street_name", "households", "approximate",
                      "generation_id", "wkt", "crs"]
    assert len(rows) == _grid_count(session, "left(gc.code, 9) = :s", s=world["grid_a"][:9])
    assert all(shapely.from_wkt(r["wkt"]).geom_type == "MultiPolygon" for r in rows)
    assert all(r["street_name"].endswith("街道") for r in rows)

    _, rows = _csv(client.get("/exports/grids", params={
        "geometry": "lonlat", "grid_code": world["grid_a"], "crs": "bd09"}))
    [row] = rows
    wkb = session.scalar(text("SELECT ST_AsBinary(geom) FROM grid_cell gc JOIN "
                              "boundary_generation g ON g.id = gc.generation_id AND g.is_active"
                              " WHERE gc.code = :c"), {"c": world["grid_a"]})
    x, y = gcrs.to_wgs84(float(row["lon"]), float(row["lat"]), "bd09")
    assert shapely.from_wkb(wkb).contains(shapely.Point(x, y)) and row["crs"] == "bd09"


def test_unmasked_csv_needs_an_allowed_role_and_a_purpose(login_as: Any, session: Session,
                                                          world: dict[str, Any]) -> None:
    commander = login_as(role="commander")
    resp = commander.get("/exports/cases", params={"unmask": "true", "purpose": "核查"})
    assert resp.status_code == 403 and _id_number() not in resp.text
    registrar = login_as(role="registrar", username="dengji_x")
    resp = registrar.get("/exports/cases", params={"unmask": "true"})
    assert resp.status_code == 422 and resp.json()["detail"][0]["loc"][-1] == "purpose"
    resp = registrar.get("/exports/cases", params={"unmask": "true", "purpose": "联系信访人答复",
                                                  "format": "csv"})
    assert "_unmasked_" in resp.headers["content-disposition"]
    _, rows = _csv(resp)
    first = next(r for r in rows if int(r["id"]) == world["ids"][0])
    assert (first["petitioners"], first["petitioner_id_numbers"], first["address"]) == (
        "欧阳小明", _id_number(), ADDRESS)
    [row] = _audit(session)
    assert (row.username, row.row_count, row.unmasked, row.purpose) == (
        "dengji_x", 4, True, "联系信访人答复")


# --- scope -------------------------------------------------------------------------------------


def test_a_grid_workers_exports_hold_their_grid_and_what_contains_it(
        login_as: Any, session: Session, world: dict[str, Any]) -> None:
    worker = login_as(role="grid_worker", grid_codes=[world["grid_a"]])
    fc = json.loads(worker.get("/exports/grids", params={"format": "geojson"}).content)
    assert [f["properties"]["code"] for f in fc["features"]] == [world["grid_a"]]
    fc = json.loads(worker.get("/exports/communities", params={"format": "geojson"}).content)
    assert [f["properties"]["code"] for f in fc["features"]] == [world["community_a"]]
    fc = json.loads(worker.get("/exports/streets", params={"format": "geojson"}).content)
    assert [f["properties"]["code"] for f in fc["features"]] == [world["grid_a"][:9] + "000"]
    fc = json.loads(worker.get("/exports/cases", params={"format": "geojson"}).content)
    assert sorted(f["id"] for f in fc["features"]) == sorted(world["ids"][:2])
    # A filter cannot widen the scope: another grid is simply empty.
    fc = json.loads(worker.get("/exports/grids", params={
        "format": "geojson", "grid_code": world["grid_b"]}).content)
    assert fc["features"] == []
    assert [r.row_count for r in _audit(session)] == [1, 1, 1, 2, 0]


def test_community_street_and_unit_scopes_on_grids(login_as: Any, session: Session,
                                                   world: dict[str, Any]) -> None:
    def codes(client: TestClient) -> set[str]:
        _, rows = _csv(client.get("/exports/grids"))
        return {r["code"] for r in rows}

    in_community = {c for (c,) in session.execute(text(
        "SELECT gc.code FROM grid_cell gc JOIN boundary_generation g ON g.id ="
        " gc.generation_id AND g.is_active WHERE gc.community_code = :c"),
        {"c": world["community_a"]})}
    assert codes(login_as(role="community", community_code=world["community_a"])) == \
        in_community
    street = world["grid_a"][:9] + "000"
    in_street = {r["code"] for r in _csv(login_as("admin").get(
        "/exports/grids", params={"street_code": street}))[1]}
    assert codes(login_as(role="street", street_code=street)) == in_street
    community_unit = session.scalar(text("SELECT id FROM unit WHERE area_code = :c"),
                                    {"c": world["community_a"]})
    assert codes(login_as(role="unit_handler", unit_id=community_unit)) == in_community
    bureau = session.scalar(text("SELECT id FROM unit WHERE code = 'zs-zjj'"))
    assert len(codes(login_as(role="unit_handler", unit_id=bureau))) == _grid_count(session)


# --- bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("path", "params", "field"), [
    ("/exports/cases", {"format": "shp"}, "format"),
    ("/exports/cases", {"crs": "epsg:3857"}, "crs"),
    ("/exports/cases", {"geometry": "wkb"}, "geometry"),
    ("/exports/parcels", {}, "collection"),
    ("/exports/grids", {"status": "closed"}, "status"),
    ("/exports/streets", {"grid_code": "210202008007001"}, "grid_code"),
    ("/exports/grids", {"grid_code": "21020200800700"}, "grid_code"),
    ("/exports/cases", {"status": "open"}, "status"),
    ("/exports/cases", {"category": "天气"}, "category"),
    ("/exports/cases", {"from": "2020-05-01", "to": "2020-04-01"}, "to"),
    ("/exports/cases", {"from": "yesterday"}, "from"),
    ("/exports/grids", {"unmask": "true", "purpose": "看看边界"}, "unmask"),
])
def test_bad_requests_are_422_naming_the_parameter(client: TestClient, session: Session,
                                                   path: str, params: dict[str, str],
                                                   field: str) -> None:
    resp = client.get(path, params=params)
    assert resp.status_code == 422, resp.text
    assert resp.json()["detail"][0]["loc"][-1] == field
    assert _audit(session) == []


def test_filters_match_the_case_list(client: TestClient, world: dict[str, Any]) -> None:
    for params in ({"category": "property"}, {"status": "registered"},
                   {"grid_code": world["grid_b"]}, {"street_code": world["grid_b"][:9] + "000"},
                   {"from": "2020-04-01", "to": "2020-05-31T23:59"}):
        listed = client.get("/cases", params=params).json()
        _, rows = _csv(client.get("/exports/cases", params=params))
        assert sorted(int(r["id"]) for r in rows) == sorted(i["id"] for i in listed["items"]), \
            params
    # Exports also take a category's name and a comma list of states.
    _, by_name = _csv(client.get("/exports/cases", params={"category": "物业"}))
    assert sorted(int(r["id"]) for r in by_name) == sorted(world["ids"][i] for i in (0, 2, 3))
    _, states = _csv(client.get("/exports/cases", params={"status": "closed,registered"}))
    assert len(states) == 4


def test_pages_are_keyset_and_complete(session: Session) -> None:
    scope = scope_for("x", "admin")
    small = replace(GRIDS, page_size=7)
    plan = plan_export(session, scope, small, fmt="csv", at=datetime.now(UTC))
    pages = list(export_pages(session, scope, plan, None))
    ids = [r["id"] for p in pages for r in p.rows]
    assert len(pages) == math.ceil(plan.rows / 7) and len(ids) == len(set(ids)) == plan.rows
    assert ids == sorted(ids)


def test_content_disposition_carries_non_ascii_names() -> None:
    assert content_disposition("gridmap_grids.csv") == 'attachment; filename="gridmap_grids.csv"'
    header = content_disposition("gridmap_网格.csv")
    assert header == ("attachment; filename=\"gridmap___.csv\"; "
                      "filename*=UTF-8''gridmap_%E7%BD%91%E6%A0%BC.csv")


def test_export_source_rejects_unknown_collections() -> None:
    with pytest.raises(InvalidInput, match="exportable: cases, grids, communities, streets, "
                       "projects, hotspots"):
        export_source("parcels")
    with pytest.raises(InvalidInput, match="nothing to unmask") as exc:
        export_source("streets", unmask=True)
    assert exc.value.field == "unmask"


# --- the CLI -----------------------------------------------------------------------------------


@pytest.fixture
def cli_session(session: Session, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Session:
    monkeypatch.setattr(export_cmd, "_open_session", lambda: nullcontext(session))
    monkeypatch.chdir(tmp_path)
    return session


def test_cli_export_writes_the_file_and_audits_the_user(
        cli_session: Session, world: dict[str, Any], tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    create_user(cli_session, "wangli", "grid_worker", grid_codes=[world["grid_a"]])
    assert cli.main(["export", "cases", "--user", "wangli", "--format", "geojson",
                     "--crs", "gcj02", "--category", "物业"]) == 0
    [written] = list(tmp_path.glob("gridmap_cases_*"))
    assert written.name.startswith(f"gridmap_cases_{world['grid_a']}_gcj02_masked_")
    assert written.suffix == ".geojson" and "1 cases" in capsys.readouterr().out
    fc = json.loads(written.read_text(encoding="utf-8"))
    assert [f["id"] for f in fc["features"]] == [world["ids"][0]]
    assert fc["features"][0]["properties"]["petitioners"] == "欧阳**"
    [row] = _audit(cli_session)
    assert (row.username, row.action, row.method, row.row_count, row.unmasked) == (
        "wangli", "export.cases", "CLI", 1, False)
    assert row.params["category"] == "物业" and row.params["out"] == str(written)

    out = tmp_path / "grids.gpkg"
    assert cli.main(["export", "grids", "--user", "wangli", "--out", str(out)]) == 0
    info = _gpkg_layer(out)
    assert (info["Layer name"], info["Feature Count"]) == ("grids", "1")
    assert not list(tmp_path.glob("*.partial.*"))
    assert [r.row_count for r in _audit(cli_session)] == [1, 1]


def test_cli_unmask_follows_the_api_rules(cli_session: Session, world: dict[str, Any],
                                          tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    create_user(cli_session, "zhihui", "commander")
    create_user(cli_session, "dengji", "registrar")
    assert cli.main(["export", "cases", "--user", "zhihui", "--unmask", "--purpose",
                     "核查"]) == 2
    assert "--unmask: role commander may not" in capsys.readouterr().err
    assert cli.main(["export", "cases", "--user", "dengji", "--unmask"]) == 2
    assert "--purpose:" in capsys.readouterr().err
    out = tmp_path / "full.csv"
    assert cli.main(["export", "cases", "--user", "dengji", "--unmask", "--purpose",
                     "联系信访人答复", "--out", str(out)]) == 0
    assert _id_number() in out.read_text(encoding="utf-8-sig")
    [row] = _audit(cli_session)
    assert (row.username, row.unmasked, row.purpose, row.row_count) == (
        "dengji", True, "联系信访人答复", 4)


@pytest.mark.parametrize(("args", "message"), [
    (["export", "parcels", "--user", "admin_x"], "COLLECTION: unknown collection 'parcels'"),
    (["export", "cases", "--user", "admin_x", "--format", "shp"], "--format: format must be"),
    (["export", "cases", "--user", "admin_x", "--crs", "mars"], "--crs: output crs must be"),
    (["export", "cases", "--user", "admin_x", "--from", "2020-13-01"], "--from: '2020-13-01'"),
    (["export", "cases", "--user", "admin_x", "--status", "open"], "--status: unknown status"),
    (["export", "grids", "--user", "admin_x", "--category", "物业"],
     "--category: collection 'grids' cannot be filtered on 'category'"),
    (["export", "cases", "--user", "nobody"], "--user: no user 'nobody'"),
    (["export", "cases", "--user", "admin_x", "--out", "/nonexistent/dir/x.csv"],
     "--out: directory '/nonexistent/dir' does not exist"),
])
def test_cli_bad_input_exits_2_with_a_message(cli_session: Session, tmp_path: Path,
                                              args: list[str], message: str,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    create_user(cli_session, "admin_x", "admin")
    assert cli.main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("gridmap: error: ") and message in err, err
    assert "Traceback" not in err
    assert _audit(cli_session) == [] and list(tmp_path.iterdir()) == []


# --- projects and hotspots (the OGC collections' content, on the hand-made lattice) ------------

# The lattice (tests/hotspot_world): 8 cases of 2 persons in the cell (2,2) under project P-1,
# 3 in the cell (4,4); P-2 on the cell (5,5) holds none. All in the rolled-back test session.
LATTICE_STORED = 49 + 1 + 1 + 2      # hotspot rows: 49 cells, one 社区, one 街道, two projects


@pytest.fixture
def lattice(session: Session, tmp_path_factory: pytest.TempPathFactory) -> Lattice:
    load_reference_data(session)
    # Its boundary files outside tmp_path, which the CLI tests expect to hold only exports.
    lat = load_lattice(session, tmp_path_factory.mktemp("lattice"))
    for (r, c), n, persons in (((2, 2), 8, 2), ((4, 4), 3, 1)):
        for i in range(n):
            lon, lat_ = lat.centre(r, c, (i % 3 - 1) * 0.3, (i // 3 - 1) * 0.3)
            add_case(session, lat.code(r, c), lon, lat_, at("2020-06-01"), persons=persons)
    upsert_projects(session, [
        ProjectRow("P-1", "某某回迁项目", "relocation", lat.cell(2, 2), households=70,
                   phase="安置", start_date=date(2020, 1, 1), approximate=True, source="示意"),
        ProjectRow("P-2", "某某欠薪企业", "enterprise", lat.cell(5, 5)),
    ])
    refresh_hotspots(session, GeoSettings(), HotspotSettings(permutations=99),
                     today=date(2020, 12, 31))
    session.flush()
    return lat


def _geojson(resp: Any) -> dict[str, Any]:
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"] == "application/geo+json"
    body: dict[str, Any] = resp.json()
    return body


def test_projects_export_as_geojson_csv_and_geopackage(
        login_as: Any, session: Session, lattice: Lattice, tmp_path: Path) -> None:
    tmp_path.joinpath("out").mkdir()
    client = login_as("commander", username="zhihui_p")
    fc = _geojson(client.get("/exports/projects", params={"format": "geojson"}))
    by_code = {f["properties"]["code"]: f for f in fc["features"]}
    assert sorted(by_code) == ["P-1", "P-2"]
    one = by_code["P-1"]
    assert {k: one["properties"][k] for k in (
        "name", "project_type", "type_label", "households", "start_date", "end_date",
        "community_code", "community_name", "street_code", "approximate", "cases",
        "open_cases", "submissions", "persons")} == {
        "name": "某某回迁项目", "project_type": "relocation", "type_label": "回迁/动迁",
        "households": 70, "start_date": "2020-01-01", "end_date": None,
        "community_code": COMMUNITY, "community_name": "测试社区居委会", "street_code": STREET,
        "approximate": True, "cases": 8, "open_cases": 8, "submissions": 8, "persons": 16}
    assert one["geometry"]["type"] == "MultiPolygon"
    got = shapely.geometry.shape(one["geometry"])
    assert shapely.hausdorff_distance(got, lattice.cell(2, 2)) < 1e-6
    assert by_code["P-2"]["properties"]["cases"] == 0

    header, rows = _csv(client.get("/exports/projects", params={"format": "csv"}))
    assert header[:4] == ["id", "code", "name", "project_type"]
    assert header[-6:] == ["cases", "open_cases", "submissions", "persons", "wkt", "crs"]
    assert [(r["code"], r["cases"], r["persons"]) for r in rows] == [
        ("P-1", "8", "16"), ("P-2", "0", "0")]
    assert shapely.hausdorff_distance(shapely.from_wkt(rows[0]["wkt"]),
                                      lattice.cell(2, 2)) < 1e-6

    resp = client.get("/exports/projects", params={"format": "gpkg"})
    assert resp.headers["content-disposition"].startswith(
        'attachment; filename="gridmap_projects_district_wgs84_masked_')
    path = _save(resp, tmp_path / "projects.gpkg")
    info = _gpkg_layer(path)
    assert (info["Layer name"], info["Geometry"], info["Feature Count"]) == (
        "projects", "Multi Polygon", "2")
    assert (info["cases"], info["buffer_m"], info["type_label"]) == (
        "Integer64 (0.0)", "Real (0.0)", "String (0.0)")
    read = _gpkg_as_geojson(path, tmp_path / "out")
    assert {f["properties"]["code"]: f["properties"]["persons"] for f in read["features"]} == {
        "P-1": 16, "P-2": 0}

    assert [(r.username, r.action, r.row_count) for r in _audit(session)] == [
        ("zhihui_p", "export.projects", 2)] * 3


def test_project_exports_filter_by_area_and_count_only_the_callers_cases(
        login_as: Any, session: Session, lattice: Lattice) -> None:
    mine = login_as("grid_worker", username="wangli_p", grid_codes=[lattice.code(2, 2)])
    other = login_as("grid_worker", username="lisi_p", grid_codes=[lattice.code(0, 0)])

    def counts(client: TestClient, **params: str) -> dict[str, int]:
        fc = _geojson(client.get("/exports/projects", params={"format": "geojson", **params}))
        return {f["properties"]["code"]: f["properties"]["cases"] for f in fc["features"]}

    # Projects are places: every role exports them all, counting only the cases it may see.
    assert counts(mine) == {"P-1": 8, "P-2": 0}
    assert counts(other) == {"P-1": 0, "P-2": 0}
    assert counts(mine, community_code=COMMUNITY) == {"P-1": 8, "P-2": 0}
    assert counts(mine, street_code=STREET) == {"P-1": 8, "P-2": 0}
    assert counts(mine, community_code="210202999999") == {}
    assert [(r.username, r.row_count, r.params.get("community_code")) for r in
            _audit(session)] == [("wangli_p", 2, None), ("lisi_p", 2, None),
                                 ("wangli_p", 2, COMMUNITY), ("wangli_p", 2, None),
                                 ("wangli_p", 0, "210202999999")]
    bad = mine.get("/exports/projects", params={"status": "registered"})
    assert bad.status_code == 422 and "cannot be filtered on 'status'" in bad.text


def test_hotspots_export_the_stored_rows_to_a_commander(
        login_as: Any, session: Session, lattice: Lattice, tmp_path: Path) -> None:
    stored = int(session.scalar(text("SELECT count(*) FROM hotspot_stat")))
    assert stored == LATTICE_STORED
    client = login_as("commander", username="zhihui_h")
    fc = _geojson(client.get("/exports/hotspots", params={"format": "geojson"}))
    assert len(fc["features"]) == stored
    assert sorted({f["properties"]["level"] for f in fc["features"]}) == [
        "community", "grid", "project", "street"]
    busy = next(f for f in fc["features"] if f["properties"]["code"] == lattice.code(2, 2))
    props = busy["properties"]
    assert (props["level"], props["level_label"], props["cases"], props["persons"],
            props["trend"], props["window_from"]) == (
        "grid", "网格", 8, 16, "0,0,0,0,0,0", "2020-01-01T00:00:00+08:00")
    assert props["gi_class"] == session.scalar(text(
        "SELECT gi_class FROM hotspot_stat WHERE level = 'grid' AND code = :c"),
        {"c": lattice.code(2, 2)})

    header, rows = _csv(client.get("/exports/hotspots", params={"level": "grid"}))
    assert len(rows) == 49 and {r["level"] for r in rows} == {"grid"}
    assert "gi_class" in header and header[-2:] == ["wkt", "crs"]

    path = _save(client.get("/exports/hotspots", params={"format": "gpkg"}),
                 tmp_path / "hotspots.gpkg")
    info = _gpkg_layer(path)
    assert (info["Layer name"], info["Geometry"], info["Feature Count"]) == (
        "hotspots", "Multi Polygon", str(stored))
    assert (info["per_1000_households"], info["gi_class"]) == ("Real (0.0)", "String (0.0)")

    assert [(r.action, r.row_count, r.params.get("level")) for r in _audit(session)] == [
        ("export.hotspots", stored, None), ("export.hotspots", 49, "grid"),
        ("export.hotspots", stored, None)]
    bad = client.get("/exports/hotspots", params={"level": "parish"})
    assert bad.status_code == 422 and "level" in bad.text
    assert client.get("/exports/grids", params={"level": "grid"}).status_code == 422


FORBIDDEN_HOTSPOTS = ("role grid_worker may not export collection 'hotspots'; exportable by: "
                      "commander, discipline, admin")


def test_hotspots_export_is_forbidden_below_command_level(
        login_as: Any, session: Session, lattice: Lattice) -> None:
    client = login_as("grid_worker", grid_codes=[lattice.code(2, 2)])
    for fmt in ("geojson", "csv", "gpkg"):
        r = client.get("/exports/hotspots", params={"format": fmt})
        assert r.status_code == 403, r.text
        assert r.json()["detail"] == FORBIDDEN_HOTSPOTS
    assert _audit(session) == []


def test_cli_exports_projects_and_hotspots_by_role(
        cli_session: Session, lattice: Lattice, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    create_user(cli_session, "wangli_c", "grid_worker", grid_codes=[lattice.code(2, 2)])
    create_user(cli_session, "zhihui_c", "commander")
    assert cli.main(["export", "hotspots", "--user", "wangli_c"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"gridmap: error: --user: {FORBIDDEN_HOTSPOTS}"), err
    assert "wangli_c" in err and list(tmp_path.iterdir()) == [] and _audit(cli_session) == []

    out = tmp_path / "hot.geojson"
    assert cli.main(["export", "hotspots", "--user", "zhihui_c", "--level", "project",
                     "--out", str(out)]) == 0
    fc = json.loads(out.read_text(encoding="utf-8"))
    assert {f["properties"]["code"]: f["properties"]["cases"] for f in fc["features"]} == {
        "P-1": 8, "P-2": 0}
    assert cli.main(["export", "projects", "--user", "wangli_c", "--format", "gpkg",
                     "--community-code", COMMUNITY]) == 0
    [written] = list(tmp_path.glob("gridmap_projects_*.gpkg"))
    assert written.name.startswith(f"gridmap_projects_{COMMUNITY}_wgs84_masked_")
    assert _gpkg_layer(written)["Feature Count"] == "2"
    assert [(r.username, r.action, r.row_count, r.params.get("level")) for r in
            _audit(cli_session)] == [("zhihui_c", "export.hotspots", 2, "project"),
                                     ("wangli_c", "export.projects", 2, None)]
