"""GET /exports/cases: scoped, masked (unless allowed and stated), audited, streamed downloads."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

from api.deps import CipherDep, SessionDep
from api.routes.cases import Purpose, Unmask, check_unmask
from api.security import ScopeDep
from geo.access import audit
from geo.cases.read import CaseFilter, count_cases
from geo.errors import InvalidInput
from geo.exports import cases_csv, cases_geojson

router = APIRouter(prefix="/exports", tags=["exports"])

MEDIA = {"csv": "text/csv; charset=utf-8", "geojson": "application/geo+json"}


@router.get("/cases", operation_id="export_cases")
def export_cases(
    request: Request, session: SessionDep, scope: ScopeDep, cipher: CipherDep,
    format: Literal["csv", "geojson"] = "csv",
    crs: Literal["wgs84", "gcj02", "bd09"] = "wgs84",
    grid_code: Annotated[str | None, Query(pattern=r"^\d{15}$")] = None,
    community_code: Annotated[str | None, Query(pattern=r"^\d{12}$")] = None,
    street_code: Annotated[str | None, Query(pattern=r"^\d{12}$")] = None,
    status: Annotated[str | None, Query(max_length=20)] = None,
    category: Annotated[str | None, Query(max_length=32)] = None,
    date_from: Annotated[datetime | None, Query(alias="from")] = None,
    date_to: Annotated[datetime | None, Query(alias="to")] = None,
    unmask: Unmask = False, purpose: Purpose = None,
) -> StreamingResponse:
    """Download the cases in scope; the file name says what and when."""
    full = check_unmask(scope, unmask, purpose)
    if date_from and date_to and date_to <= date_from:
        raise InvalidInput("to", "`to` must be after `from`")
    f = CaseFilter(grid_code, community_code, street_code, status, category, None,
                   date_from, date_to)
    rows = count_cases(session, scope, f)
    audit.record(session, scope, "export.cases", method=request.method, path=request.url.path,
                 params=dict(request.query_params), row_count=rows, purpose=purpose,
                 unmasked=full, client=request.client.host if request.client else None)
    session.commit()
    stamp = datetime.now().strftime("%Y%m%d-%H%M")
    area = grid_code or community_code or street_code or ("district" if scope.district_wide
                                                          else scope.role)
    name = f"gridmap_cases_{area}_{crs}_{'unmasked' if full else 'masked'}_{stamp}.{format}"
    body = (cases_csv if format == "csv" else cases_geojson)(
        session, scope, f, out_crs=crs, unmask=full, cipher=cipher)
    return StreamingResponse(body, media_type=MEDIA[format],
                             headers={"Content-Disposition": f'attachment; filename="{name}"'})
