"""Owns every coordinate-system decision: CRS parsing, GCJ-02/BD-09 shifts, EPSG, metric CRS.

Storage is EPSG:4326 (WGS84). CGCS2000 (EPSG:4490) is treated as equal to WGS84 at map scale.
Chinese web maps hand out shifted WGS84: Amap/Tencent/WeChat use GCJ-02, Baidu uses BD-09; neither
is EPSG-registered, so they are converted here with the public closed-form formulas (inverted by
iteration to well below a millimetre). Metric work (areas, buffers) goes through a configurable
projected CRS. Every coordinate function is numpy-vectorised and also accepts plain floats.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import TypeAlias

import numpy as np
import numpy.typing as npt
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError

from geo.errors import InvalidInput

SUPPORTED = ("wgs84", "cgcs2000", "gcj02", "bd09")

# CGCS2000 / 3-degree Gauss-Kruger CM 123E, the zone that holds Dalian (121.5E-124.5E), is
# EPSG:4550. (DESIGN.md and NOTES.md say 4551, but that code is CM 126E: areas 0.34 % too large
# here instead of 0.03 %.) GeoSettings.metric_crs defaults to the same constant.
DEFAULT_METRIC_CRS = "EPSG:4550"

FloatOrArray: TypeAlias = float | npt.NDArray[np.float64]
BoolOrArray: TypeAlias = bool | npt.NDArray[np.bool_]
GeomOrArray: TypeAlias = shapely.Geometry | npt.NDArray[np.object_]

# Krasovsky 1940 ellipsoid, as used by the published GCJ-02 formula.
_A = 6378245.0
_EE = 0.00669342162296594323
_X_PI = math.pi * 3000.0 / 180.0

# Rough bounding box of China used by the common public GCJ-02 implementations.
_CHINA_LON = (72.004, 137.8347)
_CHINA_LAT = (0.8293, 55.8271)

# Fixed-point inversions stop when no point moves by more than this many degrees (~1e-7 m).
_INVERSE_TOL_DEG = 1e-12
_INVERSE_MAX_ITER = 30

_EPSG_RE = re.compile(r"^epsg:(\d{1,9})$", re.IGNORECASE)


@dataclass(frozen=True)
class CrsSpec:
    """A parsed CRS: `name` is one of SUPPORTED or "EPSG:n"; `epsg` is None for gcj02/bd09."""

    name: str
    epsg: int | None


WGS84 = CrsSpec("wgs84", 4326)
CGCS2000 = CrsSpec("cgcs2000", 4490)
GCJ02 = CrsSpec("gcj02", None)
BD09 = CrsSpec("bd09", None)
_BY_NAME = {spec.name: spec for spec in (WGS84, CGCS2000, GCJ02, BD09)}


def _accepted() -> str:
    return ", ".join(SUPPORTED) + " or EPSG:<code>"


@lru_cache(maxsize=256)
def _epsg_exists(code: int) -> bool:
    try:
        CRS.from_epsg(code)
    except (CRSError, ValueError, OverflowError):
        return False
    return True


def parse_crs(value: str, field: str = "crs") -> CrsSpec:
    """Parse a CRS name (case-insensitive) or "EPSG:n" into a CrsSpec, else raise InvalidInput."""
    if not isinstance(value, str):
        raise InvalidInput(field, f"unsupported CRS {value!r}; expected {_accepted()}")
    text = value.strip()
    spec = _BY_NAME.get(text.lower())
    if spec is not None:
        return spec
    match = _EPSG_RE.match(text)
    if match is None:
        raise InvalidInput(field, f"unsupported CRS {value!r}; expected {_accepted()}")
    code = int(match.group(1))
    if code == 4326:
        return WGS84
    if code == 4490:
        return CGCS2000
    if not _epsg_exists(code):
        raise InvalidInput(field, f"unknown EPSG code in CRS {value!r}; expected {_accepted()}")
    return CrsSpec(f"EPSG:{code}", code)


def _spec(crs: CrsSpec | str, field: str = "crs") -> CrsSpec:
    return crs if isinstance(crs, CrsSpec) else parse_crs(crs, field)


def crs_of_pyproj(crs_obj: CRS | None) -> CrsSpec | None:
    """Map a pyproj CRS read from a file to a CrsSpec; None when absent or without an EPSG code."""
    if crs_obj is None:
        return None
    crs = CRS.from_user_input(crs_obj)
    if crs.to_authority() == ("OGC", "CRS84"):
        return WGS84
    code = crs.to_epsg()
    if code is None:
        return None
    if code == 4326:
        return WGS84
    if code == 4490:
        return CGCS2000
    return CrsSpec(f"EPSG:{code}", code)


# --- vectorised plumbing -------------------------------------------------------------------------


def _prepare(
    lon: npt.ArrayLike, lat: npt.ArrayLike
) -> tuple[np.ndarray, np.ndarray, tuple[int, ...]]:
    """Broadcast lon/lat to one shape and return flat float64 copies plus that shape."""
    x, y = np.broadcast_arrays(np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64))
    return x.ravel().copy(), y.ravel().copy(), x.shape


def _finish(
    x: np.ndarray, y: np.ndarray, shape: tuple[int, ...]
) -> tuple[FloatOrArray, FloatOrArray]:
    if shape == ():
        return float(x[0]), float(y[0])
    return x.reshape(shape), y.reshape(shape)


def _in_china(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return (x >= _CHINA_LON[0]) & (x <= _CHINA_LON[1]) & (y >= _CHINA_LAT[0]) & (y <= _CHINA_LAT[1])


def in_china(lon: npt.ArrayLike, lat: npt.ArrayLike) -> BoolOrArray:
    """True where (lon, lat) is in the rough China bounding box where GCJ-02 differs from WGS84."""
    x, y, shape = _prepare(lon, lat)
    inside = _in_china(x, y)
    return bool(inside[0]) if shape == () else inside.reshape(shape)


def _gcj_delta(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 minus WGS84 (degrees) at WGS84 points, by the public closed-form series."""
    dx = x - 105.0
    dy = y - 35.0
    common = (20.0 * np.sin(6.0 * dx * np.pi) + 20.0 * np.sin(2.0 * dx * np.pi)) * 2.0 / 3.0
    sqrt_abs_dx = np.sqrt(np.abs(dx))
    t_lat = (
        -100.0
        + 2.0 * dx
        + 3.0 * dy
        + 0.2 * dy * dy
        + 0.1 * dx * dy
        + 0.2 * sqrt_abs_dx
        + common
        + (20.0 * np.sin(dy * np.pi) + 40.0 * np.sin(dy / 3.0 * np.pi)) * 2.0 / 3.0
        + (160.0 * np.sin(dy / 12.0 * np.pi) + 320.0 * np.sin(dy * np.pi / 30.0)) * 2.0 / 3.0
    )
    t_lon = (
        300.0
        + dx
        + 2.0 * dy
        + 0.1 * dx * dx
        + 0.1 * dx * dy
        + 0.1 * sqrt_abs_dx
        + common
        + (20.0 * np.sin(dx * np.pi) + 40.0 * np.sin(dx / 3.0 * np.pi)) * 2.0 / 3.0
        + (150.0 * np.sin(dx / 12.0 * np.pi) + 300.0 * np.sin(dx / 30.0 * np.pi)) * 2.0 / 3.0
    )
    rad_lat = y / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(rad_lat) ** 2
    sqrt_magic = np.sqrt(magic)
    d_lat = (t_lat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * np.pi)
    d_lon = (t_lon * 180.0) / (_A / sqrt_magic * np.cos(rad_lat) * np.pi)
    return d_lon, d_lat


