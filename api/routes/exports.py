"""GET /exports/{collection}: cases, boundaries, projects and hotspots as CSV, GeoJSON or
GeoPackage — scoped by role (hotspots: command-level roles only, others get a 403), masked
unless an allowed role states a purpose, audited before the first byte, streamed page by page,
with a file name that says what and when."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import StreamingResponse

from api.deps import CipherDep, SessionDep
from api.routes.cases import Purpose, Unmask, check_unmask
from api.security import ScopeDep
from geo.exports.filters import ExportFilter
from geo.exports.gpkg import spool_gpkg
from geo.exports.plan import (
    export_pages,
    export_source,
    plan_export,
    record_export,
    text_chunks,
)
from geo.exports.sources import SOURCES

router = APIRouter(prefix="/exports", tags=["exports"])

Collection = Annotated[str, Path(max_length=64, description="what to export: "
                                 + ", ".join(SOURCES))]
Format = Annotated[Literal["csv", "geojson", "gpkg"], Query(
    description="csv (UTF-8 with BOM), geojson (RFC 7946) or gpkg (GeoPackage)")]
OutputCrs = Annotated[Literal["wgs84", "gcj02", "bd09"], Query(
    description="coordinates: WGS84, or shifted onto Amap (gcj02) / Baidu (bd09) base maps")]
Geometry = Annotated[Literal["lonlat", "wkt"] | None, Query(
    description="CSV only: lon/lat columns (default for points; a point inside a polygon) or "
                "a WKT column (default for polygons)")]


@dataclass
class ExportFilterParams:
    """Export filters; which ones a collection takes, and their formats, are checked in
    geo.exports.filters (a 422 naming the parameter)."""

    grid_code: Annotated[str | None, Query(max_length=15)] = None
    community_code: Annotated[str | None, Query(max_length=12)] = None
    street_code: Annotated[str | None, Query(max_length=12)] = None
    status: Annotated[str | None, Query(max_length=300, description="state, or a comma "
                                        "list of states")] = None
    category: Annotated[str | None, Query(max_length=32, description="code or name")] = None
    date_from: Annotated[datetime | None, Query(alias="from", description=(
        "received at or after (China time unless an offset is given)"))] = None
    date_to: Annotated[datetime | None, Query(alias="to", description="received before")
                       ] = None
    level: Annotated[str | None, Query(max_length=16, description=(
        "hotspots: grid, community, street or project"))] = None

    def to_filter(self) -> ExportFilter:
        """The geo-side filter."""
        return ExportFilter(grid_code=self.grid_code, community_code=self.community_code,
                            street_code=self.street_code, status=self.status,
                            category=self.category, date_from=self.date_from,
                            date_to=self.date_to, level=self.level)


def content_disposition(filename: str) -> str:
    """An attachment header; non-ASCII names get an RFC 5987 `filename*` and an ASCII
    fallback for old clients."""
    if filename.isascii():
        return f'attachment; filename="{filename}"'
    fallback = "".join(c if c.isascii() and c not in '"\\' else "_" for c in filename)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


@router.get("/{collection}", operation_id="export_collection")
def export_collection(
    collection: Collection, request: Request, session: SessionDep, scope: ScopeDep,
    cipher: CipherDep, filters: Annotated[ExportFilterParams, Depends()],
    format: Format = "csv", crs: OutputCrs = "wgs84", geometry: Geometry = None,
    unmask: Unmask = False, purpose: Purpose = None,
) -> StreamingResponse:
    """Download a collection in the caller's scope; the file name says what and when."""
    source = export_source(collection, unmask)
    full = check_unmask(scope, unmask, purpose) if source.personal else False
    plan = plan_export(session, scope, source, fmt=format, out_crs=crs, geometry=geometry,
                       f=filters.to_filter(), unmask=full, at=datetime.now(UTC))
    record_export(session, scope, plan, method=request.method, path=request.url.path,
                  params=dict(request.query_params), purpose=purpose,
                  client=request.client.host if request.client else None)
    session.commit()
    headers = {"Content-Disposition": content_disposition(plan.filename)}
    if plan.format == "gpkg":
        # A GeoPackage is a SQLite file: written to disk page by page, then streamed from it.
        size, body = spool_gpkg(plan.source, export_pages(session, scope, plan, cipher),
                                plan.out_crs)
        headers["Content-Length"] = str(size)
        return StreamingResponse(body, media_type=plan.media_type, headers=headers)
    return StreamingResponse(text_chunks(session, scope, plan, cipher),
                             media_type=plan.media_type, headers=headers)
