"""Density clusters of case points: ST_ClusterDBSCAN in the projected metric CRS (eps in metres,
minpoints), deterministic cluster ids, each cluster summarised as a hull with its case count
and dominant category (geo/sql/hotspot_clusters.sql).

Below commander level (the same rule as the hotspot layers) clusters with fewer than k cases
are left out; with minpoints ≥ k (the defaults: 5 and 5) none ever is.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from geo import crs as gcrs
from geo.access.scope import Scope
from geo.errors import InvalidInput
from geo.hotspots.aggregates import Window
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
    dominant_category (+ name and its cases) and the hull as a GeoJSON string."""
    params = {
        **scope.params(),
        "metric_srid": metric_srid(metric_crs),
        "date_from": query.window.date_from, "date_to": query.window.date_to,
        "category": list(query.categories) if query.categories else None,
        "status": list(query.statuses) if query.statuses else None,
        "eps": float(query.eps_m), "minpoints": int(query.min_points),
    }
    return [dict(r) for r in session.execute(sql("hotspot_clusters"), params).mappings()]


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
