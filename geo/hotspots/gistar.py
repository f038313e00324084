"""Getis-Ord Gi* over grid cells: queen contiguity weights from the cell polygons (libpysal) and
the local statistic with conditional permutations (esda), classed hot/cold at 99/95/90 %.

Choices, so the classes can be read and repeated:
- Gi* in star form (the cell itself is in its own neighbourhood) on binary weights, the
  Getis & Ord (1995) statistic: esda.G_Local(star=True, transform="B").
- z is esda's analytic z-score of G* (`Zs`); p is the *permutation* p-value, two-sided, from
  `permutations` conditional permutations (999 by default, so the smallest p is 0.002):
  p_hot = (#sims ≥ observed + 1)/(permutations + 1), p_cold = (#sims ≤ observed + 1)/(…),
  p = min(1, 2·min(p_hot, p_cold)); ties count on both sides. esda's own `p_sim` folds one
  tail and counts ties on the upper side only, so with sparse counts a quiet cell whose every
  permutation ties its observed value (all zeros) would get p_sim = 0.001 and come out
  "cold99" — here it gets p = 1. A cell is hot (the upper tail is the smaller) or cold at 99 %
  when p ≤ 0.01, at 95 % when p ≤ 0.05, at 90 % when p ≤ 0.10, else not significant ("ns").
  No correction for multiple tests (as ArcGIS's Hot Spot Analysis without FDR): with no
  pattern at all, about 10 % of cells come out significant at 90 % (tests/test_gistar.py
  measures it on random lattices); with very sparse counts ties make the test conservative.
- esda's permutations are *conditional*: a cell's own count stays fixed and the other counts
  are shuffled around it. A cell is hot when its neighbourhood holds more cases than chance
  would put around it — a cluster, not a single busy cell: a lone spike among quiet cells is
  "ns" itself while the cells around it (whose neighbourhood holds the spike) come out hot.
  The spike's own count is in the layer's `cases` and `per_1000_households`.
- The permutations use a fixed seed (GRIDMAP_HOTSPOT_SEED): the same counts give the same
  classes on every run.
- A cell with no queen neighbour (an island) has no local neighbourhood to compare: z and p are
  None and its class is "ns". So are all cells when every count is equal (no variance).
"""

from __future__ import annotations

import warnings
from collections import OrderedDict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np
from shapely.geometry.base import BaseGeometry

CLASSES = ("hot99", "hot95", "hot90", "cold99", "cold95", "cold90", "ns")
LEVELS = ((0.01, "99"), (0.05, "95"), (0.10, "90"))
_CACHE_SIZE = 8
_weights_cache: OrderedDict[Hashable, object] = OrderedDict()


@dataclass(frozen=True)
class GiStar:
    """Per cell, in input order: z-score, two-sided permutation p-value and class."""

    z: list[float | None]
    p: list[float | None]
    classes: list[str]


def classify(z: float | None, p: float | None) -> str:
    """The class of one cell: hot/cold at 99/95/90 % (p ≤ 0.01/0.05/0.10), else "ns"."""
    if z is None or p is None or z == 0:
        return "ns"
    for alpha, label in LEVELS:
        if p <= alpha:
            return ("hot" if z > 0 else "cold") + label
    return "ns"


def queen_weights(geoms: Sequence[BaseGeometry], key: Hashable | None = None) -> object:
    """Queen contiguity (cells sharing an edge or a corner) over these polygons, in order.

    Cells must share vertices exactly where they touch (the importer's grids do). With a
    `key` (e.g. the generation and codes) the weights are kept for the next call.
    """
    if key is not None and key in _weights_cache:
        _weights_cache.move_to_end(key)
        return _weights_cache[key]
    from libpysal.weights import Queen

    with warnings.catch_warnings():
        # libpysal warns about islands and disconnected components: gi_star handles them.
        warnings.simplefilter("ignore")
        w = Queen.from_iterable(list(geoms), ids=list(range(len(geoms))))
    if key is not None:
        _weights_cache[key] = w
        while len(_weights_cache) > _CACHE_SIZE:
            _weights_cache.popitem(last=False)
    return w


def gi_star(y: Sequence[float] | np.ndarray, w: object, *, permutations: int = 999,
            seed: int = 20200101) -> GiStar:
    """Gi* of the counts `y` (aligned with the weights' ids 0..n-1), classed per cell."""
    values = np.asarray(y, dtype=float)
    n = len(values)
    z: list[float | None] = [None] * n
    p: list[float | None] = [None] * n
    if n < 3 or not np.isfinite(values).all() or np.ptp(values) == 0:
        return GiStar(z, p, ["ns"] * n)
    import esda

    islands = set(getattr(w, "islands", []))
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        warnings.simplefilter("ignore")
        g = esda.G_Local(values, w, transform="B", star=True, permutations=permutations,
                         seed=seed, keep_simulations=True, n_jobs=1)
    sims = np.asarray(g.rGs, dtype=float)                    # n × permutations
    observed = np.asarray(g.Gs, dtype=float)[:, None]
    ties = np.isclose(sims, observed, rtol=1e-9, atol=1e-12)
    p_hot = ((sims > observed) | ties).sum(axis=1) + 1.0
    p_cold = ((sims < observed) | ties).sum(axis=1) + 1.0
    p_hot, p_cold = p_hot / (permutations + 1.0), p_cold / (permutations + 1.0)
    classes = ["ns"] * n
    for i in range(n):
        zi, pi = float(g.Zs[i]), float(min(1.0, 2.0 * min(p_hot[i], p_cold[i])))
        if i in islands or not (np.isfinite(zi) and np.isfinite(pi)):
            continue
        z[i], p[i] = zi, pi
        classes[i] = classify(1.0 if p_hot[i] < p_cold[i] else -1.0, pi)
    return GiStar(z, p, classes)
