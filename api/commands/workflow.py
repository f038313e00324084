"""`gridmap workflow tick [--now DATETIME]`: the workflow clock — registration deadlines for new
cases, unused windows lapsed, and 督办 for every overdue deadline. Idempotent: run it every
minute (cron, a systemd timer). Without --now it acts at GRIDMAP_CLOCK when that is set (the
demo's 演示时钟), else at the real time."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


def _open_session() -> Session:
    """A session on the configured database (the local cluster is started when needed)."""
    from api.cli import _database_url, _session  # here, not at the top: api.cli imports us

    session: Session = _session(_database_url())
    return session


def _parse_at(value: str | None) -> datetime | None:
    if value is None:
        return None
    from geo.cases.schema import CHINA_TZ

    at = datetime.fromisoformat(value)
    return at if at.tzinfo else at.replace(tzinfo=CHINA_TZ)


def cmd_workflow_tick(args: argparse.Namespace) -> int:
    """One tick of the workflow clock; prints what it did."""
    from geo.workflow.supervision import tick

    try:
        at = _parse_at(args.at)
    except ValueError:
        print(f"gridmap: error: --now {args.at!r} is not a date or date-time (ISO 8601)",
              file=sys.stderr)
        return 2
    if at is None:
        from pydantic import ValidationError

        from geo.settings import ClockSettings

        try:
            at = ClockSettings().clock
        except ValidationError:
            print("gridmap: error: GRIDMAP_CLOCK is not an ISO 8601 date-time with an offset",
                  file=sys.stderr)
            return 2
    with _open_session() as session:
        done = tick(session, now=at)
        session.commit()
    print(f"{done['today']}: {done['registration_deadlines']} registration deadlines opened, "
          f"{done['windows_lapsed']} windows lapsed, {done['supervisions_opened']} 督办 opened")
    if done["missing_calendar_years"]:
        years = ", ".join(str(y) for y in done["missing_calendar_years"])
        print(f"gridmap: warning: {done['skipped_cases']} cases skipped: the holiday calendar "
              f"lacks {years} (add the State Council notice to geo/data/holidays_cn.json)",
              file=sys.stderr)
        return 1
    return 0


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `workflow` command group."""
    group = sub.add_parser("workflow", help="the case workflow: deadlines and 督办"
                           ).add_subparsers(dest="action", required=True)
    p = group.add_parser("tick", help="open registration deadlines and overdue 督办 (idempotent)")
    p.add_argument("--now", "--at", dest="at",
                   help="act as of this China time (YYYY-MM-DD[THH:MM]; default GRIDMAP_CLOCK "
                   "when set, else now)")
    p.set_defaults(func=cmd_workflow_tick)
