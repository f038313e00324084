"""Pages of OGC API features: one SQL statement per page, the GeoJSON built by PostGIS.

The collection's `.sql` file returns the page's Features (ST_AsGeoJSON, integer ids, ordered by
id so offsets page stably) and the number of all matches. Output in GCJ-02 or BD-09 is shifted
here, in numpy, on all the page's coordinates at once: those shifts are not EPSG transforms
PostGIS could do, and geo.crs owns their formulas.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
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


@dataclass(frozen=True)
class Extent:
    """A collection's WGS84 bounding box and, for collections with time, its first and last
    instant (None where unknown)."""

    bbox: tuple[float, float, float, float] | None
    start: datetime | None = None
    end: datetime | None = None


def _params(collection: Collection, *, bbox: BBox | None, limit: int, offset: int,
            filters: Mapping[str, object], feature_id: int | None, out_crs: str,
            interval: Interval | None, scope: Scope | None, today: date | None,
            max_limit: int = MAX_LIMIT) -> dict[str, Any]:
    allowed = {f.name for f in collection.filters}
    unknown = sorted(set(filters) - allowed)
    if unknown:
        raise InvalidInput(unknown[0], f"collection {collection.id!r} cannot be filtered on "
                           f"{unknown[0]!r}; it filters on: {', '.join(sorted(allowed))}")
    if not 1 <= limit <= max_limit:
        raise InvalidInput("limit", f"limit must be 1..{max_limit}")
    if offset < 0:
        raise InvalidInput("offset", "offset must be 0 or more")
    if out_crs not in ("wgs84", "gcj02", "bd09"):
        raise InvalidInput("crs", f"output crs must be wgs84, gcj02 or bd09, not {out_crs!r}")
    params: dict[str, Any] = {
        **collection_params(collection, scope=scope, today=today, interval=interval),
        **(bbox.params() if bbox is not None else NO_BBOX),
        **{name: filters.get(name) for name in allowed},
        "feature_id": feature_id, "limit": limit, "offset": offset, "precision": PRECISION,
    }
    return params


def collection_params(collection: Collection, *, scope: Scope | None, today: date | None,
                      interval: Interval | None = None) -> dict[str, Any]:
    """The bound parameters every SQL file of the collection shares: its fixed ones, the
    caller's scope (scoped collections), the request's day (clocked ones) and the time
    interval (temporal ones). ValueError when a scoped or clocked collection lacks them."""
    if collection.scoped and scope is None:
        raise ValueError(f"collection {collection.id!r} is scoped: pass the caller's Scope")
    if collection.clocked and today is None:
        raise ValueError(f"collection {collection.id!r} is clocked: pass the request's day")
    params: dict[str, Any] = dict(collection.sql_params)
    if collection.scoped and scope is not None:
        params.update(scope.params())
    if collection.clocked:
        params["today"] = today
    if collection.temporal is not None:
        params["dt_start"] = interval.start if interval else None
        params["dt_end"] = interval.end if interval else None
    return params


def query_items(session: Session, collection: Collection, bbox: BBox | None = None,
                limit: int = DEFAULT_LIMIT, offset: int = 0,
                filters: Mapping[str, object] | None = None, out_crs: str = "wgs84", *,
                interval: Interval | None = None, scope: Scope | None = None,
                today: date | None = None, max_limit: int = MAX_LIMIT,
                ) -> tuple[list[dict[str, Any]], int]:
    """One page of the collection's Features (ordered by id) and the number of all matches.
    `interval` applies to collections with time only; `scope` is required by scoped ones,
    `today` (the request's China day) by clocked ones."""
    params = _params(collection, bbox=bbox, limit=limit, offset=offset, filters=filters or {},
                     feature_id=None, out_crs=out_crs, interval=interval, scope=scope,
                     today=today, max_limit=max_limit)
    return _run(session, collection, params, out_crs, today)


def get_item(session: Session, collection: Collection, feature_id: int,
             out_crs: str = "wgs84", *, scope: Scope | None = None,
             today: date | None = None) -> dict[str, Any]:
    """One Feature by its id; NotFound naming it and the collection (also when it lies
    outside the caller's scope: the two are indistinguishable on purpose)."""
    params = _params(collection, bbox=None, limit=1, offset=0, filters={},
                     feature_id=feature_id, out_crs=out_crs, interval=None, scope=scope,
                     today=today)
    features, _ = _run(session, collection, params, out_crs, today)
    if not features:
        raise NotFound(f"feature {feature_id} does not exist in collection {collection.id!r}")
    return features[0]


def _run(session: Session, collection: Collection, params: Mapping[str, Any],
         out_crs: str, today: date | None) -> tuple[list[dict[str, Any]], int]:
    row = session.execute(sql(collection.items_sql), params).one()
    # The features arrive as JSON text (cast in SQL): orjson parses it several times faster
    # than the driver's json module would.
    features: list[dict[str, Any]] = orjson.loads(row.features)
    if collection.finish is not None:
        collection.finish(features, today)
    if out_crs != "wgs84":
        shift_features(features, out_crs)
    return features, int(row.number_matched)


def collection_extent(session: Session, collection: Collection, *,
                      scope: Scope | None = None, today: date | None = None) -> Extent:
    """The WGS84 bounding box of the collection's data (of what the scope may see, for scoped
    collections) and its time span; a None bbox when it has no data."""
    params = collection_params(collection, scope=scope, today=today)
    row = session.execute(sql(collection.extent_sql), params).one()._mapping
    bbox = (None if row["minx"] is None else
            (float(row["minx"]), float(row["miny"]), float(row["maxx"]), float(row["maxy"])))
    return Extent(bbox, row.get("tmin"), row.get("tmax"))


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


def swap_axes(features: list[dict[str, Any]]) -> None:
    """Swap every position of GeoJSON Features to latitude, longitude in place (the EPSG:4326
    URI's axis order; GeoJSON itself is always lon, lat)."""
    for g in _geometries(features):
        depth = _DEPTH[g["type"]]
        flat = [[p[1], p[0], *p[2:]] for p in _positions(g["coordinates"], depth)]
        g["coordinates"] = _rebuild(g["coordinates"], depth, iter(flat))
