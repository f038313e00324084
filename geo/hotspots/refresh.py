"""`gridmap hotspots refresh`: attach cases to projects again, then materialise the hotspot layers
(grid, 社区, 街道, project) and the density clusters of one window for the map.

What is stored is the commander's view — district-wide, 检举控告 left out, no suppression — of
the window (by default the last 12 months up to the clock's day), in hotspot_stat and
hotspot_cluster, replacing what was there. GET /hotspots and /hotspots/clusters always compute
on the fly for the caller's scope, window and filters (one SQL pass per level, well under a
second for a district; the refresh makes all four levels in one pass), so they never serve a
stale or wrongly scoped table; the materialised tables are for readers that want the default
picture without computing it (the commander's map, tiles, exports). Everything runs in the
caller's transaction: readers see the old layers or the new ones, never a mix.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.access.scope import scope_for
from geo.hotspots.aggregates import HotspotQuery, Window, hotspot_window
from geo.hotspots.clusters import ClusterQuery, cluster_rows
from geo.hotspots.layer import hotspot_rows_by_level
from geo.models.hotspots import HOTSPOT_LEVELS
from geo.projects.attach import attach_cases
from geo.settings import GeoSettings, HotspotSettings
from geo.sql_files import sql

REFRESH_USER = "gridmap"


@dataclass
class RefreshReport:
    """What a refresh stored."""

    window: Window
    features: dict[str, int] = field(default_factory=dict)
    hot: int = 0
    clusters: int = 0
    attached: dict[str, int] = field(default_factory=dict)
    top_project: str | None = None

    def format(self) -> str:
        """A few lines for the command line."""
        w = self.window
        return "\n".join([
            f"hotspots {w.date_from:%Y-%m-%d} – {w.date_to:%Y-%m-%d} (to exclusive): "
            + ", ".join(f"{k} {v}" for k, v in self.features.items()),
            f"  Gi* hot cells (90 % or more): {self.hot}; density clusters: {self.clusters}",
            "  project attachments: " + ", ".join(f"{k} {v}" for k, v in self.attached.items())
            + (f"; top project: {self.top_project}" if self.top_project else ""),
        ])


def refresh_hotspots(session: Session, geo_settings: GeoSettings,
                     settings: HotspotSettings, *, today: date,
                     date_from: date | datetime | None = None,
                     date_to: date | datetime | None = None) -> RefreshReport:
    """Attach cases to projects and replace the materialised layers and clusters."""
    window = hotspot_window(date_from, date_to, today)
    report = RefreshReport(window)
    report.attached = attach_cases(session, geo_settings.metric_crs)
    scope = scope_for(REFRESH_USER, "commander")
    computed_at = datetime.now(UTC)
    # Rows are replaced, never updated: a generation switch drops old cells cleanly.
    session.execute(text("DELETE FROM hotspot_stat"))
    session.execute(text("DELETE FROM hotspot_cluster"))
    stamp = {"window_from": window.date_from, "window_to": window.date_to,
             "computed_at": computed_at}
    by_level = hotspot_rows_by_level(session, scope, HotspotQuery("grid", window), today,
                                     settings, HOTSPOT_LEVELS)
    for level in HOTSPOT_LEVELS:
        rows = by_level[level]
        report.features[level] = len(rows)
        if level == "grid":
            report.hot = sum(1 for r in rows if (r["gi_class"] or "").startswith("hot"))
        if level == "project" and rows:
            top = max(rows, key=lambda r: (r["cases"], r["code"]))
            report.top_project = f"{top['name']} ({top['cases']} 案次)" if top["cases"] else None
        if rows:
            session.execute(sql("insert_hotspot_stat"), [_stat(r, stamp) for r in rows])
    clusters = cluster_rows(session, scope, ClusterQuery(window, settings.eps_m,
                                                         settings.min_points),
                            geo_settings.metric_crs)
    report.clusters = len(clusters)
    if clusters:
        session.execute(sql("insert_hotspot_cluster"), [{
            **stamp, "cluster_id": c["cluster_id"], "eps_m": settings.eps_m,
            "min_points": settings.min_points, "cases": c["cases"],
            "dominant_category": c["dominant_category"], "geometry": c["geometry"],
        } for c in clusters])
    return report


def _stat(r: dict[str, Any], stamp: dict[str, Any]) -> dict[str, Any]:
    keys = ("level", "code", "name", "cases", "submissions", "persons", "open", "overdue",
            "repeat", "collective", "households", "per_1000_households", "trend", "change",
            "gi_z", "gi_p", "gi_class", "geometry")
    return {**stamp, **{k: r[k] for k in keys}}
