"""Load the committed Zhongshan demo boundaries through the same importer a district uses."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from geo.boundaries import ImportReport, import_boundaries
from geo.settings import PROJECT_ROOT, GeoSettings

DEMO_DIR = PROJECT_ROOT / "data" / "boundaries"
DEMO_FILES = (
    ("district", "zhongshan_district.geojson"),
    ("street", "zhongshan_streets.geojson"),
    ("community", "zhongshan_communities.geojson"),
    ("grid", "zhongshan_grids.geojson"),
)


def load_demo_boundaries(session: Session, settings: GeoSettings,
                         data_dir: Path = DEMO_DIR) -> list[ImportReport]:
    """Import and activate each level top-down; a level already loaded from the same file is
    skipped. Stops at the first rejected file; the caller commits only if all are ok."""
    reports = []
    for level, name in DEMO_FILES:
        report = import_boundaries(session, data_dir / name, level, activate=True,
                                   skip_unchanged=True, settings=settings,
                                   note="gridmap demo: generated 示意 boundaries")
        reports.append(report)
        if not report.ok:
            break
    return reports
