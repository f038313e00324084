"""OGC API – Features: landing page, conformance, OpenAPI, collections and their items.

Shaped for real clients (GDAL's OAPIF driver, QGIS): every answer is JSON without `f=`, typed
`application/json`, `application/geo+json` or the schema/OpenAPI media types they ask for;
links are absolute, built from the request's base URL (so a path prefix behind a proxy
survives); a page has exactly one `next` link while more features remain. Like every route,
these need the bearer token (the app-wide guard); the collections come from the allow-list in
geo.ogc.collections. Scoped collections (cases) are read through the caller's Scope, their
extent included, and their deadline bands are computed for the request clock (NowDep). A
collection readable by some roles only (hotspots: command level) is a 403 naming them for the
others, on every path under it, and /collections leaves it out for them.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, get_args

import orjson
from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from api.deps import LimitsDep, NowDep, SessionDep
from api.security import ScopeDep
from geo.access.scope import Scope
from geo.errors import InvalidInput, NotFound
from geo.ogc.collections import (
    COLLECTIONS,
    Collection,
    feature_schema,
    filter_names,
    readable_collection,
)
from geo.ogc.items import (
    DEFAULT_LIMIT,
    collection_extent,
    get_item,
    query_items,
    swap_axes,
)
from geo.ogc.params import (
    BBOX_CRS,
    CRS84,
    EPSG4326,
    OUTPUT_CRS,
    crs_name,
    lat_first,
    parse_bbox_param,
    parse_datetime,
    parse_filters,
)
from geo.settings import LimitSettings
from geo.workflow.deadlines import china_date

router = APIRouter(tags=["ogc"])

JSON = "application/json"
GEOJSON = "application/geo+json"
SCHEMA_JSON = "application/schema+json"
OPENAPI_JSON = "application/vnd.oai.openapi+json;version=3.0"
CONFORMANCE = (
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    # Vector tiles of the collections (api/routes/tiles.py).
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tileset",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tilesets-list",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/geodata-tilesets",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/mvt",
)
# The items' page cap is a setting (LimitSettings.ogc_max_limit); the OpenAPI document states
# the configured value (see api_document), this default until then.
DEFAULT_MAX_LIMIT = LimitSettings.model_fields["ogc_max_limit"].default
GREGORIAN = "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"
TILESETS_VECTOR = "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector"
# Integer ids only, and no more digits than a bigint holds: anything else cannot exist.
FEATURE_ID = re.compile(r"^[0-9]{1,18}$")

# Literal types put the accepted values into the OpenAPI document as enums.
OutputCrs = Literal["wgs84", "gcj02", "bd09", "http://www.opengis.net/def/crs/OGC/1.3/CRS84",
                    "http://www.opengis.net/def/crs/EPSG/0/4326"]
BBoxCrs = Literal["wgs84", "cgcs2000", "gcj02", "bd09",
                  "http://www.opengis.net/def/crs/OGC/1.3/CRS84",
                  "http://www.opengis.net/def/crs/EPSG/0/4326"]
JsonFormat = Annotated[Literal["json"] | None, Query(
    description="response format; json is the only one (and the default)")]
ItemsFormat = Annotated[Literal["json", "geojson"] | None, Query(
    description="response format; GeoJSON is the only one (and the default)")]
CollectionId = Annotated[str, Path(alias="collectionId", max_length=64,
                                   description="collection id: " + ", ".join(COLLECTIONS))]
# The enums above repeat geo.ogc.params' lists (a Literal needs literals): keep them in step.
assert set(get_args(OutputCrs)) == {*OUTPUT_CRS, CRS84, EPSG4326}
assert set(get_args(BBoxCrs)) == {*BBOX_CRS, CRS84, EPSG4326}


def _json(body: Any, media_type: str = JSON, crs: str | None = None) -> Response:
    # orjson and a plain Response: a 10,000-feature page skips FastAPI's jsonable_encoder.
    response = Response(orjson.dumps(body), media_type=media_type)
    if crs is not None and crs_name(crs) == "wgs84":
        # OGC API – Features Part 2 names the output CRS; GCJ-02 and BD-09 have no URI.
        response.headers["Content-Crs"] = f"<{EPSG4326 if lat_first(crs) else CRS84}>"
    return response


def _href(request: Request, path: str) -> str:
    """An absolute URL under the app's base URL (root path included)."""
    return str(request.base_url).rstrip("/") + path


