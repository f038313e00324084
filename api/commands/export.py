"""`gridmap export COLLECTION --user NAME …`: the same exports as GET /exports/{collection},
written to a file — scoped to an existing app user, masked unless that user's role may unmask
and a purpose is given, and audited under that user's name (with the OS account that ran it).

Whoever runs the CLI already holds the database credentials, so `--user` is not a login: it
picks whose scope applies and who answers for the export in the audit log.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from geo.errors import Forbidden, InvalidInput, NotFound

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from geo.access.scope import Scope
    from geo.exports.plan import ExportPlan
    from geo.privacy.crypto import PersonalDataCipher

# InvalidInput fields (the API's parameter names) → the CLI's flags.
FLAGS = {"collection": "COLLECTION", "format": "--format", "crs": "--crs",
         "geometry": "--geometry", "grid_code": "--grid-code",
         "community_code": "--community-code", "street_code": "--street-code",
         "status": "--status", "category": "--category", "from": "--from", "to": "--to",
         "unmask": "--unmask", "purpose": "--purpose", "user": "--user",
         "level": "--level"}
SUFFIX_FORMATS = {".csv": "csv", ".geojson": "geojson", ".json": "geojson", ".gpkg": "gpkg"}


def _open_session() -> Session:
    """A session on the configured database (the local cluster is started when needed)."""
    from api.cli import _database_url, _session  # here, not at the top: api.cli imports us

    session: Session = _session(_database_url())
    return session


def _fail(flag: str, message: str) -> int:
    print(f"gridmap: error: {flag}: {message}", file=sys.stderr)
    return 2


class _BadArgument(Exception):
    def __init__(self, flag: str, message: str) -> None:
        super().__init__(message)
        self.flag = flag
        self.message = message


def _parse_time(value: str | None, flag: str) -> datetime | None:
    """ISO 8601 date (its midnight) or date-time; China time unless an offset is given."""
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value.strip())
    except ValueError:
        raise _BadArgument(flag, f"{value!r} is not a date or date-time (ISO 8601, e.g. "
                           "2020-03-01 or 2020-03-01T08:00)") from None


def _format(args: argparse.Namespace) -> str:
    if args.format:
        fmt: str = args.format
        return fmt
    if args.out:
        return SUFFIX_FORMATS.get(Path(args.out).suffix.lower(), "csv")
    return "csv"


def _target(out: str | None, filename: str) -> Path:
    """--out as given; a directory (or nothing: the current one) gets the export's name."""
    if out is None:
        return Path.cwd() / filename
    path = Path(out)
    return path / filename if path.is_dir() else path


def _cipher() -> PersonalDataCipher:
    from geo.privacy.crypto import cipher_from_settings
    from geo.settings import SecuritySettings

    return cipher_from_settings(SecuritySettings())


def _write(session: Session, plan: ExportPlan, scope: Scope, target: Path,
           cipher: PersonalDataCipher | None) -> None:
    """Write next to the target, then move into place: a failed export leaves no file."""
    from geo.exports.gpkg import write_gpkg
    from geo.exports.plan import export_pages, text_chunks

    # Same suffix (GDAL checks a GeoPackage's), so a half-written file is never mistaken for
    # the export and a rerun starts clean.
    partial = target.with_name(f"{target.stem}.partial{target.suffix}")
    partial.unlink(missing_ok=True)
    try:
        if plan.format == "gpkg":
            write_gpkg(partial, plan.source, export_pages(session, scope, plan, cipher),
                       plan.out_crs)
        else:
            with partial.open("wb") as fh:
                for chunk in text_chunks(session, scope, plan, cipher):
                    fh.write(chunk)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)


