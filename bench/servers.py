"""The two HTTP servers measurement 3 compares, started on loopback against the bench database:
gridmap itself (uvicorn api.main:app, one process) and tipg (developmentseed's OGC Features and
Tiles server, installed from PyPI into its own virtual environment `.bench-venv/`, one uvicorn
process), both with the same database pool size; and a bearer token for gridmap's requests."""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.db import libpq_url, session_on
from bench.memory import vm_hwm_mb
from geo.settings import PROJECT_ROOT

TIPG_VENV = PROJECT_ROOT / ".bench-venv"
TIPG_REQUIREMENT = "tipg>=1.0,<2"
# Fixed bench keys: the bench database holds only generated (示意) data.
SECRET_KEY = "bench-secret-" + "Qm7Vx2Lr9Tz4Wp8Nc3Bk" * 2
DATA_KEY = base64.b64encode(bytes(range(32))).decode()
# The demo clock (演示时钟): deadline bands of the demo year as of its last working day.
CLOCK = "2020-12-31T17:00:00+08:00"
# What tipg serves of petition_case: the plain columns that correspond to the properties of
# gridmap's `cases` collection (which adds joined names, masking and deadline bands).
TIPG_PROPERTIES = ["id", "external_id", "received_at", "channel", "category_code", "status",
                   "grid_code", "community_code", "street_code", "persons_count", "is_repeat",
                   "is_collective", "address", "leader"]


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def ensure_tipg() -> tuple[Path, str]:
    """`.bench-venv/` with tipg and uvicorn installed from PyPI (once); its python and tipg's
    version."""
    python = TIPG_VENV / "bin" / "python"
    probe = [str(python), "-c", "import importlib.metadata as m, uvicorn; "
             "print(m.version('tipg'))"]
    if python.exists():
        done = subprocess.run(probe, capture_output=True, text=True)
        if done.returncode == 0:
            return python, done.stdout.strip()
    print("bench: installing tipg from PyPI into .bench-venv/ ...", file=sys.stderr, flush=True)
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(TIPG_VENV)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                    TIPG_REQUIREMENT, "uvicorn"], check=True)
    done = subprocess.run(probe, capture_output=True, text=True, check=True)
    return python, done.stdout.strip()


@dataclass
class Server:
    """A server process on loopback: started, probed until it answers, stopped."""

    name: str
    cmd: list[str]
    env: dict[str, str]
    port: int
    probe: str
    cwd: Path = PROJECT_ROOT
    proc: subprocess.Popen[bytes] | None = None
    log: Path | None = None
    peak_rss_mb: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def base(self) -> str:
        """The server's base URL."""
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 300.0) -> None:
        """Start and wait until the probe path answers (any status below 500)."""
        self.log = Path(os.environ.get("TMPDIR", "/tmp")) / f"gridmap-bench-{self.name}.log"
        with self.log.open("wb") as fh:
            self.proc = subprocess.Popen(self.cmd, env=self.env, cwd=self.cwd, stdout=fh,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited at start; see {self.log}:\n"
                                   + self.log.read_text(errors="replace")[-2000:])
            try:
                if httpx.get(self.base + self.probe, timeout=5.0).status_code < 500:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"{self.name} did not answer within {timeout_s:.0f} s; see {self.log}")

    def stop(self) -> None:
        """Record the peak memory, then stop the process (and only it)."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.peak_rss_mb = vm_hwm_mb(self.proc.pid)
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def gridmap_server(url: str, pool: int) -> Server:
    """gridmap's app (uvicorn, one process) on the bench database."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRIDMAP_")}
    env.update({"GRIDMAP_DATABASE_URL": url, "GRIDMAP_SECRET_KEY": SECRET_KEY,
                "GRIDMAP_DATA_KEY": DATA_KEY, "GRIDMAP_POOL_SIZE": str(pool),
                "GRIDMAP_CLOCK": CLOCK})
    cmd = [sys.executable, "-m", "uvicorn", "api.main:app", "--host", "127.0.0.1", "--port",
           str(port), "--log-level", "warning", "--no-access-log"]
    return Server("gridmap", cmd, env, port, "/health")


def tipg_server(url: str, pool: int) -> Server:
    """tipg on the same database and table, the same pool size, from its own venv."""
    python, version = ensure_tipg()
    port = free_port()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("GRIDMAP_", "TIPG_", "DATABASE_URL", "DB_"))}
    env.update({
        "DATABASE_URL": libpq_url(url),
        "DB_MIN_CONN_SIZE": str(pool), "DB_MAX_CONN_SIZE": str(pool),
        "TIPG_DB_SCHEMAS": json.dumps(["public"]),
        "TIPG_DB_TABLES": json.dumps(["public.petition_case"]),
        "TIPG_DB_SPATIAL_EXTENT": "false", "TIPG_DB_DATETIME_EXTENT": "false",
        "TIPG_TABLE_CONFIG__public_petition_case__PROPERTIES": json.dumps(TIPG_PROPERTIES),
        "TIPG_TABLE_CONFIG__public_petition_case__GEOMCOL": "location",
        "TIPG_TABLE_CONFIG__public_petition_case__DATETIMECOL": "received_at",
        "TIPG_MAX_FEATURES_PER_QUERY": "10000", "TIPG_CATALOG_TTL": "86400",
        "TIPG_ADD_TILES_VIEWER": "false",
    })
    cmd = [str(python), "-m", "uvicorn", "tipg.main:app", "--host", "127.0.0.1", "--port",
           str(port), "--log-level", "warning", "--no-access-log"]
    # Its own working directory: tipg reads a `.env` file from there if one exists.
    server = Server("tipg", cmd, env, port, "/healthz", cwd=TIPG_VENV)
    server.extra["version"] = version
    return server


def bench_token(url: str) -> str:
    """A bearer token of an admin user of the bench database (created once)."""
    from sqlalchemy import select

    from geo.access.keys import resolve_keys
    from geo.access.tokens import issue_token
    from geo.access.users import create_user
    from geo.models import AppUser
    from geo.settings import SecuritySettings

    keys = resolve_keys(SecuritySettings(secret_key=SECRET_KEY, data_key=DATA_KEY))
    with session_on(url) as session:
        user = session.scalar(select(AppUser).where(AppUser.username == "bench_admin"))
        if user is None:
            user, _ = create_user(session, "bench_admin", "admin")
            session.commit()
        token, _ = issue_token(user, keys, 24 * 60)
    return token