def _link(href: str, rel: str, media_type: str, title: str) -> dict[str, str]:
    return {"href": href, "rel": rel, "type": media_type, "title": title}


def _filter_parameters() -> dict[str, Any]:
    """OpenAPI query parameters for every filter. GDAL sends `field=value` to the server only
    for parameters the items path lists; the route checks which collection accepts which."""
    params = []
    for name, flt in filter_names().items():
        where = [c.id for c in COLLECTIONS.values() if any(f.name == name for f in c.filters)]
        what = flt.description or f"features whose `{name}` equals this value"
        if flt.multi:
            what += " (a comma-separated list: any of them)"
        params.append({
            "name": name, "in": "query", "required": False,
            "schema": {"type": flt.type, **({"enum": list(flt.values)}
                                            if flt.values and not flt.multi else {})},
            "description": f"{what} (collections: {', '.join(where)})",
        })
    return {"parameters": params}


def _with_limits(doc: dict[str, Any], limits: LimitSettings) -> dict[str, Any]:
    """The OpenAPI document with the items' `limit` maximum as configured (GDAL sizes its
    pages by it)."""
    path = doc.get("paths", {}).get("/collections/{collectionId}/items", {}).get("get")
    if path is None:
        return doc
    params = [{**p, "schema": {**p.get("schema", {}), "maximum": limits.ogc_max_limit}}
              if p.get("name") == "limit" and p.get("in") == "query" else p
              for p in path.get("parameters", [])]
    return {**doc, "paths": {**doc["paths"], "/collections/{collectionId}/items": {
        **doc["paths"]["/collections/{collectionId}/items"], "get": {**path,
                                                                     "parameters": params}}}}


@router.get("/", operation_id="landing_page", response_class=Response,
            responses={200: {"content": {JSON: {}}, "description": "the landing page"}})
def landing_page(request: Request, f: JsonFormat = None) -> Response:
    """The OGC API landing page: links to the API description, conformance and the data."""
    return _json({
        "title": request.app.title,
        "description": "OGC API – Features and vector tiles over the district's boundaries, "
                       "grid cells, petition cases, projects and hotspots (街道, 社区, 网格, "
                       "信访事项, 项目, 热点). Every request needs `Authorization: Bearer "
                       "<token>`.",
        "links": [
            _link(_href(request, "/"), "self", JSON, "this document"),
            _link(_href(request, "/api"), "service-desc", OPENAPI_JSON,
                  "the API definition (OpenAPI, JSON)"),
            _link(_href(request, "/docs"), "service-doc", "text/html",
                  "the API documentation"),
            _link(_href(request, "/conformance"), "conformance", JSON,
                  "OGC API conformance classes implemented"),
            _link(_href(request, "/collections"), "data", JSON, "the feature collections"),
        ],
    })


@router.get("/conformance", operation_id="conformance", response_class=Response,
            responses={200: {"content": {JSON: {}}, "description": "conformance classes"}})
def conformance(f: JsonFormat = None) -> Response:
    """The OGC API – Features conformance classes implemented: core, GeoJSON, OpenAPI 3.0."""
    return _json({"conformsTo": list(CONFORMANCE)})


@router.get("/api", operation_id="openapi_document", response_class=Response,
            responses={200: {"content": {OPENAPI_JSON: {}}, "description": "OpenAPI"}})
def api_document(request: Request, limits: LimitsDep, f: JsonFormat = None) -> Response:
    """The app's OpenAPI document, as the landing page's `service-desc` link promises."""
    return _json(_with_limits(request.app.openapi(), limits), OPENAPI_JSON)


