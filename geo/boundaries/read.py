"""Read a boundary file (GeoJSON, GeoPackage, Shapefile) into canonical columns in WGS84."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geo import crs as gcrs
from geo.boundaries.report import ImportReport
from geo.errors import InvalidInput

# Canonical column → the names districts actually use in their files (first match wins).
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "code": ("code", "代码", "编码", "区划代码", "grid_code", "网格编码", "adcode"),
    "name": ("name", "名称", "网格名称"),
    "short_name": ("short_name", "简称"),
    "parent_code": ("parent_code", "上级代码", "所属代码"),
    "households": ("households", "户数"),
    "grid_type": ("grid_type", "网格类型"),
    "approximate": ("approximate", "示意"),
}


def _canonical_columns(frame: pd.DataFrame) -> dict[str, str]:
    """Map canonical names to the file's column names."""
    lower = {str(c).lower(): str(c) for c in frame.columns if c != "geometry"}
    found: dict[str, str] = {}
    for canonical, aliases in COLUMN_ALIASES.items():
        for alias in aliases:
            if alias.lower() in lower:
                found[canonical] = lower[alias.lower()]
                break
    return found


def _as_code(value: Any) -> str | None:
    """Codes arrive as text or, from Shapefiles and spreadsheets, as numbers."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    text = str(value).strip()
    return text or None


def _clean(value: Any) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value


def _source_crs(frame: gpd.GeoDataFrame, crs: str | None,
                report: ImportReport) -> gcrs.CrsSpec | None:
    """Decide the file's CRS: --crs wins, else what the file declares; neither is an error."""
    declared = gcrs.crs_of_pyproj(frame.crs) if frame.crs is not None else None
    if crs:
        try:
            given = gcrs.parse_crs(crs)
        except InvalidInput as exc:
            report.error("unknown_crs", exc.message)
            return None
        # GCJ-02/BD-09 files are plain lon/lat to GDAL; only a projected declaration conflicts.
        if declared is not None and declared.epsg not in (4326, 4490) and declared != given:
            report.error("crs_conflict",
                         f"the file declares {declared.name} but --crs says {given.name}")
            return None
        return given
    if declared is None:
        if frame.crs is not None:
            report.error("unknown_crs", f"the file's CRS has no EPSG code ({frame.crs.name}); "
                         "pass --crs wgs84|cgcs2000|gcj02|bd09|EPSG:n")
        else:
            report.error("unknown_crs", "the file declares no CRS; "
                         "pass --crs wgs84|cgcs2000|gcj02|bd09|EPSG:n")
        return None
    return declared


def read_boundary_file(path: Path, crs: str | None,
                       report: ImportReport) -> gpd.GeoDataFrame | None:
    """The file's features with canonical columns and WGS84 geometry; None if unreadable."""
    if not path.is_file():
        report.error("unreadable", f"no such file: {path}")
        return None
    try:
        frame = gpd.read_file(path, engine="pyogrio")
    except Exception as exc:  # noqa: BLE001 — any driver failure means "cannot read this file"
        report.error("unreadable", f"cannot read {path.name}: {str(exc).splitlines()[0]}")
        return None
    report.feature_count = len(frame)
    if frame.empty:
        report.error("empty_file", "the file holds no features")
        return None
    spec = _source_crs(frame, crs, report)
    if spec is None:
        return None
    report.crs = spec.name

    columns = _canonical_columns(frame)
    extra = [c for c in frame.columns if c != "geometry" and c not in columns.values()]
    geoms = frame.geometry.values.to_numpy() if hasattr(frame.geometry.values, "to_numpy") \
        else np.asarray(frame.geometry.values)
    out = pd.DataFrame({"row": np.arange(1, len(frame) + 1)})
    out["code"] = [_as_code(v) for v in frame[columns["code"]]] if "code" in columns else None
    out["parent_code"] = ([_as_code(v) for v in frame[columns["parent_code"]]]
                          if "parent_code" in columns else None)
    for key in ("name", "short_name", "grid_type"):
        out[key] = ([_clean(v) for v in frame[columns[key]]] if key in columns else None)
    out["households"] = ([_clean(v) for v in frame[columns["households"]]]
                         if "households" in columns else None)
    out["approximate"] = ([bool(_clean(v)) for v in frame[columns["approximate"]]]
                          if "approximate" in columns else False)
    out["properties"] = [{c: _clean(frame.at[i, c]) for c in extra} for i in frame.index]
    if spec.name not in ("wgs84", "cgcs2000"):
        present = np.array([g is not None and not g.is_empty for g in geoms])
        converted = geoms.copy()
        if present.any():
            converted[present] = gcrs.geometry_to_wgs84(geoms[present], spec)
        geoms = converted
    return gpd.GeoDataFrame(out, geometry=gpd.GeoSeries(geoms, crs="EPSG:4326"), crs="EPSG:4326")
