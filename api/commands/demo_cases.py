"""`gridmap demo cases [--year 2020] [--seed N]` and `gridmap demo people [--start D] [--seed N]`:
the generated (示意) grid people and petition year of the Zhongshan demo."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from geo.geocode.base import Geocoder
    from geo.privacy.crypto import PersonalDataCipher


def _open_session() -> Session:
    """A session on the configured database, migrated (the local cluster starts if needed)."""
    from api.cli import _database_url, _session  # here, not at the top: api.cli imports us
    from geo.migrate import upgrade

    url = _database_url()
    upgrade(url)
    session: Session = _session(url)
    return session


def _has_grids(session: Session) -> bool:
    from geo.demo.people import active_grids

    if active_grids(session):
        return True
    print("gridmap: error: no active grids: load the boundaries first (`gridmap demo load`)",
          file=sys.stderr)
    return False


def _gazetteer_geocoder(session: Session) -> Geocoder:
    """The gazetteer geocoder, building the demo gazetteer first when the table is empty."""
    from sqlalchemy import exists, select

    from geo.geocode.gazetteer import build_gazetteer
    from geo.geocode.matcher import GazetteerGeocoder
    from geo.models import GazetteerEntry

    if not session.scalar(select(exists().where(GazetteerEntry.id.isnot(None)))):
        counts = build_gazetteer(session)
        print("gazetteer built: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    return GazetteerGeocoder.from_session(session)


def _print_people(counts: dict[str, int]) -> None:
    print(f"grid people: {counts['grid_worker']} grid workers, {counts['grid_leader']} "
          f"grid-leader posts, {counts['responsible_unit']} units, "
          f"{counts['worker_rotations']} worker and {counts['leader_rotations']} leader "
          f"rotations, {counts['staff']} new staff (示意)"
          + (f"; {counts['already_staffed']} of {counts['grids']} grids already staffed"
             if counts["already_staffed"] else ""))


def cmd_demo_people(args: argparse.Namespace) -> int:
    """Give every active grid generated people and its 居委会 (idempotent)."""
    from geo.demo.people import assign_demo_people

    try:
        start = date.fromisoformat(args.start)
    except ValueError:
        print(f"gridmap: error: --start {args.start!r} is not a date (YYYY-MM-DD)",
              file=sys.stderr)
        return 1
    with _open_session() as session:
        if not _has_grids(session):
            return 1
        counts = assign_demo_people(session, start=start, seed=args.seed)
        session.commit()
    _print_people(counts)
    return 0


def _cipher() -> PersonalDataCipher | None:
    """The cipher for the demo petitioners' fake numbers; None (names only, and a warning)
    when no data key is configured."""
    from geo.access.keys import KeyConfigError
    from geo.privacy.crypto import cipher_from_settings
    from geo.settings import SecuritySettings

    try:
        return cipher_from_settings(SecuritySettings())
    except KeyConfigError as exc:
        print(f"gridmap: warning: {exc}; demo petitioners get names only", file=sys.stderr)
        return None


def cmd_demo_cases(args: argparse.Namespace) -> int:
    """Generate and load a demo year of cases (people and gazetteer first; idempotent)."""
    from geo.demo.cases import check_demo_year, generate_demo_year
    from geo.demo.people import assign_demo_people
    from geo.errors import InvalidInput

    try:
        check_demo_year(args.year)
    except InvalidInput as exc:
        print(f"gridmap: error: --year: {exc}", file=sys.stderr)
        return 1
    with _open_session() as session:
        if not _has_grids(session):
            return 1
        try:
            # Cases take the people on duty when they are assigned: staff the grids first.
            counts = assign_demo_people(session)
            geocoder = _gazetteer_geocoder(session)
            report = generate_demo_year(session, args.year, seed=args.seed, geocoder=geocoder,
                                        cipher=_cipher())
        except InvalidInput as exc:
            session.rollback()
            print(f"gridmap: error: --{exc.field}: {exc}", file=sys.stderr)
            return 1
        session.commit()
    if counts["staff"]:
        _print_people(counts)
    print(report.format())
    return 0


def add_parsers(demo_subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `cases` and `people` to the `demo` sub-command group."""
    from geo.demo.cases import DEFAULT_CASE_SEED
    from geo.demo.people import DEFAULT_PEOPLE_SEED

    p = demo_subparsers.add_parser(
        "cases", help="generate and load a demo year of petition cases (示意, idempotent)",
        description="2,841 cases / 3,281 persons / 1,756 via community agents, as 中山区 "
                    "reported for 2020; the 华联宾馆地块, 大连市台秤厂 and new-complex stories "
                    "as clusters. Builds the gazetteer and the grid people when missing.")
    p.add_argument("--year", type=int, default=2020, help="a past year (default 2020)")
    p.add_argument("--seed", type=int, default=DEFAULT_CASE_SEED,
                   help=f"random seed (default {DEFAULT_CASE_SEED})")
    p.set_defaults(func=cmd_demo_cases)
    p = demo_subparsers.add_parser(
        "people", help="generated grid workers, grid leaders and units for every grid")
    p.add_argument("--start", default="2019-01-01", help="first day on duty (YYYY-MM-DD)")
    p.add_argument("--seed", type=int, default=DEFAULT_PEOPLE_SEED,
                   help=f"random seed (default {DEFAULT_PEOPLE_SEED})")
    p.set_defaults(func=cmd_demo_people)
