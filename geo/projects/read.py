"""Read a project file (GeoJSON, GeoPackage, Shapefile) into canonical project columns in WGS84.

The file is read like a boundary file (same CRS rules: --crs wins, else what the file declares;
GCJ-02/BD-09 converted); the project columns are then picked by their English or Chinese
names."""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.boundaries.read import read_boundary_file
from geo.boundaries.report import ImportReport

# Canonical project column → names used in files (case-insensitive; first match wins).
PROJECT_ALIASES: dict[str, tuple[str, ...]] = {
    "code": ("项目编码", "project_code"),
    "name": ("项目名称", "project_name"),
    "project_type": ("project_type", "type", "类型", "项目类型"),
    "households": ("涉及户数", "影响户数", "households_affected"),
    "phase": ("phase", "阶段", "项目阶段"),
    "start_date": ("start_date", "开始日期", "开工日期", "起始日期"),
    "end_date": ("end_date", "结束日期", "完成日期", "截止日期"),
    "buffer_m": ("buffer_m", "buffer", "缓冲距离", "缓冲区"),
    "keywords": ("keywords", "关键词"),
    "source": ("source", "来源", "出处"),
}
FIELDS = ("code", "name", "project_type", "households", "phase", "start_date", "end_date",
          "buffer_m", "keywords", "source", "approximate")


def _missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def _pick(props: dict[str, Any], aliases: Iterable[str]) -> Any:
    """The first non-empty value under any alias (a file with mixed columns has the others
    empty); every alias column is taken out of `props`."""
    lower = {str(k).lower(): k for k in props}
    found = None
    for alias in aliases:
        key = lower.get(alias.lower())
        if key is not None and key in props:
            value = props.pop(key)
            if found is None and not _missing(value):
                found = value
    return found


def _plain(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return [_plain(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        return value.item()
    return value


def read_project_file(path: Path, crs: str | None,
                      report: ImportReport) -> gpd.GeoDataFrame | None:
    """The file's features with the columns in FIELDS, `properties` (the rest) and WGS84
    geometry; None (with the reason in the report) if the file cannot be read."""
    frame = read_boundary_file(path, crs, report)
    if frame is None:
        return None
    rows: dict[str, list[Any]] = {f: [] for f in FIELDS}
    rest: list[dict[str, Any]] = []
    for code, name, households, approximate, props in zip(
            frame["code"], frame["name"], frame["households"], frame["approximate"],
            frame["properties"], strict=True):
        props = {k: _plain(v) for k, v in (props or {}).items()}
        given = {"code": code, "name": name, "households": households}
        for field, aliases in PROJECT_ALIASES.items():
            value = _pick(props, aliases)
            if value is not None and _missing(given.get(field)):
                given[field] = value
        for field in FIELDS:
            value = given.get(field)
            rows[field].append(None if _missing(value) else value)
        rows["approximate"][-1] = bool(approximate)
        rest.append({k: v for k, v in props.items() if not _missing(v)})
    # object columns: pandas would turn a missing number into NaN
    columns = {f: pd.Series(values, dtype=object, index=frame.index)
               for f, values in rows.items()}
    out = gpd.GeoDataFrame({"row": frame["row"], **columns,
                            "properties": pd.Series(rest, dtype=object, index=frame.index)},
                           geometry=frame.geometry, crs="EPSG:4326")
    out["code"] = [None if v is None else str(v).strip() for v in out["code"]]
    return out
