"""The allow-list of exportable collections: what each holds, its columns, the filters it takes,
and how its rows are read page by page (scoped, masked) — never the whole set at once.

A collection is one `ExportSource`. Most are a SQL file (`sql_source_reader`): the file takes
the caller's reach and scope (`reach_*`, `scope_*`, see geo.exports.reach and geo.access.scope),
the filter parameters (`grid_code`, `community_code`, `street_code`, `statuses`, `category`,
`date_from`, `date_to`, `level`; NULL = any), the source's fixed parameters (e.g. labels), a
keyset `:after` (the last id of the previous page, NULL first) and `:limit`; it returns `id`,
`geom` (WKB, WGS84, may be NULL) and the declared columns, ordered by id. Cases are special only
in that their rows come through get_cases, so masking is the case reader's, not a second copy.

Sources: cases, grids, communities, streets (scoped by reach), projects (every project, its
case counts of the cases the caller may see: geo/sql/export_projects.sql) and hotspots (the
stored layers of the last refresh, all levels, for command-level roles only: `readable_by`;
geo/sql/export_hotspots.sql). Each carries the same content as its OGC API collection
(geo.ogc.collections). To add one: write geo/sql/export_<id>.sql to that contract and append
an `ExportSource` to SOURCES below (with `personal=True` and a masking reader if the rows carry
personal data, `readable_by` if only some roles may export it).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from types import MappingProxyType
from typing import Any, Literal, Protocol

import numpy as np
import numpy.typing as npt
import shapely
from sqlalchemy import TextClause, text
from sqlalchemy.orm import Session

from geo.access.scope import COMMAND_LEVEL, Scope
from geo.cases.read import get_cases
from geo.errors import InvalidInput
from geo.exports.filters import ExportFilter
from geo.exports.reach import boundary_reach
from geo.hotspots.layer import LEVEL_LABELS
from geo.privacy.crypto import PersonalDataCipher
from geo.projects.validate import TYPE_LABELS
from geo.sql_files import sql
from geo.workflow.machine import TERMINAL

ColumnType = Literal["string", "integer", "number", "boolean"]


@dataclass(frozen=True)
class Column:
    """One exported attribute: its name (CSV header, GeoJSON property, GeoPackage field) and
    type (the GeoPackage field type; declared so an all-null first page cannot change it)."""

    name: str
    type: ColumnType = "string"


@dataclass(frozen=True)
class Page:
    """Rows of one page and their WGS84 geometries (shapely; None where a row has none)."""

    rows: list[dict[str, Any]]
    geoms: npt.NDArray[np.object_]


class PageReader(Protocol):
    """Reads an export's rows page by page (scoped; masked unless `unmask`)."""

    def __call__(self, session: Session, scope: Scope, f: ExportFilter, *, unmask: bool,
                 cipher: PersonalDataCipher | None, page_size: int) -> Iterator[Page]: ...


Counter = Callable[[Session, Scope, ExportFilter], int]


@dataclass(frozen=True)
class ExportSource:
    """One exportable collection."""

    id: str
    title_zh: str
    geometry_type: Literal["Point", "MultiPolygon"]
    columns: tuple[Column, ...]
    # ExportFilter attribute names this collection can be filtered on.
    filters: frozenset[str]
    # Whether rows carry personal data (masked by default; unmask needs role and purpose).
    personal: bool
    pages: PageReader
    count: Counter
    page_size: int = 1000
    # The roles that may export the collection at all; None: every signed-in role.
    readable_by: tuple[str, ...] | None = None

    def readable(self, role: str) -> bool:
        """Whether a user with this role may export the collection."""
        return self.readable_by is None or role in self.readable_by


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value


def _geoms(wkbs: list[bytes | None]) -> npt.NDArray[np.object_]:
    out = np.empty(len(wkbs), dtype=object)
    out[:] = shapely.from_wkb([bytes(w) if w is not None else None for w in wkbs])
    return out


def _params(session: Session, scope: Scope, f: ExportFilter) -> dict[str, Any]:
    return {**boundary_reach(session, scope).params(), **scope.params(), **f.params()}


@cache
def _count_statement(statement: str) -> TextClause:
    # The page statement itself without its limit (LIMIT NULL is no limit) and keyset: the
    # count is of exactly the rows the pages hold. PostgreSQL drops the unused output columns
    # of the subquery, so no geometry is encoded for it.
    return text(f"SELECT count(*) AS n FROM ({sql(statement).text}) AS q")


