"""Write a validated boundary generation to PostGIS, activate generations, read what is active."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from geo.boundaries.validate import Parents, parent_code_of
from geo.models import BoundaryGeneration, GridCodeRegistry
from geo.sql_files import sql


@dataclass(frozen=True)
class GenerationInfo:
    """A generation as listed by `gridmap boundaries generations`."""

    id: int
    level: str
    is_active: bool
    feature_count: int
    source_path: str
    source_sha256: str
    created_at: datetime
    activated_at: datetime | None


def _int_or_none(value: Any) -> int | None:
    return None if value is None or pd.isna(value) else int(value)


def write_generation(session: Session, level: str, frame: gpd.GeoDataFrame, geoms: np.ndarray,
                     *, source_path: str, source_crs: str, source_sha256: str,
                     note: str | None = None) -> int:
    """Insert a new (inactive) generation with all its features; returns its id."""
    gen = BoundaryGeneration(level=level, source_path=source_path, source_crs=source_crs,
                             source_sha256=source_sha256, feature_count=len(frame), note=note)
    session.add(gen)
    session.flush()
    wkbs = shapely.to_wkb(geoms, output_dimension=2)
    rows: list[dict[str, Any]] = []
    for i, rec in enumerate(frame.itertuples(index=False)):
        parent = rec.parent_code or parent_code_of(level, rec.code)
        common = {
            "generation_id": gen.id, "code": rec.code, "name": rec.name,
            "approximate": bool(rec.approximate), "households": _int_or_none(rec.households),
            "properties": json.dumps(rec.properties, ensure_ascii=False, default=str),
            "wkb": wkbs[i],
        }
        if level == "grid":
            rows.append({**common, "community_code": parent,
                         "grid_type": rec.grid_type or "综合网格"})
        else:
            rows.append({**common, "level": level, "short_name": rec.short_name,
                         "parent_code": parent})
    if level == "grid":
        session.execute(sql("insert_grid_cell"), rows)
        session.execute(sql("subdivide_grid_cells"), {"generation_id": gen.id})
        session.execute(sql("register_grid_codes"), {"generation_id": gen.id})
    else:
        session.execute(sql("insert_area"), rows)
    return gen.id


def activate_generation(session: Session, generation_id: int) -> str:
    """Make the generation the active one of its level; returns the level."""
    session.execute(sql("retire_active_generation"), {"generation_id": generation_id})
    row = session.execute(sql("activate_generation"), {"generation_id": generation_id}).first()
    if row is None:
        from geo.errors import NotFound

        raise NotFound(f"no boundary generation {generation_id}")
    if row.level == "grid":
        session.execute(sql("retire_grid_codes"), {"generation_id": generation_id})
    return str(row.level)


def active_parents(session: Session, level: str) -> Parents | None:
    """The active generation of `level` as codes + geometries, or None when there is none."""
    rows = session.execute(sql("active_areas"), {"level": level}).all()
    if not rows:
        return None
    geoms = shapely.from_wkb([bytes(r.wkb) for r in rows])
    return Parents(level=level, codes=[r.code for r in rows], geoms=np.asarray(geoms))


def retired_grid_codes(session: Session) -> set[str]:
    """Every grid code that has been retired (and so must never be issued again)."""
    stmt = select(GridCodeRegistry.code).where(GridCodeRegistry.retired_at.is_not(None))
    return set(session.scalars(stmt))


def active_generation(session: Session, level: str) -> BoundaryGeneration | None:
    """The active generation of a level, if any."""
    stmt = select(BoundaryGeneration).where(BoundaryGeneration.level == level,
                                            BoundaryGeneration.is_active)
    return session.scalars(stmt).first()


def list_generations(session: Session) -> list[GenerationInfo]:
    """All generations, newest first."""
    stmt = select(BoundaryGeneration).order_by(BoundaryGeneration.id.desc())
    return [GenerationInfo(g.id, g.level, g.is_active, g.feature_count, g.source_path,
                           g.source_sha256, g.created_at, g.activated_at)
            for g in session.scalars(stmt)]


def lock_boundaries(session: Session) -> None:
    """Serialise boundary imports: two at once could both pass validation against old parents."""
    session.execute(text("SELECT pg_advisory_xact_lock(hashtext('gridmap.boundaries'))"))
