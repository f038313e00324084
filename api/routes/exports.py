"""GET /exports/cases: scoped, masked (unless allowed and stated), audited, streamed downloads."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse

from api.deps import CipherDep, SessionDep
from api.params import CaseFilterParams
from api.routes.cases import Purpose, Unmask, check_unmask
from api.security import ScopeDep
from geo.access import audit
from geo.cases.read import count_cases
from geo.exports import cases_csv, cases_geojson

router = APIRouter(prefix="/exports", tags=["exports"])

MEDIA = {"csv": "text/csv; charset=utf-8", "geojson": "application/geo+json"}


@router.get("/cases", operation_id="export_cases")
def export_cases(
    request: Request, session: SessionDep, scope: ScopeDep, cipher: CipherDep,
    filters: Annotated[CaseFilterParams, Depends()],
    format: Literal["csv", "geojson"] = "csv",
    crs: Literal["wgs84", "gcj02", "bd09"] = "wgs84",
    unmask: Unmask = False, purpose: Purpose = None,
) -> StreamingResponse:
    """Download the cases in scope; the file name says what and when."""
    full = check_unmask(scope, unmask, purpose)
    f = filters.to_filter()
    rows = count_cases(session, scope, f)
    audit.record(session, scope, "export.cases", method=request.method, path=request.url.path,
                 params=dict(request.query_params), row_count=rows, purpose=purpose,
                 unmasked=full, client=request.client.host if request.client else None)
    session.commit()
    stamp = datetime.now().strftime("%Y%m%d-%H%M")
    area = (filters.grid_code or filters.community_code or filters.street_code
            or ("district" if scope.district_wide else scope.role))
    name = f"gridmap_cases_{area}_{crs}_{'unmasked' if full else 'masked'}_{stamp}.{format}"
    body = (cases_csv if format == "csv" else cases_geojson)(
        session, scope, f, out_crs=crs, unmask=full, cipher=cipher)
    return StreamingResponse(body, media_type=MEDIA[format],
                             headers={"Content-Disposition": f'attachment; filename="{name}"'})