def sql_source_reader(statement: str, fixed: Mapping[str, Any] = MappingProxyType({})
                      ) -> tuple[PageReader, Counter]:
    """The page reader and counter of a collection served by geo/sql/<statement>.sql (see the
    module docstring for the file's contract); `fixed`: bound parameters of every call."""

    def pages(session: Session, scope: Scope, f: ExportFilter, *, unmask: bool,
              cipher: PersonalDataCipher | None, page_size: int) -> Iterator[Page]:
        params = {**_params(session, scope, f), **fixed, "after": None, "limit": page_size}
        while True:
            result = session.execute(sql(statement), params).mappings().all()
            if not result:
                return
            rows = [{k: _plain(v) for k, v in r.items() if k != "geom"} for r in result]
            yield Page(rows, _geoms([r["geom"] for r in result]))
            if len(result) < page_size:
                return
            params["after"] = result[-1]["id"]

    def count(session: Session, scope: Scope, f: ExportFilter) -> int:
        params = {**_params(session, scope, f), **fixed, "after": None, "limit": None}
        return int(session.execute(_count_statement(statement), params).scalar_one())

    return pages, count


# --- cases -------------------------------------------------------------------------------------

CASE_COLUMNS = (
    Column("id", "integer"), Column("external_id"), Column("received_at"), Column("channel"),
    Column("category"), Column("status"), Column("persons_count", "integer"),
    Column("petitioners"), Column("petitioner_id_numbers"), Column("petitioner_phones"),
    Column("address"), Column("grid_code"), Column("community_code"), Column("community_name"),
    Column("street_code"), Column("street_name"), Column("location_status"),
    Column("geocode_level"), Column("content"),
)


def _case_row(case: dict[str, Any]) -> dict[str, Any]:
    people = case["petitioners"]
    return {
        "id": case["id"], "external_id": case["external_id"], "received_at": case["received_at"],
        "channel": case["channel"], "category": case["category"]["name"],
        "status": case["status"], "persons_count": case["persons_count"],
        "petitioners": "、".join(p["name"] for p in people),
        "petitioner_id_numbers": "、".join(p["id_number"] or "" for p in people),
        "petitioner_phones": "、".join(p["phone"] or "" for p in people),
        "address": case["address"],
        "grid_code": (case["grid"] or {}).get("code"),
        "community_code": (case["community"] or {}).get("code"),
        "community_name": (case["community"] or {}).get("name"),
        "street_code": (case["street"] or {}).get("code"),
        "street_name": (case["street"] or {}).get("name"),
        "location_status": case["location_status"], "geocode_level": case["geocode"]["level"],
        "content": case["content"],
    }


def _case_point(case: dict[str, Any]) -> shapely.Point | None:
    loc = case["location"]
    return None if loc is None else shapely.Point(loc["lon"], loc["lat"])


def _case_pages(session: Session, scope: Scope, f: ExportFilter, *, unmask: bool,
                cipher: PersonalDataCipher | None, page_size: int) -> Iterator[Page]:
    params: dict[str, Any] = {**scope.params(), **f.params(), "after_at": None,
                              "after_id": None, "limit": page_size}
    while True:
        keys = session.execute(sql("export_case_ids"), params).all()
        if not keys:
            return
        cases = get_cases(session, scope, [k.id for k in keys], unmask=unmask, cipher=cipher)
        geoms = np.empty(len(cases), dtype=object)
        geoms[:] = [_case_point(c) for c in cases]
        yield Page([_case_row(c) for c in cases], geoms)
        if len(keys) < page_size:
            return
        params["after_at"], params["after_id"] = keys[-1].received_at, keys[-1].id


def _case_count(session: Session, scope: Scope, f: ExportFilter) -> int:
    params = {**scope.params(), **f.params(), "after_at": None, "after_id": None, "limit": None}
    return int(session.execute(_count_statement("export_case_ids"), params).scalar_one())


CASES = ExportSource(
    id="cases", title_zh="信访事项", geometry_type="Point", columns=CASE_COLUMNS,
    filters=frozenset({"grid_code", "community_code", "street_code", "status", "category",
                       "date_from", "date_to"}),
    personal=True, pages=_case_pages, count=_case_count)

# --- boundaries --------------------------------------------------------------------------------

