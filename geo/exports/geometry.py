"""Export geometries in the asked output CRS: WGS84 as stored, or shifted to GCJ-02 / BD-09 for
Chinese base maps (geo.crs owns the formulas), rounded to 7 decimals (≈1 cm)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import shapely

from geo import crs as gcrs
from geo.errors import InvalidInput

OUTPUT_CRS = ("wgs84", "gcj02", "bd09")
# 7 decimals ≈ 1 cm: below any surveyed boundary's accuracy, what GIS clients round-trip.
PRECISION = 7


def check_output_crs(out_crs: str) -> str:
    """The output CRS name; InvalidInput("crs") for anything but wgs84, gcj02, bd09."""
    if out_crs not in OUTPUT_CRS:
        raise InvalidInput("crs", f"output crs must be {', '.join(OUTPUT_CRS)}, not {out_crs!r}")
    return out_crs


def output_geometries(geoms: npt.NDArray[np.object_], out_crs: str) -> npt.NDArray[np.object_]:
    """WGS84 geometries (None kept) converted to `out_crs` and rounded, in one vectorised pass."""
    moved = geoms if out_crs == "wgs84" else gcrs.geometry_from_wgs84(geoms, out_crs)
    rounded: npt.NDArray[np.object_] = shapely.transform(
        moved, lambda xy: np.round(xy, PRECISION))
    return rounded


def label_points(geoms: npt.NDArray[np.object_]) -> npt.NDArray[np.object_]:
    """A point inside each (WGS84) geometry: the point itself, or a point on a polygon's
    surface (lon/lat columns of a polygon collection)."""
    points: npt.NDArray[np.object_] = shapely.point_on_surface(geoms)
    return points
