"""Create and change one project (the HTTP side of projects) with the importer's rules: the
fields go through the same validation as a file row, the first error becomes a 422 naming the
field, and the project's cases are attached again after every change."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
from shapely.geometry import shape
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo import crs as gcrs
from geo.boundaries.report import ImportReport
from geo.boundaries.store import active_parents
from geo.errors import Conflict, InvalidInput, NotFound
from geo.projects.attach import attach_cases
from geo.projects.read import FIELDS
from geo.projects.store import upsert_projects
from geo.projects.validate import validate_projects
from geo.settings import GeoSettings, HotspotSettings

# The import report's problem kinds → the body field at fault.
FIELD_OF = {
    "missing_code": "code", "malformed_code": "code", "duplicate_code": "code",
    "missing_name": "name", "missing_type": "project_type", "unknown_type": "project_type",
    "bad_households": "households", "bad_buffer": "buffer_m",
}


def _geometry(value: Any, crs: str) -> Any:
    try:
        geom = shape(value)
    except Exception as exc:  # noqa: BLE001 — any parse failure is "not a GeoJSON geometry"
        raise InvalidInput("geometry", f"not a GeoJSON geometry: {exc}", where="body") from exc
    if crs not in ("wgs84", "cgcs2000") and not geom.is_empty:
        geom = gcrs.geometry_to_wgs84(geom, crs)
    return geom


def save_project(session: Session, data: dict[str, Any], *, crs: str = "wgs84",
                 geo_settings: GeoSettings, settings: HotspotSettings,
                 project_id: int | None = None) -> int:
    """Insert (project_id None; 409 when the code exists) or replace a project from body fields
    (`geometry` a GeoJSON dict in `crs`); its cases are attached again. Returns its id."""
    code = data.get("code")
    taken = session.execute(text("SELECT id FROM project WHERE code = :c"), {"c": code}).first()
    if project_id is None and taken is not None:
        raise Conflict(f"a project with code {code!r} exists (id {taken.id}); PATCH it")
    if project_id is not None and taken is not None and taken.id != project_id:
        raise Conflict(f"code {code!r} belongs to project {taken.id}")
    if project_id is not None and session.execute(
            text("SELECT 1 FROM project WHERE id = :id"), {"id": project_id}).first() is None:
        raise NotFound(f"no project {project_id}")
    row = {f: data.get(f) for f in FIELDS}
    row["approximate"] = bool(data.get("approximate"))
    frame = gpd.GeoDataFrame({"row": [1], **{k: [v] for k, v in row.items()},
                              "properties": [data.get("properties") or {}]},
                             geometry=[_geometry(data.get("geometry"), crs)], crs="EPSG:4326")
    report = ImportReport(path="body", level="project")
    rows = validate_projects(frame, active_parents(session, "district"), geo_settings,
                             settings.project_buffer_m, report)
    if report.errors:
        first = report.errors[0]
        field = FIELD_OF.get(first.kind, "geometry")
        if first.kind == "bad_date":
            field = "end_date" if "end_date" in first.message else "start_date"
        raise InvalidInput(field, first.message, where="body")
    [new_id], _ = upsert_projects(session, rows)
    attach_cases(session, geo_settings.metric_crs, [new_id])
    return new_id
