"""One Mapbox Vector Tile of a collection, built by PostGIS in one statement.

The collection's `geo/sql/tile_<name>.sql` selects its rows with an index-friendly `&&` against
the tile's query box (the tile and its buffer, in the stored lon/lat, before any shift), applies
the caller's scope and the filters inside the query, moves every vertex by the tile's affine
(identity for WGS84, the fitted GCJ-02 shift otherwise, see geo.tiles.shift), projects to
EPSG:3857, simplifies to one tile unit (`:tolerance`, so each zoom carries only the vertices it
can show) and encodes with ST_AsMVTGeom / ST_AsMVT into one layer named after the collection,
feature ids being the collection's ids. Parameters: `z, x, y, extent, buffer, tolerance, layer`,
`q_minx … q_maxy`, `aff_*`, the collection's shared ones (geo.ogc.items.collection_params) and
its filters by name; column `tile` (bytea).

An empty tile comes back as b"" (the route answers 204): with nothing under the `&&` probe,
PostGIS encodes nothing.

Point collections may cluster a crowded tile (tile_cases.sql): `cluster_above` features in one
tile and more are grouped by `cluster_cell`-unit squares of its grid (LimitSettings).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from sqlalchemy.orm import Session

from geo.access.scope import Scope
from geo.bbox import NO_BBOX
from geo.errors import NotFound
from geo.ogc.collections import Collection
from geo.ogc.items import collection_params
from geo.ogc.params import Interval
from geo.sql_files import sql
from geo.tiles.matrix import BUFFER, EXTENT, Tile, simplify_tolerance
from geo.tiles.shift import tile_affine

MEDIA_TYPE = "application/vnd.mapbox-vector-tile"
# Output CRSs a WebMercatorQuad tile can be shifted to. BD-09 is not one: Baidu's base map is
# not WebMercatorQuad (it tiles its own BD09MC projection), so no shift would line up there.
TILE_CRS = ("wgs84", "gcj02")


def collection_tile(session: Session, collection: Collection, tile: Tile, *,
                    scope: Scope | None = None, today: date | None = None,
                    filters: Mapping[str, object] | None = None,
                    interval: Interval | None = None, out_crs: str = "wgs84",
                    cluster_above: int = 4096, cluster_cell: int = 128) -> bytes:
    """The tile's MVT bytes (b"" when empty); NotFound when the collection has no tiles.
    `scope` is required by scoped collections and `today` by clocked ones, as for items."""
    if collection.tile_sql is None:
        raise NotFound(f"collection {collection.id!r} has no tiles")
    if out_crs not in TILE_CRS:
        raise ValueError(f"tiles are in {' or '.join(TILE_CRS)}, not {out_crs!r}")
    filters = filters or {}
    affine = tile_affine(tile, out_crs)
    qminx, qminy, qmaxx, qmaxy = affine.preimage_bbox(tile.bounds_lonlat(BUFFER / EXTENT))
    params = {
        **collection_params(collection, scope=scope, today=today, interval=interval),
        **NO_BBOX,
        **{f.name: filters.get(f.name) for f in collection.filters},
        **affine.params(),
        "z": tile.z, "x": tile.x, "y": tile.y, "extent": EXTENT, "buffer": BUFFER,
        "tolerance": simplify_tolerance(tile.z), "layer": collection.id,
        "q_minx": qminx, "q_miny": qminy, "q_maxx": qmaxx, "q_maxy": qmaxy,
        "cluster_above": cluster_above, "cluster_cell": cluster_cell,
        # The tile in EPSG:3857, for SQL that places points without ST_AsMVTGeom.
        "t_minx": tile.bounds_3857()[0], "t_maxy": tile.bounds_3857()[3], "t_size": tile.size_m,
    }
    data = session.execute(sql(collection.tile_sql), params).scalar_one()
    return bytes(data) if data else b""
