"""Grid endpoints: point lookup (which 网格, 社区 and 街道 is this place in?)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from api.deps import SessionDep
from geo.lookup import lookup_grid

router = APIRouter(prefix="/grids", tags=["grids"])

InputCrs = Literal["wgs84", "cgcs2000", "gcj02", "bd09"]


@router.get("/lookup", operation_id="lookup_grid")
def lookup(
    session: SessionDep,
    lon: Annotated[float, Query(description="longitude (x)", allow_inf_nan=False)],
    lat: Annotated[float, Query(description="latitude (y)", allow_inf_nan=False)],
    crs: Annotated[InputCrs, Query(description="CRS of lon/lat: Amap/Tencent give gcj02, "
                                               "Baidu bd09")] = "wgs84",
) -> dict[str, Any]:
    """The grid, 社区 and 街道 covering a point; 404 outside every grid."""
    found = lookup_grid(session, lon, lat, crs)
    body = asdict(found)
    body["input"] = {"lon": lon, "lat": lat, "crs": crs}
    return body
