"""Hand-made square fixtures: a 3×3 grid of 0.01° squares inside one 社区, 街道 and 区.

     121.70   121.71   121.72   121.73
38.93 +--------+--------+--------+
      |  001   |  002   |  003   |
38.92 +--------+--------+--------+
      |  004   |  005   |  006   |
38.91 +--------+--------+--------+
      |  007   |  008   |  009   |
38.90 +--------+--------+--------+
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from shapely.geometry import box, mapping

from geo.boundaries import ImportReport, import_boundaries
from geo.settings import GeoSettings

DISTRICT = "210202"
STREET = "210202001000"
COMMUNITY = "210202001002"
X0, Y0, STEP = 121.70, 38.90, 0.01
BBOX = (X0, Y0, X0 + 3 * STEP, Y0 + 3 * STEP)


def grid_code(serial: int) -> str:
    """The 15-digit code of square number `serial` (1..9, row-major from the north-west)."""
    return f"{COMMUNITY}{serial:03d}"


def square(serial: int) -> Any:
    """Square `serial` as a shapely box."""
    row, col = divmod(serial - 1, 3)
    x, y = X0 + col * STEP, Y0 + (2 - row) * STEP
    return box(x, y, x + STEP, y + STEP)


def feature(geom: Any, **props: Any) -> dict[str, Any]:
    """A GeoJSON feature (geometry may be a shapely object or a GeoJSON dict or None)."""
    g = geom if geom is None or isinstance(geom, dict) else mapping(geom)
    return {"type": "Feature", "properties": props, "geometry": g}


def write_fc(path: Path, features: list[dict[str, Any]]) -> Path:
    """Write a FeatureCollection file."""
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features},
                               ensure_ascii=False), encoding="utf-8")
    return path


def grid_features(serials: range | list[int] = range(1, 10)) -> list[dict[str, Any]]:
    """The nine grid squares as features."""
    return [feature(square(s), code=grid_code(s), name=f"测试社区第{s}网格", households=400)
            for s in serials]


def load_squares(session: Any, tmp_path: Path, settings: GeoSettings | None = None
                 ) -> list[ImportReport]:
    """Import and activate district, street, community and the 3×3 grid; assert each is ok."""
    outline = box(*BBOX)
    files = [
        ("district", [feature(outline, code=DISTRICT, name="测试区")]),
        ("street", [feature(outline, code=STREET, name="测试街道")]),
        ("community", [feature(outline, code=COMMUNITY, name="测试社区居委会", short_name="测试")]),
        ("grid", grid_features()),
    ]
    reports = []
    for level, feats in files:
        path = write_fc(tmp_path / f"squares_{level}.geojson", feats)
        report = import_boundaries(session, path, level, activate=True,
                                   settings=settings or GeoSettings())
        assert report.ok, report.format()
        reports.append(report)
    return reports
