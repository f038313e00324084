"""`gridmap db maintain`: the case table rewritten in spatial order, the order kept for the
next run, and the command's report."""

from __future__ import annotations

from contextlib import nullcontext
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from api import cli
from geo.cases.intake import create_cases
from geo.cases.reference import load_reference_data
from geo.cases.schema import CHINA_TZ, CaseIn, LocationIn
from geo.maintain import maintain
from geo.settings import CaseSettings
from tests.squares import load_squares, square


def _cases_alternating(session: Session, tmp_path: Path, n: int = 8) -> None:
    """`n` cases received in time order, alternating between two far corners of the squares:
    stored in arrival order, neighbours are never on adjacent rows."""
    load_squares(session, tmp_path)
    load_reference_data(session)
    a, b = square(1).centroid, square(9).centroid
    start = datetime(2020, 5, 6, 9, tzinfo=CHINA_TZ)
    cases = [CaseIn(category="物业", content="楼道灯坏了", channel="patrol",
                    received_at=start + timedelta(hours=i),
                    location=LocationIn(lon=p.x, lat=p.y, crs="wgs84"))
             for i, p in enumerate([a, b] * (n // 2))]
    create_cases(session, cases, None, CaseSettings())
    session.flush()


def _corners_in_table_order(session: Session) -> list[str]:
    return list(session.scalars(text(
        "SELECT CASE WHEN ST_X(location) < (SELECT avg(ST_X(location)) FROM petition_case) "
        "THEN 'a' ELSE 'b' END FROM petition_case ORDER BY ctid")))


def _switches(order: list[str]) -> int:
    return sum(1 for x, y in zip(order, order[1:], strict=False) if x != y)


def test_maintain_stores_cases_in_spatial_order(session: Session, tmp_path: Path) -> None:
    # Enough cases for several index leaf pages (a GiST page keeps its entries in arrival
    # order; the pages themselves are spatial, and that is what the rewrite follows).
    _cases_alternating(session, tmp_path, 1600)
    # Rows in arrival order (new rows may otherwise fill space earlier tests freed).
    session.execute(text("CLUSTER petition_case USING petition_case_pkey"))
    assert _switches(_corners_in_table_order(session)) == 1599
    report = maintain(session)
    assert report.cases == 1600
    # Rows now come in runs of one corner: a handful of switches, one per mixed index page.
    assert _switches(_corners_in_table_order(session)) < 40
    # The index is remembered: a plain CLUSTER of the table (or the next run) uses it.
    assert session.scalar(text(
        "SELECT indisclustered FROM pg_index WHERE indexrelid = "
        "'petition_case_location_idx'::regclass")) is True


def test_db_maintain_command_reports(session: Session, tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    _cases_alternating(session, tmp_path)
    monkeypatch.setattr(cli, "_session", lambda url: nullcontext(session))
    monkeypatch.setattr(cli, "_database_url", lambda **kw: "unused")
    assert cli.main(["db", "maintain"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("petition_case: 8 cases in spatial order, statistics refreshed (")
