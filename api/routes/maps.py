"""Map pages: GET /map (the district's 街道, 社区 and 网格), /map/grid/{grid_code} and /map/me
(the grid worker's map), /map/command (the commander's map), and the local base-map tiles at
/basemap/{z}/{x}/{y}.png. Every page is served offline: Leaflet and the pages' scripts come
from gridmap, and the live pages load their layers from the API with the login cookie.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.deps import NowDep, SessionDep
from api.security import ScopeDep
from geo.access.scope import Scope
from geo.errors import Forbidden, InvalidInput, NotFound
from geo.layers import active_generation_ids, area_layer, grid_layer
from geo.models import Category
from geo.ogc.collections import COLLECTIONS, GRIDS
from geo.ogc.items import query_items
from geo.settings import MapSettings
from geo.workflow.deadlines import china_date
from static_map.basemap import (
    EMPTY_TILE,
    BaseMap,
    basemap_for,
    tile_media_type,
    tile_source,
    valid_tile,
)
from static_map.command_map import build_command_map
from static_map.district_map import build_district_map
from static_map.grid_map import build_grid_map, build_no_grid_page

router = APIRouter(tags=["maps"])

GRID_CODE = re.compile(r"^[0-9]{15}$")
# Roles whose scope is a set of grids: /map/me shows those grids.
GRID_ROLES = ("grid_worker", "grid_leader")
# Roles that get the commander's map (each sees it within their own scope; the hotspot layers
# suppress small counts below commander level).
COMMAND_ROLES = ("commander", "registrar", "discipline", "admin", "street", "community")
# The window the commander's map opens with: the year up to the request's day.
DEFAULT_WINDOW_DAYS = 365
TILE_CACHE = {"Cache-Control": "private, max-age=86400"}


@router.get("/map", response_class=HTMLResponse, operation_id="district_map")
def district_map(request: Request, session: SessionDep) -> HTMLResponse:
    """The district map; rebuilt only when a boundary generation changes."""
    key = active_generation_ids(session)
    cache: dict[object, str] = request.app.state.map_cache
    html = cache.get(key)
    if html is None:
        html = build_district_map(
            area_layer(session, "street"), area_layer(session, "community"), grid_layer(session))
        cache.clear()
        cache[key] = html
    return HTMLResponse(html)


def map_settings(request: Request) -> MapSettings:
    """The base-map setting the app was created with (the default: none)."""
    settings: MapSettings | None = getattr(request.app.state, "map_settings", None)
    return settings if settings is not None else MapSettings()


def _basemap(request: Request) -> BaseMap:
    """The page's base map, worked out once per app (a local set's zoom range is read once)."""
    state = request.app.state
    found: BaseMap | None = getattr(state, "basemap", None)
    if found is None:
        found = state.basemap = basemap_for(map_settings(request))
    return found


def _available(request: Request) -> dict[str, bool]:
    """Which API layers this app serves: a page names a missing one instead of asking it
    (read once per app from its OpenAPI document, which lists every included router)."""
    state = request.app.state
    found: dict[str, bool] | None = getattr(state, "map_layers", None)
    if found is None:
        paths = set(request.app.openapi().get("paths", {}))
        found = state.map_layers = {
            "cases": "cases" in COLLECTIONS,
            "hotspots": "/hotspots" in paths,
            "clusters": "/hotspots/clusters" in paths,
            "rates": "/stats/rates" in paths,
        }
    return found


def _active_cells(session: Session, codes: list[str]) -> list[dict[str, Any]]:
    """The active grid cells with these codes (WGS84 Features), in the order given."""
    cells = []
    for code in dict.fromkeys(codes):
        features, _ = query_items(session, GRIDS, limit=1, filters={"code": code})
        cells.extend(features)
    return cells


def _grid_in_scope(scope: Scope, props: dict[str, Any]) -> bool:
    """Whether the cell lies in what the user may see: their grids, 社区 or 街道, or all."""
    return (scope.district_wide or props.get("code") in scope.grid_codes
            or (scope.community_code is not None
                and props.get("parent_code") == scope.community_code)
            or (scope.street_code is not None and props.get("street_code") == scope.street_code))


def _grid_page(request: Request, cells: list[dict[str, Any]], now: datetime
               ) -> HTMLResponse:
    return HTMLResponse(build_grid_map(
        {"type": "FeatureCollection", "features": cells}, basemap=_basemap(request),
        available=_available(request), today=china_date(now).isoformat()))


@router.get("/map/grid/{grid_code}", response_class=HTMLResponse, operation_id="grid_map",
            responses={404: {"description": "no such active grid, or outside your scope"}})
def grid_map(request: Request, session: SessionDep, scope: ScopeDep, now: NowDep,
             grid_code: Annotated[str, Path(max_length=32, description="15-digit grid code")]
             ) -> HTMLResponse:
    """The map of one grid cell: the cell labelled, its neighbours faint, its open cases as
    pins by deadline band, the 清单 of open cases and the counts. A grid that does not exist
    and one outside the caller's scope are the same 404."""
    cells = _active_cells(session, [grid_code]) if GRID_CODE.match(grid_code) else []
    if not cells or not _grid_in_scope(scope, cells[0]["properties"]):
        raise NotFound(f"no grid {grid_code} (grid codes are 15 digits; the grid must be in "
                       "the active generation and in your scope)")
    return _grid_page(request, cells, now)


