"""`python -m bench.run` (`make bench`): the benchmark suite. Builds the bench database from the
demo district, then at each scale (1× the reference year, 100×, 1000×) measures assignment, serving
(against tipg), intake, hotspots and memory, each side by side with its baseline; geocoding once
(it does not depend on the case count). Writes bench/results/<date>.json and <date>.md.

    python -m bench.run                        # 1×, 100×, 1000×
    python -m bench.run --skip-1000x           # small machines (or --max-scale 100)
    python -m bench.run --quick                # smoke run: a tiny base, short bounded loads
    python -m bench.run --only assign          # one measurement (assign, geocode, serve,
                                               #   intake, hotspots, variant)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import psycopg

from bench import db, report
from bench.assign import compare_labels
from bench.memory import run_job
from geo.settings import PROJECT_ROOT, GeoSettings

RESULTS_DIR = PROJECT_ROOT / "bench" / "results"
MEASUREMENTS = ("assign", "variant", "geocode", "serve", "intake", "hotspots")
SQL_DIR = Path(__file__).resolve().parent / "sql"
BENCH_DATA_KEY = bytes(range(32))
# A request (and its SQL) that takes longer than this is an error timed at this.
REQUEST_TIMEOUT_S = 60.0


def log(msg: str) -> None:
    """Progress on stderr, with the time."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    ap = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.splitlines()[0])
    ap.add_argument("--scales", default="1,100,1000", help="comma list of scales (default "
                    "1,100,1000)")
    ap.add_argument("--skip-1000x", action="store_true", help="leave out 1000× (small machines)")
    ap.add_argument("--max-scale", type=int, default=None, help="leave out larger scales")
    ap.add_argument("--quick", action="store_true", help="smoke run: tiny base, short loads")
    ap.add_argument("--only", choices=MEASUREMENTS, action="append",
                    help="run only this measurement (repeatable)")
    ap.add_argument("--out-dir", type=Path, default=RESULTS_DIR)
    ap.add_argument("--name", default=None, help="file name stem (default: today's date)")
    ap.add_argument("--db", default=db.SCALE_DB, help="bench database name (and NAME_base); "
                    "must start with gridmap_bench")
    ap.add_argument("--pool", type=int, default=8, help="database pool size of both servers")
    ap.add_argument("--project-assign-max-scale", type=int, default=100,
                    help="run the whole assign_cases.sql up to this scale (it rewrites every "
                    "case and its history; above, the labels are stored by a bench UPDATE)")
    ap.add_argument("--hotspots-timeout", type=float, default=3600.0,
                    help="seconds a hotspot job may take before it is reported as not finished")
    ap.add_argument("--refresh-max-points", type=int, default=10_000_000,
                    help="above this many cases in the window the refresh is not run (its "
                    "DBSCAN is the linear grid one; 1000× is 2.8 M)")
    ap.add_argument("--max-cluster-points", type=int, default=1_000_000,
                    help="above this many cases in the window the baseline's scikit-learn "
                    "DBSCAN is not run (it lists every neighbour pair: 9.6 GB at 100×)")
    ap.add_argument("--no-tipg-install", action="store_true",
                    help="do not install tipg; skip its side when .bench-venv lacks it")
    return ap.parse_args(argv)


def _scales(args: argparse.Namespace) -> list[int]:
    scales = sorted({int(s) for s in args.scales.split(",") if s.strip()})
    if args.quick:
        scales = [s for s in scales if s <= 2] or [1]
    if args.skip_1000x:
        scales = [s for s in scales if s < 1000]
    if args.max_scale is not None:
        scales = [s for s in scales if s <= args.max_scale]
    return scales


