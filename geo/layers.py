"""Boundary layers as GeoJSON FeatureCollections (WGS84), assembled inside PostGIS."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from geo.sql_files import sql

# 6 decimals ≈ 0.1 m: finer than any boundary is drawn, and a third smaller than full precision.
MAP_PRECISION = 6


def area_layer(session: Session, level: str, precision: int = MAP_PRECISION) -> dict[str, Any]:
    """The active 区 / 街道 / 社区 generation as a FeatureCollection."""
    if level not in ("district", "street", "community"):
        raise ValueError(f"unknown area level {level!r}")
    fc: dict[str, Any] = session.execute(
        sql("area_features"), {"level": level, "precision": precision}).scalar_one()
    return fc


def grid_layer(session: Session, precision: int = MAP_PRECISION) -> dict[str, Any]:
    """The active grid generation as a FeatureCollection (with each cell's 社区 name)."""
    fc: dict[str, Any] = session.execute(
        sql("grid_features"), {"precision": precision}).scalar_one()
    return fc


def active_generation_ids(session: Session) -> tuple[tuple[str, int], ...]:
    """(level, generation id) of every active generation: changes whenever boundaries do."""
    return tuple((r.level, r.id) for r in session.execute(sql("active_generation_ids")))
