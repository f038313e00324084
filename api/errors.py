"""Domain errors to HTTP responses, registered in one loop; bodies keep the {"detail"} shape."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from geo.errors import DatabaseUnavailable, InvalidInput, NotFound

log = logging.getLogger("gridmap.api")


async def _not_found(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"detail": str(exc)}, status_code=404)


async def _invalid(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, InvalidInput)
    loc = [exc.where, *exc.field.split(".")]
    detail = [{"loc": loc, "msg": exc.message, "type": "value_error"}]
    return JSONResponse({"detail": detail}, status_code=422)


async def _db_down(request: Request, exc: Exception) -> JSONResponse:
    log.error("database unavailable: %s", exc)
    return JSONResponse({"detail": f"database unavailable: {exc}"}, status_code=503)


HANDLERS = {
    NotFound: _not_found,
    InvalidInput: _invalid,
    DatabaseUnavailable: _db_down,
}


def register_error_handlers(app: FastAPI) -> None:
    """Attach every domain-error handler to the app."""
    for exc_type, handler in HANDLERS.items():
        app.add_exception_handler(exc_type, handler)