@router.get("/map/me", response_class=HTMLResponse, response_model=None, operation_id="my_map",
            responses={303: {"description": "to the user's one grid, or the commander's map"},
                       400: {"description": "the user has no grid to show"}})
def my_map(request: Request, session: SessionDep, scope: ScopeDep, now: NowDep
           ) -> Response:
    """The logged-in user's map: a grid worker's (or grid leader's) grids — one grid redirects
    to its page, several are drawn together; 街道, 社区 and district roles go to the commander's
    map; anyone else gets a page saying there is no grid to show (400)."""
    if scope.role in GRID_ROLES:
        cells = _active_cells(session, list(scope.grid_codes))
        if len(cells) == 1:
            return RedirectResponse(f"/map/grid/{cells[0]['properties']['code']}",
                                    status_code=303)
        if cells:
            return _grid_page(request, cells, now)
        message = ("您的账号还没有分配网格（或所分配的网格已不在现行网格版本中），请联系管理员。"
                   f"No grid is assigned to {scope.username}, or none of them is active.")
    elif scope.role in COMMAND_ROLES:
        return RedirectResponse("/map/command", status_code=303)
    else:
        message = ("您的角色没有网格地图：请在全区地图查看边界，或通过案件接口办理交办的案件。"
                   f"Role {scope.role} has no grid to show.")
    return HTMLResponse(build_no_grid_page(message), status_code=400)


def _categories(session: Session, scope: Scope) -> list[tuple[str, str]]:
    """(code, name) of the categories the caller may filter on (检举控告 only if they see it)."""
    query = select(Category.code, Category.name).order_by(Category.sort_order, Category.code)
    if not scope.sees_restricted:
        query = query.where(Category.restricted.is_(False))
    return [(code, name) for code, name in session.execute(query)]


@router.get("/map/command", response_class=HTMLResponse, operation_id="command_map",
            responses={403: {"description": "the role has no commander's map"}})
def command_map(
    request: Request, session: SessionDep, scope: ScopeDep, now: NowDep,
    start: Annotated[date | None, Query(alias="from", description="window start (date); "
                                        "default: a year before `to`")] = None,
    end: Annotated[date | None, Query(alias="to", description="window end (date); default: "
                                      "today")] = None,
    category: Annotated[str | None, Query(max_length=64, description="category code")] = None,
) -> HTMLResponse:
    """The commander's map for a time window and category: outlines, choropleth and Gi*
    classes per grid, project hotspots, clusters, overdue/督办 and 包案 pins, headline
    numbers. The layers load from the API, so the page never goes stale."""
    if scope.role not in COMMAND_ROLES:
        raise Forbidden(f"role {scope.role} has no commander's map (roles: "
                        f"{', '.join(COMMAND_ROLES)}); a grid worker's map is at /map/me")
    end = end or china_date(now)
    start = start or end - timedelta(days=DEFAULT_WINDOW_DAYS - 1)
    if start > end:
        raise InvalidInput("from", f"the window starts ({start}) after it ends ({end})")
    categories = _categories(session, scope)
    if category and category not in dict(categories):
        raise InvalidInput("category", f"unknown category {category!r}; known: "
                           f"{', '.join(code for code, _ in categories)}")
    return HTMLResponse(build_command_map(
        area_layer(session, "district"), window=(start.isoformat(), end.isoformat()),
        categories=categories, category=category or None, basemap=_basemap(request),
        available=_available(request)))


@router.get("/basemap/{z}/{x}/{y}.png", response_class=Response, operation_id="basemap_tile",
            responses={200: {"content": {"image/png": {}, "image/jpeg": {}, "image/webp": {}},
                             "description": "the tile (an empty one where the set has none)"},
                       404: {"description": "no local base map, or not a tile"}})
def basemap_tile(request: Request, z: int, x: int, y: int) -> Response:
    """A tile of the local base map (GRIDMAP_BASEMAP=local): from the tile directory or the
    MBTiles file (whose rows count from the south). Where the set has no tile, an empty
    transparent one: the edge of a local set is not an error."""
    settings = map_settings(request)
    if settings.basemap != "local" or settings.basemap_path is None:
        raise NotFound("no local base map here (GRIDMAP_BASEMAP is not 'local')")
    if not valid_tile(z, x, y):
        raise NotFound(f"no tile {z}/{x}/{y}: zoom is 0..24 and x, y are 0..2^zoom-1")
    data = tile_source(settings.basemap_path).get(z, x, y)
    if data is None:
        return Response(EMPTY_TILE, media_type="image/png",
                        headers={**TILE_CACHE, "X-Gridmap-Tile": "empty"})
    return Response(data, media_type=tile_media_type(data), headers=TILE_CACHE)
