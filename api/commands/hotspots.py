"""`gridmap hotspots refresh [--from DATE] [--to DATE] [--at DATE]`: attach cases to projects and
materialise the hotspot layers and density clusters for the map (the commander's view of the
window; by default the last 12 months up to the clock's day). Fast enough to run after every
import."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


def _open_session() -> Session:
    """A session on the configured database (the local cluster is started when needed)."""
    from api.cli import _database_url, _session  # here, not at the top: api.cli imports us

    session: Session = _session(_database_url())
    return session


def _date(value: str | None, flag: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{flag} {value!r} is not a date (YYYY-MM-DD)") from None


def cmd_hotspots_refresh(args: argparse.Namespace) -> int:
    """Attach cases to projects, then replace the materialised hotspot layers and clusters."""
    from pydantic import ValidationError

    from geo.errors import InvalidInput
    from geo.hotspots.refresh import refresh_hotspots
    from geo.settings import ClockSettings, GeoSettings, HotspotSettings
    from geo.workflow.read import china_today

    try:
        start, end = _date(args.date_from, "--from"), _date(args.date_to, "--to")
        today = _date(args.at, "--at")
    except ValueError as exc:
        print(f"gridmap: error: {exc}", file=sys.stderr)
        return 2
    if today is None:
        try:
            # The clock's day: GRIDMAP_CLOCK (the demo's 演示时钟) when set, else today.
            today = china_today(ClockSettings().clock or datetime.now(UTC))
        except ValidationError:
            print("gridmap: error: GRIDMAP_CLOCK is not an ISO 8601 date-time with an offset",
                  file=sys.stderr)
            return 2
    with _open_session() as session:
        try:
            report = refresh_hotspots(session, GeoSettings(), HotspotSettings(), today=today,
                                      date_from=start, date_to=end)
        except InvalidInput as exc:
            session.rollback()
            flag = "--to" if exc.field == "to" else f"--{exc.field}"
            print(f"gridmap: error: {flag}: {exc}", file=sys.stderr)
            return 2
        session.commit()
    print(report.format())
    return 0


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `hotspots` command group."""
    group = sub.add_parser("hotspots", help="hotspot layers for the map").add_subparsers(
        dest="action", required=True)
    p = group.add_parser("refresh", help="attach cases to projects and materialise the hotspot "
                         "layers and clusters")
    p.add_argument("--from", dest="date_from", help="first day, YYYY-MM-DD (default: 12 months "
                   "before --to)")
    p.add_argument("--to", dest="date_to", help="day after the last, YYYY-MM-DD (default: the "
                   "day after --at)")
    p.add_argument("--at", help="the clock's day, YYYY-MM-DD (default: GRIDMAP_CLOCK's day, else "
                   "today in China)")
    p.set_defaults(func=cmd_hotspots_refresh)
