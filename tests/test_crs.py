"""Tests of geo.crs: GCJ-02/BD-09 against published vectors, CRS parsing, geometries, areas."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from pyproj import CRS, Geod, Transformer

from geo import crs
from geo.crs import CrsSpec
from geo.errors import InvalidInput

GEOD = Geod(ellps="WGS84")

# Zhongshan district, Dalian (WGS84).
ZHONGSHAN = (121.6097, 38.8354, 121.8372, 38.9456)


def metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Geodesic distance in metres between two (lon, lat) points."""
    return float(GEOD.inv(a[0], a[1], b[0], b[1])[2])


# --- published test vectors ----------------------------------------------------------------------
# Each entry: (source, input lon/lat, expected lon/lat). Only outputs of the *forward* formulas
# (and of exact inversions) are used. Excluded on purpose: coordtransform's gcj02towgs84 and
# eviltransform's gcj2wgs/bd2wgs are one-step approximations published as 1-2 m accurate.

WGS84_GCJ02 = [
    # googollee/eviltransform python/test.py, TESTS (given there as wgsLat, wgsLng, gcjLat, gcjLng)
    ("eviltransform shanghai", (121.5272106, 31.1774276), (121.531541859215, 31.17530398364597)),
    ("eviltransform shenzhen", (113.912316, 22.543847), (113.9171764808363, 22.540796131694766)),
    ("eviltransform beijing", (116.377817, 39.911954), (116.38404722455657, 39.91334545536069)),
    # wandergis/coordtransform test/app.js: wgs84togcj02(116.404, 39.915)
    ("coordtransform", (116.404, 39.915), (116.41024449916938, 39.91640428150164)),
    # hujiulong/gcoord test/unit/crs/WGS84.spec.ts: WGS84.to.GCJ02([123, 45])
    ("gcoord", (123.0, 45.0), (123.00607541, 45.00197815)),
]

GCJ02_TO_WGS84 = [
    # hujiulong/gcoord test/unit/crs/GCJ02.spec.ts: GCJ02.to.WGS84([123, 45])
    ("gcoord", (123.0, 45.0), (122.99395597, 44.99804071)),
]

GCJ02_TO_BD09 = [
    # wandergis/coordtransform test/app.js: gcj02tobd09(116.404, 39.915)
    ("coordtransform", (116.404, 39.915), (116.41036949371029, 39.92133699351021)),
    # hujiulong/gcoord test/unit/crs/GCJ02.spec.ts: GCJ02.to.BD09([123, 45])
    ("gcoord", (123.0, 45.0), (123.00636499, 45.00636899)),
]

BD09_TO_GCJ02 = [
    # wandergis/coordtransform test/app.js: bd09togcj02(116.404, 39.915)
    ("coordtransform", (116.404, 39.915), (116.39762729119315, 39.90865673957631)),
    # hujiulong/gcoord test/unit/crs/BD09.spec.ts: BD09.to.GCJ02([123, 45])
    ("gcoord", (123.0, 45.0), (122.99363304, 44.99365430)),
]

WGS84_BD09 = [
    # hujiulong/gcoord test/unit/crs/WGS84.spec.ts: WGS84.to.BD09([123, 45])
    ("gcoord", (123.0, 45.0), (123.0124491, 45.0083293)),
]

BD09_TO_WGS84 = [
    # hujiulong/gcoord test/unit/crs/BD09.spec.ts: BD09.to.WGS84([123, 45])
    ("gcoord", (123.0, 45.0), (122.98762210, 44.99171540)),
]


def _ids(cases: list[tuple[str, tuple[float, float], tuple[float, float]]]) -> list[str]:
    return [c[0] for c in cases]


@pytest.mark.parametrize(("source", "wgs", "gcj"), WGS84_GCJ02, ids=_ids(WGS84_GCJ02))
def test_wgs84_to_gcj02_matches_published_vectors(source, wgs, gcj):
    assert metres(crs.wgs84_to_gcj02(*wgs), gcj) < 0.5


@pytest.mark.parametrize(("source", "wgs", "gcj"), WGS84_GCJ02, ids=_ids(WGS84_GCJ02))
def test_gcj02_to_wgs84_inverts_published_forward_vectors(source, wgs, gcj):
    assert metres(crs.gcj02_to_wgs84(*gcj), wgs) < 0.5


