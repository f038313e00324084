"""Measurement 6, the means: peak memory of each job (a child process that reports its own
VmHWM, the peak resident set of its image since exec), of a server process (VmHWM from /proc,
read before it stops) and of the PostgreSQL backend that served a job (VmHWM of
pg_backend_pid(); it counts the shared buffers that backend touched, so it is an upper bound of
its private memory)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from geo.settings import PROJECT_ROOT


def vm_hwm_mb(pid: int) -> float | None:
    """Peak resident set of a live process in MiB (None when /proc does not say)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        return None
    return None


def backend_peak_mb(conn: Any) -> float | None:
    """Peak resident set of the PostgreSQL backend behind a psycopg connection."""
    row = conn.execute("SELECT pg_backend_pid()").fetchone()
    return vm_hwm_mb(int(row[0])) if row else None


def run_job(name: str, args: dict[str, Any], timeout_s: float = 3600.0) -> dict[str, Any]:
    """Run `python -m bench.jobs NAME ARGS` and return its JSON answer (with the child's own
    `peak_rss_mb`) plus `wall_s`; an `error` key when it failed or ran out of time."""
    cmd = [sys.executable, "-m", "bench.jobs", name, json.dumps(args)]
    t0 = time.perf_counter()
    # The answer goes to a file, not a pipe: a child never blocks on a full pipe.
    with tempfile.TemporaryFile("w+", encoding="utf-8") as out:
        # Its SQL stops with it: a killed client would leave its backend running the query.
        env = {**os.environ, "PGOPTIONS": f"-c statement_timeout={int(timeout_s * 1000)}"}
        proc = subprocess.Popen(cmd, stdout=out, cwd=PROJECT_ROOT, env=env)
        deadline = t0 + timeout_s
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                proc.kill()
                os.wait4(proc.pid, 0)
                proc.returncode = -9
                return {"error": f"timed out after {timeout_s:.0f} s", "wall_s": timeout_s}
            time.sleep(0.05)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read()
    wall = time.perf_counter() - t0
    lines = [line for line in text.splitlines() if line.strip()]
    if proc.returncode != 0 or not lines:
        # ru_maxrss (KiB) counts the parent's pages at fork too: an upper bound only.
        return {"error": f"job {name} exited {proc.returncode}", "wall_s": wall,
                "peak_rss_mb_upper_bound": usage.ru_maxrss / 1024.0}
    result: dict[str, Any] = json.loads(lines[-1])
    result["wall_s"] = wall
    return result
