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

from sqlalchemy.exc import SQLAlchemyError

from api.commands import cases_import, demo_cases, hotspots, projects, users, workflow
from api.commands import export as export_cmd
from geo import localdb
from geo.errors import GridmapError
from geo.settings import (
    PROJECT_ROOT,
    DatabaseSettings,
    GeoSettings,
    LocalDbSettings,
    SecuritySettings,
    ServerSettings,
)

Handler = Callable[[argparse.Namespace], int]


def _database_url(*, start: bool = True, test: bool = False) -> str:
    """GRIDMAP_DATABASE_URL, or the local cluster (started when `start`)."""
    from geo.db import resolve_database_url

    db, local = DatabaseSettings(), LocalDbSettings()
    if not db.database_url and start:
        localdb.up(local)
    return resolve_database_url(db, local, test=test)


def cmd_db_up(args: argparse.Namespace) -> int:
    """Start (installing and initialising as needed) the project-local PostGIS cluster."""
    if DatabaseSettings().database_url:
        print("GRIDMAP_DATABASE_URL is set: using that server, no local cluster started.")
        return 0
    local = LocalDbSettings()
    if args.fast:
        local = local.model_copy(update={"durable": False})
    localdb.up(local)
    print(f"PostGIS cluster running on {local.host}:{local.port} (data: {localdb.data_dir(local)})")
    return 0


def cmd_db_down(args: argparse.Namespace) -> int:
    """Stop the project-local cluster."""
    stopped = localdb.down(LocalDbSettings())
    print("stopped the local PostGIS cluster" if stopped
          else "the local PostGIS cluster was not running")
    return 0


def cmd_db_status(args: argparse.Namespace) -> int:
    """Report whether the local cluster exists and runs."""
    st = localdb.status(LocalDbSettings())
    print(f"data: {st.data_dir}  initialised: {st.initialised}  running: {st.running}  "
          f"port: {st.port}")
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


def cmd_db_maintain(args: argparse.Namespace) -> int:
    """Nightly upkeep: cases stored in spatial order, fresh statistics (geo.maintain)."""
    from geo.maintain import maintain

    with _session(_database_url()) as session:
        report = maintain(session)
        session.commit()
    print(report.format())
    return 0


def cmd_system_test_deps(args: argparse.Namespace) -> int:
    """Install the Debian packages the test suite drives (Chromium, a CJK font, GDAL)."""
    from geo.system_packages import ensure_test_packages

    installed = ensure_test_packages()
    print("installed: " + " ".join(installed) if installed else "test packages present")
    return 0


def _session(url: str):  # type: ignore[no-untyped-def]
    from geo.db import make_engine, make_sessionmaker

    return make_sessionmaker(make_engine(url, pool_size=1))()


def cmd_boundaries_import(args: argparse.Namespace) -> int:
    """Validate a boundary file and write it as a new generation (nothing if it fails)."""
    from geo.boundaries import import_boundaries

    with _session(_database_url()) as session:
        report = import_boundaries(session, Path(args.path), args.level, crs=args.crs,
                                   dry_run=args.dry_run, activate=args.activate,
                                   settings=GeoSettings())
        if report.ok and not args.dry_run:
            session.commit()
        else:
            session.rollback()
    print(report.format())
    if args.dry_run and report.ok:
        print("dry run: nothing was written")
    return 0 if report.ok else 1


def cmd_boundaries_activate(args: argparse.Namespace) -> int:
    """Make a generation the active one of its level."""
    from geo.boundaries import activate_generation

    with _session(_database_url()) as session:
        level = activate_generation(session, args.generation)
        session.commit()
    print(f"generation {args.generation} is now the active {level} generation")
    return 0


def cmd_boundaries_generations(args: argparse.Namespace) -> int:
    """List boundary generations, newest first."""
    from geo.boundaries import list_generations

    with _session(_database_url()) as session:
        gens = list_generations(session)
    print(f"{'id':>4}  {'level':9}  {'active':6}  {'features':>8}  created            source")
    for g in gens:
        print(f"{g.id:>4}  {g.level:9}  {'yes' if g.is_active else '':6}  {g.feature_count:>8}  "
              f"{g.created_at:%Y-%m-%d %H:%M}   {g.source_path}")
    return 0


def _load_demo(url: str) -> bool:
    from geo.demo.load import DemoLoadError, load_demo
    from geo.privacy.crypto import cipher_from_settings
    from geo.settings import CaseSettings, SecuritySettings

    # Demo data is demo mode: missing keys are generated into .local/ (configured ones win).
    cipher = cipher_from_settings(SecuritySettings(demo=True))
    with _session(url) as session:
        try:
            lines = load_demo(session, GeoSettings(), CaseSettings(), cipher=cipher)
        except DemoLoadError as exc:
            session.rollback()
            print(f"gridmap: demo boundaries rejected:\n{exc}", file=sys.stderr)
            return False
        session.commit()
    print("\n".join(lines))
    return True


