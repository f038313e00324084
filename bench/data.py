"""Scaled benchmark data with a fixed seed: the demo year replicated with spatial jitter (100× ≈
284k cases, 1000× ≈ 2.8M), and the 2,000-cell grid variant made by subdividing the demo grids.

Replicas keep everything of their source case — category, channel, dates, workflow state,
running deadlines, open 督办, petitioner links — except the point, which moves by a seeded
Gaussian jitter (σ = 60 m) and stays inside the grid layer (a jittered point that falls outside
every grid is redrawn, and after five misses keeps its source point). Replicas are unassigned:
measurement 1 assigns them. So the 100× data has the demo year's spatial and temporal
distribution, its clusters and its workflow mix, a hundred times denser.
"""

from __future__ import annotations

import io
import json
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
import shapely
from shapely.geometry import mapping

from bench.db import libpq_url
from geo.settings import PROJECT_ROOT

SEED = 20240808
JITTER_M = 60.0
REDRAWS = 5
CHUNK_ROWS = 150_000      # cases per INSERT … SELECT (one transaction each)
GRIDS_FILE = PROJECT_ROOT / "data" / "boundaries" / "zhongshan_grids.geojson"
VARIANT_CELLS = 2000
_M_PER_DEG = 111_320.0

# Columns of petition_case a replica does not copy: its own id, a unique external id, the
# jittered point and the assignment (measurement 1 makes it).
_RESET = {
    "assignment_flag": "'unassigned'", "grid_code": "NULL", "grid_generation_id": "NULL",
    "community_code": "NULL", "street_code": "NULL", "grid_worker_id": "NULL",
    "grid_leader_id": "NULL", "merged_into_id": "NULL",
}


@dataclass(frozen=True)
class BaseCases:
    """The demo year's cases: ids, and the point of each (NaN when it needs a location)."""

    ids: np.ndarray
    lon: np.ndarray
    lat: np.ndarray


def read_base_cases(url: str) -> BaseCases:
    """Every case of the base (the demo year, not the replicas: their external id has a '#'),
    in id order."""
    with psycopg.connect(libpq_url(url)) as conn:
        rows = conn.execute(
            "SELECT id, ST_X(location), ST_Y(location) FROM petition_case "
            "WHERE external_id IS NULL OR strpos(external_id, '#') = 0 ORDER BY id").fetchall()
    ids = np.array([r[0] for r in rows], dtype=np.int64)
    lon = np.array([np.nan if r[1] is None else r[1] for r in rows], dtype=float)
    lat = np.array([np.nan if r[2] is None else r[2] for r in rows], dtype=float)
    return BaseCases(ids, lon, lat)


def grid_union(url: str) -> Any:
    """The active grid layer as one prepared geometry (where replicas may land)."""
    with psycopg.connect(libpq_url(url)) as conn:
        row = conn.execute(
            "SELECT ST_AsBinary(ST_Union(gc.geom)) FROM grid_cell gc JOIN boundary_generation g"
            " ON g.id = gc.generation_id AND g.is_active AND g.level = 'grid'").fetchone()
    assert row is not None
    geom = shapely.from_wkb(bytes(row[0]))
    shapely.prepare(geom)
    return geom


