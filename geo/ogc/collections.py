"""The allow-list of OGC API collections: what each serves, from which SQL, with which fields.

Only collections registered here exist; the route never turns request text into a table, a
column or a SQL fragment. Each collection names the `.sql` files that page its items, measure
its extent and (optionally) cut its vector tiles, and declares its properties with JSON types:
the JSON Schema that GDAL and QGIS read to type their fields is derived from that declaration,
and so are the filters (`?code=…`) a collection accepts.

Adding a collection (projects, hotspots) is one `Collection(...)` entry in `_REGISTERED` plus its
SQL files: `geo/sql/ogc_<name>_items.sql` (parameters: the filters by name, `feature_id`,
`limit`, `offset`, `precision`, `bbox_*`, `scope_*` when `scoped`, `dt_start`/`dt_end` when
`temporal`, `today` when `clocked`; columns `number_matched` and `features`, a JSON array ordered
by id), `ogc_<name>_extent.sql` (minx, miny, maxx, maxy and optionally tmin, tmax) and
`tile_<name>.sql` (see geo.tiles.mvt). A scoped collection applies `{{case_scope}}` (or its own
scope predicate) inside those files; a `finish` hook post-processes a page in Python (masking).
A collection with `readable_by` is served to those roles only: the others get a Forbidden (403)
from its documents, items and tiles, and /collections does not list it for them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType
from typing import Any, Literal

from geo.access.scope import COMMAND_LEVEL
from geo.errors import Forbidden, NotFound
from geo.hotspots.layer import LEVEL_LABELS
from geo.models.hotspots import GI_CLASSES, HOTSPOT_LEVELS, PROJECT_TYPES
from geo.ogc import cases
from geo.projects.validate import TYPE_LABELS
from geo.workflow.machine import TERMINAL

JsonType = Literal["string", "integer", "number", "boolean"]
# A page's features and the request's China day, changed in place before they are served.
Finish = Callable[[list[dict[str, Any]], date | None], None]


@dataclass(frozen=True)
class Property:
    """One feature property: its name, JSON type, Chinese label and whether it filters."""

    name: str
    type: JsonType
    title: str
    description: str = ""
    filterable: bool = False
    # JSON Schema `format` ("date", "date-time"): GDAL types such strings as Date / DateTime.
    format: str | None = None
    # The values the property takes, when it is an enumeration (documented in the schema).
    values: tuple[str, ...] = ()


@dataclass(frozen=True)
class Filter:
    """One query filter of the items (and tiles): `?name=value`, bound to SQL as `:name`.

    `multi`: a comma list meaning "any of these", bound as a text[]; `values`: the allowed
    values (anything else is a 422 naming the filter)."""

    name: str
    type: JsonType
    description: str = ""
    multi: bool = False
    values: tuple[str, ...] = ()


@dataclass(frozen=True)
class Collection:
    """One OGC API collection and the SQL behind it."""

    id: str
    title_zh: str
    title_en: str
    description: str
    # geo/sql/<items_sql>.sql: one page of Features plus number_matched (see query_items).
    items_sql: str
    # geo/sql/<extent_sql>.sql: minx, miny, maxx, maxy in WGS84.
    extent_sql: str
    properties: tuple[Property, ...]
    # The column whose integer value is the feature id (stable within a generation).
    id_column: str
    # Fixed bound parameters of both SQL files (e.g. the area level).
    sql_params: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    geometry_type: str = "MultiPolygon"
    # The timestamp column `datetime=` filters on; None: the collection has no time.
    temporal: str | None = None
    # Whether the SQL applies the caller's Scope (scope_* parameters, see geo.access.scope).
    scoped: bool = False
    # Filters that are not a property's equality (comma lists, open=true, band=red …).
    extra_filters: tuple[Filter, ...] = ()
    # Whether the SQL reads `:today`, the request's China day (deadline bands).
    clocked: bool = False
    # Python applied to each page before it is served (masking personal data, bands).
    finish: Finish | None = None
    # geo/sql/<tile_sql>.sql: one Mapbox Vector Tile (see geo.tiles.mvt); None: no tiles.
    tile_sql: str | None = None
    # The properties the tiles carry (a map needs fewer than a GIS client reads).
    tile_fields: tuple[str, ...] = ()
    # Properties only a clustered tile's features carry (not items' properties): name, type.
    tile_cluster_fields: tuple[tuple[str, JsonType], ...] = ()
    # Seconds a client may keep a tile (boundaries change on activation, cases all the time).
    tile_max_age: int = 300
    # The roles that may read the collection at all; None: every signed-in role.
    readable_by: tuple[str, ...] | None = None

    def readable(self, role: str) -> bool:
        """Whether a user with this role may read the collection (documents, items, tiles)."""
        return self.readable_by is None or role in self.readable_by

    @property
    def title(self) -> str:
        """The Chinese and English title, as clients show it."""
        return f"{self.title_zh} {self.title_en}"

    @property
    def filters(self) -> tuple[Filter, ...]:
        """What this collection can be filtered on: its filterable properties (equality) and
        its extra filters."""
        return tuple(Filter(p.name, p.type, p.description, values=p.values)
                     for p in self.properties if p.filterable) + self.extra_filters

    def property(self, name: str) -> Property:
        """The declared property of this name (KeyError when there is none)."""
        for p in self.properties:
            if p.name == name:
                return p
        raise KeyError(name)


def _p(name: str, type_: JsonType, title: str, description: str = "",
       filterable: bool = False, **kw: Any) -> Property:
    return Property(name, type_, title, description, filterable, **kw)


_AREA_TAIL = (
    _p("households", "integer", "户数", "households in the area, where known"),
    _p("approximate", "boolean", "示意", "true when the boundary is illustrative, not surveyed"),
    _p("generation_id", "integer", "版本", "the boundary generation the feature belongs to"),
)

_AREA_TILE_FIELDS = ("code", "name", "short_name", "parent_code", "households", "approximate")

STREETS = Collection(
    id="streets",
    title_zh="街道",
    title_en="Streets",
    description="街道 (sub-districts) of the district, from the active boundary generation.",
    items_sql="ogc_area_items",
    extent_sql="ogc_area_extent",
    tile_sql="tile_areas",
    tile_fields=_AREA_TILE_FIELDS,
    sql_params=MappingProxyType({"level": "street"}),
    id_column="area.id",
    properties=(
        _p("code", "string", "街道代码", "12-digit statistical division code", True),
        _p("name", "string", "名称", "full name, e.g. 青泥洼桥街道", True),
        _p("short_name", "string", "简称"),
        _p("parent_code", "string", "区代码", "6-digit code of the district", True),
        _p("parent_name", "string", "区名称"),
        *_AREA_TAIL,
    ),
)

COMMUNITIES = Collection(
    id="communities",
    title_zh="社区",
    title_en="Communities",
    description="社区 (residential communities), from the active boundary generation.",
    items_sql="ogc_area_items",
    extent_sql="ogc_area_extent",
    tile_sql="tile_areas",
    tile_fields=_AREA_TILE_FIELDS,
    sql_params=MappingProxyType({"level": "community"}),
    id_column="area.id",
    properties=(
        _p("code", "string", "社区代码", "12-digit statistical division code", True),
        _p("name", "string", "名称", "full name of the 社区", True),
        _p("short_name", "string", "简称"),
        _p("parent_code", "string", "街道代码", "12-digit code of the 街道", True),
        _p("parent_name", "string", "街道名称"),
        *_AREA_TAIL,
    ),
)

GRIDS = Collection(
    id="grids",
    title_zh="网格",
    title_en="Grid cells",
    description="网格 (grid-management cells), each inside one 社区, from the active grid "
                "generation.",
    items_sql="ogc_grid_items",
    extent_sql="ogc_grid_extent",
    tile_sql="tile_grids",
    tile_fields=("code", "name", "grid_type", "parent_code", "street_code", "households",
                 "approximate"),
    id_column="grid_cell.id",
    properties=(
        _p("code", "string", "网格代码", "15 digits: the 社区 code and a 3-digit serial", True),
        _p("name", "string", "名称", "", True),
        _p("grid_type", "string", "网格类型", "综合网格, 专属网格 or 微网格", True),
        _p("parent_code", "string", "社区代码", "12-digit code of the 社区", True),
        _p("parent_name", "string", "社区名称"),
        _p("street_code", "string", "街道代码", "12-digit code of the 街道", True),
        _p("street_name", "string", "街道名称"),
        _p("households", "integer", "户数", "households in the cell, where known"),
        _p("approximate", "boolean", "示意", "true when the cell is illustrative, not surveyed"),
        _p("generation_id", "integer", "版本", "the grid generation the cell belongs to"),
    ),
)

CASES = Collection(
    id="cases",
    title_zh="信访事项",
    title_en="Petition cases",
    description="信访事项 (petition cases) with a location, as the caller's role may see them; "
                "personal data masked (names 张*, addresses cut to the building). Deadline "
                "bands are computed for the day of the request: yellow T−3, orange T−1, red "
                "overdue; none when no obligation runs.",
    items_sql="ogc_case_items",
    extent_sql="ogc_case_extent",
    tile_sql="tile_cases",
    tile_fields=("external_id", "received_at", "category", "category_name", "status",
                 "status_label", "grid_code", "persons_count", "is_repeat", "is_collective",
                 "due_date", "band", "overdue", "supervised"),
    tile_max_age=60,
    # A crowded tile's clusters (geo/sql/tile_cases.sql): supercluster's names.
    tile_cluster_fields=(("cluster", "boolean"), ("point_count", "integer"),
                         ("overdue_count", "integer"), ("supervised_count", "integer")),
    id_column="petition_case.id",
    geometry_type="Point",
    temporal="received_at",
    scoped=True,
    clocked=True,
    finish=cases.finish_case_page,
    sql_params=cases.SQL_PARAMS,
    properties=(
        _p("id", "integer", "编号", "the case id (also the feature id)"),
        _p("external_id", "string", "信访编号", "id in the source system"),
        _p("received_at", "string", "登记时间", "when the case was received (China time)",
           format="date-time"),
        _p("channel", "string", "渠道", "letter, visit, phone, online, patrol or platform"),
        _p("category", "string", "类别代码", "category code"),
        _p("category_name", "string", "类别"),
        _p("status", "string", "状态", "workflow state", values=cases.STATUS_VALUES),
        _p("status_label", "string", "状态名称"),
        _p("grid_code", "string", "网格代码", "15-digit code of the grid the case lies in"),
        _p("community_code", "string", "社区代码"),
        _p("community_name", "string", "社区名称"),
        _p("street_code", "string", "街道代码"),
        _p("street_name", "string", "街道名称"),
        _p("persons_count", "integer", "人数", "persons (人次) of the first submission"),
        _p("is_repeat", "boolean", "重复访"),
        _p("is_collective", "boolean", "集体访"),
        _p("address", "string", "地址", "masked: cut to the building"),
        _p("petitioner", "string", "信访人", "masked names joined by 、"),
        _p("due_date", "string", "期限", "earliest running obligation deadline (local or "
           "statutory)", format="date"),
        _p("due_rule", "string", "期限规则", "the rule of that deadline (routing, handling …)"),
        _p("band", "string", "预警", "worst band of the running obligations as of the "
           "request's day", values=cases.BANDS),
        _p("local_band", "string", "本地目标预警", "band of the local targets",
           values=cases.BANDS),
        _p("statutory_band", "string", "法定期限预警", "band of the statutory limits",
           values=cases.BANDS),
        _p("overdue", "boolean", "逾期", "a running obligation is past its due date"),
        _p("supervised", "boolean", "督办", "an open 督办"),
        _p("leader", "string", "包案领导", "the leader who took the case (包案), or null"),
    ),
    extra_filters=(
        Filter("status", "string", "workflow states, comma-separated (any of them)",
               multi=True, values=cases.STATUS_VALUES),
        Filter("category", "string", "category codes, comma-separated", multi=True),
        Filter("grid_code", "string", "15-digit grid code"),
        Filter("community_code", "string", "12-digit 社区 code"),
        Filter("street_code", "string", "12-digit 街道 code"),
        Filter("open", "boolean", "true: not in a terminal state (closed, redirected, "
               "not_accepted, merged, finalized); false: only those"),
        Filter("band", "string", "deadline bands as of the request's day, comma-separated",
               multi=True, values=cases.BANDS),
        Filter("overdue", "boolean", "a running obligation is past its due date"),
        Filter("supervised", "boolean", "an open 督办"),
        Filter("leader", "string", "true: a 包案 leader; false: none; else the leader's name"),
    ),
)

PROJECTS = Collection(
    id="projects",
    title_zh="项目",
    title_en="Projects",
    description="项目: places that generate petitions (回迁/动迁 relocation sites, residential "
                "complexes, enterprises in arrears, construction sites), as polygons; "
                "`approximate` marks an illustrative (示意) footprint. The counts are of the "
                "cases attached to the project (by hand, buffer or keyword) that the caller's "
                "role may see, all time: 案次 `cases`, of them `open_cases`, 件次 "
                "`submissions` and 人次 `persons`. `datetime` selects the projects whose "
                "start_date–end_date overlaps it (an open end overlaps everything).",
    items_sql="ogc_project_items",
    extent_sql="ogc_project_extent",
    tile_sql="tile_projects",
    tile_fields=("code", "name", "project_type", "type_label", "households", "phase",
                 "community_code", "approximate", "cases", "open_cases"),
    id_column="project.id",
    temporal="start_date",
    scoped=True,
    sql_params=MappingProxyType({
        "type_labels": json.dumps(TYPE_LABELS, ensure_ascii=False),
        "terminal": sorted(TERMINAL),
    }),
    properties=(
        _p("code", "string", "项目编码", "the project's code", True),
        _p("name", "string", "项目名称", "", True),
        _p("project_type", "string", "项目类型代码", "relocation, residential, enterprise, "
           "construction or other", True, values=PROJECT_TYPES),
        _p("type_label", "string", "项目类型", "回迁/动迁, 住宅小区, 欠薪企业, 建设工地 or 其他"),
        _p("households", "integer", "涉及户数", "households affected, where known"),
        _p("phase", "string", "阶段"),
        _p("start_date", "string", "开始日期", format="date"),
        _p("end_date", "string", "结束日期", format="date"),
        _p("buffer_m", "number", "缓冲距离", "cases this many metres from the polygon attach "
           "to the project"),
        _p("community_code", "string", "社区代码", "12-digit code of the 社区 the project lies "
           "in", True),
        _p("community_name", "string", "社区名称"),
        _p("approximate", "boolean", "示意", "true when the footprint is illustrative, not "
           "surveyed", True),
        _p("source", "string", "来源"),
        _p("cases", "integer", "案次", "attached cases the caller may see"),
        _p("open_cases", "integer", "未办结案次", "of those, not in a terminal state"),
        _p("submissions", "integer", "件次", "submissions of those cases"),
        _p("persons", "integer", "人次", "persons of those submissions"),
    ),
)

HOTSPOTS = Collection(
    id="hotspots",
    title_zh="热点",
    title_en="Hotspots",
    description="热点: the hotspot layers stored by the last `gridmap hotspots refresh` — the "
                "commander's view (district-wide, 检举控告 left out, no small-count "
                "suppression) of its window, one feature per 网格, 社区, 街道 and project "
                "(`level`; filter `level=grid` for the Getis-Ord Gi* map: `gi_class` hot99 … "
                "cold90, ns). Counts: 案次 `cases`, 件次 `submissions`, 人次 `persons`, "
                "`open`, `overdue`, `repeat`, `collective`; `per_1000_households`, `trend` "
                "(case counts of the 6 previous periods, oldest first, comma-separated) and "
                "`change` against them. Readable by command-level roles only (commander, "
                "discipline, admin): below them the hotspot layers suppress small counts, "
                "which these stored rows do not. Feature ids last until the next refresh; "
                "`level` + `code` identify a feature across refreshes.",
    items_sql="ogc_hotspot_items",
    extent_sql="ogc_hotspot_extent",
    tile_sql="tile_hotspots",
    tile_fields=("level", "code", "name", "cases", "submissions", "persons",
                 "per_1000_households", "change", "gi_class"),
    id_column="hotspot_stat.id",
    readable_by=COMMAND_LEVEL,
    sql_params=MappingProxyType({
        "level_labels": json.dumps(LEVEL_LABELS, ensure_ascii=False),
    }),
    properties=(
        _p("level", "string", "层级", "grid 网格, community 社区, street 街道 or project 项目",
           True, values=HOTSPOT_LEVELS),
        _p("level_label", "string", "层级名称"),
        _p("code", "string", "代码", "the grid, 社区, 街道 or project code", True),
        _p("name", "string", "名称"),
        _p("window_from", "string", "统计起", "start of the refresh's window (inclusive)",
           format="date-time"),
        _p("window_to", "string", "统计止", "end of the refresh's window (exclusive)",
           format="date-time"),
        _p("cases", "integer", "案次", "cases received in the window"),
        _p("submissions", "integer", "件次", "submissions received in the window"),
        _p("persons", "integer", "人次", "persons of those submissions"),
        _p("open", "integer", "未办结", "of the cases, not in a terminal state"),
        _p("overdue", "integer", "逾期", "of the cases, with a running obligation overdue"),
        _p("repeat", "integer", "重复访"),
        _p("collective", "integer", "集体访"),
        _p("households", "integer", "户数"),
        _p("per_1000_households", "number", "每千户案次"),
        _p("trend", "string", "趋势", "case counts of the 6 previous periods of the window's "
           "length, oldest first, comma-separated"),
        _p("change", "number", "变化", "cases / mean of the trend − 1"),
        _p("gi_z", "number", "Gi* z", "grid level only"),
        _p("gi_p", "number", "Gi* p", "two-sided permutation p-value, grid level only"),
        _p("gi_class", "string", "冷热点", "hot99 … cold90 or ns, grid level only", True,
           values=GI_CLASSES),
        _p("computed_at", "string", "计算时间", "when the refresh ran", format="date-time"),
    ),
)

# The registry, in the order /collections lists them.
_REGISTERED = (STREETS, COMMUNITIES, GRIDS, CASES, PROJECTS, HOTSPOTS)

COLLECTIONS: Mapping[str, Collection] = MappingProxyType({c.id: c for c in _REGISTERED})


def get_collection(collection_id: str) -> Collection:
    """The registered collection with this id; NotFound naming it (and the known ones)."""
    found = COLLECTIONS.get(collection_id)
    if found is None:
        raise NotFound(f"collection {collection_id!r} does not exist; collections: "
                       f"{', '.join(COLLECTIONS)}")
    return found


def readable_collection(collection_id: str, role: str) -> Collection:
    """The registered collection with this id, when `role` may read it: NotFound as
    get_collection, Forbidden naming the role and the roles that may."""
    found = get_collection(collection_id)
    if not found.readable(role):
        raise Forbidden(f"role {role} may not read collection {found.id!r}; readable by: "
                        f"{', '.join(found.readable_by or ())}")
    return found


# The items path's own parameters: a property filter named like one could never be asked for.
RESERVED = frozenset({"bbox", "bbox-crs", "limit", "offset", "crs", "datetime", "f",
                      "filter", "filter-lang", "properties", "sortby"})


def filter_names() -> dict[str, Filter]:
    """Every filter name across collections (the first declaration of each); ValueError when
    one is named like an OGC parameter or two collections give one name two JSON types (the
    OpenAPI document lists each query parameter once)."""
    names: dict[str, Filter] = {}
    for collection in COLLECTIONS.values():
        for flt in collection.filters:
            if flt.name in RESERVED:
                raise ValueError(f"collection {collection.id!r}: a filter may not be named "
                                 f"{flt.name!r}, an OGC API parameter")
            first = names.setdefault(flt.name, flt)
            if first.type != flt.type:
                raise ValueError(f"collection {collection.id!r}: filter {flt.name!r} is "
                                 f"{flt.type}, elsewhere {first.type}")
    return names


def feature_schema(collection: Collection, schema_id: str | None = None) -> dict[str, Any]:
    """JSON Schema of one Feature of the collection, property types under
    `properties.properties` (the shape GDAL's OAPIF driver reads to type its fields)."""
    # One plain type per property, never ["integer", "null"] or anyOf: GDAL types those as
    # strings. So the schema is silent about nulls (short_name or households may be null): a
    # strict validator would reject such a feature, GDAL and QGIS read it as a null field.
    props = {
        p.name: {"type": p.type, "title": p.title,
                 **({"description": p.description} if p.description else {}),
                 **({"format": p.format} if p.format else {}),
                 **({"enum": list(p.values)} if p.values else {})}
        for p in collection.properties
    }
    schema: dict[str, Any] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": collection.title,
        "description": collection.description,
        "type": "object",
        "required": ["type", "id", "geometry", "properties"],
        "properties": {
            "type": {"type": "string", "enum": ["Feature"]},
            "id": {"type": "integer", "description": f"feature id ({collection.id_column})",
                   "x-ogc-role": "id"},
            "geometry": {
                "type": "object",
                "description": f"GeoJSON {collection.geometry_type}, WGS84 lon/lat unless "
                               "crs= asked for GCJ-02 or BD-09",
                "x-ogc-role": "primary-geometry",
                "properties": {
                    "type": {"type": "string", "enum": [collection.geometry_type]},
                    "coordinates": {"type": "array"},
                },
            },
            "properties": {"type": "object", "properties": props},
        },
    }
    if schema_id is not None:
        schema = {"$id": schema_id, **schema}
    return schema
