"""Logging in: POST /auth/token (OAuth2 password flow) for API clients; GET/POST /login (a page
that sets an HttpOnly cookie) and POST /logout for browsers."""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel

from api.deps import SessionDep
from api.security import COOKIE_NAME, KeysDep, SecuritySettingsDep
from geo.access.tokens import issue_token
from geo.access.users import authenticate
from geo.errors import NotAuthenticated, TooManyAttempts
from geo.models import AppUser
from geo.settings import SecuritySettings
from static_map.login_page import build_login_page

router = APIRouter(tags=["auth"])

DEFAULT_NEXT = "/map"
# Tokens are credentials: no cache may keep a response that carries one (RFC 6749 §5.1).
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class TokenOut(BaseModel):
    """An OAuth2 bearer token and how many seconds it lives."""

    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int


def safe_next(value: str | None) -> str:
    """Where to go after logging in: a path on this site, or /map for anything else (an
    absolute or protocol-relative URL would make the login page an open redirect)."""
    if (not value or not value.startswith("/") or value.startswith("//") or "\\" in value
            or any(ord(c) < 0x20 or ord(c) == 0x7F for c in value)):
        return DEFAULT_NEXT
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or parts.path in ("/login", "/logout"):
        return DEFAULT_NEXT
    return value


def _login(session: SessionDep, username: str, password: str,
           settings: SecuritySettings) -> AppUser:
    try:
        user = authenticate(session, username, password, settings)
    except (NotAuthenticated, TooManyAttempts):
        session.commit()  # the failure count must outlive the error response
        raise
    session.commit()
    return user


@router.post("/auth/token", operation_id="issue_token", response_model=TokenOut,
             responses={401: {"description": "wrong username or password"},
                        429: {"description": "locked after repeated failures; see Retry-After"}})
def token(form: Annotated[OAuth2PasswordRequestForm, Depends()], session: SessionDep,
          keys: KeysDep, settings: SecuritySettingsDep) -> JSONResponse:
    """Exchange a username and password (form fields) for a bearer token."""
    user = _login(session, form.username, form.password, settings)
    access_token, expires_in = issue_token(user, keys, settings.token_minutes)
    body = TokenOut(access_token=access_token, expires_in=expires_in)
    return JSONResponse(body.model_dump(), headers=NO_STORE)


@router.get("/login", response_class=HTMLResponse, operation_id="login_page",
            include_in_schema=False)
def login_page(next_path: Annotated[str, Query(alias="next", max_length=2048)] = DEFAULT_NEXT
               ) -> HTMLResponse:
    """The login page (登录)."""
    return HTMLResponse(build_login_page(safe_next(next_path)))


@router.post("/login", response_class=HTMLResponse, response_model=None,
             operation_id="login_form", include_in_schema=False)
def login_form(
    request: Request, session: SessionDep, keys: KeysDep, settings: SecuritySettingsDep,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=1024)],
    next_path: Annotated[str, Form(alias="next", max_length=2048)] = DEFAULT_NEXT,
) -> HTMLResponse | RedirectResponse:
    """Log in from the page: set the token cookie and go to `next`, or show the form again."""
    target = safe_next(next_path)
    try:
        user = _login(session, username, password, settings)
    except NotAuthenticated:
        return HTMLResponse(build_login_page(target, "用户名或密码错误", username),
                            status_code=401, headers=NO_STORE)
    except TooManyAttempts as exc:
        return HTMLResponse(
            build_login_page(target, f"登录失败次数过多，请 {exc.retry_after} 秒后再试",
                             username),
            status_code=429, headers={"Retry-After": str(exc.retry_after), **NO_STORE})
    access_token, expires_in = issue_token(user, keys, settings.token_minutes)
    response = RedirectResponse(target, status_code=303, headers=NO_STORE)
    # HttpOnly: page scripts (and anything injected into them) cannot read the token;
    # SameSite=Strict: no other site can make the browser send it (no CSRF on POST /cases).
    response.set_cookie(COOKIE_NAME, access_token, max_age=expires_in, path="/", httponly=True,
                        samesite="strict", secure=request.url.scheme == "https")
    return response


@router.post("/logout", operation_id="logout", include_in_schema=False)
def logout(request: Request) -> RedirectResponse:
    """Forget the cookie and go back to the login page (bearer tokens simply expire)."""
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE_NAME, path="/", httponly=True, samesite="strict",
                           secure=request.url.scheme == "https")
    return response
