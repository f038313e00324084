"""Density clusters of case points: DBSCAN in the projected metric CRS (eps in metres,
minpoints), deterministic cluster ids, each cluster summarised as a hull with its case count
and dominant category.

The clustering is ST_ClusterDBSCAN's, over the cases in case-id order (so a border point within
eps of two clusters always goes the same way), computed by geo.hotspots.dbscan on an eps/√2
grid instead of in PostGIS: the same labels (see that module), in about half a second for the
281k cases of a 100× district where ST_ClusterDBSCAN measured every one of 680 M neighbour
pairs (30 s and more, and it ignores statement_timeout). The points come from
geo/sql/hotspot_cluster_points.sql as WGS84 arrays and are projected with pyproj — the same
PROJ operation ST_Transform runs; on the 100× district all 281k coordinates agree with
PostGIS's to the bit (PROJ 9.5 here, 9.1 in PostGIS), and a last-bit difference could only
matter for a pair exactly eps apart. The hulls are made by PostGIS as before, from each
cluster's cases on its hull (geo/sql/hotspot_cluster_hulls.sql), so they are the same
polygons. geo/sql/hotspot_clusters.sql is the whole thing in one ST_ClusterDBSCAN statement,
kept as the reference the tests compare with.

Clusters are numbered by size, then by their lowest case id (1 = the largest); the dominant
category is the most frequent, ties going to the first code in the database's sort order.

Below commander level (the same rule as the hotspot layers) clusters with fewer than k cases
are left out; with minpoints ≥ k (the defaults: 5 and 5) none ever is.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
from pyproj import Transformer
from sqlalchemy.orm import Session

from geo import crs as gcrs
from geo.access.scope import Scope
from geo.errors import InvalidInput
from geo.hotspots.aggregates import Window
from geo.hotspots.dbscan import dbscan_labels
from geo.settings import HotspotSettings
from geo.sql_files import sql


@dataclass(frozen=True)
class ClusterQuery:
    """What to cluster: the window, optional filters, and DBSCAN's parameters."""

    window: Window
    eps_m: float
    min_points: int
    categories: tuple[str, ...] | None = None
    statuses: tuple[str, ...] | None = None


def metric_srid(metric_crs: str) -> int:
    """The EPSG code PostGIS projects to for metric work (GRIDMAP_METRIC_CRS)."""
    spec = gcrs.parse_crs(metric_crs, field="metric_crs")
    if spec.epsg is None:
        raise InvalidInput("metric_crs", f"{metric_crs!r} is no EPSG projected CRS")
    return spec.epsg


def cluster_rows(session: Session, scope: Scope, query: ClusterQuery, metric_crs: str
                 ) -> list[dict[str, Any]]:
    """Every cluster of the caller's cases: cluster_id (1 = the largest), cases,
    dominant_category (+ name and its cases) and the hull as a GeoJSON string (WGS84)."""
    params = {
        **scope.params(),
        "metric_srid": metric_srid(metric_crs),
        "date_from": query.window.date_from, "date_to": query.window.date_to,
        "category": list(query.categories) if query.categories else None,
        "status": list(query.statuses) if query.statuses else None,
    }
    row = _fetch_binary(session, "hotspot_cluster_points", params)
    if row["ids"] is None:
        return []
    by_id = np.argsort(np.asarray(row["ids"], dtype=np.int64), kind="stable")
    ids = np.asarray(row["ids"], dtype=np.int64)[by_id]
    cats = np.asarray(row["cats"], dtype=np.int64)[by_id]
    x, y = _wgs84_to(params["metric_srid"]).transform(
        np.asarray(row["lons"], dtype=np.float64)[by_id],
        np.asarray(row["lats"], dtype=np.float64)[by_id])
    xy = np.column_stack([np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)])
    labels = dbscan_labels(xy[:, 0], xy[:, 1], float(query.eps_m), int(query.min_points))
    codes, names = list(row["codes"]), list(row["names"])
    found = []
    clustered = np.flatnonzero(labels >= 0)
    grouped = clustered[np.argsort(labels[clustered], kind="stable")]   # id order within
    bounds = np.flatnonzero(np.diff(labels[grouped])) + 1
    for members in np.split(grouped, bounds) if len(grouped) else []:
        per_cat = np.bincount(cats[members], minlength=len(codes))
        dominant = int(np.argmax(per_cat))             # ties: the first code in sort order
        found.append({"cases": len(members), "first_id": int(ids[members[0]]),
                      "dominant_category": codes[dominant],
                      "dominant_category_name": names[dominant],
                      "dominant_cases": int(per_cat[dominant]),
                      "hull_ids": ids[members[_hull_points(xy[members])]]})
    if not found:
        return []
    found.sort(key=lambda c: (-c["cases"], c["first_id"]))
    hulls = session.execute(sql("hotspot_cluster_hulls"), {
        "case_ids": [int(i) for c in found for i in c["hull_ids"]],
        "cluster": [n for n, c in enumerate(found, start=1) for _ in c["hull_ids"]],
        "eps": float(query.eps_m), "metric_srid": params["metric_srid"]}).all()
    return [{"cluster_id": n, "cases": c["cases"], "dominant_category": c["dominant_category"],
             "dominant_category_name": c["dominant_category_name"],
             "dominant_cases": c["dominant_cases"], "geometry": h.geometry}
            for n, (c, h) in enumerate(zip(found, hulls, strict=True), start=1)]