@pytest.mark.parametrize(("source", "gcj", "wgs"), GCJ02_TO_WGS84, ids=_ids(GCJ02_TO_WGS84))
def test_gcj02_to_wgs84_matches_published_vectors(source, gcj, wgs):
    assert metres(crs.gcj02_to_wgs84(*gcj), wgs) < 0.5


@pytest.mark.parametrize(("source", "gcj", "bd"), GCJ02_TO_BD09, ids=_ids(GCJ02_TO_BD09))
def test_gcj02_to_bd09_matches_published_vectors(source, gcj, bd):
    assert metres(crs.gcj02_to_bd09(*gcj), bd) < 0.5


@pytest.mark.parametrize(("source", "gcj", "bd"), GCJ02_TO_BD09, ids=_ids(GCJ02_TO_BD09))
def test_bd09_to_gcj02_inverts_published_forward_vectors(source, gcj, bd):
    assert metres(crs.bd09_to_gcj02(*bd), gcj) < 0.5


@pytest.mark.parametrize(("source", "bd", "gcj"), BD09_TO_GCJ02, ids=_ids(BD09_TO_GCJ02))
def test_bd09_to_gcj02_matches_published_vectors(source, bd, gcj):
    # The published closed-form inverse is itself ~0.05-0.1 m off here; ours is exact.
    assert metres(crs.bd09_to_gcj02(*bd), gcj) < 0.5


@pytest.mark.parametrize(("source", "wgs", "bd"), WGS84_BD09, ids=_ids(WGS84_BD09))
def test_wgs84_to_bd09_matches_published_vectors(source, wgs, bd):
    assert metres(crs.wgs84_to_bd09(*wgs), bd) < 0.5


@pytest.mark.parametrize(("source", "bd", "wgs"), BD09_TO_WGS84, ids=_ids(BD09_TO_WGS84))
def test_bd09_to_wgs84_matches_published_vectors(source, bd, wgs):
    assert metres(crs.bd09_to_wgs84(*bd), wgs) < 0.5


def test_dalian_gcj02_offset_is_about_430m_east_90m_north():
    # GCJ-02 numbers for a place in Zhongshan are ~430 m east / ~90 m north of its WGS84 numbers,
    # i.e. converting Amap coordinates to WGS84 moves them ~430 m west and ~90 m south.
    wgs = (121.66, 38.92)
    gcj = crs.wgs84_to_gcj02(*wgs)
    east = metres(wgs, (gcj[0], wgs[1])) * np.sign(gcj[0] - wgs[0])
    north = metres(wgs, (wgs[0], gcj[1])) * np.sign(gcj[1] - wgs[1])
    assert east == pytest.approx(430, abs=60)
    assert north == pytest.approx(90, abs=60)
    back = crs.gcj02_to_wgs84(*gcj)
    assert metres(back, wgs) < 0.001


# --- round trips ---------------------------------------------------------------------------------


def _zhongshan_points(n: int = 10_000) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(20240601)
    lon = rng.uniform(ZHONGSHAN[0], ZHONGSHAN[2], n)
    lat = rng.uniform(ZHONGSHAN[1], ZHONGSHAN[3], n)
    return lon, lat


@pytest.mark.parametrize(
    ("forward", "inverse"),
    [
        (crs.wgs84_to_gcj02, crs.gcj02_to_wgs84),
        (crs.wgs84_to_bd09, crs.bd09_to_wgs84),
        (crs.gcj02_to_bd09, crs.bd09_to_gcj02),
    ],
    ids=["gcj02", "bd09", "gcj02-bd09"],
)
def test_round_trip_over_zhongshan_is_below_a_centimetre(forward, inverse):
    lon, lat = _zhongshan_points()
    shifted = forward(lon, lat)
    assert metres((lon[0], lat[0]), (shifted[0][0], shifted[1][0])) > 100  # really shifted
    back_lon, back_lat = inverse(*shifted)
    err = GEOD.inv(lon, lat, back_lon, back_lat)[2]
    assert err.max() < 0.01


def test_outside_china_gcj02_equals_wgs84():
    # Tokyo, Paris, New York, Sydney, and gcoord's out-of-range [183, 45].
    lon = np.array([139.6917, 2.3522, -74.006, 151.2093, 183.0])
    lat = np.array([35.6895, 48.8566, 40.7128, -33.8688, 45.0])
    assert not crs.in_china(lon, lat).any()
    for fn in (crs.wgs84_to_gcj02, crs.gcj02_to_wgs84):
        out_lon, out_lat = fn(lon, lat)
        np.testing.assert_array_equal(out_lon, lon)
        np.testing.assert_array_equal(out_lat, lat)


