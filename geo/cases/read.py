"""Read cases back: one case in full, or a filtered page, with names resolved in one query."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from geo.errors import NotFound
from geo.sql_files import sql


@dataclass(frozen=True)
class CaseFilter:
    """Filters of a case list; None means "any"."""

    grid_code: str | None = None
    community_code: str | None = None
    street_code: str | None = None
    status: str | None = None
    category: str | None = None
    location_status: str | None = None
    date_from: datetime | None = None
    date_to: datetime | None = None
    limit: int = 100
    offset: int = 0


def _as_case(row: Any) -> dict[str, Any]:
    d = dict(row._mapping)
    d.pop("matched", None)
    return {
        "id": d["id"], "external_id": d["external_id"], "channel": d["channel"],
        "received_at": d["received_at"].isoformat(),
        "category": {"code": d["category_code"], "name": d["category_name"]},
        "content": d["content"], "persons_count": d["persons_count"],
        "via_community_agent": d["via_community_agent"], "address": d["address"],
        "location": (None if d["lon"] is None else
                     {"lon": d["lon"], "lat": d["lat"], "crs": "wgs84"}),
        "input_location": (None if d["input_lon"] is None else
                           {"lon": d["input_lon"], "lat": d["input_lat"], "crs": d["input_crs"]}),
        "location_status": d["location_status"],
        "geocode": {"level": d["geocode_level"], "confidence": d["geocode_confidence"],
                    "source": d["geocode_source"], "matched": d["geocode_match"]},
        "assignment_flag": d["assignment_flag"],
        "grid": (None if d["grid_code"] is None else
                 {"code": d["grid_code"], "name": d["grid_name"],
                  "generation_id": d["grid_generation_id"]}),
        "community": (None if d["community_code"] is None else
                      {"code": d["community_code"], "name": d["community_name"]}),
        "street": (None if d["street_code"] is None else
                   {"code": d["street_code"], "name": d["street_name"]}),
        "people": {"grid_worker": d["grid_worker"], "grid_leader": d["grid_leader"],
                   "responsible_unit": d["responsible_unit"]},
        "status": d["status"], "hints": d["properties"],
        "created_at": d["created_at"].isoformat(), "updated_at": d["updated_at"].isoformat(),
        "version": d["version"],
    }


def _params(f: CaseFilter, ids: list[int] | None = None) -> dict[str, Any]:
    return {"ids": ids, "grid_code": f.grid_code, "community_code": f.community_code,
            "street_code": f.street_code, "status": f.status, "category": f.category,
            "location_status": f.location_status, "date_from": f.date_from,
            "date_to": f.date_to, "limit": f.limit, "offset": f.offset}


def get_cases(session: Session, ids: list[int]) -> list[dict[str, Any]]:
    """The cases with these ids, in the order given (missing ids are left out)."""
    rows = session.execute(sql("list_cases"),
                           _params(CaseFilter(limit=len(ids) or 1), ids)).all()
    by_id = {r.id: _as_case(r) for r in rows}
    return [by_id[i] for i in ids if i in by_id]


def get_case(session: Session, case_id: int) -> dict[str, Any]:
    """One case in full; NotFound when it does not exist."""
    found = get_cases(session, [case_id])
    if not found:
        raise NotFound(f"no case {case_id}")
    return found[0]


def list_cases(session: Session, f: CaseFilter) -> tuple[list[dict[str, Any]], int]:
    """A page of cases (newest first) and how many match in all."""
    rows = session.execute(sql("list_cases"), _params(f)).all()
    matched = int(rows[0].matched) if rows else 0
    if not rows and f.offset:
        # Past the end of the list: count separately so the total is still right.
        first = session.execute(sql("list_cases"), _params(replace(f, limit=1, offset=0))).first()
        matched = int(first.matched) if first else 0
    return [_as_case(r) for r in rows], matched
