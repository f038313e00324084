"""Project endpoints: list, read, create, change and delete projects (relocation sites,
residential complexes, enterprises in arrears, construction sites), and link cases to them by
hand.

Projects are places, not cases: every signed-in role may read them; registrar, commander and
admin may change them and link cases. The cases of a project are listed through the case scope
(a case the caller may not see is neither listed nor linkable: 404).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from api.deps import GeoSettingsDep, SessionDep
from api.routes.hotspots import HotspotSettingsDep
from api.security import ScopeDep
from geo.access.scope import Scope
from geo.errors import Forbidden
from geo.projects.attach import link_cases, unlink_case
from geo.projects.edit import save_project
from geo.projects.store import MAY_EDIT, delete_project, get_project, list_projects
from geo.sql_files import sql

router = APIRouter(prefix="/projects", tags=["projects"])
GEOJSON = "application/geo+json"
ProjectId = Annotated[int, Path(ge=1)]
ProjectType = Literal["relocation", "residential", "enterprise", "construction", "other"]
Crs = Literal["wgs84", "cgcs2000", "gcj02", "bd09"]


class ProjectIn(BaseModel):
    """A project: polygon (GeoJSON Polygon/MultiPolygon in `crs`), type, households, phase,
    dates, the buffer (metres) and keywords that attach cases to it."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    code: Annotated[str, Field(min_length=1, max_length=32)]
    name: Annotated[str, Field(min_length=1, max_length=200)]
    project_type: ProjectType
    geometry: dict[str, Any]
    crs: Crs = "wgs84"
    households: Annotated[int | None, Field(ge=0, le=10_000_000)] = None
    phase: Annotated[str | None, Field(max_length=200)] = None
    start_date: date | None = None
    end_date: date | None = None
    buffer_m: Annotated[float | None, Field(ge=0, le=2000,
                                            description="default GRIDMAP_HOTSPOT_PROJECT_"
                                            "BUFFER_M")] = None
    keywords: Annotated[list[Annotated[str, Field(min_length=2, max_length=50)]],
                        Field(max_length=50)] = []
    approximate: bool = False
    source: Annotated[str | None, Field(max_length=1000)] = None
    properties: dict[str, Any] = {}


class ProjectPatch(BaseModel):
    """Fields to change (the code stays)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: Annotated[str | None, Field(min_length=1, max_length=200)] = None
    project_type: ProjectType | None = None
    geometry: dict[str, Any] | None = None
    crs: Crs = "wgs84"
    households: Annotated[int | None, Field(ge=0, le=10_000_000)] = None
    phase: Annotated[str | None, Field(max_length=200)] = None
    start_date: date | None = None
    end_date: date | None = None
    buffer_m: Annotated[float | None, Field(ge=0, le=2000)] = None
    keywords: Annotated[list[Annotated[str, Field(min_length=2, max_length=50)]] | None,
                        Field(max_length=50)] = None
    approximate: bool | None = None
    source: Annotated[str | None, Field(max_length=1000)] = None
    properties: dict[str, Any] | None = None


class LinkIn(BaseModel):
    """Cases to link to the project by hand."""

    model_config = ConfigDict(extra="forbid")

    case_ids: Annotated[list[Annotated[int, Field(ge=1)]], Field(min_length=1, max_length=1000)]


def _may_edit(scope: Scope) -> None:
    if scope.role not in MAY_EDIT:
        raise Forbidden(f"role {scope.role} may not change projects; allowed: "
                        f"{', '.join(MAY_EDIT)}")


@router.get("", operation_id="list_projects", response_class=Response,
            responses={200: {"content": {GEOJSON: {}}}})
def read_projects(session: SessionDep,
                  project_type: Annotated[ProjectType | None, Query()] = None) -> Response:
    """Every project as a GeoJSON FeatureCollection (feature id = project id), by code."""
    features = list_projects(session, project_type)
    body = {"type": "FeatureCollection", "numberReturned": len(features), "features": features}
    return Response(orjson.dumps(body), media_type=GEOJSON)


@router.get("/{project_id}", operation_id="get_project", name="get_project")
def read_project(project_id: ProjectId, session: SessionDep) -> dict[str, Any]:
    """One project as a GeoJSON Feature."""
    return get_project(session, project_id)


@router.post("", status_code=201, operation_id="create_project")
def create_project(body: ProjectIn, session: SessionDep, scope: ScopeDep, request: Request,
                   geo: GeoSettingsDep, settings: HotspotSettingsDep) -> JSONResponse:
    """Create a project (409 if its code exists) and attach the cases near it or naming it."""
    _may_edit(scope)
    data = body.model_dump(exclude={"crs"})
    new_id = save_project(session, data, crs=body.crs, geo_settings=geo, settings=settings)
    session.commit()
    return JSONResponse(get_project(session, new_id), status_code=201, headers={
        "Location": str(request.url_for("get_project", project_id=new_id))})


@router.patch("/{project_id}", operation_id="update_project")
def update_project(project_id: ProjectId, body: ProjectPatch, session: SessionDep,
                   scope: ScopeDep, geo: GeoSettingsDep, settings: HotspotSettingsDep
                   ) -> dict[str, Any]:
    """Change a project's fields; its cases are attached again."""
    _may_edit(scope)
    current = get_project(session, project_id)
    data: dict[str, Any] = {**current["properties"], "geometry": current["geometry"]}
    changes = body.model_dump(exclude_unset=True, exclude={"crs"})
    data.update(changes)
    crs = body.crs if "geometry" in changes else "wgs84"
    save_project(session, data, crs=crs, geo_settings=geo, settings=settings,
                 project_id=project_id)
    session.commit()
    return get_project(session, project_id)