def test_in_china_bbox():
    assert crs.in_china(121.66, 38.92) is True
    np.testing.assert_array_equal(
        crs.in_china([72.0, 72.004, 137.8347, 137.9, 100.0], [30.0, 30.0, 30.0, 30.0, 0.8]),
        [False, True, True, False, False],
    )


def test_scalars_give_floats_and_arrays_keep_their_shape():
    lon, lat = crs.wgs84_to_gcj02(121.66, 38.92)
    assert isinstance(lon, float) and isinstance(lat, float)
    grid_lon = np.full((2, 3), 121.66)
    grid_lat = np.full((2, 3), 38.92)
    out_lon, out_lat = crs.gcj02_to_wgs84(grid_lon, grid_lat)
    assert out_lon.shape == out_lat.shape == (2, 3)
    assert out_lon[1, 2] == pytest.approx(crs.gcj02_to_wgs84(121.66, 38.92)[0], abs=1e-12)


# --- parse_crs / crs_of_pyproj --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("wgs84", CrsSpec("wgs84", 4326)),
        ("WGS84", CrsSpec("wgs84", 4326)),
        ("CGCS2000", CrsSpec("cgcs2000", 4490)),
        ("Gcj02", CrsSpec("gcj02", None)),
        ("BD09", CrsSpec("bd09", None)),
        ("EPSG:4326", CrsSpec("wgs84", 4326)),
        ("epsg:4490", CrsSpec("cgcs2000", 4490)),
        ("EPSG:4551", CrsSpec("EPSG:4551", 4551)),
        ("epsg:3857", CrsSpec("EPSG:3857", 3857)),
    ],
)
def test_parse_crs_accepts(text, expected):
    assert crs.parse_crs(text) == expected


@pytest.mark.parametrize("text", ["gcj03", "mercator", "EPSG:999999", "EPSG:", "4326", ""])
def test_parse_crs_rejects_with_field_and_value(text):
    with pytest.raises(InvalidInput) as info:
        crs.parse_crs(text)
    assert info.value.field == "crs"
    assert repr(text) in info.value.message
    assert "gcj02" in info.value.message and "EPSG:" in info.value.message


def test_parse_crs_reports_the_given_field():
    with pytest.raises(InvalidInput) as info:
        crs.parse_crs("baidu", field="source_crs")
    assert info.value.field == "source_crs"


@pytest.mark.parametrize(
    ("crs_obj", "expected"),
    [
        (None, None),
        (CRS.from_epsg(4326), CrsSpec("wgs84", 4326)),
        (CRS("OGC:CRS84"), CrsSpec("wgs84", 4326)),
        (CRS.from_proj4("+proj=longlat +datum=WGS84 +no_defs"), CrsSpec("wgs84", 4326)),
        (CRS.from_epsg(4490), CrsSpec("cgcs2000", 4490)),
        (CRS.from_epsg(4551), CrsSpec("EPSG:4551", 4551)),
        (CRS.from_proj4("+proj=tmerc +lon_0=121.7 +ellps=GRS80 +units=m +no_defs"), None),
    ],
    ids=["none", "4326", "crs84", "proj4-longlat", "4490", "4551", "custom"],
)
def test_crs_of_pyproj(crs_obj, expected):
    assert crs.crs_of_pyproj(crs_obj) == expected


# --- EPSG points and geometries -------------------------------------------------------------------


def test_from_wgs84_to_web_mercator_matches_published_vector():
    # hujiulong/gcoord test/unit/crs/WGS84.spec.ts: WGS84.to.EPSG3857([123, 45])
    x, y = crs.from_wgs84(123.0, 45.0, "EPSG:3857")
    assert x == pytest.approx(13692297.367572648, abs=1e-3)
    assert y == pytest.approx(5621521.486192066, abs=1e-3)
    lon, lat = crs.to_wgs84(x, y, "EPSG:3857")
    assert (lon, lat) == pytest.approx((123.0, 45.0), abs=1e-9)


def test_epsg_round_trip_through_metric_crs():
    lon, lat = _zhongshan_points(1000)
    x, y = crs.from_wgs84(lon, lat, crs.parse_crs("EPSG:4550"))
    assert np.all((x > 0) & (y > 4_000_000))  # easting/northing, not swapped
    back_lon, back_lat = crs.to_wgs84(x, y, "EPSG:4550")
    np.testing.assert_allclose(back_lon, lon, atol=1e-9)
    np.testing.assert_allclose(back_lat, lat, atol=1e-9)