def _machine(url: str) -> dict[str, Any]:
    with psycopg.connect(db.libpq_url(url)) as conn:
        pg = conn.execute("SHOW server_version").fetchone()
        gis = conn.execute("SELECT postgis_lib_version()").fetchone()
        settings = dict(conn.execute(
            "SELECT name, setting FROM pg_settings WHERE name IN ('shared_buffers', 'work_mem',"
            " 'jit', 'max_parallel_workers_per_gather', 'fsync', 'synchronous_commit')"
        ).fetchall())
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2 ** 30
    return {"cpus": os.cpu_count(), "memory_gb": round(mem, 1),
            "python": platform.python_version(), "postgres": f"PostgreSQL {pg[0] if pg else '?'}",
            "postgis": gis[0] if gis else None, "pg_settings": settings,
            "load_before": round(os.getloadavg()[0], 2)}


def _skip(reason: str) -> dict[str, str]:
    return {"skipped": reason}


def _guard(section: str, fn: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Run one measurement; a failure becomes an explicit skip with its reason."""
    try:
        return fn()
    except Exception as exc:  # noqa: BLE001 - one failed measurement must not lose the others
        traceback.print_exc()
        return _skip(f"{section} failed: {type(exc).__name__}: {str(exc).splitlines()[0][:300]}"
                     if str(exc) else f"{section} failed: {type(exc).__name__}")


class Run:
    """One benchmark run: options, work directory, and the results being built."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.quick = args.quick
        self.only = set(args.only or MEASUREMENTS)
        self.work = Path(tempfile.mkdtemp(prefix="gridmap-bench-"))
        self.results: dict[str, Any] = {"scales": {}, "skipped": []}
        self.job_timeout = 600.0 if self.quick else 4 * 3600.0
        self.repeats = 1 if self.quick else 3
        self.load_seconds = 3.0 if self.quick else 30.0
        self.addresses_path = str(self.work / "addresses.csv")

    def want(self, name: str) -> bool:
        """Is this measurement selected?"""
        return name in self.only

    def job(self, name: str, timeout: float | None = None, **kwargs: Any) -> dict[str, Any]:
        """A job in its own process; its failure raises (caught by _guard)."""
        log(f"job {name}")
        out = run_job(name, kwargs, timeout or self.job_timeout)
        if "error" in out:
            raise RuntimeError(f"{name}: {out['error']}")
        return out

    # --- base and data -----------------------------------------------------------------------

    def build_base(self) -> str:
        """The base database: the demo (or, quick, a tiny stand-in) and the address set."""
        from bench.addresses import labelled_addresses, write_csv

        log("building the base database (demo district and its year) ...")
        if self.quick:
            url, info = quick_base()
        else:
            url, info = db.build_base(BENCH_DATA_KEY)
        self.results["base"] = info
        n = 1000 if self.quick else 5000
        write_csv(labelled_addresses(url, n), Path(self.addresses_path))
        return url

    def prepare_scale(self, scale: int, base_url: str) -> tuple[str, dict[str, Any]]:
        """A fresh copy of the base with the replicas of this scale inserted (the quick run
        measures on its tiny base itself)."""
        if self.quick and scale == 1:
            return base_url, {"replicas": 0, "seconds": None}
        log(f"scale {scale}×: copying the base")
        url = db.scale_db()
        data: dict[str, Any] = {"replicas": scale - 1}
        if scale > 1:
            data.update(self.job("replicate", url=url, first=1, last=scale - 1))
        else:
            data["seconds"] = None
        t0 = time.perf_counter()
        db.vacuum_analyze(url)
        data["vacuum_analyze_s"] = time.perf_counter() - t0
        # A district's night after a bulk load: the cases in spatial order before anything is
        # measured on them (and again after the assignment has rewritten every row).
        data["maintain_after_load"] = _guard("maintain", lambda: self.maintain(url))
        data["sizes_mb"] = db.sizes_mb(url)
        return url, data

    # --- measurements ------------------------------------------------------------------------

    def assign(self, url: str, scale: int, grids: str) -> dict[str, Any]:
        """PostGIS core vs shapely (labels checked); the whole statement where allowed."""
        out: dict[str, Any] = {}
        pg_labels, sh_labels = str(self.work / "pg.npz"), str(self.work / "sh.npz")
        out["postgis"] = self.job("assign_postgis", url=url, repeats=self.repeats,
                                  labels=pg_labels)
        out["shapely"] = self.job("assign_shapely", url=url, repeats=self.repeats,
                                  labels=sh_labels, metric_crs=GeoSettings().metric_crs)
        out["labels"] = compare_labels(pg_labels, sh_labels)
        out["ratio_postgis_to_shapely"] = out["postgis"]["seconds"] / out["shapely"]["seconds"]
        out["grids"] = grids
        return out

    def store_assignment(self, url: str, scale: int, assign: dict[str, Any]) -> dict[str, Any]:
        """Assign every case for the later measurements: the whole statement (measured) up to
        --project-assign-max-scale, else the bench's own UPDATE from the core's labels."""
        if scale <= self.args.project_assign_max_scale:
            # At 1× the base is assigned already: this is `gridmap cases reassign` over it.
            project = self.job("assign_project", url=url)
            db.vacuum_analyze(url)
            return project
        if "postgis" not in assign:
            self.job("assign_postgis", url=url, repeats=1, labels=str(self.work / "pg.npz"))
        log("storing the labels on the cases (bench UPDATE, not measured)")
        with psycopg.connect(db.libpq_url(url), autocommit=True) as conn:
            conn.execute("SET session_replication_role = replica")
            conn.execute((SQL_DIR / "prep_assign.sql").read_text(encoding="utf-8"))
        db.vacuum_analyze(url)
        return _skip(f"the whole statement is not run above {self.args.project_assign_max_scale}×"
                     " (--project-assign-max-scale): it rewrites every case and its history; "
                     "see the growth exponent from the smaller scales")

    def maintain(self, url: str) -> dict[str, Any]:
        """`gridmap db maintain` on the scale's database: cases and seconds."""
        from geo.maintain import maintain

        log("nightly upkeep (gridmap db maintain)")
        with db.session_on(url) as session:
            report = maintain(session)
            session.commit()
        return {"cases": report.cases, "seconds": report.seconds}

    def variant(self, url: str) -> dict[str, Any]:
        """Import the 2,000-cell variant as the active grid generation, then assign again."""
        from bench.data import write_grid_variant
        from geo.boundaries import import_boundaries

        path = self.work / "grids_2000.geojson"
        if not path.exists():
            cells = write_grid_variant(path)
            log(f"grid variant: {cells} cells")
        t0 = time.perf_counter()
        with db.session_on(url) as session:
            rep = import_boundaries(session, path, "grid", activate=True, settings=GeoSettings(),
                                    note="gridmap bench: 2,000-cell variant")
            if not rep.ok:
                session.rollback()
                raise RuntimeError("variant rejected: " + rep.format()[:500])
            session.commit()
        import_s = time.perf_counter() - t0
        db.vacuum_analyze(url)
        out = self.assign(url, 0, "2000-cell variant")
        out["import_s"] = import_s
        return out

    def serve_and_intake(self, url: str, results: dict[str, Any]) -> None:
        """Start gridmap and tipg, measure serving (both) and intake (gridmap), stop them."""
        from bench import servers
        from bench.data import grid_union, read_base_cases
        from bench.geocode import read_addresses
        from bench.intake import measure_intake
        from bench.serve import bboxes, district_tiles, measure_serving

        token = servers.bench_token(url)
        gm = servers.gridmap_server(url, self.args.pool)
        tp = None
        tipg_reason = None
        if self.want("serve"):
            have = (servers.TIPG_VENV / "bin" / "python").exists()
            if self.args.no_tipg_install and not have:
                tipg_reason = "tipg not installed in .bench-venv (--no-tipg-install)"
            else:
                try:
                    tp = servers.tipg_server(url, self.args.pool)
                except Exception as exc:  # noqa: BLE001 - no registry: gridmap's side only
                    tipg_reason = f"tipg unavailable: {exc}"
        # Both servers' connections stop a query after the client has given up on it.
        dbname = url.rsplit("/", 1)[1]
        db.set_statement_timeout(dbname, REQUEST_TIMEOUT_S)
        try:
            log("starting gridmap" + (" and tipg" if tp else ""))
            gm.start()
            if tp is not None:
                tp.start()
            if self.want("serve"):
                base = read_base_cases(url)
                area = grid_union(url)
                boxes = bboxes(base.lon, base.lat, 10 if self.quick else 40)
                tiles = district_tiles(area, 20 if self.quick else 200)
                if tp is None:
                    results["serve"] = _guard("serve", lambda: _serve_alone(
                        gm, token, boxes, tiles, self.load_seconds, tipg_reason or "no tipg"))
                else:
                    log("serving: items and tiles, gridmap and tipg alternately")
                    results["serve"] = _guard("serve", lambda: measure_serving(
                        gm, tp, token, boxes, tiles, self.load_seconds))
                    results["serve"]["tipg_version"] = tp.extra.get("version")
            if self.want("intake"):
                log("intake: POST /cases at concurrency 8")
                addrs = read_addresses(self.addresses_path)
                results["intake"] = _guard("intake", lambda: measure_intake(
                    gm, token, addrs, 8, self.load_seconds))
        finally:
            gm.stop()
            if tp is not None:
                tp.stop()
            db.set_statement_timeout(dbname, None)
        mem = results.setdefault("memory", {})
        mem["app_peak_rss_mb"] = gm.peak_rss_mb
        mem["tipg_peak_rss_mb"] = tp.peak_rss_mb if tp else None

    def hotspots(self, url: str, scale: int) -> dict[str, Any]:
        """The refresh and its baseline (the refresh first: the baseline checks its output)."""
        limit = self.args.hotspots_timeout
        # One timed run above 1× (after the job's warm-up): DBSCAN over dense 100× data is slow.
        repeats = self.repeats if scale <= 1 else 1
        refresh = self.job("hotspots_refresh", limit, url=url, repeats=repeats,
                           max_cluster_points=self.args.refresh_max_points)
        baseline = self.job("hotspots_baseline", limit, url=url, repeats=repeats,
                            dbscan_max_points=self.args.max_cluster_points)
        if refresh.get("not_run") and isinstance(baseline.get("check"), dict):
            # The stored layer the check compares with was not refreshed by this run.
            baseline["check"] = {"skipped": "the refresh did not run at this scale"}
        ratio = (refresh["seconds"] / baseline["seconds"]
                 if refresh.get("seconds") and baseline.get("seconds") else None)
        out = {"refresh": refresh, "baseline": baseline, "ratio_refresh_to_baseline": ratio}
        if refresh.get("parts_without_clusters_s") and baseline.get("seconds"):
            # Both without DBSCAN (left out above --max-cluster-points).
            out["ratio_without_clusters"] = (refresh["parts_without_clusters_s"]
                                             / baseline["seconds"])
        return out

    # --- one scale ---------------------------------------------------------------------------

    def scale(self, scale: int, base_url: str) -> dict[str, Any]:
        """Every selected measurement at one scale."""
        res: dict[str, Any] = {"scale": scale}
        # Big scales: one timed run each (a statement over millions of rows is its own
        # average; three would triple hours).
        self.repeats = 1 if self.quick or scale >= 1000 else 3
        url, res["data"] = self.prepare_scale(scale, base_url)
        with psycopg.connect(db.libpq_url(url)) as conn:
            row = conn.execute("SELECT count(*) FILTER (WHERE location IS NOT NULL), count(*) "
                               "FROM petition_case").fetchone()
        res["cases"], res["cases_total"] = (int(row[0]), int(row[1])) if row else (0, 0)
        needs_data = self.only & {"serve", "intake", "hotspots"}
        if self.want("assign"):
            res["assign"] = _guard("assign", lambda: self.assign(url, scale, "demo (396)"))
        else:
            res["assign"] = _skip("not selected (--only)")
        if self.want("assign") or (needs_data and scale > 1):
            project = _guard("assignment", lambda: self.store_assignment(
                url, scale, res["assign"] if isinstance(res["assign"], dict) else {}))
            if isinstance(res["assign"], dict) and "skipped" not in res["assign"]:
                res["assign"]["project"] = project
        if needs_data or self.want("variant"):
            # The nightly upkeep a running district does (gridmap db maintain): the cases in
            # spatial order after the bulk load and assignment. Both servers read that table.
            res["data"]["maintain"] = _guard("maintain", lambda: self.maintain(url))
        res["geocode"] = {"see": "top-level `geocode`: it does not depend on the case count"}
        for name in ("serve", "intake"):
            if not self.want(name):
                res[name] = _skip("not selected (--only)")
        if self.want("serve") or self.want("intake"):
            _guard_void("servers", lambda: self.serve_and_intake(url, res), res)
        res["hotspots"] = (_guard("hotspots", lambda: self.hotspots(url, scale))
                           if self.want("hotspots") else _skip("not selected (--only)"))
        # After assignment (its history rows), intake and the stored hotspot layers.
        res["data"]["sizes_after_mb"] = db.sizes_mb(url)
        res["assign_2000"] = (_guard("assign_2000", lambda: self.variant(url))
                              if self.want("variant") else _skip("not selected (--only)"))
        mem = res.setdefault("memory", {})
        mem.setdefault("app_peak_rss_mb", None)
        mem.setdefault("tipg_peak_rss_mb", None)
        mem["jobs"] = _job_peaks(res)
        mem["db_backends"] = _backend_peaks(res)
        return res

    # --- the whole run -----------------------------------------------------------------------

    def execute(self) -> dict[str, Any]:
        """Build, measure every scale, and put the results together."""
        scales = _scales(self.args)
        self.results["date"] = date.today().isoformat()
        self.results["command"] = "python -m bench.run " + " ".join(sys.argv[1:])
        self.results["quick"] = self.quick
        base_url = self.build_base()
        self.results["machine"] = _machine(base_url)
        if self.want("geocode"):
            log("geocoding the labelled set")
            self.results["geocode"] = _guard("geocode", lambda: self.job(
                "geocode", url=base_url, addresses=self.addresses_path))
            self.results["geocode_baseline"] = _guard("geocode_baseline", lambda: self.job(
                "geocode_baseline", url=base_url, addresses=self.addresses_path,
                limit=200 if self.quick else 1000))
        else:
            self.results["geocode"] = _skip("not selected (--only)")
        for s in (1, 100, 1000):
            if s not in scales:
                self.results["skipped"].append(
                    f"{s}×: not run (" + ("--skip-1000x / --max-scale" if s > max(scales)
                                          else "--scales") + ")")
        for s in scales:
            self.results["scales"][str(s)] = self.scale(s, base_url)
            self.write(partial=True)
        self.results["machine"]["load_after"] = round(os.getloadavg()[0], 2)
        self.results["growth"] = report.growth(self.results["scales"])
        self.results["targets"] = report.targets(self.results)
        return self.results

    def write(self, partial: bool = False) -> tuple[Path, Path]:
        """bench/results/<name>.json and .md (a partial JSON after each scale)."""
        out = self.args.out_dir
        out.mkdir(parents=True, exist_ok=True)
        stem = self.args.name or (date.today().isoformat() + ("-quick" if self.quick else ""))
        jpath, mpath = out / f"{stem}.json", out / f"{stem}.md"
        self.results["json_name"] = jpath.name
        jpath.write_text(json.dumps(self.results, ensure_ascii=False, indent=1, default=str)
                         + "\n", encoding="utf-8")
        if not partial:
            mpath.write_text(report.markdown(self.results), encoding="utf-8")
        return jpath, mpath


def _guard_void(section: str, fn: Callable[[], None], res: dict[str, Any]) -> None:
    try:
        fn()
    except Exception as exc:  # noqa: BLE001 - the servers failed: say so in both sections
        traceback.print_exc()
        for name in ("serve", "intake"):
            res.setdefault(name, _skip(f"{section} failed: {exc}"))


def _serve_alone(gm: Any, token: str, boxes: Any, tiles: Any, seconds: float,
                 reason: str) -> dict[str, Any]:
    """gridmap's side only, when tipg cannot run; the comparison is an explicit skip."""
    from bench.loadgen import run_load
    from bench.serve import _items, _tiles

    hdr = {"Authorization": f"Bearer {token}"}
    out: dict[str, Any] = {"tipg": _skip(reason)}
    for what, conc in (("items", 1), ("items", 8), ("tiles", 1), ("tiles", 8)):
        reqs = _items(gm, boxes) if what == "items" else _tiles(gm, tiles)
        out[f"{what}_c{conc}"] = {"gridmap": run_load(reqs, conc, hdr, seconds),
                                  "tipg": _skip(reason)}
    return out


def _job_peaks(res: dict[str, Any]) -> dict[str, float | None]:
    peaks: dict[str, float | None] = {}
    for path, name in ((("data",), "replicate"), (("assign", "postgis"), "assign_postgis"),
                       (("assign", "shapely"), "assign_shapely"),
                       (("assign", "project"), "assign_project"),
                       (("hotspots", "refresh"), "hotspots_refresh"),
                       (("hotspots", "baseline"), "hotspots_baseline"),
                       (("assign_2000", "postgis"), "assign2000_postgis"),
                       (("assign_2000", "shapely"), "assign2000_shapely")):
        v = report.dig(res, *path, "peak_rss_mb")
        if v is not None:
            peaks[name] = v
    return peaks


def _backend_peaks(res: dict[str, Any]) -> dict[str, float | None]:
    peaks: dict[str, float | None] = {}
    for path, name in ((("assign", "postgis"), "assign_postgis"),
                       (("assign", "project"), "assign_project"),
                       (("hotspots", "refresh"), "hotspots_refresh")):
        v = report.dig(res, *path, "db_backend_peak_rss_mb")
        if v is not None:
            peaks[name] = v
    return peaks


def quick_base() -> tuple[str, dict[str, Any]]:
    """The smoke run's base: the demo boundaries, reference data, gazetteer and grid people,
    and 600 seeded cases of 2020 through the real intake (not the demo year: minutes)."""
    import random
    from datetime import datetime, timedelta

    from geo.cases.intake import create_cases
    from geo.cases.reference import ensure_area_units, load_reference_data
    from geo.cases.schema import CHINA_TZ, CaseIn, LocationIn
    from geo.demo.load import load_demo_boundaries
    from geo.demo.people import assign_demo_people
    from geo.geocode.gazetteer import build_gazetteer
    from geo.migrate import upgrade
    from geo.settings import CaseSettings

    t0 = time.perf_counter()
    url = db.create(db.BASE_DB)
    upgrade(url)
    rng = random.Random(1)
    with db.session_on(url) as session:
        reports = load_demo_boundaries(session, GeoSettings())
        if not all(r.ok for r in reports):
            raise RuntimeError("\n".join(r.format() for r in reports))
        load_reference_data(session)
        ensure_area_units(session)
        build_gazetteer(session)
        assign_demo_people(session)
        session.commit()
    from bench.addresses import labelled_addresses

    points = labelled_addresses(url, 600, seed=11)
    start = datetime(2020, 1, 2, 9, tzinfo=CHINA_TZ)
    cases = [CaseIn(category=rng.choice(("property", "housing", "urban", "labour")),
                    content="冒烟测试案件", channel="visit",
                    received_at=start + timedelta(hours=rng.randint(0, 24 * 360)),
                    location=LocationIn(lon=p.lon, lat=p.lat, crs="wgs84"))
             for p in points]
    with db.session_on(url) as session:
        create_cases(session, cases, None, CaseSettings())
        session.commit()
    db.vacuum_analyze(url)
    return url, {"base": "quick: demo boundaries, gazetteer, people and 600 seeded cases",
                 "build_s": time.perf_counter() - t0}


def main(argv: list[str] | None = None) -> int:
    """Run the suite and write the results; 0 when it completed (targets may be missed)."""
    args = parse_args(argv)
    db.use_names(args.db)
    run = Run(args)
    run.execute()
    jpath, mpath = run.write()
    log(f"results: {jpath} and {mpath}")
    print(mpath)
    return 0


if __name__ == "__main__":
    sys.exit(main())
