"""The `gridmap` command line: database, boundaries, demo data and the server, one entry point.

Every command answers bad input with a message naming the thing at fault and a non-zero exit,
never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from geo import localdb
from geo.errors import GridmapError
from geo.settings import PROJECT_ROOT, DatabaseSettings, GeoSettings, LocalDbSettings, ServerSettings

Handler = Callable[[argparse.Namespace], int]


def _database_url(*, start: bool = True, test: bool = False) -> str:
    """GRIDMAP_DATABASE_URL, or the local cluster (started when `start`)."""
    from geo.db import resolve_database_url

    db, local = DatabaseSettings(), LocalDbSettings()
    if not db.database_url and start:
        durable = os.environ.get("GRIDMAP_LOCALDB_DURABLE", "1") != "0"
        localdb.up(local, durable=durable)
    return resolve_database_url(db, local, test=test)


def cmd_db_up(args: argparse.Namespace) -> int:
    """Start (installing and initialising as needed) the project-local PostGIS cluster."""
    if DatabaseSettings().database_url:
        print("GRIDMAP_DATABASE_URL is set: using that server, no local cluster started.")
        return 0
    local = LocalDbSettings()
    localdb.up(local, durable=not args.fast)
    print(f"PostGIS cluster running on {local.host}:{local.port} (data: {localdb.data_dir(local)})")
    return 0


def cmd_db_down(args: argparse.Namespace) -> int:
    """Stop the project-local cluster."""
    stopped = localdb.down(LocalDbSettings())
    print("stopped the local PostGIS cluster" if stopped else "the local PostGIS cluster was not running")
    return 0


def cmd_db_status(args: argparse.Namespace) -> int:
    """Report whether the local cluster exists and runs."""
    st = localdb.status(LocalDbSettings())
    print(f"data: {st.data_dir}  initialised: {st.initialised}  running: {st.running}  port: {st.port}")
    return 0 if st.running else 3


def cmd_db_migrate(args: argparse.Namespace) -> int:
    """Apply the Alembic migrations."""
    from geo.migrate import upgrade

    upgrade(_database_url(test=args.test))
    print("database schema is up to date")
    return 0


def cmd_db_url(args: argparse.Namespace) -> int:
    """Print the SQLAlchemy URL in use (contains the local password: for scripts, not logs)."""
    print(_database_url(start=False, test=args.test))
    return 0


def cmd_system_test_deps(args: argparse.Namespace) -> int:
    """Install the Debian packages the test suite drives (Chromium, a CJK font, GDAL)."""
    from geo.system_packages import ensure_test_packages

    installed = ensure_test_packages()
    print("installed: " + " ".join(installed) if installed else "test packages present")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every sub-command."""
    parser = argparse.ArgumentParser(prog="gridmap", description="gridmap 网格化信访地图")
    sub = parser.add_subparsers(dest="group", required=True)

    db = sub.add_parser("db", help="the database: start, stop, migrate").add_subparsers(
        dest="action", required=True)
    p = db.add_parser("up", help="start the project-local PostGIS cluster")
    p.add_argument("--fast", action="store_true", help="fsync off (throw-away clusters, CI)")
    p.set_defaults(func=cmd_db_up)
    db.add_parser("down", help="stop the project-local cluster").set_defaults(func=cmd_db_down)
    db.add_parser("status", help="is the local cluster running?").set_defaults(func=cmd_db_status)
    p = db.add_parser("migrate", help="apply migrations")
    p.add_argument("--test", action="store_true", help="the test database instead")
    p.set_defaults(func=cmd_db_migrate)
    p = db.add_parser("url", help="print the database URL")
    p.add_argument("--test", action="store_true")
    p.set_defaults(func=cmd_db_url)

    system = sub.add_parser("system", help="system packages").add_subparsers(
        dest="action", required=True)
    system.add_parser("test-deps", help="install Chromium, CJK font and GDAL for the tests"
                      ).set_defaults(func=cmd_system_test_deps)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `gridmap` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler = args.func
    try:
        return handler(args)
    except GridmapError as exc:
        print(f"gridmap: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
