"""The GCJ-02 shift of a tile, as one affine transform PostGIS applies to every vertex.

Amap and Tencent draw their base maps in GCJ-02, so a layer laid on them must be shifted
(~430 m here) before it is projected to Web Mercator. The shift is a closed-form series only
geo.crs may evaluate, and PostGIS cannot call it; but across one tile it is smooth, so this
module samples it exactly with geo.crs on a 5×5 lattice over the tile and fits the affine map
(least squares) that PostGIS then applies (ST_Affine) before ST_Transform to EPSG:3857.

Why not shift the decoded tile in Python: a tile would be built, decoded, shifted and encoded
again, and the shifted vertices would be snapped to the tile grid twice. The fit is exact at
the lattice; the series' shortest wave (1/3° of longitude, ~15 m high) is what an affine map
cannot follow across a large tile. Measured over Dalian: at most 54 m at zoom 8 and 17 m at zoom
10 (about 2 units of the tile's 4096 grid, an eighth of a screen pixel), under half a unit from
zoom 12 on, and under a millimetre at zoom 18.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from geo import crs as gcrs
from geo.tiles.matrix import BUFFER, EXTENT, Tile

_LATTICE = 5


@dataclass(frozen=True)
class Affine:
    """x' = a·x + b·y + xoff, y' = d·x + e·y + yoff (lon/lat degrees), as ST_Affine takes it."""

    a: float = 1.0
    b: float = 0.0
    d: float = 0.0
    e: float = 1.0
    xoff: float = 0.0
    yoff: float = 0.0

    def params(self) -> dict[str, float]:
        """Bound parameters aff_a … aff_yoff for the tile SQL."""
        return {"aff_a": self.a, "aff_b": self.b, "aff_d": self.d, "aff_e": self.e,
                "aff_xoff": self.xoff, "aff_yoff": self.yoff}

    def apply(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The transform of arrays of points."""
        return self.a * x + self.b * y + self.xoff, self.d * x + self.e * y + self.yoff

    def preimage_bbox(self, bounds: tuple[float, float, float, float]
                      ) -> tuple[float, float, float, float]:
        """The lon/lat box of every point the transform carries into `bounds` (the query box
        of the unshifted data)."""
        w, s, e, n = bounds
        m = np.array([[self.a, self.b], [self.d, self.e]])
        corners = np.array([[w, s], [e, s], [e, n], [w, n]]) - [self.xoff, self.yoff]
        src = np.linalg.solve(m, corners.T).T
        return (float(src[:, 0].min()), float(src[:, 1].min()),
                float(src[:, 0].max()), float(src[:, 1].max()))


IDENTITY = Affine()


def tile_affine(tile: Tile, out_crs: str) -> Affine:
    """The affine carrying WGS84 lon/lat to `out_crs` ("wgs84" or "gcj02") across the tile."""
    if out_crs == "wgs84":
        return IDENTITY
    if out_crs != "gcj02":
        raise ValueError(f"tiles are shifted to wgs84 or gcj02 only, not {out_crs!r}")
    # The lattice covers the tile and the margin ST_AsMVTGeom keeps around it.
    w, s, e, n = tile.bounds_lonlat(margin=BUFFER / EXTENT)
    gx, gy = np.meshgrid(np.linspace(w, e, _LATTICE), np.linspace(s, n, _LATTICE))
    dst_x, dst_y = gx.ravel(), gy.ravel()
    src_x, src_y = (np.asarray(v, dtype=np.float64)
                    for v in gcrs.gcj02_to_wgs84(dst_x, dst_y))
    # Fitted around the tile's centre: at zoom 18 a tile is 0.001°, and raw lon/lat columns
    # (121.7, 38.9, 1) would make the least squares lose the slope to rounding.
    x0, y0 = float(src_x.mean()), float(src_y.mean())
    design = np.column_stack([src_x - x0, src_y - y0, np.ones_like(src_x)])
    (a, b, cx), *_ = np.linalg.lstsq(design, dst_x, rcond=None)
    (d, e_, cy), *_ = np.linalg.lstsq(design, dst_y, rcond=None)
    return Affine(float(a), float(b), float(d), float(e_),
                  float(cx - a * x0 - b * y0), float(cy - d * x0 - e_ * y0))
