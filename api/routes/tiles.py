"""OGC API – Tiles over the collections: Mapbox Vector Tiles in WebMercatorQuad, with the
tileset list, the tileset metadata and a TileJSON document.

`/collections/{id}/tiles/WebMercatorQuad/{z}/{y}/{x}` (OGC order: tileMatrix, tileRow, tileCol)
answers `application/vnd.mapbox-vector-tile` built by ST_AsMVT, one layer named after the
collection. An empty tile is **204 No Content** — what Martin and t-rex answer and OGC API –
Tiles allows; MapLibre, OpenLayers and Leaflet.VectorGrid draw nothing for it, and nothing is
encoded or sent. A zoom outside GRIDMAP_TILE_MIN_ZOOM..GRIDMAP_TILE_MAX_ZOOM or a column/row the
zoom lacks is a 404; a non-integer one a 422. Tiles are WGS84 projected to Web Mercator;
`crs=gcj02` shifts them first so they line up on Amap/Tencent base maps (BD-09 is refused: Baidu
does not tile WebMercatorQuad). Scoped collections (cases) are cut for the caller's scope inside
the tile query and carry no personal data; the items' filters and `datetime` apply to tiles
too. A collection readable by some roles only (hotspots) is a 403 for the others here too.
Every tile is `Cache-Control: private` (the API needs a token: no shared cache may keep one)
with a short max-age for cases, an ETag, and `Vary` on the credentials.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

import numpy as np
import orjson
from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from api.deps import LimitsDep, NowDep, SessionDep
from api.security import ScopeDep
from geo import crs as gcrs
from geo.access.scope import Scope
from geo.errors import NotFound
from geo.ogc.collections import COLLECTIONS, Collection, readable_collection
from geo.ogc.items import collection_extent
from geo.ogc.params import crs_name, parse_datetime, parse_filters
from geo.tiles.matrix import TMS_ID, check_tile
from geo.tiles.mvt import MEDIA_TYPE, collection_tile
from geo.tiles.tilejson import build_tilejson, build_tileset, build_tileset_list
from geo.workflow.deadlines import china_date

router = APIRouter(tags=["tiles"])

JSON = "application/json"
CollectionId = Annotated[str, Path(alias="collectionId", max_length=64,
                                   description="collection id: " + ", ".join(COLLECTIONS))]
TileMatrixSetId = Annotated[str, Path(alias="tileMatrixSetId", max_length=64,
                                      description=f"tile matrix set: {TMS_ID} only")]
TileCrs = Annotated[Literal["wgs84", "gcj02", "http://www.opengis.net/def/crs/OGC/1.3/CRS84"],
                    Query(description="wgs84 (default), or gcj02 to line up on Amap/Tencent "
                          "base maps; Baidu (bd09) tiles its own projection, not this one")]
DateTimeParam = Annotated[str | None, Query(
    alias="datetime", max_length=100,
    description="instant or start/end (`..` open) on the collection's time (cases: received)")]
# The query parameters a tile URL carries over from the TileJSON request (filters, crs …).
_NOT_CARRIED = frozenset({"f"})


def _tileset(collection_id: str, scope: Scope, tms_id: str | None = None) -> Collection:
    c = readable_collection(collection_id, scope.role)
    if c.tile_sql is None:
        raise NotFound(f"collection {c.id!r} has no tiles")
    if tms_id is not None and tms_id != TMS_ID:
        raise NotFound(f"tile matrix set {tms_id!r} is not served; tile matrix sets: {TMS_ID}")
    return c


def _href(request: Request, path: str) -> str:
    return str(request.base_url).rstrip("/") + path


def _carried_query(request: Request) -> str:
    kept = [(k, v) for k, v in request.query_params.multi_items() if k not in _NOT_CARRIED]
    return "?" + urlencode(kept) if kept else ""


def _bounds(session: Session, c: Collection, scope: Scope, now: datetime, crs: str
            ) -> tuple[float, float, float, float] | None:
    """The extent of what the caller may see, in the tiles' lon/lat (shifted for gcj02)."""
    bbox = collection_extent(session, c, scope=scope if c.scoped else None,
                             today=china_date(now) if c.clocked else None).bbox
    if bbox is None or crs == "wgs84":
        return bbox
    x, y = gcrs.from_wgs84(np.array([bbox[0], bbox[2]]), np.array([bbox[1], bbox[3]]), crs)
    xs, ys = np.asarray(x), np.asarray(y)
    return float(xs[0]), float(ys[0]), float(xs[1]), float(ys[1])


def _json(body: Any) -> Response:
    return Response(orjson.dumps(body), media_type=JSON)


@router.get("/collections/{collectionId}/tiles", operation_id="list_collection_tilesets",
            response_class=Response,
            responses={200: {"content": {JSON: {}}, "description": "the tilesets"},
                       403: {"description": "the caller's role may not read it"},
                       404: {"description": "no such collection, or it has no tiles"}})
