"""Register cases: place them (given point or offline geocode), store them, assign them to grids.

One path for everything that creates cases — POST /cases, bulk import, the demo year — so the
rules are the same everywhere: a point given in GCJ-02/BD-09 is converted to WGS84 first; an
address that geocodes too vaguely waits in the needs_location queue instead of landing on a
wrong point; assignment is one set-based SQL statement.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, text
from sqlalchemy.orm import Session

from geo import crs as gcrs
from geo.cases.reference import CategoryIndex
from geo.cases.schema import CaseIn, PetitionerIn
from geo.geocode.base import Geocoder, GeocodeResult
from geo.models import PetitionCase, Petitioner
from geo.privacy.crypto import PersonalDataCipher, PersonalDataError
from geo.settings import CaseSettings
from geo.sql_files import sql

# Refresh planner statistics after inserting at least this many cases at once (imports, demo).
BULK_ANALYZE_ROWS = 200


@dataclass(frozen=True)
class Placement:
    """Where a case goes before grid assignment, and how that was decided."""

    lon: float | None
    lat: float | None
    status: str              # located | needs_location
    level: str | None        # coordinates | building | road_number | … | none
    confidence: float | None
    source: str | None
    matched: str | None
    community_hint: str | None
    street_hint: str | None


def place(case: CaseIn, geocoder: Geocoder | None, settings: CaseSettings,
          geocoded: GeocodeResult | None = None) -> Placement:
    """Decide the case's point: the given location wins; else the geocoder, if precise enough."""
    if case.location is not None:
        lon, lat = gcrs.to_wgs84(case.location.lon, case.location.lat, case.location.crs)
        return Placement(float(lon), float(lat), "located", "coordinates", 1.0,
                         f"input:{case.location.crs}", None, None, None)
    result = geocoded
    if result is None and geocoder is not None and case.address:
        result = geocoder.geocode(case.address)
    if result is None:
        return Placement(None, None, "needs_location", "none", 0.0, None, None, None, None)
    if result.precise_enough(settings.geocode_min_level):
        return Placement(result.lon, result.lat, "located", result.level, result.confidence,
                         result.source, result.matched, result.community_code, result.street_code)
    return Placement(None, None, "needs_location", result.level, result.confidence,
                     result.source, result.matched, result.community_code, result.street_code)


def _case_row(case: CaseIn, category: str, placement: Placement, now: datetime) -> dict[str, Any]:
    loc = case.location
    props = {}
    if placement.status == "needs_location" and (placement.community_hint or
                                                 placement.street_hint):
        props = {"community_hint": placement.community_hint,
                 "street_hint": placement.street_hint}
    return {
        "external_id": case.external_id, "channel": case.channel,
        "received_at": case.received_at or now, "category_code": category,
        "content": case.content, "persons_count": case.persons(),
        "via_community_agent": case.via_community_agent, "address": case.address,
        "location": (None if placement.lon is None
                     else f"SRID=4326;POINT({placement.lon!r} {placement.lat!r})"),
        "input_lon": loc.lon if loc else None, "input_lat": loc.lat if loc else None,
        "input_crs": loc.crs if loc else None, "location_status": placement.status,
        "geocode_level": placement.level, "geocode_confidence": placement.confidence,
        "geocode_source": placement.source, "geocode_match": placement.matched,
        "properties": props,
    }


def _petitioner_row(p: PetitionerIn, cipher: PersonalDataCipher | None) -> dict[str, Any]:
    if cipher is None:
        if p.id_number is not None or p.phone is not None:
            raise PersonalDataError("a petitioner has an ID or phone number but no cipher was "
                                    "given to encrypt it: pass cipher=PersonalDataCipher("
                                    "resolve_keys(settings).data_key)")
        return {"name": p.name, "id_number_enc": None, "id_number_hash": None,
                "phone_enc": None, "phone_hash": None}
    id_enc, id_hash = cipher.seal(p.id_number, "id_number")
    phone_enc, phone_hash = cipher.seal(p.phone, "phone")
    return {"name": p.name, "id_number_enc": id_enc, "id_number_hash": id_hash,
            "phone_enc": phone_enc, "phone_hash": phone_hash}