_AREA_TAIL = (Column("households", "integer"), Column("approximate", "boolean"),
              Column("generation_id", "integer"))

_grid_pages, _grid_count = sql_source_reader("export_grids")
GRIDS = ExportSource(
    id="grids", title_zh="网格", geometry_type="MultiPolygon",
    columns=(Column("id", "integer"), Column("code"), Column("name"), Column("grid_type"),
             Column("community_code"), Column("community_name"), Column("street_code"),
             Column("street_name"), *_AREA_TAIL),
    filters=frozenset({"grid_code", "community_code", "street_code"}),
    personal=False, pages=_grid_pages, count=_grid_count, page_size=500)

_community_pages, _community_count = sql_source_reader("export_communities")
COMMUNITIES = ExportSource(
    id="communities", title_zh="社区", geometry_type="MultiPolygon",
    columns=(Column("id", "integer"), Column("code"), Column("name"), Column("short_name"),
             Column("street_code"), Column("street_name"), *_AREA_TAIL),
    filters=frozenset({"community_code", "street_code"}),
    personal=False, pages=_community_pages, count=_community_count, page_size=200)

_street_pages, _street_count = sql_source_reader("export_streets")
STREETS = ExportSource(
    id="streets", title_zh="街道", geometry_type="MultiPolygon",
    columns=(Column("id", "integer"), Column("code"), Column("name"), Column("short_name"),
             Column("district_code"), Column("district_name"), *_AREA_TAIL),
    filters=frozenset({"street_code"}),
    personal=False, pages=_street_pages, count=_street_count, page_size=100)

# --- projects and hotspots (as the OGC API collections of the same names) ---------------------

_project_pages, _project_count = sql_source_reader("export_projects", MappingProxyType({
    "type_labels": json.dumps(TYPE_LABELS, ensure_ascii=False),
    "terminal": sorted(TERMINAL)}))
PROJECTS = ExportSource(
    id="projects", title_zh="项目", geometry_type="MultiPolygon",
    columns=(Column("id", "integer"), Column("code"), Column("name"), Column("project_type"),
             Column("type_label"), Column("households", "integer"), Column("phase"),
             Column("start_date"), Column("end_date"), Column("buffer_m", "number"),
             Column("community_code"), Column("community_name"), Column("street_code"),
             Column("street_name"), Column("approximate", "boolean"), Column("source"),
             # Of the attached cases the caller may see (all time): 案次, 未办结, 件次, 人次.
             Column("cases", "integer"), Column("open_cases", "integer"),
             Column("submissions", "integer"), Column("persons", "integer")),
    filters=frozenset({"community_code", "street_code"}),
    personal=False, pages=_project_pages, count=_project_count, page_size=200)

_hotspot_pages, _hotspot_count = sql_source_reader("export_hotspots", MappingProxyType({
    "level_labels": json.dumps(LEVEL_LABELS, ensure_ascii=False)}))
HOTSPOTS = ExportSource(
    id="hotspots", title_zh="热点", geometry_type="MultiPolygon",
    columns=(Column("id", "integer"), Column("level"), Column("level_label"), Column("code"),
             Column("name"), Column("window_from"), Column("window_to"),
             Column("cases", "integer"), Column("submissions", "integer"),
             Column("persons", "integer"), Column("open", "integer"),
             Column("overdue", "integer"), Column("repeat", "integer"),
             Column("collective", "integer"), Column("households", "integer"),
             Column("per_1000_households", "number"), Column("trend"),
             Column("change", "number"), Column("gi_z", "number"), Column("gi_p", "number"),
             Column("gi_class"), Column("computed_at")),
    filters=frozenset({"level"}),
    # The commander's view without small-count suppression: command-level roles only.
    personal=False, pages=_hotspot_pages, count=_hotspot_count, page_size=500,
    readable_by=COMMAND_LEVEL)

SOURCES: Mapping[str, ExportSource] = MappingProxyType(
    {s.id: s for s in (CASES, GRIDS, COMMUNITIES, STREETS, PROJECTS, HOTSPOTS)})


def get_source(collection: str, where: str = "path") -> ExportSource:
    """The registered collection with this id; InvalidInput naming the known ones."""
    found = SOURCES.get(collection)
    if found is None:
        raise InvalidInput("collection", f"unknown collection {collection!r}; exportable: "
                           f"{', '.join(SOURCES)}", where=where)
    return found
