"""Measurement 3: serving the cases layer — `/collections/cases/items?bbox=…&limit=1000` and
uncached MVT tiles over 200 district tiles, at concurrency 1 and 8 — gridmap against tipg on the
same table, the same database and the same pool size, the two servers loaded alternately.

gridmap answers as an admin (nothing hidden by scope; names joined, personal data masked,
deadline bands computed for the demo clock's day); tipg serves petition_case as it is (the
plain columns listed in bench.servers.TIPG_PROPERTIES). Neither caches tiles; both are asked
with `Accept-Encoding: identity`, so bytes are what each builds. Each phase runs first on one
server, then on the other (the order alternates between phases), after a warm-up of both.
"""

from __future__ import annotations

import math
import random
from typing import Any

import httpx
import numpy as np
import shapely

from bench.loadgen import Request, run_load
from bench.servers import Server

ITEMS_REQUESTS = 200
TILE_COUNT = 200
TILE_ZOOMS = (12, 13, 14, 15, 16)
BOX_HALF = (0.006, 0.0045)   # ≈ 1 km × 1 km around a case
SEED = 8


def bboxes(lon: np.ndarray, lat: np.ndarray, n: int = 40, seed: int = SEED
           ) -> list[tuple[float, float, float, float]]:
    """`n` seeded ≈1 km² boxes centred on cases (so none is empty)."""
    rng = random.Random(seed)
    ok = np.flatnonzero(~np.isnan(lon))
    out = []
    for i in rng.sample(list(ok), min(n, len(ok))):
        x, y = float(lon[i]), float(lat[i])
        out.append((round(x - BOX_HALF[0], 6), round(y - BOX_HALF[1], 6),
                    round(x + BOX_HALF[0], 6), round(y + BOX_HALF[1], 6)))
    return out


def _tile_bounds(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    n = 2.0 ** z

    def lat(t: float) -> float:
        return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * t / n))))

    return x / n * 360.0 - 180.0, lat(y + 1), (x + 1) / n * 360.0 - 180.0, lat(y)


def _tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2.0 ** z
    r = math.radians(lat)
    return int((lon + 180.0) / 360.0 * n), int((1 - math.asinh(math.tan(r)) / math.pi) / 2 * n)


def district_tiles(area: Any, count: int = TILE_COUNT, seed: int = SEED
                   ) -> list[tuple[int, int, int]]:
    """`count` (z, x, y) tiles over the grid layer: every tile of the low zooms, the rest drawn
    (seeded) from the higher ones, in a seeded random order."""
    minx, miny, maxx, maxy = area.bounds
    by_zoom: dict[int, list[tuple[int, int, int]]] = {}
    for z in TILE_ZOOMS:
        x0, y0 = _tile_of(minx, maxy, z)
        x1, y1 = _tile_of(maxx, miny, z)
        by_zoom[z] = [(z, x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)
                      if area.intersects(shapely.box(*_tile_bounds(z, x, y)))]
    chosen: list[tuple[int, int, int]] = []
    for z in TILE_ZOOMS[:3]:
        chosen += by_zoom[z]
    rng = random.Random(seed)
    rest = [t for z in TILE_ZOOMS[3:] for t in by_zoom[z]]
    chosen += rng.sample(rest, max(0, min(len(rest), count - len(chosen))))
    chosen = chosen[:count]
    # Shuffled: a run cut short by its time bound still samples every zoom alike.
    rng.shuffle(chosen)
    return chosen


def _items(server: Server, boxes: list[tuple[float, float, float, float]]) -> list[Request]:
    coll = "cases" if server.name == "gridmap" else "public.petition_case"
    return [Request("GET", f"{server.base}/collections/{coll}/items?bbox="
                    + ",".join(str(v) for v in boxes[i % len(boxes)]) + "&limit=1000")
            for i in range(ITEMS_REQUESTS)]


def _tiles(server: Server, tiles: list[tuple[int, int, int]]) -> list[Request]:
    if server.name == "gridmap":   # OGC order: tileMatrix / tileRow / tileCol
        return [Request("GET", f"{server.base}/collections/cases/tiles/WebMercatorQuad/"
                        f"{z}/{y}/{x}") for z, x, y in tiles]
    return [Request("GET", f"{server.base}/collections/public.petition_case/tiles/"
                    f"WebMercatorQuad/{z}/{x}/{y}") for z, x, y in tiles]


def _matched(server: Server, headers: dict[str, str],
             boxes: list[tuple[float, float, float, float]]) -> int | None:
    """Σ numberMatched over the boxes: both servers must see the same cases."""
    total = 0
    for req in _items(server, boxes)[:len(boxes)]:
        try:
            resp = httpx.get(req.url, headers=headers, timeout=120.0)
        except httpx.HTTPError:
            return None
        if resp.status_code != 200:
            return None
        total += int(resp.json().get("numberMatched") or 0)
    return total


def measure_serving(gridmap: Server, tipg: Server, token: str,
                    boxes: list[tuple[float, float, float, float]],
                    tiles: list[tuple[int, int, int]], max_seconds: float) -> dict[str, Any]:
    """Items and tiles, concurrency 1 and 8, both servers alternately; p50/p95 and bytes."""
    headers = {gridmap.name: {"Authorization": f"Bearer {token}"}, tipg.name: {}}
    servers = (gridmap, tipg)
    for s in servers:   # warm-up: connections, catalog, the planner's caches
        run_load(_items(s, boxes)[:20] + _tiles(s, tiles)[:20], 2, headers[s.name], 60.0)
    out: dict[str, Any] = {"bboxes": len(boxes), "tiles": len(tiles),
                           "tile_zooms": sorted({z for z, _, _ in tiles})}
    phases = [("items", 1), ("items", 8), ("tiles", 1), ("tiles", 8)]
    for k, (what, conc) in enumerate(phases):
        order = servers if k % 2 == 0 else servers[::-1]
        for s in order:
            reqs = _items(s, boxes) if what == "items" else _tiles(s, tiles)
            out.setdefault(f"{what}_c{conc}", {})[s.name] = run_load(
                reqs, conc, headers[s.name], max_seconds)
    for pair in out.values():
        if isinstance(pair, dict) and "gridmap" in pair and "tipg" in pair:
            g, t = pair["gridmap"], pair["tipg"]
            pair["p95_ratio"] = (g["p95_ms"] / t["p95_ms"]
                                 if g.get("p95_ms") and t.get("p95_ms") else None)
            pair["p50_ratio"] = (g["p50_ms"] / t["p50_ms"]
                                 if g.get("p50_ms") and t.get("p50_ms") else None)
    out["number_matched"] = {s.name: _matched(s, headers[s.name], boxes[:10]) for s in servers}
    return out
