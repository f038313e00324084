"""Pages of OGC API features: one SQL statement per page, the GeoJSON built by PostGIS.

The collection's `.sql` file returns the page's Features (ST_AsGeoJSON, integer ids, ordered by
id so offsets page stably) and the number of all matches. Output in GCJ-02 or BD-09 is shifted
here, in numpy, on all the page's coordinates at once: those shifts are not EPSG transforms
PostGIS could do, and geo.crs owns their formulas.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import orjson
from sqlalchemy.orm import Session

from geo import crs as gcrs
from geo.access.scope import Scope
from geo.bbox import NO_BBOX, BBox
from geo.errors import InvalidInput, NotFound
from geo.ogc.collections import Collection
from geo.ogc.params import Interval
from geo.sql_files import sql

DEFAULT_LIMIT = 100
MAX_LIMIT = 10_000
# 7 decimals ≈ 1 cm: below any surveyed boundary's accuracy, and what GIS clients expect to
# round-trip; the map pages use 6 (geo.layers) because they only draw.
PRECISION = 7

# How deep positions sit in each GeoJSON geometry's coordinates.
_DEPTH = {"Point": 0, "MultiPoint": 1, "LineString": 1, "MultiLineString": 2, "Polygon": 2,
          "MultiPolygon": 3}


def _params(collection: Collection, *, bbox: BBox | None, limit: int, offset: int,
            filters: Mapping[str, object], feature_id: int | None, out_crs: str,
            interval: Interval | None, scope: Scope | None) -> dict[str, Any]:
    allowed = {p.name for p in collection.filters}
    unknown = sorted(set(filters) - allowed)
    if unknown:
        raise InvalidInput(unknown[0], f"collection {collection.id!r} cannot be filtered on "
                           f"{unknown[0]!r}; it filters on: {', '.join(sorted(allowed))}")
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput("limit", f"limit must be 1..{MAX_LIMIT}")
    if offset < 0:
        raise InvalidInput("offset", "offset must be 0 or more")
    if out_crs not in ("wgs84", "gcj02", "bd09"):
        raise InvalidInput("crs", f"output crs must be wgs84, gcj02 or bd09, not {out_crs!r}")
    if collection.scoped and scope is None:
        raise ValueError(f"collection {collection.id!r} is scoped: pass the caller's Scope")
    params: dict[str, Any] = {
        **collection.sql_params,
        **(bbox.params() if bbox is not None else NO_BBOX),
        **{name: filters.get(name) for name in allowed},
        "feature_id": feature_id, "limit": limit, "offset": offset, "precision": PRECISION,
    }
    if scope is not None:
        params.update(scope.params())
    if collection.temporal is not None:
        params["dt_start"] = interval.start if interval else None
        params["dt_end"] = interval.end if interval else None
    return params


def query_items(session: Session, collection: Collection, bbox: BBox | None = None,
                limit: int = DEFAULT_LIMIT, offset: int = 0,
                filters: Mapping[str, object] | None = None, out_crs: str = "wgs84", *,
                interval: Interval | None = None, scope: Scope | None = None,
                ) -> tuple[list[dict[str, Any]], int]:
    """One page of the collection's Features (ordered by id) and the number of all matches.
    `interval` applies to collections with time only; `scope` is required by scoped ones."""
    params = _params(collection, bbox=bbox, limit=limit, offset=offset, filters=filters or {},
                     feature_id=None, out_crs=out_crs, interval=interval, scope=scope)
    return _run(session, collection, params, out_crs)


def get_item(session: Session, collection: Collection, feature_id: int,
             out_crs: str = "wgs84", *, scope: Scope | None = None) -> dict[str, Any]:
    """One Feature by its id; NotFound naming it and the collection."""
    params = _params(collection, bbox=None, limit=1, offset=0, filters={},
                     feature_id=feature_id, out_crs=out_crs, interval=None, scope=scope)
    features, _ = _run(session, collection, params, out_crs)
    if not features:
        raise NotFound(f"feature {feature_id} does not exist in collection {collection.id!r}")
    return features[0]


def _run(session: Session, collection: Collection, params: Mapping[str, Any],
         out_crs: str) -> tuple[list[dict[str, Any]], int]:
    row = session.execute(sql(collection.items_sql), params).one()
    # The features arrive as JSON text (cast in SQL): orjson parses it several times faster
    # than the driver's json module would.
    features: list[dict[str, Any]] = orjson.loads(row.features)
    if out_crs != "wgs84":
        shift_features(features, out_crs)
    return features, int(row.number_matched)


def collection_extent(session: Session, collection: Collection
                      ) -> tuple[float, float, float, float] | None:
    """The WGS84 bounding box of the collection's data; None when it has none."""
    row = session.execute(sql(collection.extent_sql), dict(collection.sql_params)).one()
    if row.minx is None:
        return None
    return float(row.minx), float(row.miny), float(row.maxx), float(row.maxy)


def _positions(coords: Any, depth: int) -> Iterator[list[float]]:
    if depth == 0:
        yield coords
    elif depth == 1:
        yield from coords
    else:
        for part in coords:
            yield from _positions(part, depth - 1)


def _rebuild(coords: Any, depth: int, new: Iterator[list[float]]) -> Any:
    if depth == 0:
        return next(new)
    if depth == 1:
        return list(itertools.islice(new, len(coords)))
    return [_rebuild(part, depth - 1, new) for part in coords]


def _geometries(features: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    stack = [f["geometry"] for f in reversed(features) if f.get("geometry")]
    while stack:
        geometry = stack.pop()
        if geometry["type"] == "GeometryCollection":
            stack.extend(reversed(geometry["geometries"]))
        else:
            yield geometry


def shift_features(features: list[dict[str, Any]], out_crs: str) -> None:
    """Convert the WGS84 coordinates of GeoJSON Features to `out_crs` in place (rounded to
    PRECISION), all positions of the page in one vectorised call."""
    geometries = list(_geometries(features))
    # Positions are 2D: the SQL encodes 2D boundaries (a z would make the array ragged).
    flat = [p for g in geometries for p in _positions(g["coordinates"], _DEPTH[g["type"]])]
    if not flat:
        return
    xy = np.asarray(flat, dtype=np.float64)
    x, y = gcrs.from_wgs84(xy[:, 0], xy[:, 1], out_crs)
    shifted = np.round(np.column_stack([x, y]), PRECISION).tolist()
    new = iter(shifted)
    for g in geometries:
        g["coordinates"] = _rebuild(g["coordinates"], _DEPTH[g["type"]], new)