@router.delete("/{project_id}", status_code=204, operation_id="delete_project")
def remove_project(project_id: ProjectId, session: SessionDep, scope: ScopeDep) -> Response:
    """Delete a project and its attachments."""
    _may_edit(scope)
    delete_project(session, project_id)
    session.commit()
    return Response(status_code=204)


@router.get("/{project_id}/cases", operation_id="project_cases")
def read_project_cases(project_id: ProjectId, session: SessionDep, scope: ScopeDep,
                       limit: Annotated[int, Query(ge=1, le=1000)] = 100,
                       offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0
                       ) -> dict[str, Any]:
    """The project's cases the caller may see, each with how it was attached: `link` (by
    whom), `buffer` (distance_m) or `keyword` (which)."""
    get_project(session, project_id)
    rows = session.execute(sql("project_cases"), {**scope.params(), "project_id": project_id,
                                                  "limit": limit, "offset": offset})
    items = [{
        "case_id": r.case_id, "external_id": r.external_id,
        "received_at": r.received_at.isoformat(), "category": r.category_code,
        "category_name": r.category_name, "status": r.status, "grid_code": r.grid_code,
        "method": r.method, "distance_m": None if r.distance_m is None else round(r.distance_m, 1),
        "keyword": r.keyword, "attached_by": r.attached_by,
        "attached_at": r.attached_at.isoformat(),
    } for r in rows]
    return {"project_id": project_id, "items": items, "numberReturned": len(items),
            "limit": limit, "offset": offset}


@router.post("/{project_id}/cases", operation_id="link_project_cases")
def post_project_cases(project_id: ProjectId, body: LinkIn, session: SessionDep,
                       scope: ScopeDep) -> dict[str, Any]:
    """Link cases to the project by hand (registrar, commander, admin); 404 for a case the
    caller may not see."""
    _may_edit(scope)
    linked = link_cases(session, scope, project_id, body.case_ids)
    session.commit()
    return {"project_id": project_id, "linked": linked}


@router.delete("/{project_id}/cases/{case_id}", status_code=204,
               operation_id="unlink_project_case")
def delete_project_case(project_id: ProjectId, case_id: Annotated[int, Path(ge=1)],
                        session: SessionDep, scope: ScopeDep, geo: GeoSettingsDep) -> Response:
    """Remove a link made by hand (the case may stay attached by buffer or keyword)."""
    _may_edit(scope)
    unlink_case(session, project_id, case_id, geo.metric_crs)
    session.commit()
    return Response(status_code=204)