def tilesets(request: Request, scope: ScopeDep, collection_id: CollectionId) -> Response:
    """The collection's vector tilesets (OGC API – Tiles): WebMercatorQuad."""
    c = _tileset(collection_id, scope)
    base = _href(request, f"/collections/{c.id}/tiles")
    return _json(build_tileset_list(c, f"{base}/{TMS_ID}", f"{base}/{TMS_ID}/tilejson.json",
                                    base))


@router.get("/collections/{collectionId}/tiles/{tileMatrixSetId}",
            operation_id="get_collection_tileset", response_class=Response,
            responses={200: {"content": {JSON: {}}, "description": "tileset metadata"},
                       403: {"description": "the caller's role may not read it"},
                       404: {"description": "no such collection or tile matrix set"}})
def tileset(request: Request, session: SessionDep, scope: ScopeDep, now: NowDep,
            limits: LimitsDep, collection_id: CollectionId, tms_id: TileMatrixSetId,
            crs: TileCrs = "wgs84") -> Response:
    """Tileset metadata: zooms, bounds, the layer and its properties, the tile URL template."""
    c = _tileset(collection_id, scope, tms_id)
    base = _href(request, f"/collections/{c.id}/tiles/{TMS_ID}")
    query = _carried_query(request)
    return _json(build_tileset(
        c, f"{base}{query}", f"{base}/{{tileMatrix}}/{{tileRow}}/{{tileCol}}{query}",
        f"{base}/tilejson.json{query}", min_zoom=limits.tile_min_zoom,
        max_zoom=limits.tile_max_zoom,
        bounds=_bounds(session, c, scope, now, crs_name(crs))))


@router.get("/collections/{collectionId}/tiles/{tileMatrixSetId}/tilejson.json",
            operation_id="get_collection_tilejson", response_class=Response,
            responses={200: {"content": {JSON: {}}, "description": "TileJSON 3.0.0"},
                       403: {"description": "the caller's role may not read it"},
                       404: {"description": "no such collection or tile matrix set"}})
def tilejson(request: Request, session: SessionDep, scope: ScopeDep, now: NowDep,
             limits: LimitsDep, collection_id: CollectionId, tms_id: TileMatrixSetId,
             crs: TileCrs = "wgs84", datetime_: DateTimeParam = None) -> Response:
    """TileJSON for a map library; its tile URL keeps this request's filters and `crs`."""
    c = _tileset(collection_id, scope, tms_id)
    parse_filters(c, request.query_params)  # a bad filter is a 422 here, not in every tile
    if datetime_ is not None:
        parse_datetime(datetime_)
    base = _href(request, f"/collections/{c.id}/tiles/{TMS_ID}")
    return _json(build_tilejson(
        c, f"{base}/{{z}}/{{y}}/{{x}}{_carried_query(request)}",
        min_zoom=limits.tile_min_zoom, max_zoom=limits.tile_max_zoom,
        bounds=_bounds(session, c, scope, now, crs_name(crs))))


@router.get("/collections/{collectionId}/tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}",
            operation_id="get_collection_tile", response_class=Response,
            responses={200: {"content": {MEDIA_TYPE: {}}, "description": "a vector tile"},
                       204: {"description": "an empty tile"},
                       304: {"description": "not modified (If-None-Match)"},
                       403: {"description": "the caller's role may not read it"},
                       404: {"description": "no such collection, tile matrix set or tile"}})
def tile(
    request: Request, session: SessionDep, scope: ScopeDep, now: NowDep, limits: LimitsDep,
    collection_id: CollectionId, tms_id: TileMatrixSetId,
    z: Annotated[int, Path(alias="tileMatrix", description="zoom")],
    y: Annotated[int, Path(alias="tileRow", description="row, 0 at the north")],
    x: Annotated[int, Path(alias="tileCol", description="column, 0 at 180°W")],
    crs: TileCrs = "wgs84", datetime_: DateTimeParam = None,
) -> Response:
    """One Mapbox Vector Tile of the collection (scoped, filtered); 204 when empty."""
    c = _tileset(collection_id, scope, tms_id)
    t = check_tile(z, x, y, limits.tile_min_zoom, limits.tile_max_zoom)
    filters = parse_filters(c, request.query_params)
    interval = parse_datetime(datetime_) if datetime_ is not None else None
    data = collection_tile(session, c, t, scope=scope if c.scoped else None,
                           today=china_date(now) if c.clocked else None, filters=filters,
                           interval=interval, out_crs=crs_name(crs),
                           cluster_above=limits.tile_cluster_above,
                           cluster_cell=limits.tile_cluster_cell)
    headers = {"Cache-Control": f"private, max-age={c.tile_max_age}",
               "Vary": "Authorization, Cookie"}
    if not data:
        return Response(status_code=204, headers=headers)
    etag = f'"{hashlib.blake2b(data, digest_size=16).hexdigest()}"'
    headers["ETag"] = etag
    if etag in {v.strip() for v in request.headers.get("if-none-match", "").split(",")}:
        return Response(status_code=304, headers=headers)
    return Response(data, media_type=MEDIA_TYPE, headers=headers)
