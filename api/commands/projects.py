"""`gridmap projects import PATH [--crs …] [--dry-run]`, `gridmap projects attach` and
`gridmap projects list`: load the places that generate petitions (validated like boundaries:
the whole file or nothing) and attach the cases to them."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


def _open_session() -> Session:
    """A session on the configured database (the local cluster is started when needed)."""
    from api.cli import _database_url, _session  # here, not at the top: api.cli imports us

    session: Session = _session(_database_url())
    return session


def cmd_projects_import(args: argparse.Namespace) -> int:
    """Validate a project file; write every project (by code) and attach cases, or nothing."""
    from geo.projects import import_projects
    from geo.settings import GeoSettings, HotspotSettings

    with _open_session() as session:
        report = import_projects(session, Path(args.path), crs=args.crs, dry_run=args.dry_run,
                                 geo_settings=GeoSettings(), hotspot_settings=HotspotSettings())
        if report.ok and not args.dry_run:
            session.commit()
        else:
            session.rollback()
    print(report.format())
    if args.dry_run and report.ok:
        print("dry run: nothing was written")
    return 0 if report.ok else 1


def cmd_projects_attach(args: argparse.Namespace) -> int:
    """Attach cases to every project again (buffer and keyword; links by hand stay)."""
    from geo.projects.attach import attach_cases
    from geo.settings import GeoSettings

    with _open_session() as session:
        counts = attach_cases(session, GeoSettings().metric_crs)
        session.commit()
    print("attached cases: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    return 0


def cmd_projects_list(args: argparse.Namespace) -> int:
    """List the projects."""
    from geo.projects.store import list_projects

    with _open_session() as session:
        features = list_projects(session)
    print(f"{'id':>4}  {'code':14}  {'type':12}  {'households':>10}  name")
    for f in features:
        p = f["properties"]
        households = "" if p["households"] is None else str(p["households"])
        print(f"{p['id']:>4}  {p['code']:14}  {p['project_type']:12}  {households:>10}  "
              f"{p['name']}{' (示意)' if p['approximate'] else ''}")
    return 0


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `projects` command group."""
    group = sub.add_parser("projects", help="projects: relocation sites, complexes, "
                           "enterprises, construction sites").add_subparsers(
        dest="action", required=True)
    p = group.add_parser("import", help="validate a project file and load it (by code)")
    p.add_argument("path", help="GeoJSON, GeoPackage or Shapefile of project polygons")
    p.add_argument("--crs", help="wgs84|cgcs2000|gcj02|bd09|EPSG:n (default: what the file says)")
    p.add_argument("--dry-run", action="store_true", help="validate and report, write nothing")
    p.set_defaults(func=cmd_projects_import)
    group.add_parser("attach", help="attach cases to every project again (buffer, keyword)"
                     ).set_defaults(func=cmd_projects_attach)
    group.add_parser("list", help="list the projects").set_defaults(func=cmd_projects_list)
