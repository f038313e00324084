"""Attach cases to projects: by explicit link (kept until unlinked), by lying within the
project's buffer, or by naming it (or one of its keywords) in the content or address; the
method is recorded per case and project (case_project), the strongest kept (link > buffer >
keyword). The automatic ones are derived again by every run (geo/sql/attach_cases.sql), so a
run after each import or project change keeps them current."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.access.scope import Scope
from geo.errors import NotFound
from geo.hotspots.clusters import metric_srid
from geo.sql_files import sql

AUTO_BY = "gridmap"


def attach_cases(session: Session, metric_crs: str,
                 project_ids: Sequence[int] | None = None) -> dict[str, int]:
    """Derive the buffer and keyword attachments of these projects (None: all); counts per
    method of the attachments they now have."""
    ids = list(project_ids) if project_ids is not None else None
    session.execute(sql("clear_project_attachments"), {"ids": ids})
    session.execute(sql("attach_cases"), {"ids": ids, "metric_srid": metric_srid(metric_crs),
                                          "attached_by": AUTO_BY})
    rows = session.execute(text(
        "SELECT method, count(*) FROM case_project "
        "WHERE CAST(:ids AS integer[]) IS NULL OR project_id = ANY(CAST(:ids AS integer[])) "
        "GROUP BY method"), {"ids": ids}).all()
    counts = {"link": 0, "buffer": 0, "keyword": 0}
    counts.update({m: int(n) for m, n in rows})
    return counts


def _visible_cases(session: Session, scope: Scope, case_ids: Sequence[int]) -> set[int]:
    rows = session.execute(sql("visible_case_ids"), {**scope.params(), "ids": list(case_ids)})
    return {int(i) for i in rows.scalars()}


def link_cases(session: Session, scope: Scope, project_id: int, case_ids: Sequence[int]
               ) -> list[int]:
    """Link cases to a project by hand; a case the caller cannot see is a NotFound."""
    if session.execute(text("SELECT 1 FROM project WHERE id = :id"),
                       {"id": project_id}).first() is None:
        raise NotFound(f"no project {project_id}")
    wanted = list(dict.fromkeys(int(i) for i in case_ids))
    missing = sorted(set(wanted) - _visible_cases(session, scope, wanted))
    if missing:
        raise NotFound(f"no case {', '.join(map(str, missing))}")
    done = session.execute(sql("link_cases"), {"project_id": project_id, "case_ids": wanted,
                                               "attached_by": scope.username}).scalars().all()
    return sorted(int(i) for i in done)


def unlink_case(session: Session, project_id: int, case_id: int, metric_crs: str) -> None:
    """Remove a link made by hand; the case may come back by buffer or keyword."""
    gone = session.execute(sql("unlink_case"), {"project_id": project_id,
                                                "case_id": case_id}).first()
    if gone is None:
        raise NotFound(f"case {case_id} is not linked to project {project_id} by hand")
    attach_cases(session, metric_crs, [project_id])
