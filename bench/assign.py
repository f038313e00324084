"""Measurement 1: assigning every case to its grid in PostGIS (the project's set-based SQL) against
the best raw shapely 2 path on the same points and polygons, labels checked identical.

Three figures, each a job of its own (so each has its own peak memory):
- `postgis`: the spatial core of geo/sql/assign_cases.sql — its CTEs up to `chosen` (the grid
  whose closed area covers the point, lowest code on shared edges; else the nearest grid within
  near_boundary_m; else out_of_area), cut from the project's file at run time so it can never
  drift from it, materialised server-side (CREATE UNLOGGED TABLE … AS): no rows cross the wire
  while timed. Like the project, it runs in one transaction after assign_cases_settings.sql (the
  planner settings the project sets for it). This is what shapely is compared with.
- `project`: the whole statement as `gridmap cases reassign` runs it (the people on duty that
  day, history rows, the UPDATE of every case): the cost of the real job, for scale.
- `shapely`: points in numpy, an STRtree on the points, and per grid (in code order) the
  candidates in its bounding box tested with `shapely.intersects_xy` against the prepared
  polygon; a point keeps the first (lowest-code) grid that covers it — closed cells, as the
  SQL's ST_Covers. (`contains_xy` would be the same speed but leave points on edges out.)
  Points in no grid go to the nearest grid within near_boundary_m, measured in the metric CRS.
Reading the points and polygons into memory is not timed on either side: each side starts with
the data where it lives.
"""

from __future__ import annotations

import re
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
import shapely

from bench.db import libpq_url
from bench.memory import backend_peak_mb
from geo.settings import CaseSettings

ASSIGN_SQL = Path(__file__).resolve().parent.parent / "geo" / "sql" / "assign_cases.sql"
# The project runs this first in the statement's transaction (geo.cases.intake.assign_cases).
SETTINGS_SQL = ASSIGN_SQL.with_name("assign_cases_settings.sql")
_PLACED = re.compile(r"\),\s*placed\s+AS\s*\(", re.IGNORECASE)
_PARAM = re.compile(r"(?<![:\w]):(\w+)")


def core_sql() -> str:
    """assign_cases.sql up to its `chosen` CTE, selecting (id, code, flag) from it."""
    text = ASSIGN_SQL.read_text(encoding="utf-8")
    m = _PLACED.search(text)
    if m is None:
        raise RuntimeError(f"{ASSIGN_SQL} has no `), placed AS (`: update bench/assign.py")
    body = "\n".join(line for line in text[:m.start()].splitlines()
                     if not line.lstrip().startswith("--"))
    body += ")\nSELECT id, code, flag FROM chosen"
    # SQLAlchemy's :name parameters as psycopg's %(name)s (a :: cast is left alone).
    return _PARAM.sub(r"%(\1)s", body.replace("%", "%%"))


def _params() -> dict[str, Any]:
    return {"ids": None, "near_m": CaseSettings().near_boundary_m}


def job_postgis(url: str, repeats: int, labels_path: str) -> dict[str, Any]:
    """Time the SQL core `repeats` times (median), then save its labels for the check."""
    query = core_sql()
    times: list[float] = []
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        n = conn.execute("SELECT count(*) FROM petition_case WHERE location IS NOT NULL"
                         ).fetchone()[0]  # type: ignore[index]
        settings = SETTINGS_SQL.read_text(encoding="utf-8")
        for _ in range(repeats):
            conn.execute("DROP TABLE IF EXISTS bench_labels")
            t0 = time.perf_counter()
            # Unlogged, not temporary: the run may store these labels on the cases afterwards
            # (bench/sql/prep_assign.sql) when the whole statement is not run at this scale.
            # One transaction with the project's planner settings for the statement, as
            # geo.cases.intake.assign_cases runs it.
            with conn.transaction():
                conn.execute(settings)
                conn.execute(f"CREATE UNLOGGED TABLE bench_labels AS {query}", _params())
            times.append(time.perf_counter() - t0)
        # Diagnostic: the same statement once with the settings but JIT compilation forced off
        # for the session too (equal to the timed runs now that the settings turn it off).
        conn.execute("DROP TABLE IF EXISTS bench_labels")
        conn.execute("SET jit = off")
        t0 = time.perf_counter()
        with conn.transaction():
            conn.execute(settings)
            conn.execute(f"CREATE UNLOGGED TABLE bench_labels AS {query}", _params())
        jit_off = time.perf_counter() - t0
        conn.execute("RESET jit")
        rows = conn.execute("SELECT id, coalesce(code, ''), flag FROM bench_labels ORDER BY id"
                            ).fetchall()
        backend = backend_peak_mb(conn)
    np.savez(labels_path, ids=np.array([r[0] for r in rows], dtype=np.int64),
             codes=np.array([r[1] for r in rows], dtype="U15"),
             flags=np.array([r[2] for r in rows], dtype="U16"))
    sec = statistics.median(times)
    return {"cases": n, "seconds": sec, "runs": times, "cases_per_s": n / sec if sec else None,
            "seconds_jit_off": jit_off, "db_backend_peak_rss_mb": backend}


