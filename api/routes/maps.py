"""Map pages: GET /map, the district's 街道, 社区 and 网格 on a folium page served offline."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.deps import SessionDep
from geo.layers import active_generation_ids, area_layer, grid_layer
from static_map.district_map import build_district_map

router = APIRouter(tags=["maps"])


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