def jitter(base: BaseCases, replicas: range, area: Any, seed: int = SEED
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(source id, replica number, lon, lat) of every replica in `replicas` (each replica
    number has its own seeded stream, so 100× is the first 99 replicas of 1000×)."""
    n = len(base.ids)
    located = ~np.isnan(base.lon)
    coslat = np.cos(np.radians(np.nanmean(base.lat)))
    src, ks, lons, lats = [], [], [], []
    for k in replicas:
        rng = np.random.default_rng([seed, k])
        lon, lat = base.lon.copy(), base.lat.copy()
        todo = located.copy()
        for _ in range(REDRAWS):
            idx = np.flatnonzero(todo)
            if not len(idx):
                break
            dx, dy = rng.normal(0.0, JITTER_M, (2, len(idx)))
            cand_lon = base.lon[idx] + dx / (_M_PER_DEG * coslat)
            cand_lat = base.lat[idx] + dy / _M_PER_DEG
            ok = shapely.contains_xy(area, cand_lon, cand_lat)
            lon[idx[ok]], lat[idx[ok]] = cand_lon[ok], cand_lat[ok]
            todo[idx[ok]] = False
        src.append(base.ids)
        ks.append(np.full(n, k, dtype=np.int32))
        lons.append(lon)
        lats.append(lat)
    return (np.concatenate(src), np.concatenate(ks), np.concatenate(lons), np.concatenate(lats))


def _columns(conn: psycopg.Connection, table: str) -> list[str]:
    rows = conn.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' "
        "AND table_name = %s AND column_name <> 'id' ORDER BY ordinal_position", (table,)
    ).fetchall()
    return [r[0] for r in rows]


def _case_select(cols: list[str]) -> str:
    exprs = []
    for c in cols:
        if c in _RESET:
            exprs.append(_RESET[c])
        elif c == "external_id":
            exprs.append("c.external_id || '#' || m.k")
        elif c == "location":
            exprs.append("CASE WHEN m.lon IS NULL THEN NULL "
                         "ELSE ST_SetSRID(ST_MakePoint(m.lon, m.lat), 4326) END")
        elif c == "input_lon":
            exprs.append("CASE WHEN c.input_lon IS NULL THEN NULL ELSE m.lon END")
        elif c == "input_lat":
            exprs.append("CASE WHEN c.input_lat IS NULL THEN NULL ELSE m.lat END")
        else:
            exprs.append(f"c.{c}")
    return ", ".join(exprs)


def _copy_chunk(conn: psycopg.Connection, src: np.ndarray, ks: np.ndarray, lon: np.ndarray,
                lat: np.ndarray) -> None:
    conn.execute("CREATE TEMP TABLE bench_rep (src_id bigint, k int, lon float8, lat float8)"
                 " ON COMMIT DROP")
    null = "\\N"
    buf = io.StringIO()
    for s, k, x, y in zip(src.tolist(), ks.tolist(), lon.tolist(), lat.tolist(), strict=True):
        xs, ys = (null, null) if math.isnan(x) else (repr(x), repr(y))
        buf.write(f"{s}\t{k}\t{xs}\t{ys}\n")
    with conn.cursor() as cur, cur.copy("COPY bench_rep FROM STDIN") as copy:
        copy.write(buf.getvalue())
    conn.execute("CREATE TEMP TABLE bench_map ON COMMIT DROP AS SELECT "
                 "nextval(pg_get_serial_sequence('petition_case', 'id')) AS new_id, src_id, k, "
                 "lon, lat FROM bench_rep")


def add_replicas(url: str, replicas: range, base: BaseCases, area: Any,
                 seed: int = SEED) -> dict[str, float]:
    """Insert the replicas (cases, submissions, running deadlines, open 督办, petitioner
    links) in chunks; returns rows and seconds."""
    t0 = time.perf_counter()
    per_chunk = max(1, CHUNK_ROWS // max(1, len(base.ids)))
    counts = {"cases": 0, "submissions": 0, "deadlines": 0, "supervisions": 0}
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        # Replicas copy rows that already satisfy every foreign key: the per-row FK triggers
        # would only triple the load time (the bench connects as the cluster's superuser).
        conn.execute("SET session_replication_role = replica")
        case_cols = _columns(conn, "petition_case")
        sub_cols = [c for c in _columns(conn, "submission") if c != "case_id"]
        dl_cols = [c for c in _columns(conn, "case_deadline") if c != "case_id"]
        sv_cols = [c for c in _columns(conn, "supervision")
                   if c not in ("case_id", "deadline_id")]
        case_sql = (f"INSERT INTO petition_case (id, {', '.join(case_cols)}) "
                    f"SELECT m.new_id, {_case_select(case_cols)} FROM bench_map m "
                    "JOIN petition_case c ON c.id = m.src_id")
        sub_sql = (f"INSERT INTO submission (case_id, {', '.join(sub_cols)}) "
                   f"SELECT m.new_id, {', '.join('s.' + c for c in sub_cols)} FROM bench_map m "
                   "JOIN submission s ON s.case_id = m.src_id")
        dl_sql = (f"INSERT INTO case_deadline (case_id, {', '.join(dl_cols)}) "
                  f"SELECT m.new_id, {', '.join('d.' + c for c in dl_cols)} FROM bench_map m "
                  "JOIN case_deadline d ON d.case_id = m.src_id AND d.active")
        sv_sql = (f"INSERT INTO supervision (case_id, {', '.join(sv_cols)}) "
                  f"SELECT m.new_id, {', '.join('v.' + c for c in sv_cols)} FROM bench_map m "
                  "JOIN supervision v ON v.case_id = m.src_id AND v.closed_at IS NULL")
        link_sql = ("INSERT INTO case_petitioner (case_id, petitioner_id) SELECT m.new_id, "
                    "p.petitioner_id FROM bench_map m JOIN case_petitioner p "
                    "ON p.case_id = m.src_id")
        ks = list(replicas)
        for i in range(0, len(ks), per_chunk):
            part = range(ks[i], ks[min(i + per_chunk, len(ks)) - 1] + 1)
            src, kk, lon, lat = jitter(base, part, area, seed)
            with conn.transaction():
                _copy_chunk(conn, src, kk, lon, lat)
                counts["cases"] += conn.execute(case_sql).rowcount
                counts["submissions"] += conn.execute(sub_sql).rowcount
                counts["deadlines"] += conn.execute(dl_sql).rowcount
                counts["supervisions"] += conn.execute(sv_sql).rowcount
                conn.execute(link_sql)
    out: dict[str, float] = {k: float(v) for k, v in counts.items()}
    out["seconds"] = time.perf_counter() - t0
    return out


# --- the 2,000-cell grid variant ---------------------------------------------------------

def _split(cell: Any, parts: int, rng: np.random.Generator) -> list[Any]:
    """A cell cut into `parts` pieces: Voronoi cells of seeded k-means centres of points
    sampled in it, clipped to the cell (every piece one polygonal geometry)."""
    minx, miny, maxx, maxy = cell.bounds
    pts = np.empty((0, 2))
    while len(pts) < 60 * parts:
        cand = rng.uniform((minx, miny), (maxx, maxy), (400, 2))
        pts = np.vstack([pts, cand[shapely.contains_xy(cell, cand[:, 0], cand[:, 1])]])
    centres = pts[rng.choice(len(pts), parts, replace=False)]
    for _ in range(15):   # Lloyd iterations: roughly equal pieces
        d = ((pts[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
        lab = d.argmin(axis=1)
        centres = np.array([pts[lab == j].mean(axis=0) if (lab == j).any() else centres[j]
                            for j in range(parts)])
    cells = shapely.voronoi_polygons(shapely.multipoints(centres), extend_to=cell.buffer(0.01))
    out = []
    for piece in shapely.get_parts(cells):
        clipped = shapely.intersection(piece, cell, grid_size=1e-7)
        polys = [g for g in shapely.get_parts(clipped) if g.geom_type == "Polygon" and g.area]
        if polys:
            out.append(shapely.multipolygons(polys))
    return out


def write_grid_variant(path: Path, cells: int = VARIANT_CELLS, seed: int = SEED) -> int:
    """Write the 2,000-cell variant of the demo grids as an importable GeoJSON (each demo grid
    cut into ≈cells/396 pieces, codes = 社区 code + a new serial); returns the cell count."""
    src = json.loads(GRIDS_FILE.read_text(encoding="utf-8"))
    feats = src["features"]
    per = cells / len(feats)
    rng = np.random.default_rng(seed)
    serial: dict[str, int] = {}
    out = []
    extra = cells - len(feats) * int(per)   # the first `extra` grids get one piece more
    for i, f in enumerate(feats):
        props = f["properties"]
        parts = int(per) + (1 if i < extra else 0)
        geom = shapely.geometry.shape(f["geometry"])
        pieces = _split(geom, parts, rng)
        community = props["parent_code"]
        households = int(props.get("households") or 400)
        for piece in pieces:
            # Serials from 101 on: no variant code is a demo grid's code.
            serial[community] = serial.get(community, 100) + 1
            n = serial[community]
            out.append({"type": "Feature", "geometry": mapping(piece), "properties": {
                "code": f"{community}{n:03d}", "name": f"{props['name']}-{n}",
                "parent_code": community, "grid_type": props.get("grid_type", "综合网格"),
                "households": max(1, households // len(pieces)), "approximate": True}})
    path.write_text(json.dumps({"type": "FeatureCollection", "features": out},
                               ensure_ascii=False), encoding="utf-8")
    return len(out)