def job_project(url: str) -> dict[str, Any]:
    """The whole assign_cases.sql over every located case (gridmap cases reassign), once."""
    from bench.db import session_on
    from geo.cases.intake import reassign_all

    with session_on(url) as session:
        t0 = time.perf_counter()
        counts = reassign_all(session, CaseSettings())
        session.commit()
        sec = time.perf_counter() - t0
        conn = session.connection().connection.driver_connection
        backend = backend_peak_mb(conn) if conn is not None else None
    n = sum(counts.values())
    return {"cases": n, "seconds": sec, "cases_per_s": n / sec if sec else None,
            "flags": counts, "db_backend_peak_rss_mb": backend}


def _read_inputs(url: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str], np.ndarray]:
    with psycopg.connect(libpq_url(url)) as conn:
        pts = conn.execute("SELECT id, ST_X(location), ST_Y(location) FROM petition_case "
                           "WHERE location IS NOT NULL ORDER BY id").fetchall()
        cells = conn.execute(
            "SELECT gc.code, ST_AsBinary(gc.geom) FROM grid_cell gc JOIN boundary_generation g"
            " ON g.id = gc.generation_id AND g.is_active AND g.level = 'grid' ORDER BY gc.code"
        ).fetchall()
    ids = np.fromiter((r[0] for r in pts), dtype=np.int64, count=len(pts))
    xs = np.fromiter((r[1] for r in pts), dtype=float, count=len(pts))
    ys = np.fromiter((r[2] for r in pts), dtype=float, count=len(pts))
    codes = [r[0] for r in cells]
    polys = shapely.from_wkb([bytes(r[1]) for r in cells])
    return ids, xs, ys, codes, polys


def shapely_labels(xs: np.ndarray, ys: np.ndarray, polys: np.ndarray, near_m: float,
                   metric_crs: str) -> np.ndarray:
    """Index of the grid (polys sorted by code) of each point; -1 out of area."""
    label = np.full(len(xs), -1, dtype=np.int32)
    tree = shapely.STRtree(shapely.points(xs, ys))
    shapely.prepare(polys)
    for i, poly in enumerate(polys):
        cand = tree.query(poly)
        if not len(cand):
            continue
        cand = cand[label[cand] < 0]          # a lower code already won these
        hit = shapely.intersects_xy(poly, xs[cand], ys[cand])
        label[cand[hit]] = i
    rest = np.flatnonzero(label < 0)
    if len(rest):
        # Few points (outside the layer): nearest grid by metric distance, as the SQL does.
        from geo.crs import to_metric

        mpolys = np.asarray(to_metric(polys, metric_crs))
        mpts = np.asarray(to_metric(shapely.points(xs[rest], ys[rest]), metric_crs))
        ptree = shapely.STRtree(mpolys)
        for j, p in zip(rest, mpts, strict=True):
            near = ptree.query(p, predicate="dwithin", distance=near_m)
            if len(near):
                dist = shapely.distance(mpolys[near], p)
                label[j] = int(near[np.lexsort((near, dist))[0]])
    return label


def job_shapely(url: str, repeats: int, labels_path: str, metric_crs: str) -> dict[str, Any]:
    """Time the shapely path `repeats` times (median), then save its labels for the check."""
    ids, xs, ys, codes, polys = _read_inputs(url)
    near_m = CaseSettings().near_boundary_m
    times: list[float] = []
    label = np.empty(0, dtype=np.int32)
    for _ in range(repeats):
        t0 = time.perf_counter()
        label = shapely_labels(xs, ys, polys, near_m, metric_crs)
        times.append(time.perf_counter() - t0)
    code_arr = np.array(codes + [""], dtype="U15")
    np.savez(labels_path, ids=ids, codes=code_arr[label])
    sec = statistics.median(times)
    return {"cases": len(ids), "grids": len(codes), "seconds": sec, "runs": times,
            "cases_per_s": len(ids) / sec if sec else None}


def compare_labels(postgis_path: str, shapely_path: str) -> dict[str, Any]:
    """Are the two label sets identical (same case ids, same grid code each)?"""
    a, b = np.load(postgis_path), np.load(shapely_path)
    same_ids = a["ids"].shape == b["ids"].shape and bool((a["ids"] == b["ids"]).all())
    if not same_ids:
        return {"identical": False, "reason": "different case sets",
                "postgis_cases": int(len(a["ids"])), "shapely_cases": int(len(b["ids"]))}
    diff = np.flatnonzero(a["codes"] != b["codes"])
    return {"identical": len(diff) == 0, "mismatches": int(len(diff)),
            "examples": [{"case_id": int(a["ids"][i]), "postgis": str(a["codes"][i]),
                          "shapely": str(b["codes"][i])} for i in diff[:5]]}
