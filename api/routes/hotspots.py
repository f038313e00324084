"""Hotspot layers: GET /hotspots (per grid / 社区 / 街道 / project: counts, rates, trend, change,
Gi* classes) and GET /hotspots/clusters (DBSCAN hulls), as GeoJSON FeatureCollections.

Both are computed on the fly for the caller (one SQL pass per level): counts cover only the
cases the caller's role may see, and below commander level features with fewer than k cases
are suppressed (geo.hotspots.layer). `gridmap hotspots refresh` materialises the commander's
default picture separately (geo.hotspots.refresh).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from sqlalchemy import text
from sqlalchemy.orm import Session

from api.deps import GeoSettingsDep, NowDep, SessionDep
from api.security import ScopeDep
from geo.errors import InvalidInput
from geo.hotspots.aggregates import (
    HotspotQuery,
    Window,
    check_statuses,
    hotspot_window,
    parse_list,
)
from geo.hotspots.clusters import ClusterQuery, cluster_layer
from geo.hotspots.layer import hotspot_layer
from geo.ogc.items import shift_features
from geo.settings import HotspotSettings
from geo.workflow.read import china_today

router = APIRouter(prefix="/hotspots", tags=["hotspots"])
GEOJSON = "application/geo+json"
OutputCrs = Annotated[Literal["wgs84", "gcj02", "bd09"], Query(
    description="output coordinates: wgs84, or shifted to line up on Amap/Tencent (gcj02) or "
    "Baidu (bd09) base maps")]


def get_hotspot_settings(request: Request) -> HotspotSettings:
    """The hotspot settings the app was created with (k, eps, minpoints, permutations, seed)."""
    settings: HotspotSettings | None = getattr(request.app.state, "hotspot_settings", None)
    return settings if settings is not None else HotspotSettings()


HotspotSettingsDep = Annotated[HotspotSettings, Depends(get_hotspot_settings)]


@dataclass
class WindowParams:
    """The window and filters shared by both endpoints."""

    date_from: Annotated[datetime | None, Query(
        alias="from", description="start (inclusive), China time unless an offset is given; "
        "default: 12 months before `to`")] = None
    date_to: Annotated[datetime | None, Query(
        alias="to", description="end (exclusive); default: the end of the request's day")] = None
    category: Annotated[str | None, Query(max_length=500,
                                          description="category codes, comma-separated")] = None
    status: Annotated[str | None, Query(max_length=500,
                                        description="workflow states, comma-separated")] = None

    def window(self, now: datetime) -> Window:
        """The window asked for (422 naming `to` when it is empty or too long)."""
        return hotspot_window(self.date_from, self.date_to, china_today(now))

    def categories(self, session: Session) -> tuple[str, ...] | None:
        """The category filter, checked against the category table."""
        known = list(session.execute(text("SELECT code FROM category ORDER BY sort_order, code"))
                     .scalars())
        return parse_list(self.category, "category", known)


def _geojson(body: dict[str, Any], crs: str) -> Response:
    if crs != "wgs84":
        shift_features(body["features"], crs)
    body["crs"] = crs
    return Response(orjson.dumps(body), media_type=GEOJSON)


@router.get("", operation_id="hotspots", response_class=Response,
            responses={200: {"content": {GEOJSON: {}}}})
def read_hotspots(
    session: SessionDep, scope: ScopeDep, now: NowDep, settings: HotspotSettingsDep,
    params: Annotated[WindowParams, Depends()],
    level: Annotated[Literal["grid", "community", "street", "project"],
                     Query(description="grid 网格 | community 社区 | street 街道 | project 项目")
                     ] = "grid",
    crs: OutputCrs = "wgs84",
) -> Response:
    """Per feature of the level in the caller's reach: cases (案次), submissions (件次), persons
    (人次), open, overdue, repeat, collective, households, per_1000_households, trend (the 6
    previous periods of the window's length, oldest first), change (cases / their mean − 1),
    gi_z / gi_p / gi_class (grid level; two-sided permutation p), suppressed."""
    query = HotspotQuery(level, params.window(now), params.categories(session),
                         check_statuses(params.status))
    return _geojson(hotspot_layer(session, scope, query, china_today(now), settings), crs)


@router.get("/clusters", operation_id="hotspot_clusters", response_class=Response,
            responses={200: {"content": {GEOJSON: {}}}})
def read_clusters(
    session: SessionDep, scope: ScopeDep, now: NowDep, settings: HotspotSettingsDep,
    geo: GeoSettingsDep, params: Annotated[WindowParams, Depends()],
    eps: Annotated[float | None, Query(gt=0, le=5000, description="radius in metres")] = None,
    minpoints: Annotated[int | None, Query(ge=2, le=1000)] = None,
    crs: OutputCrs = "wgs84",
) -> Response:
    """Density clusters (ST_ClusterDBSCAN in the metric CRS) of the caller's located cases in
    the window: Polygon hulls with cluster_id (1 = the largest; the same data give the same
    ids), cases, dominant_category and its name."""
    if eps is not None and eps != eps:  # NaN slips through gt/le
        raise InvalidInput("eps", "eps must be a number of metres")
    query = ClusterQuery(params.window(now), eps or settings.eps_m,
                         minpoints or settings.min_points, params.categories(session),
                         check_statuses(params.status))
    return _geojson(cluster_layer(session, scope, query, geo.metric_crs, settings), crs)
