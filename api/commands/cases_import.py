"""`gridmap cases import FILE.csv|FILE.xlsx [--dry-run] [--skip-invalid] [--quiet]`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from geo.geocode.base import Geocoder
    from geo.privacy.crypto import PersonalDataCipher


def _open_session() -> Session:
    """A session on the configured database (the local cluster is started when needed)."""
    from api.cli import _database_url  # here, not at the top: api.cli imports this module
    from geo.db import make_engine, make_sessionmaker

    return make_sessionmaker(make_engine(_database_url(), pool_size=1))()


def _geocoder(session: Session) -> Geocoder | None:
    """The offline gazetteer geocoder; without it address-only rows wait in needs_location."""
    try:
        from geo.geocode.matcher import GazetteerGeocoder
    except ImportError:
        print("gridmap: warning: no gazetteer geocoder (geo.geocode.matcher) available: rows "
              "with only an address will need a location", file=sys.stderr)
        return None
    geocoder: Geocoder = GazetteerGeocoder.from_session(session)
    return geocoder


def _cipher() -> PersonalDataCipher | None:
    """The cipher for ID and phone numbers; None (and a warning) when no key is configured,
    so a file without those columns still imports."""
    from geo.access.keys import KeyConfigError
    from geo.privacy.crypto import cipher_from_settings
    from geo.settings import SecuritySettings

    try:
        return cipher_from_settings(SecuritySettings())
    except KeyConfigError as exc:
        print(f"gridmap: warning: {exc}; ID and phone number columns cannot be imported",
              file=sys.stderr)
        return None


def cmd_cases_import(args: argparse.Namespace) -> int:
    """Import cases from a CSV/XLSX file; 0 when every row is good, 1 otherwise."""
    from geo.cases.import_file import import_cases_file
    from geo.settings import CaseSettings

    with _open_session() as session:
        report = import_cases_file(session, Path(args.file), geocoder=_geocoder(session),
                                   settings=CaseSettings(), dry_run=args.dry_run,
                                   skip_invalid=args.skip_invalid, progress=not args.quiet,
                                   cipher=_cipher())
        if not args.dry_run and (report.ok or args.skip_invalid):
            session.commit()
        else:
            session.rollback()
    print(report.format())
    return 0 if report.ok else 1


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `import` to the `cases` sub-command group."""
    p = subparsers.add_parser(
        "import", help="validate a CSV/XLSX file of cases and import it (all rows or nothing)",
        description="Columns: external_id 编号, channel 渠道, received_at 受理时间, category 类别, "
                    "content 内容, persons_count 人数, petitioners 信访人, id_number 身份证号, "
                    "phone 电话/手机 (one per petitioner; stored encrypted), address 地址, "
                    "lon 经度, lat 纬度, crs 坐标系, via_community_agent 社区代办.")
    p.add_argument("file", metavar="FILE", help="a .csv (UTF-8 or GBK/GB18030) or .xlsx file")
    p.add_argument("--dry-run", action="store_true",
                   help="validate, place and report; write nothing")
    p.add_argument("--skip-invalid", action="store_true",
                   help="import the good rows; write the bad ones to <name>.rejects.csv")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_cases_import)
