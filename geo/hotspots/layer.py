"""A hotspot layer as a GeoJSON FeatureCollection: the level's measures, rates, change against
the trailing periods, Gi* classes (grid level) and small-count suppression for the caller.

Suppression (DESIGN.md privacy): a caller below commander level (everyone but commander,
discipline and admin — geo.access.scope.COMMAND_LEVEL; the registrar included, the layers are
what the map shows to every desk) gets every feature with fewer than k cases (k =
GRIDMAP_HOTSPOT_SUPPRESS_K, default 5; zero included, so an empty cell and a cell with 3 cases
look alike) with `suppressed: true` and all its measures — counts, rates, trend, change and the
Gi* fields — null; in the features shown, trend entries below k are null too. Gi* is computed
on the true counts before suppression.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from typing import Any

import numpy as np
import shapely
from sqlalchemy.orm import Session

from geo.access.scope import Scope
from geo.hotspots.aggregates import TREND_PERIODS, HotspotQuery, aggregate_levels
from geo.hotspots.gistar import gi_star, queen_weights
from geo.settings import HotspotSettings

LEVEL_LABELS = {"grid": "网格", "community": "社区", "street": "街道", "project": "项目"}
MEASURES = ("cases", "submissions", "persons", "open", "overdue", "repeat", "collective",
            "per_1000_households", "trend", "change", "gi_z", "gi_p", "gi_class")


def per_1000(cases: int, households: int | None) -> float | None:
    """Cases per 1,000 households, where the households are known (and not zero)."""
    if not households:
        return None
    return round(1000.0 * cases / households, 2)


def change_ratio(cases: int, trend: list[int]) -> float | None:
    """The relative change against the trailing periods' mean: cases / mean − 1 (0.5 = half
    as many again; −1 = none now); None when the trailing periods had no cases."""
    mean = sum(trend) / len(trend) if trend else 0.0
    if mean == 0:
        return None
    return round(cases / mean - 1.0, 3)


def _gi_fields(rows: list[dict[str, Any]], settings: HotspotSettings
               ) -> list[tuple[float | None, float | None, str]]:
    """Gi* for every grid row (in order); weights cached per generation and code list."""
    geoms = shapely.from_geojson([r["geometry"] for r in rows])
    key = ("queen", tuple(r["generation_id"] for r in rows), tuple(r["code"] for r in rows))
    w = queen_weights(list(geoms), key=key)
    gi = gi_star(np.array([r["cases"] for r in rows], dtype=float), w,
                 permutations=settings.permutations, seed=settings.seed)
    return [(None if z is None else round(z, 3), None if p is None else round(p, 4), c)
            for z, p, c in zip(gi.z, gi.p, gi.classes, strict=True)]


def hotspot_rows(session: Session, scope: Scope, query: HotspotQuery, today: date,
                 settings: HotspotSettings) -> list[dict[str, Any]]:
    """The level's features as flat rows with every measure, unsuppressed (true counts)."""
    return hotspot_rows_by_level(session, scope, query, today, settings,
                                 [query.level])[query.level]


def hotspot_rows_by_level(session: Session, scope: Scope, query: HotspotQuery, today: date,
                          settings: HotspotSettings, levels: Sequence[str]
                          ) -> dict[str, list[dict[str, Any]]]:
    """hotspot_rows() for several levels from one pass over the cases (the query's window and
    filters; its level is ignored)."""
    by_level = aggregate_levels(session, scope, query, today, levels)
    for level, rows in by_level.items():
        gi = _gi_fields(rows, settings) if level == "grid" and rows else None
        for i, r in enumerate(rows):
            r["per_1000_households"] = per_1000(r["cases"], r["households"])
            r["change"] = change_ratio(r["cases"], r["trend"])
            r["gi_z"], r["gi_p"], r["gi_class"] = gi[i] if gi is not None else (None, None, None)
    return by_level


def _properties(r: dict[str, Any], suppress_k: int | None) -> dict[str, Any]:
    props = {
        "level": r["level"], "code": r["code"], "name": r["name"],
        "cases": r["cases"], "submissions": r["submissions"], "persons": r["persons"],
        "open": r["open"], "overdue": r["overdue"], "repeat": r["repeat"],
        "collective": r["collective"], "households": r["households"],
        "per_1000_households": r["per_1000_households"], "trend": r["trend"],
        "change": r["change"], "gi_z": r["gi_z"], "gi_p": r["gi_p"], "gi_class": r["gi_class"],
        "suppressed": False,
    }
    if suppress_k is not None:
        if r["cases"] < suppress_k:
            props.update(dict.fromkeys(MEASURES))
            props["suppressed"] = True
        else:
            props["trend"] = [n if n >= suppress_k else None for n in r["trend"]]
    return props


def hotspot_layer(session: Session, scope: Scope, query: HotspotQuery, today: date,
                  settings: HotspotSettings) -> dict[str, Any]:
    """The FeatureCollection GET /hotspots returns (see the module docstring)."""
    rows = hotspot_rows(session, scope, query, today, settings)
    suppress_k = None if scope.command_level else settings.suppress_k
    features = [{
        "type": "Feature", "id": r["code"],
        "geometry": json.loads(r["geometry"]),
        "properties": _properties(r, suppress_k),
    } for r in rows]
    w = query.window
    return {
        "type": "FeatureCollection",
        "level": query.level,
        "level_label": LEVEL_LABELS[query.level],
        "window": {"from": w.date_from.isoformat(), "to": w.date_to.isoformat(),
                   "trend_periods": TREND_PERIODS,
                   "period_days": round(w.length.total_seconds() / 86400, 4)},
        "filters": {"category": list(query.categories or []) or None,
                    "status": list(query.statuses or []) or None},
        "as_of": today.isoformat(),
        "suppression": {"k": settings.suppress_k, "applied": suppress_k is not None},
        "gi": ({"statistic": "Getis-Ord Gi* (star, binary queen contiguity)",
                "p": "two-sided permutation p = min(1, 2·p_sim)",
                "permutations": settings.permutations, "seed": settings.seed}
               if query.level == "grid" else None),
        "numberReturned": len(features),
        "features": features,
    }