def test_gcj02_polygon_to_wgs84_equals_vertexwise_conversion():
    poly = shapely.Polygon(
        [(121.66, 38.91), (121.67, 38.91), (121.67, 38.92), (121.66, 38.92), (121.66, 38.91)]
    )
    converted = crs.geometry_to_wgs84(poly, "gcj02")
    coords = shapely.get_coordinates(poly)
    exp_lon, exp_lat = crs.gcj02_to_wgs84(coords[:, 0], coords[:, 1])
    assert isinstance(converted, shapely.Polygon)
    np.testing.assert_array_equal(
        shapely.get_coordinates(converted), np.column_stack([exp_lon, exp_lat])
    )
    back = crs.geometry_from_wgs84(converted, "gcj02")
    np.testing.assert_allclose(shapely.get_coordinates(back), coords, atol=1e-10)


def test_geometry_arrays_keep_shape_missing_values_and_z():
    geoms = np.array(
        [shapely.Point(121.66, 38.92), None, shapely.Point(121.7, 38.9, 12.5)], dtype=object
    )
    out = crs.geometry_to_wgs84(geoms, crs.parse_crs("bd09"))
    assert isinstance(out, np.ndarray) and out.shape == (3,)
    assert out[1] is None
    assert shapely.get_coordinates(out[2], include_z=True)[0, 2] == 12.5
    lon, lat = crs.bd09_to_wgs84(121.66, 38.92)
    assert (out[0].x, out[0].y) == pytest.approx((lon, lat), abs=1e-12)


def test_cgcs2000_geometry_to_wgs84_is_identity():
    poly = shapely.box(121.61, 38.84, 121.83, 38.94)
    for spec in ("EPSG:4490", "cgcs2000"):
        out = crs.geometry_to_wgs84(poly, spec)
        assert shapely.equals_exact(out, poly, tolerance=1e-9)
    lon, lat = crs.to_wgs84(121.7, 38.9, "EPSG:4490")
    assert (lon, lat) == pytest.approx((121.7, 38.9), abs=1e-9)


# --- metric CRS and areas -------------------------------------------------------------------------


def _square() -> shapely.Polygon:
    return shapely.box(121.70, 38.90, 121.71, 38.91)  # 0.01 deg x 0.01 deg at lat 38.9


def _geodesic_area(poly: shapely.Polygon) -> float:
    lon, lat = poly.exterior.xy
    return abs(GEOD.polygon_area_perimeter(lon, lat)[0])


def test_area_of_a_hundredth_degree_square_matches_geodesic_area():
    expected = _geodesic_area(_square())  # ~ 866 m x 1111 m
    assert 9.5e5 < expected < 9.8e5
    area = crs.area_m2(_square())
    assert isinstance(area, float)
    assert area == pytest.approx(expected, rel=0.005)


def test_area_in_the_cm123e_zone_is_within_half_a_permille():
    # Dalian lies in the CM 123E zone, which is EPSG:4550 (EPSG:4551 is CM 126E).
    assert crs.area_m2(_square(), "EPSG:4550") == pytest.approx(
        _geodesic_area(_square()), rel=0.0005
    )


def test_area_of_an_array_is_an_array():
    areas = crs.area_m2(np.array([_square(), shapely.box(121.70, 38.90, 121.72, 38.91)]))
    assert isinstance(areas, np.ndarray) and areas.shape == (2,)
    assert areas[1] == pytest.approx(2 * areas[0], rel=1e-3)


def test_to_metric_matches_pyproj_in_easting_northing_order():
    point = shapely.Point(121.7, 38.9)
    projected = crs.to_metric(point)
    x, y = Transformer.from_crs(4490, 4550, always_xy=True).transform(121.7, 38.9)
    assert (projected.x, projected.y) == pytest.approx((x, y), abs=1e-6)


@pytest.mark.parametrize("metric", ["EPSG:4326", "gcj02", "EPSG:2249"])
def test_to_metric_rejects_non_metric_crs(metric):
    # EPSG:2249 is projected but in US survey feet.
    with pytest.raises(InvalidInput) as info:
        crs.to_metric(_square(), metric)
    assert info.value.field == "metric_crs"
