"""One export from request to bytes, shared by `GET /exports/{collection}` and `gridmap export`:
validate (collection, format, crs, geometry, filters), count what the caller's scope holds,
name the file, audit it, then produce it page by page.

The caller checks the unmask rule (role and purpose) before planning and records the audit row
(`record_export`) before the first byte leaves. A collection only some roles may export
(hotspots: command-level roles) is refused with Forbidden naming the role, before anything is
counted.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from geo.access import audit
from geo.access.scope import Scope
from geo.errors import Forbidden, InvalidInput
from geo.exports.csv import csv_chunks, geometry_style
from geo.exports.filters import ExportFilter, check_filter
from geo.exports.geojson import geojson_chunks
from geo.exports.geometry import check_output_crs
from geo.exports.naming import area_label, export_filename
from geo.exports.sources import ExportSource, Page, get_source
from geo.privacy.crypto import PersonalDataCipher

FORMATS = ("csv", "geojson", "gpkg")
MEDIA_TYPES = {"csv": "text/csv; charset=utf-8", "geojson": "application/geo+json",
               "gpkg": "application/geopackage+sqlite3"}


@dataclass(frozen=True)
class ExportPlan:
    """A checked export: what, how, for whom it was counted, and its file name."""

    source: ExportSource
    format: str
    out_crs: str
    geometry: str
    filter: ExportFilter
    unmask: bool
    rows: int
    filename: str

    @property
    def media_type(self) -> str:
        """The HTTP media type of the file."""
        return MEDIA_TYPES[self.format]


def export_source(collection: str, unmask: bool = False, where: str = "path") -> ExportSource:
    """The collection to export; InvalidInput for an unknown one, or for `unmask` on one
    that holds no personal data."""
    source = get_source(collection, where=where)
    if unmask and not source.personal:
        raise InvalidInput("unmask", f"collection {source.id!r} holds no personal data: "
                           "there is nothing to unmask")
    return source


def check_readable(source: ExportSource, scope: Scope) -> ExportSource:
    """The collection, when the caller's role may export it; Forbidden naming the role and
    the roles that may (a 403 in the API)."""
    if not source.readable(scope.role):
        raise Forbidden(f"role {scope.role} may not export collection {source.id!r}; "
                        f"exportable by: {', '.join(source.readable_by or ())}")
    return source


def plan_export(session: Session, scope: Scope, source: ExportSource, *, fmt: str,
                out_crs: str = "wgs84", geometry: str | None = None,
                f: ExportFilter | None = None, unmask: bool = False,
                at: datetime) -> ExportPlan:
    """Check the request and count the rows in scope (InvalidInput naming the parameter);
    `unmask` must already be allowed (see api.routes.cases.check_unmask); Forbidden for a
    collection the caller's role may not export."""
    check_readable(source, scope)
    if fmt not in FORMATS:
        raise InvalidInput("format", f"format must be {', '.join(FORMATS)}, not {fmt!r}")
    check_output_crs(out_crs)
    style = geometry_style(source, geometry)
    checked = check_filter(session, source.id, source.filters, f or ExportFilter())
    rows = source.count(session, scope, checked)
    name = export_filename(source.id, area_label(scope, checked), out_crs, unmask, fmt, at)
    return ExportPlan(source, fmt, out_crs, style, checked, unmask, rows, name)


def record_export(session: Session, scope: Scope, plan: ExportPlan, *, method: str,
                  path: str, params: dict[str, Any], purpose: str | None,
                  client: str | None) -> None:
    """The export's audit row (`export.<collection>`, row count, unmasked, purpose), in the
    caller's transaction: commit it before streaming."""
    audit.record(session, scope, f"export.{plan.source.id}", method=method, path=path,
                 params=params, row_count=plan.rows, purpose=purpose, unmasked=plan.unmask,
                 client=client)


def export_pages(session: Session, scope: Scope, plan: ExportPlan,
                 cipher: PersonalDataCipher | None) -> Iterator[Page]:
    """The export's rows, page by page, scoped and (unless unmasked) masked."""
    return plan.source.pages(session, scope, plan.filter, unmask=plan.unmask, cipher=cipher,
                             page_size=plan.source.page_size)


def text_chunks(session: Session, scope: Scope, plan: ExportPlan,
                cipher: PersonalDataCipher | None) -> Iterator[bytes]:
    """A CSV or GeoJSON export as UTF-8 chunks, one page at a time."""
    pages = export_pages(session, scope, plan, cipher)
    if plan.format == "csv":
        return (chunk.encode("utf-8") for chunk in
                csv_chunks(plan.source, pages, plan.out_crs, plan.geometry))
    if plan.format == "geojson":
        return geojson_chunks(plan.source, pages, plan.out_crs, masked=not plan.unmask)
    raise ValueError(f"{plan.format} is not a text format: use geo.exports.gpkg")
