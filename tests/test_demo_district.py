"""The generated demo district: official codes, exact tiling, grid rules, and committed = fresh."""

from __future__ import annotations

import csv
import json
import math
import os
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.geometry import MultiPolygon, Polygon, shape

from geo.demo.district import (
    LICENSE_FILES,
    OUTPUT_FILES,
    default_shared_dir,
    feature_collection_text,
    generate_demo_district,
    main,
)
from geo.settings import PROJECT_ROOT

SHARED = default_shared_dir()
COMMITTED = PROJECT_ROOT / "data" / "boundaries"
METRIC = "EPSG:4550"
TOLERANCE_M = 1.0
SLIVER_M2 = 1.0
LEVELS = ("district", "street", "community", "grid")


@pytest.fixture(scope="module", autouse=True)
def _shared_data() -> None:
    if not SHARED.is_dir():
        message = f"shared reference data not found at {SHARED}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(scope="module")
def layers(_shared_data: None) -> dict[str, gpd.GeoDataFrame]:
    """One generation with the default seed, shared by the module."""
    return generate_demo_district()


@pytest.fixture(scope="module")
def written(_shared_data: None, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """A second, independent generation written through the command line."""
    out = tmp_path_factory.mktemp("boundaries")
    lines: list[str] = []
    assert main(["--out", str(out)], echo=lines.append) == 0
    return out, lines


def _csv(name: str) -> list[dict[str, str]]:
    with (SHARED / name).open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _metric(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return gdf.to_crs(METRIC)


def _pairs(
    layers: dict[str, gpd.GeoDataFrame],
) -> list[tuple[str, gpd.GeoDataFrame, gpd.GeoDataFrame]]:
    """(level, parents, children) with children.parent_code pointing at parents.code."""
    return [
        ("street", layers["district"], layers["street"]),
        ("community", layers["street"], layers["community"]),
        ("grid", layers["community"], layers["grid"]),
    ]


# --- codes and names ---------------------------------------------------------------------------


def test_streets_are_the_six_official_ones(layers: dict[str, gpd.GeoDataFrame]) -> None:
    official = sorted(_csv("zhongshan_210202_subdistricts.csv"), key=lambda r: r["code12"])
    streets = layers["street"]
    assert list(streets["code"]) == [r["code12"] for r in official]
    assert list(streets["name"]) == [r["name"] for r in official]
    assert list(streets["short_name"]) == [r["short_name"] for r in official]
    assert set(streets["parent_code"]) == {"210202"}
    counts = layers["community"].groupby("parent_code").size()
    assert [int(counts[r["code12"]]) for r in official] == [
        int(r["community_count"]) for r in official
    ]
    assert sorted(int(r["community_count"]) for r in official) == [7, 10, 11, 11, 12, 14]


def test_communities_are_the_65_official_ones(layers: dict[str, gpd.GeoDataFrame]) -> None:
    official = sorted(_csv("zhongshan_210202_communities.csv"), key=lambda r: r["code12"])
    communities = layers["community"]
    assert len(communities) == 65
    assert list(communities["code"]) == [r["code12"] for r in official]
    assert list(communities["name"]) == [r["name"] for r in official]
    assert list(communities["short_name"]) == [r["short_name"] for r in official]
    assert list(communities["parent_code"]) == [r["subdistrict_code12"] for r in official]


def test_district_is_the_real_outline(layers: dict[str, gpd.GeoDataFrame]) -> None:
    district = layers["district"]
    assert len(district) == 1
    row = district.iloc[0]
    assert (row["code"], row["name"], bool(row["approximate"])) == ("210202", "中山区", False)
    with (SHARED / "zhongshan_210202_district_wgs84.geojson").open(encoding="utf-8") as fh:
        source = shape(json.load(fh)["features"][0]["geometry"])
    geom = row.geometry
    assert len(geom.geoms) == len(source.geoms) == 7
    # Every source vertex is kept; the added ones lie on the source edges (within 1 cm).
    original = {tuple(c) for c in shapely.get_coordinates(source)}
    assert original <= {tuple(c) for c in shapely.get_coordinates(geom)}
    added = shapely.points([c for c in shapely.get_coordinates(geom) if tuple(c) not in original])
    # Degrees times 111.32 km over-estimates a distance here, so this bound is conservative.
    assert (shapely.distance(added, source.boundary) * 111_320).max() < 0.01
    # Compared in lon/lat: projected, a long edge's chord bows away from its lon/lat original and
    # an added vertex on it would seem to move the boundary by up to ~15 cm.
    assert abs(geom.area - source.area) / source.area < 1e-6


def test_approximate_everywhere_but_the_district(layers: dict[str, gpd.GeoDataFrame]) -> None:
    assert not layers["district"]["approximate"].any()
    for level in ("street", "community", "grid"):
        assert layers[level]["approximate"].all(), level


# --- geometry: tiling, containment, contiguity -------------------------------------------------


def test_geometries_are_valid_multipolygons(layers: dict[str, gpd.GeoDataFrame]) -> None:
    for level in LEVELS:
        geoms = layers[level].geometry
        assert all(isinstance(g, MultiPolygon) and not g.is_empty for g in geoms), level
        assert geoms.is_valid.all(), level
        assert layers[level].crs.to_epsg() == 4326


def test_children_lie_in_their_parent(layers: dict[str, gpd.GeoDataFrame]) -> None:
    for level, parents, children in _pairs(layers):
        allowed = _metric(parents).set_index("code").geometry.buffer(TOLERANCE_M)
        for code, parent_code, geom in zip(
            children["code"], children["parent_code"], _metric(children).geometry, strict=True
        ):
            assert geom.within(allowed[parent_code]), f"{level} {code} leaves {parent_code}"


def test_siblings_do_not_overlap(layers: dict[str, gpd.GeoDataFrame]) -> None:
    for level, _, children in _pairs(layers):
        metric = _metric(children)
        geoms = np.array(metric.geometry)
        a, b = shapely.STRtree(geoms).query(geoms, predicate="intersects")
        keep = a < b
        overlaps = shapely.area(shapely.intersection(geoms[a[keep]], geoms[b[keep]]))
        assert overlaps.max(initial=0.0) < SLIVER_M2, level


def test_children_cover_their_parent(layers: dict[str, gpd.GeoDataFrame]) -> None:
    for level, parents, children in _pairs(layers):
        metric = _metric(children)
        for code, parent in zip(parents["code"], _metric(parents).geometry, strict=True):
            mine = metric[metric["parent_code"] == code]
            assert not mine.empty, f"{code} has no {level}"
            gap = parent.difference(shapely.union_all(np.array(mine.geometry))).area
            assert gap < SLIVER_M2, f"{level}: {gap:.3f} m² of {code} uncovered"


def test_shared_edges_coincide_exactly(layers: dict[str, gpd.GeoDataFrame]) -> None:
    for level in ("street", "community", "grid"):
        assert shapely.coverage_is_valid(np.array(layers[level].geometry)), level


def test_each_area_is_one_mainland_piece(layers: dict[str, gpd.GeoDataFrame]) -> None:
    district = layers["district"].geometry.iloc[0]
    mainland = max(district.geoms, key=lambda p: p.area)
    for level in ("street", "community", "grid"):
        for code, geom in zip(layers[level]["code"], layers[level].geometry, strict=True):
            pieces = [p for p in geom.geoms if p.intersection(mainland).area > 0]
            assert len(pieces) == 1, f"{level} {code}: {len(pieces)} mainland pieces"
    # Each islet went whole to one street: 6 mainland pieces plus the 6 islets.
    assert sum(len(g.geoms) for g in layers["street"].geometry) == 6 + len(district.geoms) - 1


# --- grids -------------------------------------------------------------------------------------


def test_grid_codes_and_names(layers: dict[str, gpd.GeoDataFrame]) -> None:
    grids = layers["grid"]
    communities = layers["community"].set_index("code")
    assert grids["code"].is_unique
    for parent_code, group in grids.groupby("parent_code"):
        codes = sorted(group["code"])
        assert all(len(c) == 15 and c.isdigit() and c[:12] == parent_code for c in codes)
        assert [c[12:] for c in codes] == [f"{i:03d}" for i in range(1, len(codes) + 1)]
        short = communities.loc[parent_code, "short_name"]
        names = dict(zip(group["code"], group["name"], strict=True))
        assert all(names[c] == f"{short}社区第{int(c[12:])}网格" for c in codes)
    assert set(grids["grid_type"]) == {"综合网格"}


def test_grid_counts_and_households(layers: dict[str, gpd.GeoDataFrame]) -> None:
    grids, communities, streets = layers["grid"], layers["community"], layers["street"]
    assert 300 <= len(grids) <= 500
    assert grids["households"].between(300, 500).all()
    per_community = grids.groupby("parent_code")["households"].agg(["sum", "count"])
    assert (per_community["count"] >= 2).all()
    assert len(per_community) == 65
    hh = communities.set_index("code")["households"]
    assert (per_community["sum"] == hh[per_community.index]).all()
    assert hh.between(1500, 3500).all()
    per_street = communities.groupby("parent_code")["households"].sum()
    assert (streets.set_index("code")["households"] == per_street).all()
    # n = max(2, round(households / 400)) cells per community.
    expected = hh.map(lambda h: max(2, round(h / 400)))
    assert (per_community["count"] == expected[per_community.index]).all()


def test_grid_serials_follow_the_documented_rule(layers: dict[str, gpd.GeoDataFrame]) -> None:
    district = layers["district"].geometry.iloc[0]
    mainland = max(district.geoms, key=lambda p: p.area)
    grids = layers["grid"].copy()
    grids["piece"] = [
        next(p for p in g.geoms if p.intersection(mainland).area > 0) for g in grids.geometry
    ]
    pieces = gpd.GeoSeries(grids["piece"], crs=4326).to_crs(METRIC)
    points = shapely.point_on_surface(np.array(pieces))
    grids["x"], grids["y"] = shapely.get_x(points), shapely.get_y(points)
    communities = _metric(layers["community"]).set_index("code").geometry
    for parent_code, group in grids.groupby("parent_code"):
        community = communities[parent_code]
        height = math.sqrt(community.area / len(group))
        maxy = community.bounds[3]
        bands = np.floor((maxy - group["y"]) / height)
        expected = [c for _, _, c in sorted(zip(bands, group["x"], group["code"], strict=True))]
        assert expected == sorted(group["code"]), parent_code


# --- files -------------------------------------------------------------------------------------


def _load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def test_committed_files_equal_a_fresh_generation(written: tuple[Path, list[str]]) -> None:
    # Same features, properties and shapes; geometry compared to 1e-6° (≈ 0.1 m) rather than
    # byte for byte, so a new GEOS or numpy release that reorders a vertex is not "drift".
    out, _ = written
    for filename in OUTPUT_FILES.values():
        committed, fresh = _load(COMMITTED / filename), _load(out / filename)
        hint = f"data/boundaries/{filename} drifted: run `gridmap demo generate` and commit"
        assert [f["properties"] for f in committed["features"]] == \
            [f["properties"] for f in fresh["features"]], hint
        for a, b in zip(committed["features"], fresh["features"], strict=True):
            assert shapely.hausdorff_distance(shape(a["geometry"]), shape(b["geometry"])) < 1e-6, \
                f"{hint} ({a['properties']['code']})"
    for name in LICENSE_FILES:
        assert (COMMITTED / name).read_bytes() == (SHARED / name).read_bytes()
        assert (out / name).is_file()
    assert (COMMITTED / "README.md").is_file()


def test_same_seed_gives_identical_output(
    layers: dict[str, gpd.GeoDataFrame], written: tuple[Path, list[str]]
) -> None:
    out, lines = written
    for level, filename in OUTPUT_FILES.items():
        assert (
            feature_collection_text(layers[level]).encode("utf-8") == (out / filename).read_bytes()
        )
    assert any(line.startswith("grid") for line in lines)


def test_another_seed_changes_only_the_generated_detail(
    layers: dict[str, gpd.GeoDataFrame],
) -> None:
    other = generate_demo_district(seed=7)
    assert list(other["community"]["code"]) == list(layers["community"]["code"])
    assert feature_collection_text(other["grid"]) != feature_collection_text(layers["grid"])
    # The 街道 layout is hand-placed, so it stays put: the lower levels only snap its edges by
    # about a centimetre, i.e. the difference is a sliver averaging under 2 cm in width.
    moved = [
        a.symmetric_difference(b)
        for a, b in zip(other["street"].geometry, layers["street"].geometry, strict=True)
    ]
    perimeter = _metric(layers["street"]).boundary.length.to_numpy()
    area = _metric(gpd.GeoDataFrame(geometry=moved, crs=4326)).area.to_numpy()
    assert (area / perimeter).max() < 0.02


def test_files_are_rfc7946() -> None:
    for level, filename in OUTPUT_FILES.items():
        text = (COMMITTED / filename).read_text(encoding="utf-8")
        data = _load(COMMITTED / filename)
        assert data["type"] == "FeatureCollection"
        assert "crs" not in data
        assert "\\u" not in text  # UTF-8, not escaped
        codes = [f["properties"]["code"] for f in data["features"]]
        assert codes == sorted(codes), level
        for feature in data["features"]:
            geom = feature["geometry"]
            assert geom["type"] == "MultiPolygon"
            for polygon in geom["coordinates"]:
                exterior, *holes = (Polygon(ring).exterior for ring in polygon)
                assert exterior.is_ccw and not any(h.is_ccw for h in holes)
                for ring in polygon:
                    for x, y in ring:
                        assert round(x, 7) == x and round(y, 7) == y
