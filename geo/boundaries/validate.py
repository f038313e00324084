"""Validate boundary features before anything is written: geometry, codes, parents, overlaps, gaps.

Every finding goes into the report with the feature's row and code. Invalid geometry is repaired
with make_valid when the repair is still a polygon (reported as a warning), else rejected. Areas
and distances are measured in the metric CRS from the settings (EPSG:4550 by default).
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from geo import crs as gcrs
from geo.boundaries.report import ImportReport
from geo.settings import GeoSettings

LEVEL_LABEL = {"district": "区", "street": "街道", "community": "社区", "grid": "网格"}
PARENT_LEVEL = {"street": "district", "community": "street", "grid": "community"}
CODE_PATTERN = {
    "district": re.compile(r"^\d{6}$"),
    "street": re.compile(r"^\d{9}000$"),
    "community": re.compile(r"^\d{12}$"),
    "grid": re.compile(r"^\d{15}$"),
}
CODE_RULE = {
    "district": "6 digits",
    "street": "12 digits ending in 000",
    "community": "12 digits not ending in 000",
    "grid": "15 digits (12-digit 社区 code + 3-digit serial)",
}
# Below this many m², a difference is floating-point noise, not a finding.
NOISE_M2 = 0.01


@dataclass(frozen=True)
class Parents:
    """The active parent level: codes and geometries (WGS84)."""

    level: str
    codes: list[str]
    geoms: np.ndarray


def parent_code_of(level: str, code: str) -> str | None:
    """The parent's code implied by a child's code (the hierarchy is in the codes)."""
    if level == "street":
        return code[:6]
    if level == "community":
        return code[:9] + "000"
    if level == "grid":
        return code[:12]
    return None


def _polygonal(geom: BaseGeometry) -> BaseGeometry:
    """Keep only the polygon parts of a geometry (make_valid can yield lines and points)."""
    parts = [g for g in shapely.get_parts(geom) if g.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts) if parts else shapely.Polygon()


def _check_geometry(frame: gpd.GeoDataFrame, report: ImportReport) -> np.ndarray:
    """Geometry checks; returns repaired geometries (None where rejected)."""
    fixed: list[BaseGeometry | None] = []
    for row, code, geom in zip(frame["row"], frame["code"], frame.geometry.values, strict=True):
        if geom is None or geom.is_empty:
            report.error("empty_geometry", "the feature has no geometry", row, code)
            fixed.append(None)
            continue
        if geom.geom_type not in ("Polygon", "MultiPolygon"):
            report.error("wrong_geometry_type",
                         f"{geom.geom_type} given; boundaries must be Polygon or MultiPolygon",
                         row, code)
            fixed.append(None)
            continue
        if not geom.is_valid:
            reason = shapely.is_valid_reason(geom)
            repaired = _polygonal(shapely.make_valid(geom))
            if repaired.is_empty or repaired.area == 0:
                report.error("invalid_geometry", f"invalid ({reason}) and not repairable",
                             row, code)
                fixed.append(None)
                continue
            report.warn("repaired_geometry", f"invalid ({reason}); repaired with make_valid",
                        row, code)
            geom = repaired
        if geom.area == 0:
            report.error("empty_geometry", "the polygon has zero area", row, code)
            fixed.append(None)
            continue
        fixed.append(geom)
    return np.array(fixed, dtype=object)


def _check_codes(frame: gpd.GeoDataFrame, level: str, report: ImportReport) -> None:
    """Codes present, well-formed, unique; names present; given parent codes consistent."""
    first_row: dict[str, int] = {}
    pattern, rule = CODE_PATTERN[level], CODE_RULE[level]
    for row, code, name, parent in zip(frame["row"], frame["code"], frame["name"],
                                       frame["parent_code"], strict=True):
        if not code:
            report.error("missing_code", "no code (column code / 编码)", row)
            continue
        if not pattern.match(code) or (level == "community" and code.endswith("000")):
            report.error("malformed_code", f"code {code!r} is not {rule}", row, code)
            continue
        if code in first_row:
            report.error("duplicate_code", f"code {code} already used in row {first_row[code]}",
                         row, code)
            continue
        first_row[code] = row
        if not name:
            report.error("missing_name", "no name (column name / 名称)", row, code)
        implied = parent_code_of(level, code)
        if parent and implied and parent != implied:
            report.error("parent_mismatch",
                         f"parent_code {parent} disagrees with the code's prefix ({implied})",
                         row, code)


def _area_m2(geom: BaseGeometry, settings: GeoSettings) -> float:
    return 0.0 if geom.is_empty else float(gcrs.area_m2(geom, settings.metric_crs))


def _is_sliver(geom: BaseGeometry, settings: GeoSettings) -> bool:
    """Narrower than the tolerance everywhere: shrinking it by half the tolerance leaves nothing."""
    metric = gcrs.to_metric(geom, settings.metric_crs)
    return bool(shapely.buffer(metric, -settings.tolerance_m / 2).is_empty)


def _max_distance_m(part: BaseGeometry, target: BaseGeometry, settings: GeoSettings) -> float:
    """How far (metres) the farthest vertex of `part` lies from `target`."""
    coords = shapely.get_coordinates(part)
    if len(coords) == 0:
        return 0.0
    pts = gcrs.to_metric(shapely.points(coords), settings.metric_crs)
    return float(np.max(shapely.distance(gcrs.to_metric(target, settings.metric_crs), pts)))


def _check_parents(frame: gpd.GeoDataFrame, geoms: np.ndarray, level: str,
                   parents: Parents | None, settings: GeoSettings, report: ImportReport) -> None:
    """Each child names an existing parent and lies inside it (within the tolerance).

    Overlay work happens in lon/lat (what PostGIS stores); only the results are measured in
    metres, so projecting straight edges never invents slivers.
    """
    parent_level = PARENT_LEVEL.get(level)
    if parent_level is None:
        return
    if parents is None or not parents.codes:
        label = LEVEL_LABEL[parent_level]
        if level == "street":
            report.warn("no_parent_level", f"no active {label} boundary: containment not checked")
        else:
            report.error("no_parent_level",
                         f"no active {label} generation: import the {parent_level} level first")
        return
    index = {code: i for i, code in enumerate(parents.codes)}
    children: dict[str, list[int]] = defaultdict(list)
    tol = settings.tolerance_m
    for i, (row, code) in enumerate(zip(frame["row"], frame["code"], strict=True)):
        if geoms[i] is None or not code or not CODE_PATTERN[level].match(code):
            continue
        pcode = parent_code_of(level, code)
        if parent_level == "district" and len(parents.codes) == 1:
            pcode = parents.codes[0]
        if pcode not in index:
            report.error("unknown_parent",
                         f"parent {LEVEL_LABEL[parent_level]} {pcode} is not in the active "
                         f"{parent_level} generation", row, code)
            continue
        children[pcode].append(i)
        parent = parents.geoms[index[pcode]]
        outside = shapely.difference(geoms[i], parent)
        area = _area_m2(outside, settings)
        if area <= NOISE_M2:
            continue
        far = _max_distance_m(outside, parent, settings)
        if far > tol:
            report.error("outside_parent",
                         f"{area:.1f} m² lies outside its parent {pcode}, up to {far:.1f} m away "
                         f"(tolerance {tol:g} m)", row, code)
    _check_gaps(geoms, level, parents, children, settings, report)


def _check_gaps(geoms: np.ndarray, level: str, parents: Parents, children: dict[str, list[int]],
                settings: GeoSettings, report: ImportReport) -> None:
    """Every parent must be covered by its children: uncovered area is a gap."""
    label = LEVEL_LABEL[level]
    for pcode, pgeom in zip(parents.codes, parents.geoms, strict=True):
        idx = children.get(pcode, [])
        if not idx:
            report.error("gap", f"{LEVEL_LABEL[parents.level]} {pcode} has no {label} in this file")
            continue
        uncovered = shapely.difference(pgeom, shapely.union_all(geoms[idx]))
        gap = _area_m2(uncovered, settings)
        if gap <= NOISE_M2:
            continue
        if _is_sliver(uncovered, settings):
            report.warn("sliver_gap", f"{gap:.2f} m² of slivers of {pcode} uncovered "
                        f"(all narrower than {settings.tolerance_m:g} m)")
        else:
            report.error("gap", f"{gap:.1f} m² of {LEVEL_LABEL[parents.level]} {pcode} "
                         f"is covered by no {label}")


def _check_overlaps(frame: gpd.GeoDataFrame, geoms: np.ndarray, settings: GeoSettings,
                    report: ImportReport) -> None:
    """Siblings must not overlap; the shared area is reported."""
    idx = np.flatnonzero(np.array([g is not None for g in geoms]))
    if len(idx) < 2:
        return
    valid = geoms[idx]
    left, right = shapely.STRtree(valid).query(valid, predicate="intersects")
    rows, codes = frame["row"].to_numpy(), frame["code"].to_numpy()
    for a, b in zip(left, right, strict=True):
        if a >= b:
            continue
        shared = shapely.intersection(valid[a], valid[b])
        area = _area_m2(shared, settings)
        ia, ib = idx[a], idx[b]
        if area <= NOISE_M2:
            continue
        if _is_sliver(shared, settings):
            report.warn("sliver_overlap", f"{area:.2f} m² sliver shared with {codes[ib]}",
                        int(rows[ia]), codes[ia])
        else:
            report.error("overlap", f"overlaps row {rows[ib]} (code {codes[ib]}) by {area:.1f} m²",
                         int(rows[ia]), codes[ia])


def validate_features(frame: gpd.GeoDataFrame, level: str, parents: Parents | None,
                      retired_codes: set[str], settings: GeoSettings,
                      report: ImportReport) -> np.ndarray:
    """Run every check; returns the (repaired) geometries to write when the report is ok."""
    geoms = _check_geometry(frame, report)
    _check_codes(frame, level, report)
    for row, code in zip(frame["row"], frame["code"], strict=True):
        if code in retired_codes:
            report.error("retired_code", f"grid code {code} was retired and is never reused",
                         row, code)
    if level != "district":
        _check_overlaps(frame, geoms, settings, report)
    _check_parents(frame, geoms, level, parents, settings, report)
    return geoms
