"""The project-local PostGIS cluster: install Debian's packages if missing, initdb, start, stop.

Used only when GRIDMAP_DATABASE_URL is not set. The cluster lives in `.pgdata/` under the
project, listens on 127.0.0.1:55432 (no Unix socket), and is never confused with any other
PostgreSQL server on the machine: every command names its own data directory and port.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from geo.errors import LocalDbError
from geo.settings import LocalDbSettings
from geo.system_packages import apt_install

APT_PACKAGES = ("postgresql-15", "postgresql-15-postgis-3")
POSTGIS_CONTROL = Path("/usr/share/postgresql/15/extension/postgis.control")


@dataclass(frozen=True)
class ClusterStatus:
    """What `status` found: whether the data directory exists and the server answers."""

    data_dir: Path
    initialised: bool
    running: bool
    port: int


def _is_root() -> bool:
    return os.geteuid() == 0


def _as_postgres(cmd: list[str]) -> list[str]:
    # initdb and postgres refuse to run as root; as any other user they run as that user.
    return ["runuser", "-u", "postgres", "--", *cmd] if _is_root() else cmd


def _run(cmd: list[str], what: str, *, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise LocalDbError(f"{what} failed (exit {proc.returncode}): {proc.stderr.strip()[-2000:]}")
    return proc


def ensure_packages(settings: LocalDbSettings) -> None:
    """Make sure PostgreSQL 15 and PostGIS 3 are installed (Debian's packages)."""
    if (settings.pg_bin / "initdb").exists() and POSTGIS_CONTROL.exists():
        return
    print("gridmap: installing PostgreSQL 15 + PostGIS 3 from Debian packages ...", flush=True)
    apt_install(APT_PACKAGES)


def _postgres_can_reach(path: Path) -> bool:
    if not _is_root():
        return True
    probe = ["runuser", "-u", "postgres", "--", "test", "-x", str(path)]
    return subprocess.run(probe).returncode == 0


def data_dir(settings: LocalDbSettings) -> Path:
    """The real data directory (`.pgdata` links elsewhere when postgres can't enter the project)."""
    link = settings.data_dir
    if link.is_symlink() or link.exists():
        return Path(os.path.realpath(link))
    if _postgres_can_reach(link.parent):
        return link
    # The project sits somewhere the postgres user cannot traverse (e.g. under /root): keep the
    # cluster in /var/lib/gridmap and leave a link under the project so it is still "ours".
    digest = hashlib.sha1(str(link).encode()).hexdigest()[:12]
    real = Path("/var/lib/gridmap") / digest / "pgdata"
    real.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(real, target_is_directory=True)
    return real


def _password_file(settings: LocalDbSettings) -> Path:
    return settings.state_dir / "db-password"


def _port_in_use(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def status(settings: LocalDbSettings) -> ClusterStatus:
    """Whether the local cluster exists and runs."""
    ddir = data_dir(settings)
    initialised = (ddir / "PG_VERSION").exists()
    running = False
    if initialised and (settings.pg_bin / "pg_ctl").exists():
        proc = _run(_as_postgres([str(settings.pg_bin / "pg_ctl"), "status", "-D", str(ddir)]),
                    "pg_ctl status", check=False)
        running = proc.returncode == 0
    return ClusterStatus(ddir, initialised, running, settings.port)


def _initdb(settings: LocalDbSettings, ddir: Path) -> None:
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    password = secrets.token_urlsafe(24)
    pw_path = _password_file(settings)
    pw_path.write_text(password + "\n")
    pw_path.chmod(0o600)
    ddir.mkdir(parents=True, exist_ok=True)
    if _is_root():
        shutil.chown(ddir, "postgres", "postgres")
    ddir.chmod(0o700)
    with tempfile.NamedTemporaryFile("w", delete=False, prefix="gridmap-pw-") as tmp:
        tmp.write(password + "\n")
    try:
        os.chmod(tmp.name, 0o644)
        _run(_as_postgres([
            str(settings.pg_bin / "initdb"), "-D", str(ddir), "-U", "postgres",
            "--pwfile", tmp.name, "--auth-host=scram-sha-256", "--auth-local=peer",
            "--encoding=UTF8", "--locale=C.UTF-8",
        ]), "initdb")
    finally:
        os.unlink(tmp.name)


def _machine_memory_mb() -> int:
    return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2 ** 20)


def memory_options(memory_mb: int) -> list[str]:
    """Server memory for a machine of `memory_mb`: shared_buffers a quarter of it (PostgreSQL's
    own guidance for a dedicated server; 128 MB at least, 8 GB at most) and the planner told
    that three quarters may be cached. PostgreSQL's default of 128 MB holds 1/3 of a 100×
    district's case table: the assignment and every tile then read pages from the kernel."""
    shared = max(128, min(memory_mb // 4, 8192))
    cache = max(shared, memory_mb * 3 // 4)
    return [f"-c shared_buffers={shared}MB", f"-c effective_cache_size={cache}MB"]


def _start(settings: LocalDbSettings, ddir: Path) -> None:
    if _port_in_use(settings.host, settings.port):
        raise LocalDbError(
            f"port {settings.port} on {settings.host} is taken by another server; gridmap will not "
            "touch it. Set GRIDMAP_LOCALDB_PORT to a free port or GRIDMAP_DATABASE_URL to a server."
        )
    opts = [
        f"-c listen_addresses={settings.host}", f"-p {settings.port}",
        "-c unix_socket_directories=''",
    ]
    opts += memory_options(_machine_memory_mb())
    if not settings.durable:
        # Throw-away clusters (CI, tests): crash safety is not worth the fsyncs.
        opts += ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
    _run(_as_postgres([
        str(settings.pg_bin / "pg_ctl"), "start", "-w", "-t", "60", "-D", str(ddir),
        "-l", str(ddir / "server.log"), "-o", " ".join(opts),
    ]), "pg_ctl start")


def local_url(settings: LocalDbSettings, database: str) -> str:
    """SQLAlchemy URL of a database on the local cluster."""
    pw_path = _password_file(settings)
    if not pw_path.exists():
        raise LocalDbError(f"{pw_path} is missing: run `gridmap db up` first")
    password = quote(pw_path.read_text().strip(), safe="")
    return f"postgresql+psycopg://postgres:{password}@{settings.host}:{settings.port}/{database}"


def _ensure_database(settings: LocalDbSettings, name: str) -> None:
    import psycopg

    admin = local_url(settings, "postgres").replace("postgresql+psycopg", "postgresql")
    with psycopg.connect(admin, autocommit=True) as conn:
        # Every database created from template1 (tests make their own) then has PostGIS.
        with psycopg.connect(local_url(settings, "template1").replace("+psycopg", ""),
                             autocommit=True) as t1:
            t1.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')  # name comes from settings, not a request


def up(settings: LocalDbSettings) -> str:
    """Install, initialise and start the local cluster as needed; return the app database URL."""
    ensure_packages(settings)
    ddir = data_dir(settings)
    if not (ddir / "PG_VERSION").exists():
        print(f"gridmap: creating a PostGIS cluster in {ddir} ...", flush=True)
        _initdb(settings, ddir)
    if not status(settings).running:
        _start(settings, ddir)
    _ensure_database(settings, settings.database)
    return local_url(settings, settings.database)


def down(settings: LocalDbSettings) -> bool:
    """Stop the local cluster if it runs; True when it was running."""
    st = status(settings)
    if not st.running:
        return False
    _run(_as_postgres([str(settings.pg_bin / "pg_ctl"), "stop", "-w", "-m", "fast",
                       "-D", str(st.data_dir)]), "pg_ctl stop")
    return True
