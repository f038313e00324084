"""Projects — places that generate petitions: read a file, validate all of it, then store every
project (or nothing) and attach the cases to them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from geo.boundaries.report import ImportReport
from geo.boundaries.store import active_parents
from geo.projects.attach import attach_cases
from geo.projects.read import read_project_file
from geo.projects.store import upsert_projects
from geo.projects.validate import validate_projects
from geo.settings import GeoSettings, HotspotSettings

__all__ = ["ProjectImport", "import_projects"]


@dataclass
class ProjectImport(ImportReport):
    """The import report of a project file, with what was written and attached."""

    inserted: int = 0
    updated: int = 0
    attached: dict[str, int] | None = None

    def format(self) -> str:
        """The report as text: problems, then what was written and attached."""
        lines = [super().format()]
        if self.ok and self.attached is not None:
            lines.append(f"written: {self.inserted} new, {self.updated} updated projects")
            lines.append("attached cases: " + ", ".join(
                f"{k} {v}" for k, v in self.attached.items()))
        return "\n".join(lines)


def import_projects(session: Session, path: Path, *, crs: str | None = None,
                    dry_run: bool = False, geo_settings: GeoSettings | None = None,
                    hotspot_settings: HotspotSettings | None = None) -> ProjectImport:
    """Validate the whole file and, if it passes and this is no dry run, upsert every project
    by code and attach the cases. The caller commits after an ok report, rolls back otherwise."""
    geo_settings = geo_settings or GeoSettings()
    hotspot_settings = hotspot_settings or HotspotSettings()
    report = ProjectImport(path=str(path), level="project")
    frame = read_project_file(path, crs, report)
    if frame is None:
        return report
    rows = validate_projects(frame, active_parents(session, "district"), geo_settings,
                             hotspot_settings.project_buffer_m, report)
    if not report.ok or dry_run:
        return report
    ids, inserted = upsert_projects(session, rows)
    report.inserted, report.updated = inserted, len(ids) - inserted
    report.attached = attach_cases(session, geo_settings.metric_crs, ids)
    return report
