"""The allow-list of OGC API collections: what each serves, from which SQL, with which fields.

Only collections registered here exist; the route never turns request text into a table, a
column or a SQL fragment. Each collection names the `.sql` files that page its items and
measure its extent, and declares its properties with JSON types: the JSON Schema that GDAL and
QGIS read to type their fields is derived from that declaration, and so are the property
filters (`?code=…`) a collection accepts. Cases, projects and hotspots plug in as new entries
(with `scoped=True` and a temporal column) next to SQL files that apply the caller's scope.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

from geo.errors import NotFound

JsonType = Literal["string", "integer", "number", "boolean"]


@dataclass(frozen=True)
class Property:
    """One feature property: its name, JSON type, Chinese label and whether it filters."""

    name: str
    type: JsonType
    title: str
    description: str = ""
    filterable: bool = False


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

    @property
    def title(self) -> str:
        """The Chinese and English title, as clients show it."""
        return f"{self.title_zh} {self.title_en}"

    @property
    def filters(self) -> tuple[Property, ...]:
        """The properties this collection can be filtered on (`?name=value`)."""
        return tuple(p for p in self.properties if p.filterable)


def _p(name: str, type_: JsonType, title: str, description: str = "",
       filterable: bool = False) -> Property:
    return Property(name, type_, title, description, filterable)


_AREA_TAIL = (
    _p("households", "integer", "户数", "households in the area, where known"),
    _p("approximate", "boolean", "示意", "true when the boundary is illustrative, not surveyed"),
    _p("generation_id", "integer", "版本", "the boundary generation the feature belongs to"),
)

STREETS = Collection(
    id="streets",
    title_zh="街道",
    title_en="Streets",
    description="街道 (sub-districts) of the district, from the active boundary generation.",
    items_sql="ogc_area_items",
    extent_sql="ogc_area_extent",
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

COLLECTIONS: Mapping[str, Collection] = MappingProxyType(
    {c.id: c for c in (STREETS, COMMUNITIES, GRIDS)})


def get_collection(collection_id: str) -> Collection:
    """The registered collection with this id; NotFound naming it (and the known ones)."""
    found = COLLECTIONS.get(collection_id)
    if found is None:
        raise NotFound(f"collection {collection_id!r} does not exist; collections: "
                       f"{', '.join(COLLECTIONS)}")
    return found


# The items path's own parameters: a property filter named like one could never be asked for.
RESERVED = frozenset({"bbox", "bbox-crs", "limit", "offset", "crs", "datetime", "f",
                      "filter", "filter-lang", "properties", "sortby"})


def filter_names() -> dict[str, Property]:
    """Every filterable property name across collections (the first declaration of each)."""
    names: dict[str, Property] = {}
    for collection in COLLECTIONS.values():
        for prop in collection.filters:
            if prop.name in RESERVED:
                raise ValueError(f"collection {collection.id!r}: a filter may not be named "
                                 f"{prop.name!r}, an OGC API parameter")
            names.setdefault(prop.name, prop)
    return names


def feature_schema(collection: Collection, schema_id: str | None = None) -> dict[str, Any]:
    """JSON Schema of one Feature of the collection, property types under
    `properties.properties` (the shape GDAL's OAPIF driver reads to type its fields)."""
    # One plain type per property, never ["integer", "null"] or anyOf: GDAL types those as
    # strings. So the schema is silent about nulls (short_name or households may be null): a
    # strict validator would reject such a feature, GDAL and QGIS read it as a null field.
    props = {
        p.name: {"type": p.type, "title": p.title, **({"description": p.description}
                                                      if p.description else {})}
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