def _fixed_point_inverse(
    forward: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]],
    tx: np.ndarray,
    ty: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Solve forward(x, y) == (tx, ty) from the guess (x, y); forward must be near a translation."""
    active = np.flatnonzero(np.isfinite(x) & np.isfinite(y))
    for _ in range(_INVERSE_MAX_ITER):
        if active.size == 0:
            break
        fx, fy = forward(x[active], y[active])
        step_x = tx[active] - fx
        step_y = ty[active] - fy
        x[active] += step_x
        y[active] += step_y
        moving = (np.abs(step_x) > _INVERSE_TOL_DEG) | (np.abs(step_y) > _INVERSE_TOL_DEG)
        active = active[moving]
    return x, y


def _wgs_to_gcj(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    out_x, out_y = x.copy(), y.copy()
    inside = np.flatnonzero(_in_china(x, y))
    d_lon, d_lat = _gcj_delta(x[inside], y[inside])
    out_x[inside] += d_lon
    out_y[inside] += d_lat
    return out_x, out_y


def _gcj_to_wgs(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    out_x, out_y = x.copy(), y.copy()
    inside = np.flatnonzero(_in_china(x, y))
    gx, gy = x[inside], y[inside]

    def shifted(wx: np.ndarray, wy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        d_lon, d_lat = _gcj_delta(wx, wy)
        return wx + d_lon, wy + d_lat

    d_lon, d_lat = _gcj_delta(gx, gy)
    wx, wy = _fixed_point_inverse(shifted, gx, gy, gx - d_lon, gy - d_lat)
    out_x[inside] = wx
    out_y[inside] = wy
    return out_x, out_y


def _gcj_to_bd(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    z = np.hypot(x, y) + 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def _bd_to_gcj(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # The public closed form is only an approximate inverse (up to ~0.2 m off); refine it so
    # that _gcj_to_bd(result) reproduces the input.
    bx = x - 0.0065
    by = y - 0.006
    z = np.hypot(bx, by) - 0.00002 * np.sin(by * _X_PI)
    theta = np.arctan2(by, bx) - 0.000003 * np.cos(bx * _X_PI)
    return _fixed_point_inverse(_gcj_to_bd, x, y, z * np.cos(theta), z * np.sin(theta))


def _bd_to_wgs(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return _gcj_to_wgs(*_bd_to_gcj(x, y))


def _wgs_to_bd(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return _gcj_to_bd(*_wgs_to_gcj(x, y))


def _apply(
    fn: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]],
    lon: npt.ArrayLike,
    lat: npt.ArrayLike,
) -> tuple[FloatOrArray, FloatOrArray]:
    x, y, shape = _prepare(lon, lat)
    out_x, out_y = fn(x, y)
    return _finish(out_x, out_y, shape)


# --- public point conversions ---------------------------------------------------------------------


def wgs84_to_gcj02(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[FloatOrArray, FloatOrArray]:
    """Shift WGS84 lon/lat to GCJ-02 (unchanged outside China)."""
    return _apply(_wgs_to_gcj, lon, lat)


def gcj02_to_wgs84(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[FloatOrArray, FloatOrArray]:
    """Convert GCJ-02 lon/lat to WGS84 by iterative inversion (error far below a millimetre)."""
    return _apply(_gcj_to_wgs, lon, lat)


def gcj02_to_bd09(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[FloatOrArray, FloatOrArray]:
    """Convert GCJ-02 lon/lat to Baidu BD-09 lon/lat."""
    return _apply(_gcj_to_bd, lon, lat)


def bd09_to_gcj02(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[FloatOrArray, FloatOrArray]:
    """Convert Baidu BD-09 lon/lat to GCJ-02 (public formula refined to an exact inverse)."""
    return _apply(_bd_to_gcj, lon, lat)


def wgs84_to_bd09(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[FloatOrArray, FloatOrArray]:
    """Convert WGS84 lon/lat to Baidu BD-09 lon/lat (via GCJ-02)."""
    return _apply(_wgs_to_bd, lon, lat)


def bd09_to_wgs84(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[FloatOrArray, FloatOrArray]:
    """Convert Baidu BD-09 lon/lat to WGS84 (via GCJ-02)."""
    return _apply(_bd_to_wgs, lon, lat)


# --- EPSG reprojection ----------------------------------------------------------------------------


def _geographic_base(code: int) -> int:
    """4490 when the CRS is built on CGCS2000 (so no datum shift is applied), else 4326."""
    geodetic = CRS.from_epsg(code).geodetic_crs
    return 4490 if geodetic is not None and geodetic.to_epsg() == 4490 else 4326


@lru_cache(maxsize=64)
def _transformer(src: int, dst: int) -> Transformer:
    return Transformer.from_crs(f"EPSG:{src}", f"EPSG:{dst}", always_xy=True)


@lru_cache(maxsize=64)
def _from_wgs84_transformer(code: int) -> Transformer:
    return _transformer(_geographic_base(code), code)


@lru_cache(maxsize=64)
def _to_wgs84_transformer(code: int) -> Transformer:
    return _transformer(code, _geographic_base(code))


def _converter(
    spec: CrsSpec, to_wgs: bool
) -> Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]] | None:
    """The flat-array function converting spec <-> WGS84, or None when it is the identity."""
    if spec.name in ("wgs84", "cgcs2000"):
        return None
    if spec.name == "gcj02":
        return _gcj_to_wgs if to_wgs else _wgs_to_gcj
    if spec.name == "bd09":
        return _bd_to_wgs if to_wgs else _wgs_to_bd
    if spec.epsg is None:
        raise InvalidInput("crs", f"unsupported CRS {spec.name!r}; expected {_accepted()}")
    transformer = _to_wgs84_transformer(spec.epsg) if to_wgs else _from_wgs84_transformer(spec.epsg)

    def reproject(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        out_x, out_y = transformer.transform(x, y)
        return np.asarray(out_x, dtype=np.float64), np.asarray(out_y, dtype=np.float64)

    return reproject


def to_wgs84(
    lon: npt.ArrayLike, lat: npt.ArrayLike, crs: CrsSpec | str
) -> tuple[FloatOrArray, FloatOrArray]:
    """Convert x/y given in `crs` (any supported name or EPSG:n) to WGS84 lon/lat."""
    fn = _converter(_spec(crs), to_wgs=True)
    x, y, shape = _prepare(lon, lat)
    return _finish(x, y, shape) if fn is None else _finish(*fn(x, y), shape)


def from_wgs84(
    lon: npt.ArrayLike, lat: npt.ArrayLike, crs: CrsSpec | str
) -> tuple[FloatOrArray, FloatOrArray]:
    """Convert WGS84 lon/lat to x/y in `crs` (any supported name or EPSG:n)."""
    fn = _converter(_spec(crs), to_wgs=False)
    x, y, shape = _prepare(lon, lat)
    return _finish(x, y, shape) if fn is None else _finish(*fn(x, y), shape)


# --- geometries -----------------------------------------------------------------------------------


def _transform_geoms(
    geoms: shapely.Geometry | npt.ArrayLike,
    fn: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]] | None,
) -> GeomOrArray:
    if fn is None:
        if isinstance(geoms, shapely.Geometry):
            return geoms
        return np.array(geoms, dtype=object, copy=True)

    def xyz(x: np.ndarray, y: np.ndarray, z: np.ndarray | None = None) -> tuple[np.ndarray, ...]:
        out_x, out_y = fn(np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64))
        return (out_x, out_y) if z is None else (out_x, out_y, z)

    # include_z=None keeps each geometry's own dimensionality (z passes through unchanged).
    return shapely.transform(geoms, xyz, include_z=None, interleaved=False)


def geometry_to_wgs84(geoms: shapely.Geometry | npt.ArrayLike, crs: CrsSpec | str) -> GeomOrArray:
    """Convert shapely geometries (one or an array) from `crs` to WGS84, keeping the shape."""
    return _transform_geoms(geoms, _converter(_spec(crs), to_wgs=True))


def geometry_from_wgs84(geoms: shapely.Geometry | npt.ArrayLike, crs: CrsSpec | str) -> GeomOrArray:
    """Convert shapely geometries (one or an array) from WGS84 to `crs`, keeping the shape."""
    return _transform_geoms(geoms, _converter(_spec(crs), to_wgs=False))


@lru_cache(maxsize=16)
def _metric_spec(metric_crs: str) -> CrsSpec:
    spec = parse_crs(metric_crs, field="metric_crs")
    crs = CRS.from_epsg(spec.epsg) if spec.epsg is not None else None
    if (
        crs is None
        or not crs.is_projected
        or any(axis.unit_name not in ("metre", "meter") for axis in crs.axis_info)
    ):
        raise InvalidInput(
            "metric_crs", f"metric CRS {metric_crs!r} must be an EPSG projected CRS in metres"
        )
    return spec


def to_metric(
    geoms: shapely.Geometry | npt.ArrayLike, metric_crs: str = DEFAULT_METRIC_CRS
) -> GeomOrArray:
    """Project WGS84 geometries (one or an array) into the metric CRS (x east, y north, metres)."""
    return geometry_from_wgs84(geoms, _metric_spec(metric_crs))


def area_m2(
    geoms: shapely.Geometry | npt.ArrayLike, metric_crs: str = DEFAULT_METRIC_CRS
) -> float | npt.NDArray[np.float64]:
    """Area in square metres of WGS84 geometries, measured in the metric CRS."""
    areas = shapely.area(to_metric(geoms, metric_crs))
    return float(areas) if np.ndim(areas) == 0 else np.asarray(areas, dtype=np.float64)
