"""`python -m bench.jobs NAME ARGS_JSON`: one benchmark job in a process of its own, so its peak
memory is its own (bench.memory.run_job reads it from the kernel). Progress goes to stderr; the
last stdout line is the job's JSON answer."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from typing import Any


def _replicate(a: dict[str, Any]) -> dict[str, Any]:
    from bench import data

    base = data.read_base_cases(a["url"])
    area = data.grid_union(a["url"])
    return data.add_replicas(a["url"], range(a["first"], a["last"] + 1), base, area)


def _assign_postgis(a: dict[str, Any]) -> dict[str, Any]:
    from bench.assign import job_postgis

    return job_postgis(a["url"], a["repeats"], a["labels"])


def _assign_project(a: dict[str, Any]) -> dict[str, Any]:
    from bench.assign import job_project

    return job_project(a["url"])


def _assign_shapely(a: dict[str, Any]) -> dict[str, Any]:
    from bench.assign import job_shapely

    return job_shapely(a["url"], a["repeats"], a["labels"], a["metric_crs"])


def _geocode(a: dict[str, Any]) -> dict[str, Any]:
    from bench.geocode import job_geocode

    return job_geocode(a["url"], a["addresses"])


def _geocode_baseline(a: dict[str, Any]) -> dict[str, Any]:
    from bench.geocode import job_baseline

    return job_baseline(a["url"], a["addresses"], a["limit"])


def _hotspots_refresh(a: dict[str, Any]) -> dict[str, Any]:
    from bench.hotspots import job_refresh

    return job_refresh(a["url"], a["repeats"], a.get("max_cluster_points", 1_000_000))


def _hotspots_baseline(a: dict[str, Any]) -> dict[str, Any]:
    from bench.hotspots import job_baseline

    return job_baseline(a["url"], a["repeats"], a.get("dbscan_max_points", 1_000_000))


JOBS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "replicate": _replicate,
    "assign_postgis": _assign_postgis,
    "assign_project": _assign_project,
    "assign_shapely": _assign_shapely,
    "geocode": _geocode,
    "geocode_baseline": _geocode_baseline,
    "hotspots_refresh": _hotspots_refresh,
    "hotspots_baseline": _hotspots_baseline,
}


def main(argv: list[str]) -> int:
    """Run one job and print its answer as one JSON line."""
    from bench.memory import vm_hwm_mb

    name, args = argv[0], json.loads(argv[1]) if len(argv) > 1 else {}
    result = JOBS[name](args)
    # This process's own peak (VmHWM starts afresh at exec; wait4's ru_maxrss would include
    # the parent's pages at fork time).
    result["peak_rss_mb"] = vm_hwm_mb(os.getpid())
    print(json.dumps(result, ensure_ascii=False, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
