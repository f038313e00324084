"""Read cases back: one case in full, or a filtered page, with names resolved in one query."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from geo.access.scope import Scope
from geo.bbox import NO_BBOX, BBox
from geo.errors import NotFound
from geo.privacy.crypto import PersonalDataCipher, PersonalDataError
from geo.privacy.mask import mask_address, mask_id_number, mask_name, mask_phone
from geo.sql_files import sql
from geo.workflow.machine import STATES
from geo.workflow.read import case_deadlines, case_supervisions, china_today


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
    bbox: BBox | None = None
    leader: str | None = None  # 包案: the leader's name or staff id


def _unit(unit_id: int | None, name: str | None) -> dict[str, Any] | None:
    return None if unit_id is None else {"id": unit_id, "name": name}


def _iso(value: date | datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _workflow(d: dict[str, Any], flow: dict[str, Any],
              supervisions: list[dict[str, Any]]) -> dict[str, Any]:
    """The workflow part of a case: routing, 首接首办, 四定, 包案, evaluation, flags,
    milestones, deadlines (statutory and local apart) and 督办."""
    return {
        "status_label": STATES.get(d["status"]),
        "routed_unit": _unit(d["routed_unit_id"], d["routed_unit_name"]),
        "first_contact": {"unit": _unit(d["first_unit_id"], d["first_unit_name"]),
                          "handler": d["first_handler"]},
        "plan": {"responsible_unit": _unit(d["responsible_unit_id"], d["responsible_unit"]),
                 "handlers": d["handlers"] or [], "plan": d["plan"],
                 "target_close_date": _iso(d["target_close_date"])},
        "leader": (None if d["leader_staff_id"] is None and d["leader"] is None else
                   {"staff_id": d["leader_staff_id"],
                    "name": d["leader"] or d["leader_staff_name"]}),
        "evaluation": d["evaluation"], "evaluated_at": _iso(d["evaluated_at"]),
        "flags": {"repeat": d["is_repeat"], "collective": d["is_collective"]},
        "milestones": {k: _iso(d[k]) for k in ("assigned_at", "accepted_at", "replied_at",
                                                "closed_at")},
        "merged_into": d["merged_into_id"], "extension_days": d["extension_days"],
        "deadlines": flow["deadlines"], "overdue": flow["overdue"],
        "supervisions": supervisions,
    }


def _as_case(row: Any, petitioners: list[dict[str, Any]], unmask: bool,
             flow: dict[str, Any], supervisions: list[dict[str, Any]]) -> dict[str, Any]:
    d = dict(row._mapping)
    d.pop("matched", None)
    return {
        "id": d["id"], "external_id": d["external_id"], "channel": d["channel"],
        "received_at": d["received_at"].isoformat(),
        "category": {"code": d["category_code"], "name": d["category_name"]},
        "content": d["content"], "persons_count": d["persons_count"],
        "via_community_agent": d["via_community_agent"],
        "address": (d["address"] if unmask or d["address"] is None
                    else mask_address(d["address"])),
        "petitioners": petitioners,
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
        **_workflow(d, flow, supervisions),
    }


def _params(scope: Scope, f: CaseFilter, ids: list[int] | None = None) -> dict[str, Any]:
    return {**scope.params(), "ids": ids, "grid_code": f.grid_code,
            "community_code": f.community_code,
            "street_code": f.street_code, "status": f.status, "category": f.category,
            "location_status": f.location_status, "date_from": f.date_from,
            "date_to": f.date_to, "limit": f.limit, "offset": f.offset, "leader": f.leader,
            **(f.bbox.params() if f.bbox else NO_BBOX)}


def case_petitioners(session: Session, case_ids: list[int],
                     cipher: PersonalDataCipher | None = None, unmask: bool = False
                     ) -> dict[int, list[dict[str, Any]]]:
    """The petitioners of these cases, by case id, in one query: masked (张*, 210202********1234,
    138****5678) unless `unmask`. Masking needs the plain value too, so a stored ID or phone
    number needs the cipher either way (PersonalDataError without one)."""
    out: dict[int, list[dict[str, Any]]] = {i: [] for i in case_ids}
    if not case_ids:
        return out
    for r in session.execute(sql("case_petitioners"), {"ids": case_ids}):
        if cipher is None and (r.id_number_enc is not None or r.phone_enc is not None):
            raise PersonalDataError("case petitioners have encrypted ID or phone numbers: "
                                    "pass the cipher to read them, masked or not")
        id_number = (None if r.id_number_enc is None or cipher is None
                     else cipher.decrypt(r.id_number_enc, "id_number"))
        phone = (None if r.phone_enc is None or cipher is None
                 else cipher.decrypt(r.phone_enc, "phone"))
        if not unmask:
            id_number = None if id_number is None else mask_id_number(id_number)
            phone = None if phone is None else mask_phone(phone)
        out[r.case_id].append({"name": r.name if unmask else mask_name(r.name),
                               "id_number": id_number, "phone": phone})
    return out


def _cases(session: Session, rows: Sequence[Any], cipher: PersonalDataCipher | None,
           unmask: bool, today: date | None) -> list[dict[str, Any]]:
    if unmask and cipher is None:
        raise PersonalDataError("unmasked case data needs the cipher")
    ids = [r.id for r in rows]
    day = today or china_today()
    people = case_petitioners(session, ids, cipher, unmask)
    flows = case_deadlines(session, ids, day)
    supervisions = case_supervisions(session, ids, day)
    return [_as_case(r, people[r.id], unmask, flows[r.id], supervisions[r.id]) for r in rows]


def get_cases(session: Session, scope: Scope, ids: list[int], *, unmask: bool = False,
              cipher: PersonalDataCipher | None = None, today: date | None = None
              ) -> list[dict[str, Any]]:
    """The cases with these ids that the scope may see, in the order given; personal data
    masked unless `unmask` (the caller checks the role and writes the audit row); deadline
    warning bands as of `today` (default: today in China)."""
    rows = session.execute(sql("list_cases"),
                           _params(scope, CaseFilter(limit=len(ids) or 1), ids)).all()
    by_id = {c["id"]: c for c in _cases(session, rows, cipher, unmask, today)}
    return [by_id[i] for i in ids if i in by_id]


def get_case(session: Session, scope: Scope, case_id: int, *, unmask: bool = False,
             cipher: PersonalDataCipher | None = None, today: date | None = None
             ) -> dict[str, Any]:
    """One case in full; NotFound when it does not exist or lies outside the scope (the two
    are indistinguishable on purpose). Personal data masked unless `unmask`."""
    found = get_cases(session, scope, [case_id], unmask=unmask, cipher=cipher, today=today)
    if not found:
        raise NotFound(f"no case {case_id}")
    return found[0]


def list_cases(session: Session, scope: Scope, f: CaseFilter, *, unmask: bool = False,
               cipher: PersonalDataCipher | None = None, today: date | None = None
               ) -> tuple[list[dict[str, Any]], int]:
    """A page of the cases the scope may see (newest first) and how many match in all;
    personal data masked unless `unmask`."""
    rows = session.execute(sql("list_cases"), _params(scope, f)).all()
    matched = int(rows[0].matched) if rows else 0
    if not rows and f.offset:
        # Past the end of the list: count separately so the total is still right.
        matched = count_cases(session, scope, f)
    return _cases(session, rows, cipher, unmask, today), matched


def count_cases(session: Session, scope: Scope, f: CaseFilter) -> int:
    """How many cases in scope match the filters (no personal data is read)."""
    first = session.execute(sql("list_cases"),
                            _params(scope, replace(f, limit=1, offset=0))).first()
    return int(first.matched) if first else 0
