"""GET /health: is the app up, and can it reach PostGIS?"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from api.deps import SessionDep
from geo.db import translate_errors
from geo.errors import DatabaseUnavailable

router = APIRouter(tags=["health"])


@router.get("/health", operation_id="health")
def health(session: SessionDep) -> JSONResponse:
    """Report the app, database and PostGIS status; 503 with the reason when the DB is down."""
    try:
        with translate_errors():
            version = session.execute(text("SELECT postgis_lib_version()")).scalar_one()
    except DatabaseUnavailable as exc:
        return JSONResponse(
            {"status": "unavailable", "database": "down", "reason": str(exc)}, status_code=503
        )
    return JSONResponse({"status": "ok", "database": "ok", "postgis": version})
