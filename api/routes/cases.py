"""Case endpoints: register (POST /cases), read, list, and place by hand (PATCH …/location).

Every read is scoped in SQL by the caller's role (geo.access.scope); a case outside the scope is
a 404, indistinguishable from one that does not exist. Personal data is masked unless a role that
may unmask asks with `unmask=true&purpose=…`, and every such read is audited.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from api.deps import CaseSettingsDep, CipherDep, GeocoderDep, LimitsDep, NowDep, SessionDep
from api.params import CaseFilterParams
from api.security import ScopeDep
from geo.access import audit
from geo.access.scope import MAY_CREATE, MAY_PLACE, Scope
from geo.bbox import parse_bbox
from geo.cases.intake import assign_cases, create_cases, flag_cases
from geo.cases.read import get_case, get_cases, list_cases
from geo.cases.schema import CaseIn, LocationIn
from geo.crs import to_wgs84
from geo.errors import Forbidden, InvalidInput
from geo.sql_files import sql
from geo.workflow.deadlines import china_date

router = APIRouter(prefix="/cases", tags=["cases"])

MAX_PAGE = 1000
Unmask = Annotated[bool, Query(description="full personal data (roles allowed only; audited)")]
Purpose = Annotated[str | None, Query(max_length=200,
                                      description="why the unmasked data is needed")]


def _out_of_area(dist: float, near_m: float, field: str) -> InvalidInput:
    return InvalidInput(field, f"the point lies {dist:.0f} m outside every grid of the district "
                        f"(more than {near_m:g} m): out of area", where="body")


def _require_role(scope: Scope, allowed: tuple[str, ...], what: str) -> None:
    if scope.role not in allowed:
        raise Forbidden(f"role {scope.role} may not {what}; allowed: {', '.join(allowed)}")


def check_unmask(scope: Scope, unmask: bool, purpose: str | None) -> bool:
    """True when unmasked data was asked for and may be given; 403/422 otherwise."""
    if not unmask:
        return False
    if not scope.may_unmask:
        raise Forbidden(f"role {scope.role} may not see unmasked personal data")
    if not purpose or len(purpose.strip()) < 4:
        raise InvalidInput("purpose", "unmasked data needs a stated purpose (at least 4 "
                           "characters), e.g. purpose=联系信访人答复")
    return True


def _audit_unmasked(session: SessionDep, scope: Scope, request: Request, rows: int,
                    purpose: str | None) -> None:
    audit.record(session, scope, "cases.read_unmasked", method=request.method,
                 path=request.url.path, params=dict(request.query_params), row_count=rows,
                 purpose=purpose, unmasked=True,
                 client=request.client.host if request.client else None)
    session.commit()


@router.post("", status_code=201, operation_id="create_case")
def create_case(case: CaseIn, session: SessionDep, geocoder: GeocoderDep,
                settings: CaseSettingsDep, cipher: CipherDep, scope: ScopeDep,
                request: Request, now: NowDep) -> JSONResponse:
    """Register a case from an address, a location, or both; 201 with where it landed."""
    _require_role(scope, MAY_CREATE, "register cases")
    if case.external_id and session.execute(
            text("SELECT 1 FROM petition_case WHERE external_id = :e"),
            {"e": case.external_id}).first():
        raise InvalidInput("external_id", f"a case with external_id {case.external_id!r} "
                           "already exists", where="body")
    ids, outcomes = create_cases(session, [case], geocoder, settings, cipher=cipher)
    for outcome in outcomes:
        if outcome.flag == "out_of_area":
            session.rollback()
            field = "location" if case.location is not None else "address"
            raise _out_of_area(outcome.distance_m, settings.near_boundary_m, field)
    session.commit()
    # The registrar sees what they registered; a grid worker filing outside their grids gets
    # the case stored (it belongs to another grid) and a minimal receipt.
    found = get_cases(session, scope, ids, cipher=cipher, today=china_date(now))
    body: dict[str, Any] = found[0] if found else {
        "id": ids[0], "note": "registered; the case lies outside your scope"}
    return JSONResponse(body, status_code=201,
                        headers={"Location": str(request.url_for("get_case", case_id=ids[0]))})


@router.get("/{case_id}", operation_id="get_case", name="get_case")
def read_case(case_id: int, session: SessionDep, scope: ScopeDep, cipher: CipherDep,
              request: Request, now: NowDep, unmask: Unmask = False, purpose: Purpose = None
              ) -> dict[str, Any]:
    """One case with its place, grid, 社区, 街道, people, (masked) petitioners and workflow:
    status, routing, 首接首办, 四定, deadlines with warning bands, 督办."""
    full = check_unmask(scope, unmask, purpose)
    case = get_case(session, scope, case_id, unmask=full, cipher=cipher, today=china_date(now))
    if full:
        _audit_unmasked(session, scope, request, 1, purpose)
    return case


@router.get("", operation_id="list_cases")
def read_cases(
    session: SessionDep, scope: ScopeDep, cipher: CipherDep, request: Request,
    limits: LimitsDep, filters: Annotated[CaseFilterParams, Depends()], now: NowDep,
    location_status: Literal["located", "needs_location"] | None = None,
    bbox: Annotated[str | None, Query(description="minx,miny,maxx,maxy")] = None,
    bbox_crs: Annotated[Literal["wgs84", "cgcs2000", "gcj02", "bd09"],
                        Query(alias="bbox-crs")] = "wgs84",
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    unmask: Unmask = False, purpose: Purpose = None,
) -> dict[str, Any]:
    """A page of the cases in scope, newest first; `location_status=needs_location` is the
    placing queue."""
    full = check_unmask(scope, unmask, purpose)
    box = parse_bbox(bbox, bbox_crs, max_km2=limits.max_bbox_km2) if bbox else None
    items, matched = list_cases(session, scope, filters.to_filter(
        location_status=location_status, limit=limit, offset=offset, bbox=box),
        unmask=full, cipher=cipher, today=china_date(now))
    if full:
        _audit_unmasked(session, scope, request, len(items), purpose)
    return {"items": items, "numberMatched": matched, "numberReturned": len(items),
            "limit": limit, "offset": offset}


@router.patch("/{case_id}/location", operation_id="place_case")
def place_case(case_id: int, location: LocationIn, session: SessionDep, scope: ScopeDep,
               settings: CaseSettingsDep, cipher: CipherDep, now: NowDep) -> dict[str, Any]:
    """Place a case by hand (e.g. from the needs_location queue) and re-assign it."""
    # 404 outside the scope first, so a role check can't reveal that the case exists.
    get_case(session, scope, case_id, cipher=cipher)
    _require_role(scope, MAY_PLACE, "place cases")
    lon, lat = to_wgs84(location.lon, location.lat, location.crs)
    session.execute(sql("place_case"), {
        "id": case_id, "lon": float(lon), "lat": float(lat), "input_lon": location.lon,
        "input_lat": location.lat, "input_crs": location.crs})
    [outcome] = assign_cases(session, settings, [case_id])
    if outcome.flag == "out_of_area":
        session.rollback()
        raise _out_of_area(outcome.distance_m, settings.near_boundary_m, "location")
    flag_cases(session, settings, [case_id])  # its 社区 may be known only now
    session.commit()
    return get_case(session, scope, case_id, cipher=cipher, today=china_date(now))