def insert_cases(session: Session, cases: Sequence[CaseIn], placements: Sequence[Placement],
                 categories: CategoryIndex, cipher: PersonalDataCipher | None = None
                 ) -> list[int]:
    """Insert cases, their first submission and petitioners (ID and phone numbers only
    encrypted, with keyed hashes); returns the new ids in order. `cipher` may be None only when
    no petitioner carries an ID or phone number (PersonalDataError otherwise)."""
    # Sealed before anything is written, so a missing cipher leaves no half-inserted batch.
    people = [_petitioner_row(p, cipher) for c in cases for p in c.petitioners]
    now = datetime.now(UTC)
    rows = [_case_row(c, categories.resolve(c.category), p, now)
            for c, p in zip(cases, placements, strict=True)]
    # One batched INSERT … RETURNING; ids come back in parameter order.
    stmt = insert(PetitionCase).returning(PetitionCase.id, sort_by_parameter_order=True)
    ids = list(session.scalars(stmt, rows))
    session.execute(sql("insert_submission"), [
        {"case_id": i, "channel": r["channel"], "received_at": r["received_at"],
         "persons_count": r["persons_count"], "via_community_agent": r["via_community_agent"]}
        for i, r in zip(ids, rows, strict=True)])
    links = [case_id for case_id, c in zip(ids, cases, strict=True) for _ in c.petitioners]
    if links:
        stmt_p = insert(Petitioner).returning(Petitioner.id, sort_by_parameter_order=True)
        pids = list(session.scalars(stmt_p, people))
        session.execute(sql("link_petitioner"), [
            {"case_id": cid, "petitioner_id": pid}
            for cid, pid in zip(links, pids, strict=True)])
    return ids


@dataclass(frozen=True)
class AssignmentOutcome:
    """The flag each case got (inside / near_boundary / out_of_area) and its distance."""

    case_id: int
    flag: str
    distance_m: float


def assign_cases(session: Session, settings: CaseSettings,
                 case_ids: Sequence[int] | None = None) -> list[AssignmentOutcome]:
    """Assign the given located cases (all when None) to grids in one statement.
    Its planner settings (assign_cases_settings.sql) last until the caller's transaction ends."""
    session.execute(sql("assign_cases_settings"))
    rows = session.execute(sql("assign_cases"), {
        "ids": list(case_ids) if case_ids is not None else None,
        "near_m": settings.near_boundary_m,
    }).all()
    return [AssignmentOutcome(r.id, r.assignment_flag, float(r.dist)) for r in rows]


def create_cases(session: Session, cases: Sequence[CaseIn], geocoder: Geocoder | None,
                 settings: CaseSettings, categories: CategoryIndex | None = None,
                 cipher: PersonalDataCipher | None = None
                 ) -> tuple[list[int], list[AssignmentOutcome]]:
    """Place, insert and assign cases; the caller decides what out_of_area means and commits.
    `cipher` encrypts petitioners' ID and phone numbers (see insert_cases)."""
    categories = categories or CategoryIndex.load(session)
    results: list[GeocodeResult | None] = [None] * len(cases)
    todo = [i for i, c in enumerate(cases) if c.location is None and c.address]
    if geocoder is not None and todo:
        for i, res in zip(todo, geocoder.geocode_many([cases[i].address or "" for i in todo]),
                          strict=True):
            results[i] = res
    placements = [place(c, geocoder, settings, r) for c, r in zip(cases, results, strict=True)]
    ids = insert_cases(session, cases, placements, categories, cipher)
    if len(ids) >= BULK_ANALYZE_ROWS:
        # A bulk import changes the tables' size by orders of magnitude; with the statistics
        # of the (often empty) tables before it, the planner picks nested loops over thousands
        # of rows and assignment / flagging take minutes instead of seconds.
        session.execute(text("ANALYZE petition_case, petitioner, case_petitioner, submission, "
                             "case_assignment"))
    located = [i for i, p in zip(ids, placements, strict=True) if p.status == "located"]
    outcomes = assign_cases(session, settings, located) if located else []
    flag_cases(session, settings, ids)
    return ids, outcomes


def flag_cases(session: Session, settings: CaseSettings, case_ids: Sequence[int]) -> None:
    """Set the repeat (同人+同事: keyed hash of ID or phone, same category, same 社区, an
    earlier case) and collective (≥ settings.collective_min_persons) flags, set-based."""
    if case_ids:
        session.execute(sql("flag_cases"), {"ids": list(case_ids),
                                            "collective_min": settings.collective_min_persons})


def reassign_all(session: Session, settings: CaseSettings) -> dict[str, int]:
    """Re-run assignment for every located case (after a new grid generation); counts by flag."""
    counts: dict[str, int] = {}
    for outcome in assign_cases(session, settings, None):
        counts[outcome.flag] = counts.get(outcome.flag, 0) + 1
    return counts

