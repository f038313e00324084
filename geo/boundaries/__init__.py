"""Boundary import: read a file, validate all of it, then write one generation (or nothing)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from sqlalchemy.orm import Session

from geo.boundaries.read import read_boundary_file
from geo.boundaries.report import ImportReport, Problem
from geo.boundaries.store import (
    activate_generation,
    active_generation,
    active_parents,
    list_generations,
    lock_boundaries,
    retired_grid_codes,
    write_generation,
)
from geo.boundaries.validate import PARENT_LEVEL, validate_features
from geo.settings import GeoSettings

__all__ = [
    "ImportReport", "Problem", "activate_generation", "import_boundaries", "list_generations",
]

LEVELS = ("district", "street", "community", "grid")


def file_sha256(path: Path) -> str:
    """Checksum of the source file; a re-import of the same bytes is recognised."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def import_boundaries(session: Session, path: Path, level: str, *, crs: str | None = None,
                      dry_run: bool = False, activate: bool = False,
                      skip_unchanged: bool = False, settings: GeoSettings | None = None,
                      note: str | None = None) -> ImportReport:
    """Validate the whole file and, if it passes and this is no dry run, write a generation.

    The caller owns the transaction: commit after an ok report, roll back otherwise.
    """
    if level not in LEVELS:
        raise ValueError(f"level must be one of {', '.join(LEVELS)}")
    settings = settings or GeoSettings()
    report = ImportReport(path=str(path), level=level)
    lock_boundaries(session)
    sha = file_sha256(path) if path.is_file() else ""
    current = active_generation(session, level)
    if skip_unchanged and current is not None and current.source_sha256 == sha:
        report.skipped_unchanged = True
        report.generation_id = current.id
        report.activated = True
        report.feature_count = current.feature_count
        return report
    frame = read_boundary_file(path, crs, report)
    if frame is None:
        return report
    parent_level = PARENT_LEVEL.get(level)
    parents = active_parents(session, parent_level) if parent_level else None
    retired = retired_grid_codes(session) if level == "grid" else set()
    geoms = validate_features(frame, level, parents, retired, settings, report)
    if not report.ok or dry_run:
        return report
    report.generation_id = write_generation(
        session, level, frame, geoms, source_path=str(path), source_crs=report.crs or "",
        source_sha256=sha, note=note)
    if activate:
        activate_generation(session, report.generation_id)
        report.activated = True
    return report