def _fetch_binary(session: Session, name: str, params: dict[str, Any]) -> dict[str, Any]:
    """The one row of a SQL file, fetched in PostgreSQL's binary format (large arrays load
    several times faster than as text), on the session's connection and transaction."""
    conn = session.connection()
    stmt = sql(name).compile(dialect=conn.dialect)
    raw = conn.connection.driver_connection
    if raw is None:
        raise RuntimeError("no driver connection")
    with raw.cursor(binary=True) as cur:
        cur.execute(str(stmt), stmt.construct_params(params))
        names = [d.name for d in cur.description or ()]
        values = cur.fetchone()
    if values is None:
        raise RuntimeError(f"{name} returned no row")
    return dict(zip(names, values, strict=True))


@lru_cache(maxsize=8)
def _wgs84_to(srid: int) -> Transformer:
    """WGS84 lon/lat to the metric CRS: the same PROJ operation as PostGIS's
    ST_Transform(location, srid) (on the 100× district the coordinates agree to the bit)."""
    return Transformer.from_crs("EPSG:4326", f"EPSG:{srid}", always_xy=True)


def _hull_points(xy: np.ndarray) -> np.ndarray:
    """Positions of the points PostGIS needs for the convex hull of these points: every point
    on, outside or within a millimetre of the boundary of qhull's hull (its vertices are input
    points, so each extreme point of the set is among them; collinear ones and any last-bit
    difference between PROJ versions are covered by the millimetre); a small or degenerate
    set whole."""
    if len(xy) <= 64:
        return np.arange(len(xy))
    from scipy.spatial import ConvexHull, QhullError

    try:
        hull = ConvexHull(xy)
    except QhullError:                                  # all on one spot or one line
        return np.arange(len(xy))
    # hull.equations: outward unit normals (a, b) and offsets c, a·x + b·y + c ≤ 0 inside.
    x, y = xy[:, 0], xy[:, 1]
    near = np.zeros(len(xy), dtype=bool)
    for a, b, c in np.asarray(hull.equations, dtype=np.float64):
        near |= a * x + b * y + c >= -1e-3
    return np.flatnonzero(near)


def cluster_layer(session: Session, scope: Scope, query: ClusterQuery, metric_crs: str,
                  settings: HotspotSettings) -> dict[str, Any]:
    """The FeatureCollection GET /hotspots/clusters returns: Polygon hulls."""
    rows = cluster_rows(session, scope, query, metric_crs)
    suppress_k = None if scope.command_level else settings.suppress_k
    if suppress_k is not None:
        rows = [r for r in rows if r["cases"] >= suppress_k]
    w = query.window
    return {
        "type": "FeatureCollection",
        "window": {"from": w.date_from.isoformat(), "to": w.date_to.isoformat()},
        "eps_m": query.eps_m, "minpoints": query.min_points,
        "metric_crs": metric_crs,
        "suppression": {"k": settings.suppress_k, "applied": suppress_k is not None},
        "numberReturned": len(rows),
        "features": [{
            "type": "Feature", "id": r["cluster_id"],
            "geometry": json.loads(r["geometry"]),
            "properties": {
                "cluster_id": r["cluster_id"], "cases": r["cases"],
                "dominant_category": r["dominant_category"],
                "dominant_category_name": r["dominant_category_name"],
                "dominant_cases": r["dominant_cases"],
            },
        } for r in rows],
    }
