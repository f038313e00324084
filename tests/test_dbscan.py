"""The grid DBSCAN (geo.hotspots.dbscan) against a direct port of PostGIS 3.3's
ST_ClusterDBSCAN loop (union_dbscan_general) on hand-made point sets (no database): the same
noise, the same clusters and the same border-point assignment, including points shared by two
clusters, duplicates, points exactly eps apart, dense cells and empty input."""

from __future__ import annotations

import math

import numpy as np
import pytest

from geo.hotspots.dbscan import dbscan_labels


def postgis_dbscan(x: np.ndarray, y: np.ndarray, eps: float, min_points: int) -> list[int]:
    """ST_ClusterDBSCAN's algorithm, point by point in input order (O(n²)): a core point
    claims every neighbour not yet claimed and joins the clusters of neighbouring cores."""
    n = len(x)
    parent = list(range(n))

    def find(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    def union(a: int, b: int) -> None:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)

    in_cluster, core = [False] * n, [False] * n
    if n >= min_points:
        for p in range(n):
            near = [q for q in range(n)
                    if math.sqrt((x[q] - x[p]) ** 2 + (y[q] - y[p]) ** 2) <= eps]
            if len(near) < min_points:
                continue
            core[p] = in_cluster[p] = True
            for q in near:
                if in_cluster[q]:
                    if core[q]:
                        union(p, q)
                else:
                    union(p, q)
                    in_cluster[q] = True
    return [find(i) if in_cluster[i] else -1 for i in range(n)]


def same_clustering(a: list[int] | np.ndarray, b: list[int] | np.ndarray) -> bool:
    """Equal noise and a one-to-one match of cluster labels."""
    pairs = {(int(u), int(v)) for u, v in zip(a, b, strict=True)}
    if any((u < 0) != (v < 0) for u, v in pairs):
        return False
    return len(pairs) == len({u for u, _ in pairs}) == len({v for _, v in pairs})


def blobs(rng: np.random.Generator, n: int, spread: float, centres: int,
          extent: float) -> tuple[np.ndarray, np.ndarray]:
    c = rng.uniform(0, extent, (centres, 2))
    pick = rng.integers(0, centres, n)
    xy = c[pick] + rng.normal(0, spread, (n, 2))
    noise = rng.uniform(0, extent, (n // 5, 2))
    xy = np.vstack([xy, noise, xy[: n // 20]])          # some exact duplicates too
    rng.shuffle(xy)
    return xy[:, 0] + 500_000.0, xy[:, 1] + 4_300_000.0   # metric-CRS-sized coordinates


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize(("eps", "min_points"), [(150.0, 5), (40.0, 3), (100.0, 12)])
def test_grid_dbscan_equals_postgis_on_random_blobs(seed: int, eps: float,
                                                    min_points: int) -> None:
    rng = np.random.default_rng(seed)
    x, y = blobs(rng, 300, spread=60.0, centres=6, extent=2000.0)
    expected = postgis_dbscan(x, y, eps, min_points)
    got = dbscan_labels(x, y, eps, min_points)
    assert same_clustering(expected, got)
    assert sum(1 for v in expected if v >= 0) > 0          # the case is not trivial


def test_a_border_point_goes_to_the_first_core_in_input_order() -> None:
    # Two tight groups 200 m apart and a point 99.9 m from one point of each: a border point
    # of both (it has only 3 neighbours itself included, so it is no core).
    left = [(0.0, 0.0), (0.0, 1.0), (0.2, 0.5), (1.0, 0.5)]
    right = [(200.8, 0.5), (201.6, 0.0), (201.6, 1.0), (201.8, 0.5)]
    border = [(100.9, 0.5)]
    for order in (left + right + border, right + left + border, border + right + left):
        x = np.array([p[0] for p in order])
        y = np.array([p[1] for p in order])
        got = dbscan_labels(x, y, 100.0, 4)
        expected = postgis_dbscan(x, y, 100.0, 4)
        assert same_clustering(expected, got)
        b = order.index(border[0])
        first_group = left if order.index(left[0]) < order.index(right[0]) else right
        assert got[b] == got[order.index(first_group[0])]
        assert len(set(got.tolist())) == 2


def test_points_exactly_eps_apart_are_neighbours() -> None:
    x = np.array([0.0, 3.0, 6.0, 9.0, 12.0])
    y = np.zeros(5)
    assert same_clustering(dbscan_labels(x, y, 3.0, 3), [0, 0, 0, 0, 0])
    assert dbscan_labels(x, y, 2.999, 2).tolist() == [-1] * 5


def test_dense_cells_and_edge_cases() -> None:
    rng = np.random.default_rng(3)
    # 3,000 points in a few hundred metres: whole cells of core points, found without pairs.
    x, y = rng.normal(0, 80, 3000), rng.normal(0, 80, 3000)
    got = dbscan_labels(x, y, 150.0, 5)
    assert same_clustering(postgis_dbscan(x[:600], y[:600], 150.0, 5),
                           dbscan_labels(x[:600], y[:600], 150.0, 5))
    assert (got >= 0).mean() > 0.99
    assert dbscan_labels(np.array([]), np.array([]), 150.0, 5).tolist() == []
    assert dbscan_labels(np.zeros(4), np.zeros(4), 150.0, 5).tolist() == [-1] * 4
    assert dbscan_labels(np.zeros(5), np.zeros(5), 150.0, 5).tolist() == [0] * 5