def _instant(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _collection_doc(request: Request, session: Session, c: Collection, scope: Scope,
                    now: datetime) -> dict[str, Any]:
    extent = collection_extent(session, c, scope=scope if c.scoped else None,
                               today=china_date(now) if c.clocked else None)
    base = _href(request, f"/collections/{c.id}")
    links = [
        _link(base, "self", JSON, c.title),
        _link(f"{base}/items", "items", GEOJSON, f"{c.title}: features"),
        _link(f"{base}/schema", "describedBy", SCHEMA_JSON,
              f"{c.title}: JSON Schema of a feature"),
    ]
    if c.tile_sql is not None:
        links.append(_link(f"{base}/tiles", TILESETS_VECTOR, JSON,
                           f"{c.title}: vector tilesets"))
    return {
        "id": c.id,
        "title": c.title,
        "description": c.description,
        "itemType": "feature",
        "extent": {
            "spatial": {"bbox": [list(extent.bbox or (-180.0, -90.0, 180.0, 90.0))],
                        "crs": CRS84},
            # Boundaries carry no time (open both ends); cases their first and last receipt.
            "temporal": {"interval": [[_instant(extent.start), _instant(extent.end)]],
                         "trs": GREGORIAN},
        },
        # Stored and served in WGS84 lon/lat (EPSG:4326 gives lat, lon). The GCJ-02/BD-09
        # shifts (crs=gcj02|bd09 on the items) have no OGC URI, so they are not listed here.
        "crs": [CRS84, EPSG4326],
        "storageCrs": CRS84,
        "links": links,
    }


@router.get("/collections", operation_id="list_collections", response_class=Response,
            responses={200: {"content": {JSON: {}}, "description": "the collections"}})
def collections(request: Request, session: SessionDep, scope: ScopeDep, now: NowDep,
                f: JsonFormat = None) -> Response:
    """Every collection the caller's role may read, with its extent (of what the caller may
    see) and links."""
    return _json({
        "links": [_link(_href(request, "/collections"), "self", JSON, "the collections")],
        "collections": [_collection_doc(request, session, c, scope, now)
                        for c in COLLECTIONS.values() if c.readable(scope.role)],
    })


@router.get("/collections/{collectionId}", operation_id="get_collection",
            response_class=Response,
            responses={200: {"content": {JSON: {}}, "description": "one collection"},
                       403: {"description": "the caller's role may not read it"},
                       404: {"description": "no such collection"}})
def collection(request: Request, session: SessionDep, scope: ScopeDep, now: NowDep,
               collection_id: CollectionId, f: JsonFormat = None) -> Response:
    """One collection: title, description, extent, CRS and links (items, schema, tiles)."""
    return _json(_collection_doc(request, session,
                                 readable_collection(collection_id, scope.role), scope, now))


@router.get("/collections/{collectionId}/schema", operation_id="get_collection_schema",
            response_class=Response,
            responses={200: {"content": {SCHEMA_JSON: {}}, "description": "JSON Schema"},
                       403: {"description": "the caller's role may not read it"},
                       404: {"description": "no such collection"}})
def collection_schema(request: Request, scope: ScopeDep, collection_id: CollectionId,
                      f: JsonFormat = None) -> Response:
    """JSON Schema of one feature of the collection (GDAL and QGIS type their fields by it)."""
    c = readable_collection(collection_id, scope.role)
    return _json(feature_schema(c, _href(request, f"/collections/{c.id}/schema")), SCHEMA_JSON)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@router.get("/collections/{collectionId}/items", operation_id="list_items",
            response_class=Response, openapi_extra=_filter_parameters(),
            responses={200: {"content": {GEOJSON: {}}, "description": "a FeatureCollection"},
                       403: {"description": "the caller's role may not read it"},
                       404: {"description": "no such collection"}})
def items(
    request: Request, session: SessionDep, limits: LimitsDep, scope: ScopeDep, now: NowDep,
    collection_id: CollectionId,
    bbox: Annotated[str | None, Query(
        max_length=400, description="minx,miny,maxx,maxy (or 6 numbers with heights) in "
        "bbox-crs; features intersecting it")] = None,
    bbox_crs: Annotated[BBoxCrs, Query(alias="bbox-crs", description="CRS of bbox: Amap/"
                                       "Tencent give gcj02, Baidu bd09")] = "wgs84",
    limit: Annotated[int, Query(ge=1, description="features per page (at most "
                                "GRIDMAP_OGC_MAX_LIMIT, 10,000 unless configured)",
                                json_schema_extra={"maximum": DEFAULT_MAX_LIMIT})
                     ] = DEFAULT_LIMIT,
    offset: Annotated[int, Query(ge=0, description="features to skip (follow the `next` "
                                 "link instead of counting)")] = 0,
    crs: Annotated[OutputCrs, Query(description="output coordinates: WGS84, or shifted to "
                                    "line up on Amap/Tencent (gcj02) or Baidu (bd09)")
                   ] = "wgs84",
    datetime_: Annotated[str | None, Query(
        alias="datetime", max_length=100, description="instant or start/end (`..` open); "
        "ignored by collections without time")] = None,
    f: ItemsFormat = None,
) -> Response:
    """A page of features as GeoJSON, with numberMatched and next/prev links."""
    c = readable_collection(collection_id, scope.role)
    if limit > limits.ogc_max_limit:
        raise InvalidInput("limit", f"limit must be 1..{limits.ogc_max_limit}")
    box = (parse_bbox_param(bbox, bbox_crs, max_km2=limits.max_bbox_km2)
           if bbox is not None else None)
    interval = parse_datetime(datetime_) if datetime_ is not None else None
    filters = parse_filters(c, request.query_params)
    features, matched = query_items(session, c, box, limit, offset, filters, crs_name(crs),
                                    interval=interval, scope=scope if c.scoped else None,
                                    today=china_date(now) if c.clocked else None,
                                    max_limit=limits.ogc_max_limit)
    if lat_first(crs):
        swap_axes(features)
    links = [
        _link(str(request.url), "self", GEOJSON, "this page"),
        _link(_href(request, f"/collections/{c.id}"), "collection", JSON, c.title),
    ]
    # Exactly one `next` while features remain: GDAL follows it, and stops without one.
    if offset + len(features) < matched:
        links.append(_link(str(request.url.include_query_params(offset=offset + limit,
                                                                limit=limit)),
                           "next", GEOJSON, "next page"))
    if offset > 0:
        links.append(_link(str(request.url.include_query_params(
            offset=max(0, offset - limit), limit=limit)), "prev", GEOJSON, "previous page"))
    return _json({
        "type": "FeatureCollection",
        "numberMatched": matched,
        "numberReturned": len(features),
        "timeStamp": _now(),
        "links": links,
        "features": features,
    }, GEOJSON, crs)


@router.get("/collections/{collectionId}/items/{featureId}", operation_id="get_item",
            response_class=Response,
            responses={200: {"content": {GEOJSON: {}}, "description": "a Feature"},
                       403: {"description": "the caller's role may not read it"},
                       404: {"description": "no such collection or feature"}})
def item(
    request: Request, session: SessionDep, scope: ScopeDep, now: NowDep,
    collection_id: CollectionId,
    feature_id: Annotated[str, Path(alias="featureId", max_length=64,
                                    description="the feature's integer id")],
    crs: Annotated[OutputCrs, Query(description="output coordinates: WGS84, or shifted to "
                                    "line up on Amap/Tencent (gcj02) or Baidu (bd09)")
                   ] = "wgs84",
    f: ItemsFormat = None,
) -> Response:
    """One feature by id as GeoJSON; 404 naming it when it does not exist."""
    c = readable_collection(collection_id, scope.role)
    if not FEATURE_ID.match(feature_id):
        raise NotFound(f"feature {feature_id!r} does not exist in collection {c.id!r} "
                       "(feature ids are integers)")
    feature = get_item(session, c, int(feature_id), crs_name(crs),
                       scope=scope if c.scoped else None,
                       today=china_date(now) if c.clocked else None)
    if lat_first(crs):
        swap_axes([feature])
    feature["links"] = [
        _link(str(request.url), "self", GEOJSON, "this feature"),
        _link(_href(request, f"/collections/{c.id}"), "collection", JSON, c.title),
    ]
    return _json(feature, GEOJSON, crs)