def cmd_demo_load(args: argparse.Namespace) -> int:
    """Load the committed Zhongshan demo boundaries (idempotent)."""
    url = _database_url()
    from geo.migrate import upgrade

    upgrade(url)
    return 0 if _load_demo(url) else 1


def cmd_demo_generate(args: argparse.Namespace) -> int:
    """Regenerate the demo 街道/社区/网格 polygons inside the real district outline."""
    from geo.demo.district import write_demo_district

    paths = write_demo_district(Path(args.out), seed=args.seed)
    for level, path in paths.items():
        print(f"{level:9} {path}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    """Serve the app with uvicorn (refused without proper keys outside demo mode)."""
    import uvicorn

    from geo.access.keys import KeyConfigError, resolve_keys

    # The app factory would refuse too, but inside uvicorn's import, as a traceback: check
    # here first so a missing key is one message naming the setting.
    try:
        resolve_keys(SecuritySettings())
    except KeyConfigError as exc:
        print(f"gridmap: error: refusing to start: {exc}\n(the demo, with generated keys: "
              "`gridmap run` or GRIDMAP_DEMO=1)", file=sys.stderr)
        return 2
    server = ServerSettings()
    host, port = args.host or server.host, args.port or server.port
    base = f"http://{host}:{port}"
    print(f"gridmap serving on {base}\n  map:    {base}/map\n  login:  {base}/login\n"
          f"  health: {base}/health\n"
          f"  lookup: {base}/grids/lookup?lon=121.66&lat=38.92\n  API:    {base}/docs", flush=True)
    uvicorn.run("api.main:app", host=host, port=port, log_level="info")
    return 0


def _demo_clock() -> str | None:
    """The clock `gridmap run` serves the demo on (演示时钟): GRIDMAP_CLOCK when given, else
    the demo year's as-of moment; None (and a message) when GRIDMAP_CLOCK is malformed."""
    from pydantic import ValidationError

    from geo.demo.workflow import demo_as_of
    from geo.settings import ClockSettings

    if not os.environ.get("GRIDMAP_CLOCK", "").strip():
        return demo_as_of().isoformat()
    try:
        clock = ClockSettings().clock
    except ValidationError:
        print(f"gridmap: error: GRIDMAP_CLOCK={os.environ['GRIDMAP_CLOCK']!r} is not an ISO "
              "8601 date-time with an offset (e.g. 2020-12-31T17:00:00+08:00)", file=sys.stderr)
        return None
    return clock.isoformat() if clock else demo_as_of().isoformat()


def cmd_run(args: argparse.Namespace) -> int:
    """The main job: database up, migrated, demo loaded, app served (in demo mode)."""
    from geo.migrate import upgrade

    # Demo mode: keys are generated into .local/ when not configured. An environment
    # variable, because uvicorn builds the app itself (api.main) from the settings it reads.
    os.environ["GRIDMAP_DEMO"] = "1"
    url = _database_url()
    upgrade(url)
    if not _load_demo(url):
        return 1
    clock = _demo_clock()
    if clock is None:
        return 2
    print(f"演示时钟 demo clock: the app runs as of {clock} (GRIDMAP_CLOCK): deadlines, warning "
          "bands and 督办 as on that day; logins and tokens use the real time")
    # In the environment because uvicorn builds the app itself; only for this serve.
    before = os.environ.get("GRIDMAP_CLOCK")
    os.environ["GRIDMAP_CLOCK"] = clock
    try:
        return cmd_serve(args)
    finally:
        if before is None:
            os.environ.pop("GRIDMAP_CLOCK", None)
        else:
            os.environ["GRIDMAP_CLOCK"] = before


def cmd_reference_load(args: argparse.Namespace) -> int:
    """Load units and categories (geo/data/*.csv) and a unit for every 街道/社区."""
    from geo.cases.reference import ensure_area_units, load_reference_data

    with _session(_database_url()) as session:
        units, cats = load_reference_data(session)
        areas = ensure_area_units(session)
        session.commit()
    print(f"{units} units, {cats} categories, {areas} 街道/社区 units")
    return 0


def cmd_grids_assign(args: argparse.Namespace) -> int:
    """Put a person (grid worker / leader) or a unit in charge of a grid from a date."""
    from datetime import date

    from geo.cases.people import assign_grid_person, assign_grid_unit
    from geo.errors import InvalidInput, NotFound

    try:
        start = date.fromisoformat(args.start) if args.start else None
    except ValueError:
        print(f"gridmap: error: --start {args.start!r} is not a date (YYYY-MM-DD)",
              file=sys.stderr)
        return 2
    with _session(_database_url()) as session:
        try:
            if args.unit:
                assign_grid_unit(session, args.grid, args.unit, start)
                what = f"unit {args.unit}"
            else:
                assign_grid_person(session, args.grid, args.person, args.role, start)
                what = f"{args.role} {args.person}"
        except (InvalidInput, NotFound) as exc:
            field = getattr(exc, "field", "grid")
            print(f"gridmap: error: --{field}: {exc}", file=sys.stderr)
            return 2
        session.commit()
    print(f"grid {args.grid}: {what} from {start or 'today'}")
    return 0


def cmd_cases_reassign(args: argparse.Namespace) -> int:
    """Re-run grid assignment for every located case (after a new grid generation)."""
    from geo.cases.intake import reassign_all
    from geo.settings import CaseSettings

    with _session(_database_url()) as session:
        counts = reassign_all(session, CaseSettings())
        session.commit()
    print("reassigned: " + (", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "none"))
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
    db.add_parser("maintain", help="nightly upkeep: cases in spatial order, statistics"
                  ).set_defaults(func=cmd_db_maintain)
    p = db.add_parser("url", help="print the database URL")
    p.add_argument("--test", action="store_true")
    p.set_defaults(func=cmd_db_url)

    bnd = sub.add_parser("boundaries", help="boundary files and generations").add_subparsers(
        dest="action", required=True)
    p = bnd.add_parser("import", help="validate a boundary file and load it as a generation")
    p.add_argument("path", help="GeoJSON, GeoPackage or Shapefile")
    p.add_argument("--level", required=True, choices=["district", "street", "community", "grid"])
    p.add_argument("--crs", help="wgs84|cgcs2000|gcj02|bd09|EPSG:n (default: what the file says)")
    p.add_argument("--dry-run", action="store_true", help="validate and report, write nothing")
    p.add_argument("--activate", action="store_true", help="make the new generation active")
    p.set_defaults(func=cmd_boundaries_import)
    p = bnd.add_parser("activate", help="make a generation the active one of its level")
    p.add_argument("generation", type=int)
    p.set_defaults(func=cmd_boundaries_activate)
    bnd.add_parser("generations", help="list generations").set_defaults(
        func=cmd_boundaries_generations)

    demo = sub.add_parser("demo", help="the Zhongshan demo").add_subparsers(
        dest="action", required=True)
    demo.add_parser("load", help="load the whole demo (boundaries, people, 2020 cases)"
                    ).set_defaults(func=cmd_demo_load)
    p = demo.add_parser("generate", help="regenerate data/boundaries (fixed seed)")
    p.add_argument("--out", default=str(PROJECT_ROOT / "data" / "boundaries"))
    p.add_argument("--seed", type=int, default=20200101)
    p.set_defaults(func=cmd_demo_generate)
    demo_cases.add_parsers(demo)

    for name, func, text in (("serve", cmd_serve, "serve the app"),
                             ("run", cmd_run, "db up, migrate, load the demo, serve")):
        p = sub.add_parser(name, help=text)
        p.add_argument("--host", help="default GRIDMAP_HOST or 127.0.0.1")
        p.add_argument("--port", type=int, help="default GRIDMAP_PORT or 8000")
        p.set_defaults(func=func)

    ref = sub.add_parser("reference", help="units and categories").add_subparsers(
        dest="action", required=True)
    ref.add_parser("load", help="load units and categories").set_defaults(
        func=cmd_reference_load)

    grids = sub.add_parser("grids", help="grid people").add_subparsers(dest="action",
                                                                       required=True)
    p = grids.add_parser("assign", help="a grid worker, grid leader or unit for a grid")
    p.add_argument("--grid", required=True, help="15-digit grid code")
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--person", help="name of the grid worker / grid leader")
    who.add_argument("--unit", help="unit code (e.g. a 社区 code) responsible for the grid")
    p.add_argument("--role", choices=["grid_worker", "grid_leader"], default="grid_worker")
    p.add_argument("--start", help="first day on duty, YYYY-MM-DD (default today)")
    p.set_defaults(func=cmd_grids_assign)

    cases = sub.add_parser("cases", help="petition cases").add_subparsers(dest="action",
                                                                          required=True)
    cases.add_parser("reassign", help="re-assign every located case to the active grids"
                     ).set_defaults(func=cmd_cases_reassign)
    cases_import.add_parser(cases)

    users.add_parsers(sub)
    workflow.add_parsers(sub)
    projects.add_parsers(sub)
    hotspots.add_parsers(sub)
    export_cmd.add_parsers(sub)

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
    except SQLAlchemyError as exc:
        first = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        print(f"gridmap: database error: {first}\n(is the schema migrated? `gridmap db migrate`)",
              file=sys.stderr)
        return 2
    except Exception as exc:  # noqa: BLE001 — a user gets a message; GRIDMAP_DEBUG=1 the trace
        if os.environ.get("GRIDMAP_DEBUG"):
            raise
        print(f"gridmap: unexpected error: {type(exc).__name__}: {exc} "
              "(GRIDMAP_DEBUG=1 shows the traceback)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
