"""Store and read projects: upsert by code (import and HTTP alike), list, get, delete.

Projects are places (a relocation site, a complex, an enterprise, a construction site), not
cases: every signed-in role may read them; registrar, commander and admin may change them."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import shapely
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.errors import NotFound
from geo.models.hotspots import Project
from geo.projects.validate import TYPE_LABELS, ProjectRow
from geo.sql_files import sql

MAY_EDIT = ("registrar", "commander", "admin")


def upsert_projects(session: Session, rows: Sequence[ProjectRow]) -> tuple[list[int], int]:
    """Write each project (insert, or replace the one with its code); ids in order and how many
    were new. Takes a transaction-level lock so concurrent imports don't interleave."""
    session.execute(text("SELECT pg_advisory_xact_lock(hashtext('gridmap.projects'))"))
    ids: list[int] = []
    inserted = 0
    for r in rows:
        found = session.execute(sql("upsert_project"), {
            "code": r.code, "name": r.name, "project_type": r.project_type,
            "households": r.households, "phase": r.phase, "start_date": r.start_date,
            "end_date": r.end_date, "buffer_m": r.buffer_m, "keywords": list(r.keywords),
            "approximate": r.approximate, "source": r.source,
            "properties": json.dumps(r.properties, ensure_ascii=False, default=str),
            "wkb": shapely.to_wkb(r.geom, output_dimension=2),
        }).one()
        ids.append(int(found.id))
        inserted += bool(found.inserted)
    return ids, inserted


def project_dict(r: Any) -> dict[str, Any]:
    """One project row as a GeoJSON Feature (id = the project id)."""
    return {
        "type": "Feature", "id": r.id,
        "geometry": json.loads(r.geometry),
        "properties": {
            "id": r.id, "code": r.code, "name": r.name, "project_type": r.project_type,
            "project_type_label": TYPE_LABELS.get(r.project_type, r.project_type),
            "households": r.households, "phase": r.phase,
            "start_date": r.start_date.isoformat() if r.start_date else None,
            "end_date": r.end_date.isoformat() if r.end_date else None,
            "buffer_m": r.buffer_m, "keywords": list(r.keywords or []),
            "community_code": r.community_code, "community_name": r.community_name,
            "approximate": r.approximate, "source": r.source,
            "properties": r.properties or {},
            "created_at": r.created_at.isoformat(), "updated_at": r.updated_at.isoformat(),
        },
    }


def list_projects(session: Session, project_type: str | None = None) -> list[dict[str, Any]]:
    """Every project as a Feature, by code."""
    rows = session.execute(sql("project_features"), {"id": None, "project_type": project_type})
    return [project_dict(r) for r in rows]


def get_project(session: Session, project_id: int) -> dict[str, Any]:
    """One project as a Feature; NotFound if there is none with this id."""
    row = session.execute(sql("project_features"),
                          {"id": project_id, "project_type": None}).first()
    if row is None:
        raise NotFound(f"no project {project_id}")
    return project_dict(row)


def delete_project(session: Session, project_id: int) -> None:
    """Delete a project and its attachments (links by hand included)."""
    project = session.get(Project, project_id)
    if project is None:
        raise NotFound(f"no project {project_id}")
    session.delete(project)
    session.flush()
