"""Boundary import: each kind of bad file is rejected with its row, code and reason, and nothing
is written; good files in every supported format load as a new generation."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import LineString, Point, Polygon, box
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from geo import crs as gcrs
from geo.boundaries import activate_generation, import_boundaries
from geo.models import BoundaryGeneration, GridCell
from geo.settings import GeoSettings
from tests.squares import (
    COMMUNITY,
    X0,
    Y0,
    feature,
    grid_code,
    grid_features,
    load_squares,
    square,
    write_fc,
)


@pytest.fixture
def squares(session: Session, tmp_path: Path) -> None:
    """The 3×3 square world, active."""
    load_squares(session, tmp_path)


def _grid_import(session: Session, path: Path, **kw: object):  # type: ignore[no-untyped-def]
    before = session.scalar(select(func.count()).select_from(GridCell))
    gens = session.scalar(select(func.count()).select_from(BoundaryGeneration))
    report = import_boundaries(session, path, "grid", **kw)  # type: ignore[arg-type]
    if not report.ok:
        # Nothing written: no generation, no cells.
        assert session.scalar(select(func.count()).select_from(GridCell)) == before
        assert session.scalar(select(func.count()).select_from(BoundaryGeneration)) == gens
    return report


def _only_error(report, kind: str):  # type: ignore[no-untyped-def]
    errors = [p for p in report.errors if p.kind == kind]
    assert errors, report.format()
    return errors


def test_good_grid_file_becomes_an_inactive_generation_until_activated(
        session: Session, squares: None, tmp_path: Path) -> None:
    path = write_fc(tmp_path / "g.geojson", grid_features())
    report = import_boundaries(session, path, "grid")
    assert report.ok and report.generation_id and not report.activated
    gen = session.get(BoundaryGeneration, report.generation_id)
    assert gen is not None and gen.is_active is False and gen.feature_count == 9
    assert activate_generation(session, report.generation_id) == "grid"
    active = session.scalars(select(BoundaryGeneration).where(
        BoundaryGeneration.level == "grid", BoundaryGeneration.is_active)).all()
    assert [g.id for g in active] == [report.generation_id]


def test_missing_file_is_unreadable(session: Session, squares: None, tmp_path: Path) -> None:
    report = _grid_import(session, tmp_path / "nope.geojson")
    [err] = _only_error(report, "unreadable")
    assert "nope.geojson" in err.message


def test_garbage_file_is_unreadable(session: Session, squares: None, tmp_path: Path) -> None:
    path = tmp_path / "broken.geojson"
    path.write_text('{"type": "FeatureCollection", "features": [', encoding="utf-8")
    report = _grid_import(session, path)
    [err] = _only_error(report, "unreadable")
    assert "broken.geojson" in err.message and err.row is None


# Writing a CRS-less file is the point of this test; pyogrio's warning about it is expected.
@pytest.mark.filterwarnings("ignore:'crs' was not provided")
def test_shapefile_without_prj_is_unknown_crs(session: Session, squares: None,
                                              tmp_path: Path) -> None:
    frame = gpd.GeoDataFrame({"code": [grid_code(1)], "name": ["a"]}, geometry=[square(1)])
    path = tmp_path / "noprj.shp"
    frame.to_file(path)  # no CRS set → no .prj
    report = _grid_import(session, path)
    [err] = _only_error(report, "unknown_crs")
    assert "--crs" in err.message


def test_unknown_crs_argument_is_rejected(session: Session, squares: None, tmp_path: Path) -> None:
    path = write_fc(tmp_path / "g.geojson", grid_features())
    report = _grid_import(session, path, crs="mars")
    [err] = _only_error(report, "unknown_crs")
    assert "mars" in err.message


def test_point_geometry_is_wrong_type(session: Session, squares: None, tmp_path: Path) -> None:
    feats = grid_features(range(1, 9)) + [feature(Point(X0 + 0.025, Y0 + 0.005),
                                                  code=grid_code(9), name="点")]
    report = _grid_import(session, write_fc(tmp_path / "g.geojson", feats))
    [err] = _only_error(report, "wrong_geometry_type")
    assert (err.row, err.code) == (9, grid_code(9)) and "Point" in err.message


def test_empty_geometry_is_rejected(session: Session, squares: None, tmp_path: Path) -> None:
    feats = grid_features(range(1, 9)) + [feature(None, code=grid_code(9), name="空")]
    report = _grid_import(session, write_fc(tmp_path / "g.geojson", feats))
    [err] = _only_error(report, "empty_geometry")
    assert (err.row, err.code) == (9, grid_code(9))


def test_self_intersecting_polygon_is_repaired_and_reported(
        session: Session, squares: None, tmp_path: Path) -> None:
    # Square 9 with a zero-width spike poking inwards from its east edge: invalid
    # (self-intersection), and make_valid gives back exactly the square.
    x, y, d = X0 + 0.02, Y0, 0.01
    spiked = Polygon([(x, y), (x + d, y), (x + d, y + d / 2), (x + d / 2, y + d / 2),
                      (x + d, y + d / 2), (x + d, y + d), (x, y + d)])
    assert not spiked.is_valid
    feats = grid_features(range(1, 9)) + [feature(spiked, code=grid_code(9), name="尖刺")]
    report = _grid_import(session, write_fc(tmp_path / "g.geojson", feats), activate=True)
    warnings = [p for p in report.warnings if p.kind == "repaired_geometry"]
    assert [(w.row, w.code) for w in warnings] == [(9, grid_code(9))]
    assert "Self-intersection" in warnings[0].message or "Ring" in warnings[0].message
    assert report.ok, report.format()
    valid, area = session.execute(text(
        "SELECT ST_IsValid(geom), ST_Area(geom) FROM grid_cell WHERE generation_id = :g "
        "AND code = :c"), {"g": report.generation_id, "c": grid_code(9)}).one()
    assert valid and area == pytest.approx(d * d, rel=1e-9)


def test_unrepairable_polygon_is_rejected(session: Session, squares: None, tmp_path: Path) -> None:
    flat = Polygon([(X0, Y0), (X0 + 0.01, Y0), (X0 + 0.02, Y0), (X0, Y0)])  # zero area
    feats = grid_features(range(2, 10)) + [feature(flat, code=grid_code(1), name="扁")]
    report = _grid_import(session, write_fc(tmp_path / "g.geojson", feats))
    [err] = _only_error(report, "invalid_geometry")
    assert (err.row, err.code) == (9, grid_code(1))


def test_duplicate_code_names_the_first_row(session: Session, squares: None,
                                            tmp_path: Path) -> None:
    feats = grid_features()
    feats[8]["properties"]["code"] = grid_code(8)
    report = _grid_import(session, write_fc(tmp_path / "g.geojson", feats))
    [err] = _only_error(report, "duplicate_code")
    assert (err.row, err.code) == (9, grid_code(8)) and "row 8" in err.message


def test_malformed_code_is_rejected(session: Session, squares: None, tmp_path: Path) -> None:
    feats = grid_features()
    feats[4]["properties"]["code"] = "21020200100200X"
    report = _grid_import(session, write_fc(tmp_path / "g.geojson", feats))
    [err] = _only_error(report, "malformed_code")
    assert err.row == 5 and "15 digits" in err.message


def test_grid_outside_its_community_reports_area_and_distance(
        session: Session, squares: None, tmp_path: Path) -> None:
    feats = grid_features(range(1, 9)) + [
        feature(square(9), code=grid_code(9), name="9"),
        feature(box(X0 + 0.05, Y0, X0 + 0.06, Y0 + 0.01), code=f"{COMMUNITY}010", name="远"),
    ]
    report = _grid_import(session, write_fc(tmp_path / "g.geojson", feats))
    [err] = _only_error(report, "outside_parent")
    assert (err.row, err.code) == (10, f"{COMMUNITY}010")
    assert "m²" in err.message and "m away" in err.message


def test_child_sticking_out_within_tolerance_is_accepted(
        session: Session, squares: None, tmp_path: Path) -> None:
    feats = grid_features(range(1, 9))
    # 0.3 m east of the community edge at this latitude: inside the default 1 m tolerance.
    feats.append(feature(box(X0 + 0.02, Y0, X0 + 0.03 + 0.3 / 86_700, Y0 + 0.01),
                         code=grid_code(9), name="9"))
    report = _grid_import(session, write_fc(tmp_path / "g.geojson", feats))
    assert report.ok, report.format()


def test_overlapping_grids_report_the_shared_area(session: Session, squares: None,
                                                   tmp_path: Path) -> None:
    feats = grid_features(range(1, 9))
    feats.append(feature(box(X0 + 0.015, Y0, X0 + 0.03, Y0 + 0.01), code=grid_code(9), name="9"))
    report = _grid_import(session, write_fc(tmp_path / "g.geojson", feats))
    [err] = _only_error(report, "overlap")
    assert {err.code, grid_code(8)} == {err.code, grid_code(8)}
    area = float(err.message.split(" by ")[1].split(" m²")[0])
    expected = gcrs.area_m2(box(X0 + 0.015, Y0, X0 + 0.02, Y0 + 0.01))
    assert area == pytest.approx(float(expected), rel=1e-3)


def test_gap_between_grids_is_reported(session: Session, squares: None, tmp_path: Path) -> None:
    report = _grid_import(session, write_fc(tmp_path / "g.geojson", grid_features(range(1, 9))))
    [err] = _only_error(report, "gap")
    gap = float(err.message.split(" m²")[0])
    assert gap == pytest.approx(float(gcrs.area_m2(square(9))), rel=1e-3)
    assert COMMUNITY in err.message


def test_unknown_parent_is_rejected(session: Session, squares: None, tmp_path: Path) -> None:
    feats = grid_features(range(1, 9)) + [feature(square(9), code="210202001099001", name="?")]
    report = _grid_import(session, write_fc(tmp_path / "g.geojson", feats))
    [err] = _only_error(report, "unknown_parent")
    assert err.row == 9 and "210202001099" in err.message


def test_retired_code_is_never_reused(session: Session, squares: None, tmp_path: Path) -> None:
    # Re-grid: square 9 becomes serial 010; activating that retires code ...009.
    feats = grid_features(range(1, 9)) + [feature(square(9), code=f"{COMMUNITY}010", name="新")]
    new = import_boundaries(session, write_fc(tmp_path / "a.geojson", feats), "grid",
                            activate=True)
    assert new.ok, new.format()
    report = _grid_import(session, write_fc(tmp_path / "b.geojson", grid_features()))
    [err] = _only_error(report, "retired_code")
    assert err.code == grid_code(9) and err.row == 9


def test_dry_run_reports_and_writes_nothing(session: Session, squares: None,
                                            tmp_path: Path) -> None:
    before = session.scalar(select(func.count()).select_from(GridCell))
    report = import_boundaries(session, write_fc(tmp_path / "g.geojson", grid_features()),
                               "grid", dry_run=True)
    assert report.ok and report.generation_id is None
    assert session.scalar(select(func.count()).select_from(GridCell)) == before


def test_geopackage_and_shapefile_load(session: Session, squares: None, tmp_path: Path) -> None:
    # Chinese headers in the GeoPackage; DBF field names hold only 10 bytes, so ASCII there.
    codes, names = [grid_code(s) for s in range(1, 10)], [f"第{s}网格" for s in range(1, 10)]
    geoms = [square(s) for s in range(1, 10)]
    files = {
        "g.gpkg": gpd.GeoDataFrame({"网格编码": codes, "名称": names}, geometry=geoms,
                                   crs="EPSG:4326"),
        "g.shp": gpd.GeoDataFrame({"code": codes, "name": names}, geometry=geoms,
                                  crs="EPSG:4326"),
    }
    for name, frame in files.items():
        frame.to_file(tmp_path / name)
        report = import_boundaries(session, tmp_path / name, "grid")
        assert report.ok, report.format()
        assert report.feature_count == 9 and report.crs == "wgs84"


def test_projected_file_is_reprojected(session: Session, squares: None, tmp_path: Path) -> None:
    frame = gpd.GeoDataFrame({"code": [grid_code(s) for s in range(1, 10)],
                              "name": [str(s) for s in range(1, 10)]},
                             geometry=[square(s) for s in range(1, 10)], crs="EPSG:4326")
    # Densified first: a straight edge in metres is a curve in degrees (and vice versa).
    frame.geometry = frame.geometry.segmentize(0.0002)
    frame.to_crs("EPSG:4550").to_file(tmp_path / "m.gpkg")
    report = import_boundaries(session, tmp_path / "m.gpkg", "grid", activate=True)
    assert report.ok and report.crs == "EPSG:4550", report.format()
    x, y = session.execute(text(
        "SELECT ST_XMin(geom), ST_YMin(geom) FROM grid_cell WHERE generation_id = :g AND code = :c"
    ), {"g": report.generation_id, "c": grid_code(7)}).one()
    assert (x, y) == (pytest.approx(X0, abs=1e-8), pytest.approx(Y0, abs=1e-8))


def test_gcj02_file_is_shifted_to_wgs84(session: Session, squares: None, tmp_path: Path) -> None:
    shifted = [feature(gcrs.geometry_from_wgs84(square(s), "gcj02"), code=grid_code(s),
                       name=str(s)) for s in range(1, 10)]
    report = import_boundaries(session, write_fc(tmp_path / "gcj.geojson", shifted), "grid",
                               crs="gcj02", activate=True)
    assert report.ok and report.crs == "gcj02", report.format()
    x = session.scalar(text("SELECT ST_XMin(geom) FROM grid_cell WHERE generation_id = :g "
                            "AND code = :c"), {"g": report.generation_id, "c": grid_code(1)})
    assert x == pytest.approx(X0, abs=1e-7)  # ~1 cm


def test_line_geometry_in_street_file_is_wrong_type(session: Session, squares: None,
                                                   tmp_path: Path) -> None:
    line = LineString([(X0, Y0), (X0 + 0.03, Y0 + 0.03)])
    path = write_fc(tmp_path / "s.geojson", [feature(line, code="210202001000", name="线")])
    report = import_boundaries(session, path, "street")
    [err] = _only_error(report, "wrong_geometry_type")
    assert "LineString" in err.message


def test_street_code_must_end_in_000(session: Session, squares: None, tmp_path: Path) -> None:
    path = write_fc(tmp_path / "s.geojson", [feature(box(X0, Y0, X0 + 0.03, Y0 + 0.03),
                                                     code="210202001002", name="错")])
    report = import_boundaries(session, path, "street", settings=GeoSettings())
    [err] = _only_error(report, "malformed_code")
    assert "ending in 000" in err.message
