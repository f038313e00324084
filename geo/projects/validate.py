"""Validate project features before anything is written, in the importer's style: every finding
goes into the report with the feature's row and code, and one error rejects the whole file.

Rules: Polygon/MultiPolygon geometry (invalid ones repaired with make_valid when the repair is
still a polygon, as for boundaries); a code (letters, digits, `_ . -`, at most 32) unique in
the file; a name; a known type (English code or Chinese label); households a whole number
≥ 0 (or empty: unknown); dates as YYYY-MM-DD (also 2020/2/1, 2020年2月1日), end not before
start; a buffer of 0–2000 m (empty: the default); the polygon inside the active district (a
project wholly outside is an error, one sticking out by more than the tolerance a warning).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from geo import crs as gcrs
from geo.boundaries.report import ImportReport
from geo.boundaries.validate import Parents
from geo.settings import GeoSettings

CODE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,31}$")
MAX_BUFFER_M = 2000.0
TYPE_LABELS = {
    "relocation": "回迁/动迁", "residential": "住宅小区", "enterprise": "欠薪企业",
    "construction": "建设工地", "other": "其他",
}
# Chinese words districts write for each type (the English codes are accepted as they are).
TYPE_WORDS = {
    "relocation": ("回迁", "动迁", "拆迁", "征收", "棚改", "棚户区改造", "旧城区改造", "旧改"),
    "residential": ("住宅", "小区", "楼盘", "住宅小区", "新建楼盘"),
    "enterprise": ("企业", "欠薪", "欠薪企业", "企业欠薪"),
    "construction": ("工地", "建设工地", "在建工程", "施工"),
    "other": ("其他",),
}
KEYWORD_SPLIT = re.compile(r"[、,，;；|]+")


@dataclass
class ProjectRow:
    """One validated project, ready to store."""

    code: str
    name: str
    project_type: str
    geom: BaseGeometry
    households: int | None = None
    phase: str | None = None
    start_date: date | None = None
    end_date: date | None = None
    buffer_m: float = 0.0
    keywords: list[str] = field(default_factory=list)
    approximate: bool = False
    source: str | None = None
    properties: dict[str, Any] = field(default_factory=dict)


def project_type(value: Any) -> str | None:
    """The type code of an English code or a Chinese label; None if unknown."""
    text = str(value).strip()
    if text.lower() in TYPE_LABELS:
        return text.lower()
    for code, label in TYPE_LABELS.items():
        if text == label or text in TYPE_WORDS[code]:
            return code
    for code, words in TYPE_WORDS.items():
        if any(w in text for w in words if len(w) >= 2):
            return code
    return None


def parse_date(value: Any) -> date:
    """A date from YYYY-MM-DD, 2020/2/1, 2020年2月1日 or an ISO date-time; ValueError if not."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    m = re.fullmatch(r"(\d{4})[-/年.](\d{1,2})[-/月.](\d{1,2})日?(?:[T ].*)?", text)
    if not m:
        raise ValueError(f"{text!r} is not a date (YYYY-MM-DD)")
    return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))


def parse_keywords(value: Any) -> list[str]:
    """Keywords from a list or a string separated by 、 , ; | (at least 2 characters each)."""
    if value is None:
        return []
    items = value if isinstance(value, (list, tuple)) else KEYWORD_SPLIT.split(str(value))
    out = [str(k).strip() for k in items]
    return list(dict.fromkeys(k for k in out if len(k) >= 2))


