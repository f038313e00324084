"""`gridmap demo cases [--year 2020] [--seed N]`, `gridmap demo people [--start D] [--seed N]` and
`gridmap demo workflow [--as-of DATETIME] [--seed N] [--step-by-step]`: the generated (示意) grid
people and petition year of the Zhongshan demo, and the year driven through the workflow."""

from __future__ import annotations

import argparse
import sys
from datetime import date, datetime
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


def _as_of(value: str | None) -> datetime:
    """--as-of: an ISO date-time (China time when it has no offset); default the demo clock's
    moment (GRIDMAP_CLOCK when set, else 2020-12-31 17:00 China time)."""
    from geo.cases.schema import CHINA_TZ
    from geo.demo.workflow import demo_as_of
    from geo.settings import ClockSettings

    if value is None:
        return ClockSettings().clock or demo_as_of()
    at = datetime.fromisoformat(value)
    if at.tzinfo is None:
        at = at.replace(tzinfo=CHINA_TZ)
    if len(value) <= 10:  # a day alone: the end of its office hours
        at = at.replace(hour=17)
    return at


def cmd_demo_workflow(args: argparse.Namespace) -> int:
    """Drive the demo cases still registered through the workflow up to --as-of (idempotent)."""
    from pydantic import ValidationError

    from geo.demo.workflow import run_demo_workflow

    try:
        as_of = _as_of(args.as_of)
    except (ValueError, ValidationError):
        print(f"gridmap: error: --as-of {args.as_of!r} (or GRIDMAP_CLOCK) is not an ISO 8601 "
              "date or date-time", file=sys.stderr)
        return 1
    with _open_session() as session:
        report = run_demo_workflow(session, as_of, seed=args.seed, bulk=not args.step_by_step,
                                   cipher=_cipher() if args.step_by_step else None)
        session.commit()
    print(report.format())
    return 0


def add_parsers(demo_subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `cases`, `people` and `workflow` to the `demo` sub-command group."""
    from geo.demo.cases import DEFAULT_CASE_SEED
    from geo.demo.people import DEFAULT_PEOPLE_SEED
    from geo.demo.workflow import DEFAULT_WORKFLOW_SEED

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
    p = demo_subparsers.add_parser(
        "workflow", help="drive the demo cases through the workflow up to the demo clock",
        description="Routes, accepts (四定), handles, replies and closes the demo cases still "
                    "registered, with objections, 不予受理, 导入法定途径, merges, extensions, "
                    "mediations and 复查 on the way; cases of the last weeks stay open; then "
                    "the workflow tick opens 督办 on what is overdue. Idempotent.")
    p.add_argument("--as-of", help="act up to this China time (YYYY-MM-DD[THH:MM]; default "
                   "GRIDMAP_CLOCK, else 2020-12-31T17:00+08:00)")
    p.add_argument("--seed", type=int, default=DEFAULT_WORKFLOW_SEED,
                   help=f"random seed (default {DEFAULT_WORKFLOW_SEED})")
    p.add_argument("--step-by-step", action="store_true",
                   help="every step through the workflow's transition (minutes, not seconds)")
    p.set_defaults(func=cmd_demo_workflow)
