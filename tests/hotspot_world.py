"""A hand-made lattice world for hotspot and project tests: N×N square grid cells in one 社区,
街道 and 区, and cases written straight into petition_case (with their submission), so the
counts are known by construction.

Cell serials run row-major from the north-west (001 top-left), like tests/squares.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from shapely.geometry import box
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.boundaries import import_boundaries
from geo.cases.schema import CHINA_TZ
from geo.settings import GeoSettings
from tests.squares import COMMUNITY, DISTRICT, STREET, feature, write_fc

X0, Y0 = 121.70, 38.90


@dataclass(frozen=True)
class Lattice:
    """N×N cells of `step` degrees from (X0, Y0)."""

    n: int
    step: float

    def code(self, row: int, col: int) -> str:
        """The grid code of the cell at (row, col), row 0 = north."""
        return f"{COMMUNITY}{row * self.n + col + 1:03d}"

    def cell(self, row: int, col: int) -> Any:
        """The cell's square."""
        x, y = X0 + col * self.step, Y0 + (self.n - 1 - row) * self.step
        return box(x, y, x + self.step, y + self.step)

    def centre(self, row: int, col: int, dx: float = 0.0, dy: float = 0.0) -> tuple[float, float]:
        """A point in the cell: its centre moved by (dx, dy) cell widths."""
        c = self.cell(row, col).centroid
        return c.x + dx * self.step, c.y + dy * self.step


def load_lattice(session: Session, tmp_path: Path, n: int = 7, step: float = 0.004,
                 households: int = 400) -> Lattice:
    """Import and activate district, street, community and the N×N grid; return it."""
    lat = Lattice(n, step)
    outline = box(X0, Y0, X0 + n * step, Y0 + n * step)
    files = [
        ("district", [feature(outline, code=DISTRICT, name="测试区")]),
        ("street", [feature(outline, code=STREET, name="测试街道")]),
        ("community", [feature(outline, code=COMMUNITY, name="测试社区居委会",
                               short_name="测试", households=households * n * n)]),
        ("grid", [feature(lat.cell(r, c), code=lat.code(r, c),
                          name=f"测试社区第{r * n + c + 1}网格", households=households)
                  for r in range(n) for c in range(n)]),
    ]
    for level, feats in files:
        path = write_fc(tmp_path / f"lattice_{level}.geojson", feats)
        report = import_boundaries(session, path, level, activate=True, settings=GeoSettings())
        assert report.ok, report.format()
    return lat


def at(day: str, hour: int = 10) -> datetime:
    """China time on a YYYY-MM-DD day."""
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=CHINA_TZ)


INSERT_CASE = text("""
INSERT INTO petition_case (channel, received_at, category_code, content, persons_count, address,
                           location, location_status, assignment_flag, grid_code,
                           grid_generation_id, community_code, street_code, status, is_repeat,
                           is_collective)
VALUES ('visit', :received_at, :category, :content, :persons, :address,
        ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), 'located', 'inside', :grid_code,
        (SELECT id FROM boundary_generation WHERE level = 'grid' AND is_active),
        :community, :street, :status, :repeat, :collective)
RETURNING id
""")
INSERT_SUBMISSION = text("""
INSERT INTO submission (case_id, channel, received_at, persons_count)
VALUES (:case_id, 'visit', :received_at, :persons)
""")


def add_case(session: Session, grid_code: str | None, lon: float, lat: float,
             received_at: datetime, *, category: str = "housing", status: str = "registered",
             persons: int = 1, repeat: bool = False, content: str = "测试诉求",
             address: str | None = None) -> int:
    """One located case in a grid (None: a case that no grid took) with its first submission."""
    case_id = int(session.execute(INSERT_CASE, {
        "received_at": received_at, "category": category, "content": content,
        "persons": persons, "address": address, "lon": lon, "lat": lat,
        "grid_code": grid_code, "community": COMMUNITY if grid_code else None,
        "street": STREET if grid_code else None, "status": status, "repeat": repeat,
        "collective": persons >= 5}).scalar_one())
    session.execute(INSERT_SUBMISSION, {"case_id": case_id, "received_at": received_at,
                                        "persons": persons})
    return case_id
