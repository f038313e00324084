"""Measurement 4: the hotspot refresh (`gridmap hotspots refresh`: project attachment, the grid /
社区 / 街道 / project aggregates in SQL, Gi* with 999 conditional permutations, DBSCAN density
clusters, the layers stored) against a direct numpy / esda / scikit-learn computation of the
same statistics on the same cases.

- `refresh`: geo.hotspots.refresh.refresh_hotspots over the demo year's window (2020), the
  commander's view, committed; median of `repeats` runs after an untimed warm-up on a one-day
  window (imports and the queen weights, cached in a running app), plus a breakdown pass:
  project attachment, each level's aggregates alone (what one GET /hotspots costs; the grid
  level with Gi*), all four levels in the one pass the refresh makes (`layers_one_pass_s`),
  Gi* alone, and the clusters. The refresh's DBSCAN is geo.hotspots.dbscan: the exact
  ST_ClusterDBSCAN clustering (same labels, border points included) on an eps/√2 grid, with
  the cases read from PostGIS and the hulls made there.
- `baseline`: the window's cases read once (untimed) as grid indices and metric points; timed:
  per-grid counts with `np.bincount`, queen weights from the grid polygons (libpysal, built
  once, as the refresh caches them), esda `G_Local(star=True, permutations=999)` on the
  counts, and scikit-learn `DBSCAN(eps, min_samples)` on the points — the natural direct
  computation: a ball/kd-tree radius query that lists every point's whole neighbourhood (at
  100× some 680 M neighbour pairs within 150 m), not the grid algorithm the refresh uses.
  Its counts and z-scores are checked against what the refresh stored.
"""

from __future__ import annotations

import statistics
import time
from datetime import date
from typing import Any

import numpy as np
import psycopg
import shapely

from bench.db import libpq_url, session_on
from bench.memory import backend_peak_mb
from geo.settings import GeoSettings, HotspotSettings

WINDOW_FROM, WINDOW_TO, TODAY = date(2020, 1, 1), date(2021, 1, 1), date(2020, 12, 31)


def _timed(fn: Any) -> tuple[Any, float]:
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def job_refresh(url: str, repeats: int, max_cluster_points: int = 1_000_000) -> dict[str, Any]:
    """Where the refresh's time goes (each part alone), then the refresh itself `repeats` times
    — unless the window holds more than `max_cluster_points` located cases: the bound dates
    from when the refresh clustered with ST_ClusterDBSCAN, which does not answer cancellation
    or statement_timeout while it runs (a first 1000× attempt ran 49 minutes and had to be
    killed); the grid DBSCAN that replaced it is linear in the points, so the bound (shared
    with the baseline's scikit-learn DBSCAN, whose memory it protects) may be raised. Above
    it the clusters and the whole refresh are not run and the parts are reported with what
    is missing."""
    from sqlalchemy import text

    from geo.access.scope import scope_for
    from geo.hotspots.aggregates import HotspotQuery, hotspot_window
    from geo.hotspots.clusters import ClusterQuery, cluster_rows
    from geo.hotspots.gistar import gi_star, queen_weights
    from geo.hotspots.layer import hotspot_rows, hotspot_rows_by_level
    from geo.hotspots.refresh import REFRESH_USER, refresh_hotspots
    from geo.models.hotspots import HOTSPOT_LEVELS
    from geo.projects.attach import attach_cases

    geo, hs = GeoSettings(), HotspotSettings()
    times: list[float] = []
    report: Any = None
    parts: dict[str, float | None] = {}
    out: dict[str, Any] = {}
    with session_on(url) as session:
        # Warm-up on a one-day window, rolled back: imports (esda, libpysal) and the queen
        # weights, which a running app has cached, are not the refresh's cost.
        t0 = time.perf_counter()
        refresh_hotspots(session, geo, hs, today=TODAY, date_from=WINDOW_FROM,
                         date_to=date(2020, 1, 2))
        session.rollback()
        out["warmup_s"] = time.perf_counter() - t0
        window = hotspot_window(WINDOW_FROM, WINDOW_TO, TODAY)
        scope = scope_for(REFRESH_USER, "commander")
        _, parts["attach_projects_s"] = _timed(lambda: attach_cases(session, geo.metric_crs))
        grid_rows: list[dict[str, Any]] = []
        for level in ("grid", "community", "street", "project"):
            rows, parts[f"{level}_layer_s"] = _timed(lambda lv=level: hotspot_rows(
                session, scope, HotspotQuery(lv, window), TODAY, hs))
            if level == "grid":
                grid_rows = rows
        _, parts["layers_one_pass_s"] = _timed(lambda: hotspot_rows_by_level(
            session, scope, HotspotQuery("grid", window), TODAY, hs, HOTSPOT_LEVELS))
        session.rollback()
        points = int(session.execute(text(
            "SELECT count(*) FROM petition_case WHERE location IS NOT NULL "
            "AND received_at >= :f AND received_at < :t"),
            {"f": WINDOW_FROM, "t": WINDOW_TO}).scalar_one())
        finished = points <= max_cluster_points
        parts["clusters_s"] = None
        if finished:
            _, parts["clusters_s"] = _timed(lambda: cluster_rows(
                session, scope, ClusterQuery(window, hs.eps_m, hs.min_points), geo.metric_crs))
            session.rollback()
        if finished:
            for _ in range(repeats):
                t0 = time.perf_counter()
                report = refresh_hotspots(session, geo, hs, today=TODAY,
                                          date_from=WINDOW_FROM, date_to=WINDOW_TO)
                session.commit()
                times.append(time.perf_counter() - t0)
        conn = session.connection().connection.driver_connection
        out["db_backend_peak_rss_mb"] = backend_peak_mb(conn) if conn is not None else None
    geoms = shapely.from_geojson([r["geometry"] for r in grid_rows])
    w = queen_weights(list(geoms))
    y = np.array([r["cases"] for r in grid_rows], dtype=float)
    _, parts["gi_star_only_s"] = _timed(lambda: gi_star(y, w, permutations=hs.permutations,
                                                        seed=hs.seed))
    out.update({"cases": int(y.sum()), "grids": len(grid_rows), "breakdown": parts})
    if finished:
        out.update({"seconds": statistics.median(times), "runs": times,
                    "clusters": report.clusters if report else None,
                    "hot_cells": report.hot if report else None})
    else:
        # what the refresh runs: attachment, the one pass over the levels (not each level too)
        known = sum(v for k, v in parts.items() if v is not None
                    and k in ("attach_projects_s", "layers_one_pass_s"))
        out.update({"seconds": None,
                    "not_run": f"the window holds {points:,} located cases, more than "
                               f"{max_cluster_points:,}: ST_ClusterDBSCAN cannot be bounded in "
                               "time (it ignores statement_timeout), so neither it nor the "
                               "whole refresh is run; the parts without it are measured",
                    "parts_without_clusters_s": known})
    return out


