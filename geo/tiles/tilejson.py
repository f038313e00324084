"""Documents describing a collection's vector tiles: TileJSON 3.0.0 (what MapLibre, Leaflet
plugins and QGIS's vector tile layer read) and the OGC API – Tiles tileset list and tileset
metadata. Pure functions of the collection, its extent and the URLs the route hands in."""

from __future__ import annotations

from typing import Any

from geo.ogc.collections import Collection
from geo.tiles.matrix import TMS_CRS, TMS_ID, TMS_URI

# TileJSON names for the JSON types of the properties a tile carries.
_FIELD_TYPES = {"string": "String", "integer": "Number", "number": "Number",
                "boolean": "Boolean"}
_GEOMETRY = {"Point": "points", "MultiPoint": "points", "LineString": "lines",
             "MultiLineString": "lines", "Polygon": "polygons", "MultiPolygon": "polygons"}
MVT = "application/vnd.mapbox-vector-tile"
WORLD = (-180.0, -85.0511287798066, 180.0, 85.0511287798066)


def _tile_types(collection: Collection) -> dict[str, str]:
    """Every property a tile's feature may carry and its JSON type (clusters' included)."""
    return {**{name: collection.property(name).type for name in collection.tile_fields},
            **dict(collection.tile_cluster_fields)}


def tile_fields(collection: Collection) -> dict[str, str]:
    """The tiles' property names and their TileJSON types."""
    return {name: _FIELD_TYPES[t] for name, t in _tile_types(collection).items()}


def build_tilejson(collection: Collection, tile_url: str, *, min_zoom: int, max_zoom: int,
                   bounds: tuple[float, float, float, float] | None) -> dict[str, Any]:
    """TileJSON 3.0.0 for the collection's tiles at `tile_url` (with {z}/{x}/{y} in it)."""
    w, s, e, n = bounds or WORLD
    center_zoom = min(max(min_zoom, 12), max_zoom)
    return {
        "tilejson": "3.0.0",
        "name": collection.title,
        "description": collection.description,
        "version": "1.0.0",
        "scheme": "xyz",
        "tiles": [tile_url],
        "minzoom": min_zoom,
        "maxzoom": max_zoom,
        "bounds": [w, s, e, n],
        "center": [(w + e) / 2, (s + n) / 2, center_zoom],
        "vector_layers": [{
            "id": collection.id,
            "description": collection.title,
            "minzoom": min_zoom,
            "maxzoom": max_zoom,
            "fields": tile_fields(collection),
        }],
    }


def _link(href: str, rel: str, media_type: str, title: str, **extra: Any) -> dict[str, Any]:
    return {"href": href, "rel": rel, "type": media_type, "title": title, **extra}


def build_tileset(collection: Collection, tileset_url: str, tile_template: str,
                  tilejson_url: str, *, min_zoom: int, max_zoom: int,
                  bounds: tuple[float, float, float, float] | None) -> dict[str, Any]:
    """OGC API – Tiles tileset metadata of the collection in WebMercatorQuad; `tile_template`
    has {tileMatrix}/{tileRow}/{tileCol} in it."""
    w, s, e, n = bounds or WORLD
    return {
        "title": f"{collection.title} ({TMS_ID})",
        "dataType": "vector",
        "crs": TMS_CRS,
        "tileMatrixSetURI": TMS_URI,
        "boundingBox": {"lowerLeft": [w, s], "upperRight": [e, n],
                        "crs": "http://www.opengis.net/def/crs/OGC/1.3/CRS84"},
        "minTileMatrix": str(min_zoom),
        "maxTileMatrix": str(max_zoom),
        "layers": [{
            "id": collection.id,
            "title": collection.title,
            "dataType": "vector",
            "geometryDimension": {"points": 0, "lines": 1, "polygons": 2}.get(
                _GEOMETRY.get(collection.geometry_type, ""), 2),
            "minTileMatrix": str(min_zoom),
            "maxTileMatrix": str(max_zoom),
            "propertiesSchema": {
                "type": "object",
                "properties": {name: {"type": t}
                               for name, t in _tile_types(collection).items()},
            },
        }],
        "links": [
            _link(tileset_url, "self", "application/json", "this tileset"),
            _link(TMS_URI, "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme",
                  "application/json", f"the {TMS_ID} tile matrix set"),
            _link(tile_template, "item", MVT, "a Mapbox Vector Tile", templated=True),
            _link(tilejson_url, "describedby", "application/json", "TileJSON"),
        ],
    }


def build_tileset_list(collection: Collection, tileset_url: str, tilejson_url: str,
                       list_url: str) -> dict[str, Any]:
    """The OGC API – Tiles list of the collection's tilesets (WebMercatorQuad only)."""
    return {
        "links": [_link(list_url, "self", "application/json", "the tilesets")],
        "tilesets": [{
            "title": f"{collection.title} ({TMS_ID})",
            "dataType": "vector",
            "crs": TMS_CRS,
            "tileMatrixSetURI": TMS_URI,
            "links": [
                _link(tileset_url, "self", "application/json", "tileset metadata"),
                _link(TMS_URI, "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme",
                      "application/json", f"the {TMS_ID} tile matrix set"),
                _link(tilejson_url, "describedby", "application/json", "TileJSON"),
            ],
        }],
    }
