"""Case endpoints: register (POST /cases), read, list, and place by hand (PATCH …/location)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from api.deps import CaseSettingsDep, GeocoderDep, SessionDep
from geo.cases.intake import assign_cases, create_cases
from geo.cases.read import CaseFilter, get_case, list_cases
from geo.cases.schema import CaseIn, LocationIn
from geo.crs import to_wgs84
from geo.errors import InvalidInput
from geo.sql_files import sql

router = APIRouter(prefix="/cases", tags=["cases"])

MAX_PAGE = 1000


def _out_of_area(dist: float, near_m: float, field: str) -> InvalidInput:
    return InvalidInput(field, f"the point lies {dist:.0f} m outside every grid of the district "
                        f"(more than {near_m:g} m): out of area", where="body")


@router.post("", status_code=201, operation_id="create_case")
def create_case(case: CaseIn, session: SessionDep, geocoder: GeocoderDep,
                settings: CaseSettingsDep, request: Request) -> JSONResponse:
    """Register a case from an address, a location, or both; 201 with where it landed."""
    if case.external_id and session.execute(
            text("SELECT 1 FROM petition_case WHERE external_id = :e"),
            {"e": case.external_id}).first():
        raise InvalidInput("external_id", f"a case with external_id {case.external_id!r} "
                           "already exists", where="body")
    ids, outcomes = create_cases(session, [case], geocoder, settings)
    for outcome in outcomes:
        if outcome.flag == "out_of_area":
            session.rollback()
            field = "location" if case.location is not None else "address"
            raise _out_of_area(outcome.distance_m, settings.near_boundary_m, field)
    session.commit()
    body = get_case(session, ids[0])
    return JSONResponse(body, status_code=201,
                        headers={"Location": str(request.url_for("get_case", case_id=ids[0]))})


@router.get("/{case_id}", operation_id="get_case", name="get_case")
def read_case(case_id: int, session: SessionDep) -> dict[str, Any]:
    """One case with its place, grid, 社区, 街道 and people."""
    return get_case(session, case_id)


@router.get("", operation_id="list_cases")
def read_cases(
    session: SessionDep,
    grid_code: Annotated[str | None, Query(pattern=r"^\d{15}$")] = None,
    community_code: Annotated[str | None, Query(pattern=r"^\d{12}$")] = None,
    street_code: Annotated[str | None, Query(pattern=r"^\d{12}$")] = None,
    status: Annotated[str | None, Query(max_length=20)] = None,
    category: Annotated[str | None, Query(max_length=32)] = None,
    location_status: Literal["located", "needs_location"] | None = None,
    date_from: Annotated[datetime | None, Query(alias="from")] = None,
    date_to: Annotated[datetime | None, Query(alias="to")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> dict[str, Any]:
    """A page of cases, newest first; `location_status=needs_location` is the placing queue."""
    if date_from and date_to and date_to <= date_from:
        raise InvalidInput("to", "`to` must be after `from`")
    items, matched = list_cases(session, CaseFilter(
        grid_code, community_code, street_code, status, category, location_status,
        date_from, date_to, limit, offset))
    return {"items": items, "numberMatched": matched, "numberReturned": len(items),
            "limit": limit, "offset": offset}


@router.patch("/{case_id}/location", operation_id="place_case")
def place_case(case_id: int, location: LocationIn, session: SessionDep,
               settings: CaseSettingsDep) -> dict[str, Any]:
    """Place a case by hand (e.g. from the needs_location queue) and re-assign it."""
    get_case(session, case_id)  # 404 first
    lon, lat = to_wgs84(location.lon, location.lat, location.crs)
    session.execute(sql("place_case"), {
        "id": case_id, "lon": float(lon), "lat": float(lat), "input_lon": location.lon,
        "input_lat": location.lat, "input_crs": location.crs})
    [outcome] = assign_cases(session, settings, [case_id])
    if outcome.flag == "out_of_area":
        session.rollback()
        raise _out_of_area(outcome.distance_m, settings.near_boundary_m, "location")
    session.commit()
    return get_case(session, case_id)