def cmd_export(args: argparse.Namespace) -> int:
    """Export a collection in a user's scope to a file; prints what was written where."""
    from geo.access.keys import KeyConfigError
    from geo.access.users import get_user, user_scope
    from geo.exports.filters import ExportFilter
    from geo.exports.plan import check_readable, export_source, plan_export, record_export

    try:
        f = ExportFilter(grid_code=args.grid_code, community_code=args.community_code,
                         street_code=args.street_code, status=args.status,
                         category=args.category,
                         date_from=_parse_time(args.date_from, "--from"),
                         date_to=_parse_time(args.date_to, "--to"), level=args.level)
    except _BadArgument as exc:
        return _fail(exc.flag, exc.message)
    if args.purpose is not None and not args.unmask:
        return _fail("--purpose", "a purpose goes with --unmask (masked exports need none)")
    with _open_session() as session:
        try:
            user = get_user(session, args.user)
            if user.disabled:
                return _fail("--user", f"user {args.user!r} is disabled")
            scope = user_scope(user)
            source = export_source(args.collection, args.unmask)
            try:
                check_readable(source, scope)
            except Forbidden as exc:
                return _fail("--user", f"{exc} (user {args.user!r})")
            if source.personal:
                from api.routes.cases import check_unmask

                full = check_unmask(scope, args.unmask, args.purpose)
            else:
                full = False
            plan = plan_export(session, scope, source, fmt=_format(args), out_crs=args.crs,
                               geometry=args.geometry, f=f, unmask=full,
                               at=datetime.now(UTC))
            cipher = _cipher() if source.personal else None
        except InvalidInput as exc:
            return _fail(FLAGS.get(exc.field, f"--{exc.field}"), exc.message)
        except NotFound as exc:
            return _fail("--user", str(exc))
        except Forbidden as exc:
            return _fail("--unmask", str(exc))
        except KeyConfigError as exc:
            return _fail("data key", f"{exc} (cases are decrypted to be masked; for the "
                         "demo set GRIDMAP_DEMO=1)")
        target = _target(args.out, plan.filename)
        if not target.parent.is_dir():
            return _fail("--out", f"directory {str(target.parent)!r} does not exist")
        record_export(session, scope, plan, method="CLI", path=f"gridmap export {source.id}",
                      params={k: v for k, v in {
                          "format": plan.format, "crs": plan.out_crs, "geometry": args.geometry,
                          "grid_code": args.grid_code, "community_code": args.community_code,
                          "street_code": args.street_code, "status": args.status,
                          "category": args.category, "from": args.date_from,
                          "to": args.date_to, "level": args.level,
                          "unmask": full or None, "out": str(target),
                          "os_user": _os_user()}.items() if v is not None},
                      purpose=args.purpose, client="cli")
        session.commit()
        _write(session, plan, scope, target, cipher)
    print(f"{plan.rows} {source.id} ({'unmasked' if full else 'masked'}, {plan.out_crs}) "
          f"written to {target}")
    return 0


def _os_user() -> str | None:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return None


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `export` command."""
    p = sub.add_parser(
        "export", help="export cases, boundaries, projects or hotspots to CSV, GeoJSON or "
                  "GeoPackage (audited)",
        description="Scoped to --user (an existing app user) and audited under that name; "
                    "personal data masked unless the user's role may unmask and --unmask "
                    "--purpose are given.")
    # The list is not imported from geo.exports.sources here: that would load numpy and
    # shapely for every gridmap command. An unknown collection's error lists the real ones.
    p.add_argument("collection", metavar="COLLECTION",
                   help="cases | grids | communities | streets | projects | hotspots "
                        "(hotspots: command-level users only)")
    p.add_argument("--user", required=True, metavar="NAME",
                   help="the app user whose scope applies")
    p.add_argument("--format", metavar="FORMAT",
                   help="csv | geojson | gpkg (default: from --out's suffix, else csv)")
    p.add_argument("--crs", default="wgs84", help="wgs84 (default) | gcj02 | bd09")
    p.add_argument("--geometry", metavar="STYLE",
                   help="CSV: lonlat (default for points) | wkt (default for polygons)")
    p.add_argument("--grid-code", metavar="CODE", help="15-digit grid code")
    p.add_argument("--community-code", metavar="CODE", help="12-digit 社区 code")
    p.add_argument("--street-code", metavar="CODE", help="12-digit 街道 code")
    p.add_argument("--status", help="case state, or a comma list of states")
    p.add_argument("--category", help="category code or name (e.g. property or 物业)")
    p.add_argument("--from", dest="date_from", metavar="DATE",
                   help="received at or after (YYYY-MM-DD[THH:MM], China time)")
    p.add_argument("--to", dest="date_to", metavar="DATE",
                   help="received before (YYYY-MM-DD[THH:MM])")
    p.add_argument("--level", help="hotspots: grid | community | street | project")
    p.add_argument("--unmask", action="store_true",
                   help="full personal data (roles allowed only; needs --purpose; audited)")
    p.add_argument("--purpose", help="why the unmasked data is needed")
    p.add_argument("--out", metavar="PATH",
                   help="file or directory (default: the export's name in the current directory)")
    p.set_defaults(func=cmd_export)