def _households(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError("not a number")
    number = float(value)
    if not math.isfinite(number) or number < 0 or not number.is_integer():
        raise ValueError("not a whole number ≥ 0")
    return int(number)


def _polygon(geom: BaseGeometry | None, row: int, code: str | None,
             report: ImportReport) -> BaseGeometry | None:
    if geom is None or geom.is_empty:
        report.error("empty_geometry", "the feature has no geometry", row, code)
        return None
    if geom.geom_type not in ("Polygon", "MultiPolygon"):
        report.error("wrong_geometry_type",
                     f"{geom.geom_type} given; a project must be a Polygon or MultiPolygon",
                     row, code)
        return None
    if not geom.is_valid:
        reason = shapely.is_valid_reason(geom)
        parts = [g for g in shapely.get_parts(shapely.make_valid(geom))
                 if g.geom_type in ("Polygon", "MultiPolygon")]
        repaired = shapely.union_all(parts) if parts else shapely.Polygon()
        if repaired.is_empty or repaired.area == 0:
            report.error("invalid_geometry", f"invalid ({reason}) and not repairable", row, code)
            return None
        report.warn("repaired_geometry", f"invalid ({reason}); repaired with make_valid",
                    row, code)
        geom = repaired
    if geom.area == 0:
        report.error("empty_geometry", "the polygon has zero area", row, code)
        return None
    return geom


def _check_in_district(geom: BaseGeometry, district: Parents | None, row: int, code: str,
                       settings: GeoSettings, report: ImportReport) -> None:
    if district is None:
        report.warn("no_district", "no active district boundary: location not checked",
                    row, code)
        return
    outline = shapely.union_all(list(district.geoms))
    if not outline.intersects(geom):
        report.error("outside_district", "the project lies wholly outside the district",
                     row, code)
        return
    outside = geom.difference(outline)
    if outside.is_empty:
        return
    pts = shapely.points(shapely.get_coordinates(outside))
    metric = gcrs.to_metric(pts, settings.metric_crs)
    far = float(np.max(shapely.distance(gcrs.to_metric(outline, settings.metric_crs), metric)))
    if far > settings.tolerance_m:
        report.warn("outside_district", f"part of the project lies up to {far:.0f} m outside "
                    "the district", row, code)


def validate_projects(frame: gpd.GeoDataFrame, district: Parents | None, settings: GeoSettings,
                      default_buffer_m: float, report: ImportReport) -> list[ProjectRow]:
    """Every project of the file checked; the rows to store (meaningful only if report.ok)."""
    out: list[ProjectRow] = []
    first_row: dict[str, int] = {}
    records: Sequence[dict[str, Any]] = frame.drop(columns="geometry").to_dict("records")
    for raw, geom in zip(records, frame.geometry.values, strict=True):
        rec: dict[str, Any] = {k: None if isinstance(v, float) and math.isnan(v) else v
                               for k, v in raw.items()}
        row, ok = int(rec["row"]), True
        code: str | None = rec["code"]
        if not code:
            report.error("missing_code", "no code (column code / 编码 / 项目编码)", row)
            ok = False
        elif not CODE_PATTERN.match(code):
            report.error("malformed_code", f"code {code!r} is not 1–32 letters, digits, "
                         "'_', '.' or '-'", row, code)
            ok = False
        elif code in first_row:
            report.error("duplicate_code", f"code {code} already used in row {first_row[code]}",
                         row, code)
            ok = False
        else:
            first_row[code] = row
        name = str(rec["name"]).strip() if rec["name"] is not None else ""
        if not name:
            report.error("missing_name", "no name (column name / 名称 / 项目名称)", row, code)
            ok = False
        kind = project_type(rec["project_type"]) if rec["project_type"] is not None else None
        if rec["project_type"] is None:
            report.error("missing_type", "no type (column project_type / 类型): one of "
                         + ", ".join(f"{k} {v}" for k, v in TYPE_LABELS.items()), row, code)
            ok = False
        elif kind is None:
            report.error("unknown_type", f"type {rec['project_type']!r} is none of "
                         + ", ".join(f"{k} {v}" for k, v in TYPE_LABELS.items()), row, code)
            ok = False
        households = None
        if rec["households"] is not None:
            try:
                households = _households(rec["households"])
            except (TypeError, ValueError):
                report.error("bad_households", f"households {rec['households']!r} is not a "
                             "whole number ≥ 0", row, code)
                ok = False
        dates: dict[str, date | None] = {"start_date": None, "end_date": None}
        for key in dates:
            if rec[key] is not None:
                try:
                    dates[key] = parse_date(rec[key])
                except ValueError as exc:
                    report.error("bad_date", f"{key}: {exc}", row, code)
                    ok = False
        start, end = dates["start_date"], dates["end_date"]
        if start and end and end < start:
            report.error("bad_date", f"end_date {end} is before start_date {start}", row, code)
            ok = False
        buffer_m = default_buffer_m
        if rec["buffer_m"] is not None:
            try:
                buffer_m = float(rec["buffer_m"])
                if not (math.isfinite(buffer_m) and 0 <= buffer_m <= MAX_BUFFER_M):
                    raise ValueError
            except (TypeError, ValueError):
                report.error("bad_buffer", f"buffer_m {rec['buffer_m']!r} is not 0–"
                             f"{MAX_BUFFER_M:g} metres", row, code)
                ok = False
        polygon = _polygon(geom, row, code, report)
        if polygon is None:
            ok = False
        elif code:
            _check_in_district(polygon, district, row, code, settings, report)
        if ok and polygon is not None and kind is not None and code:
            out.append(ProjectRow(
                code=code, name=name, project_type=kind, geom=polygon, households=households,
                phase=None if rec["phase"] is None else str(rec["phase"]).strip(),
                start_date=start, end_date=end, buffer_m=buffer_m,
                keywords=parse_keywords(rec["keywords"]), approximate=bool(rec["approximate"]),
                source=None if rec["source"] is None else str(rec["source"]).strip(),
                properties=rec["properties"] or {}))
    return out
