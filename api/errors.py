"""Domain errors to HTTP responses, registered in one loop; bodies keep the {"detail"} shape."""

from __future__ import annotations

import logging
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response

from geo.errors import (
    Conflict,
    DatabaseUnavailable,
    Forbidden,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    TooManyAttempts,
)
from geo.workflow.calendar import CalendarYearMissing

log = logging.getLogger("gridmap.api")


async def _not_found(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"detail": str(exc)}, status_code=404)


def wants_page(request: Request) -> bool:
    """A browser navigating to a page (GET accepting HTML), not a script calling the API."""
    return request.method == "GET" and "text/html" in request.headers.get("accept", "")


async def _not_authenticated(request: Request, exc: Exception) -> Response:
    if wants_page(request):
        # Back to this very page after logging in; quote keeps its query inside `next`.
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='/')}", status_code=303)
    return JSONResponse({"detail": str(exc)}, status_code=401,
                        headers={"WWW-Authenticate": "Bearer"})


async def _too_many(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, TooManyAttempts)
    return JSONResponse({"detail": str(exc)}, status_code=429,
                        headers={"Retry-After": str(exc.retry_after)})


async def _forbidden(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"detail": str(exc)}, status_code=403)


async def _conflict(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"detail": str(exc)}, status_code=409)


async def _calendar_missing(request: Request, exc: Exception) -> JSONResponse:
    # A server-side gap (the next year's State Council notice not yet added), not bad input:
    # the message names the year and the file to update.
    log.error("holiday calendar: %s", exc)
    return JSONResponse({"detail": str(exc)}, status_code=503)


async def _invalid(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, InvalidInput)
    # "parts.1.unit" → ["body", "parts", 1, "unit"], the way pydantic names list items.
    loc = [exc.where, *(int(p) if p.isdigit() else p for p in exc.field.split("."))]
    detail = [{"loc": loc, "msg": exc.message, "type": "value_error"}]
    return JSONResponse({"detail": detail}, status_code=422)


async def _db_down(request: Request, exc: Exception) -> JSONResponse:
    log.error("database unavailable: %s", exc)
    return JSONResponse({"detail": f"database unavailable: {exc}"}, status_code=503)


async def _validation(request: Request, exc: Exception) -> JSONResponse:
    # FastAPI echoes the offending input in each error; for petition data that can be an ID or
    # phone number, so the echo is dropped. The loc and msg still name the field and the rule.
    assert isinstance(exc, RequestValidationError)
    errors = [{k: v for k, v in e.items() if k not in ("input", "url")} for e in exc.errors()]
    return JSONResponse({"detail": jsonable_encoder(errors)}, status_code=422)


HANDLERS = {
    RequestValidationError: _validation,
    NotFound: _not_found,
    Forbidden: _forbidden,
    Conflict: _conflict,
    CalendarYearMissing: _calendar_missing,
    NotAuthenticated: _not_authenticated,
    TooManyAttempts: _too_many,
    InvalidInput: _invalid,
    DatabaseUnavailable: _db_down,
}


def register_error_handlers(app: FastAPI) -> None:
    """Attach every domain-error handler to the app."""
    for exc_type, handler in HANDLERS.items():
        app.add_exception_handler(exc_type, handler)
