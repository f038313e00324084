"""Upkeep of the case table, run at night (`gridmap db maintain`, e.g. from a systemd timer).

Cases arrive in time order, so neighbours on the map lie far apart on disk: at 100× the
reference year a z12 tile or a 1 km² items box touches one table page per case. CLUSTER on the
location index puts the rows in spatial order (measured at 100×, 281k cases: the bitmap heap
scan under a district tile fell from 330 ms to 33 ms), then ANALYZE refreshes the planner's
statistics. New cases land at the end until the next run. CLUSTER holds an ACCESS EXCLUSIVE
lock on petition_case for its duration (≈10 s at 100×): intake waits, nothing fails. Where
that pause is not acceptable, pg_repack does the same online.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy.orm import Session

from geo.sql_files import sql


@dataclass(frozen=True)
class MaintainReport:
    """What one run did: the cases rewritten and how long it took."""

    cases: int
    seconds: float

    def format(self) -> str:
        """One line for the command's output."""
        return f"petition_case: {self.cases} cases in spatial order, statistics refreshed " \
               f"({self.seconds:.1f} s)"


def maintain(session: Session) -> MaintainReport:
    """CLUSTER petition_case on its location index and ANALYZE it (the caller commits)."""
    t0 = time.perf_counter()
    session.execute(sql("cluster_cases"))
    session.execute(sql("analyze_cases"))
    cases = session.execute(sql("count_cases")).scalar_one()
    return MaintainReport(cases=int(cases), seconds=time.perf_counter() - t0)