def _inputs(url: str, metric_crs: str) -> tuple[list[str], list[Any], np.ndarray, np.ndarray,
                                                 dict[str, tuple[int, float | None]]]:
    srid = int(metric_crs.split(":")[1])
    with psycopg.connect(libpq_url(url)) as conn:
        cells = conn.execute(
            "SELECT gc.code, ST_AsBinary(gc.geom) FROM grid_cell gc JOIN boundary_generation g"
            " ON g.id = gc.generation_id AND g.is_active AND g.level = 'grid' ORDER BY gc.code"
        ).fetchall()
        cases = conn.execute(
            "SELECT c.grid_code, ST_X(ST_Transform(c.location, %(srid)s)), "
            "ST_Y(ST_Transform(c.location, %(srid)s)) FROM petition_case c "
            "JOIN category cat ON cat.code = c.category_code WHERE NOT cat.restricted "
            "AND c.received_at >= %(f)s AND c.received_at < %(t)s AND c.location IS NOT NULL "
            "AND c.grid_code IS NOT NULL ORDER BY c.id",
            {"srid": srid, "f": WINDOW_FROM, "t": WINDOW_TO}).fetchall()
        stored = conn.execute("SELECT code, cases, gi_z FROM hotspot_stat WHERE level = 'grid'"
                              ).fetchall()
    codes = [r[0] for r in cells]
    index = {c: i for i, c in enumerate(codes)}
    grid_idx = np.array([index.get(r[0], -1) for r in cases], dtype=np.int64)
    xy = np.array([(r[1], r[2]) for r in cases], dtype=float).reshape(-1, 2)
    return codes, [bytes(r[1]) for r in cells], grid_idx, xy, {
        r[0]: (int(r[1]), None if r[2] is None else float(r[2])) for r in stored}


def job_baseline(url: str, repeats: int, dbscan_max_points: int = 1_000_000) -> dict[str, Any]:
    """bincount + esda Gi* + sklearn DBSCAN on the window's cases; checked against the refresh.
    Above `dbscan_max_points` DBSCAN is left out (scikit-learn keeps every point's whole
    neighbourhood in memory: at 1000× a 150 m neighbourhood holds thousands of cases)."""
    import warnings

    import esda
    from libpysal.weights import Queen
    from sklearn.cluster import DBSCAN

    geo, hs = GeoSettings(), HotspotSettings()
    codes, wkbs, grid_idx, xy, stored = _inputs(url, geo.metric_crs)
    geoms = shapely.from_wkb(wkbs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        (w, weights_s) = _timed(lambda: Queen.from_iterable(list(geoms),
                                                            ids=list(range(len(geoms)))))
    times: list[float] = []
    parts: dict[str, float] = {"queen_weights_s": weights_s}
    counts = np.zeros(len(codes))
    n_clusters = 0
    gz: Any = None
    for _ in range(repeats):
        t0 = time.perf_counter()
        counts, parts["bincount_s"] = _timed(lambda: np.bincount(
            grid_idx[grid_idx >= 0], minlength=len(codes)).astype(float))
        with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
            warnings.simplefilter("ignore")
            gz, parts["gi_star_s"] = _timed(lambda y=counts: esda.G_Local(
                y, w, transform="B", star=True, permutations=hs.permutations,
                seed=hs.seed, keep_simulations=False, n_jobs=1))
        if len(xy) <= dbscan_max_points:
            labels, parts["dbscan_s"] = _timed(lambda: DBSCAN(
                eps=hs.eps_m, min_samples=hs.min_points).fit(xy).labels_ if len(xy) else
                np.empty(0, dtype=int))
            n_clusters = len(set(labels.tolist()) - {-1})
        else:
            n_clusters = -1
        times.append(time.perf_counter() - t0)
    same_counts = all(stored.get(c, (0, None))[0] == int(n) for c, n in zip(codes, counts,
                                                                             strict=True))
    dz = [abs(stored[c][1] - float(z)) for c, z in zip(codes, gz.Zs, strict=True)
          if c in stored and stored[c][1] is not None and np.isfinite(z)] if gz is not None else []
    sec = statistics.median(times)
    return {"seconds": sec, "runs": times, "cases": int(counts.sum()), "grids": len(codes),
            "clusters": n_clusters if n_clusters >= 0 else None,
            "dbscan": ("included" if n_clusters >= 0 else
                       f"skipped: {len(xy):,} points > {dbscan_max_points:,}"),
            "breakdown": parts,
            "check": {"counts_equal_refresh": same_counts and bool(stored),
                      "max_abs_z_difference": max(dz) if dz else None}}
