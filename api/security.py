"""Deny by default: every route needs a valid token, except an explicit allow-list.

`require_user` runs for every route of the app (an app-level dependency, see `create_app`): it
reads a bearer token from the Authorization header or the `gridmap_token` cookie, checks it,
loads the user and puts the user and their Scope on `request.state`. Routes take them through
`CurrentUserDep` and `ScopeDep`. Static mounts are not routes and stay public.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.responses import Response
from fastapi.routing import APIRoute
from fastapi.security import OAuth2PasswordBearer
from starlette.routing import BaseRoute, Route

from api.deps import SessionDep
from geo.access.keys import Keys
from geo.access.scope import Scope
from geo.access.tokens import verify_token
from geo.access.users import user_scope
from geo.errors import NotAuthenticated
from geo.models import AppUser
from geo.settings import SecuritySettings

# Route paths anyone may call: liveness, the login page and form, logout, the token endpoint.
PUBLIC_PATHS = frozenset({"/health", "/login", "/logout", "/auth/token"})
COOKIE_NAME = "gridmap_token"

# auto_error=False: a missing header may still be a cookie; this also puts the password flow
# into the OpenAPI document, so /docs has an "Authorize" button.
_bearer = OAuth2PasswordBearer(tokenUrl="/auth/token", auto_error=False)


def get_keys(request: Request) -> Keys:
    """The token and data keys, resolved once when the app was created."""
    keys: Keys = request.app.state.keys
    return keys


def get_security_settings(request: Request) -> SecuritySettings:
    """The security settings the app was created with."""
    settings: SecuritySettings = request.app.state.security_settings
    return settings


KeysDep = Annotated[Keys, Depends(get_keys)]
SecuritySettingsDep = Annotated[SecuritySettings, Depends(get_security_settings)]


def _is_public(request: Request) -> bool:
    # The matched route's template, not the raw URL: no trailing-slash or encoding tricks.
    route: BaseRoute | None = request.scope.get("route")
    path = getattr(route, "path", None) or request.url.path
    return path in PUBLIC_PATHS


def token_from_request(request: Request, bearer: str | None) -> str | None:
    """The bearer token of a request: the Authorization header first, else the cookie."""
    return bearer or request.cookies.get(COOKIE_NAME) or None


def authenticate_request(request: Request, session: SessionDep, bearer: str | None) -> AppUser:
    """Check the request's token and load its user (one query) onto `request.state`."""
    token = token_from_request(request, bearer)
    if token is None:
        raise NotAuthenticated("not authenticated: log in (POST /auth/token) and send "
                               "`Authorization: Bearer <token>`")
    claims = verify_token(token, get_keys(request))
    user = session.get(AppUser, claims["uid"])
    # A disabled user's tokens die with the account; a reused id (user deleted, another
    # created) must not inherit them either.
    if user is None or user.disabled or user.username != claims["sub"]:
        raise NotAuthenticated("the token's user does not exist or is disabled")
    request.state.user = user
    request.state.scope = user_scope(user)
    return user


def require_user(request: Request, session: SessionDep,
                 bearer: Annotated[str | None, Depends(_bearer)]) -> None:
    """App-wide guard: a valid token for every route outside PUBLIC_PATHS (401 otherwise; a
    browser asking for a page is sent to /login instead, see api.errors)."""
    if _is_public(request):
        return
    authenticate_request(request, session, bearer)


def current_user(request: Request, session: SessionDep,
                 bearer: Annotated[str | None, Depends(_bearer)]) -> AppUser:
    """The logged-in user (authenticating here too when the app-wide guard did not run)."""
    user: AppUser | None = getattr(request.state, "user", None)
    return user if user is not None else authenticate_request(request, session, bearer)


def current_scope(request: Request, user: Annotated[AppUser, Depends(current_user)]) -> Scope:
    """The logged-in user's scope, for binding into scoped SQL."""
    scope: Scope | None = getattr(request.state, "scope", None)
    return scope if scope is not None else user_scope(user)


CurrentUserDep = Annotated[AppUser, Depends(current_user)]
ScopeDep = Annotated[Scope, Depends(current_scope)]


def guard_openapi(app: FastAPI) -> None:
    """Serve /openapi.json through an API route, so the app-wide guard covers it too: FastAPI
    adds it as a bare Starlette route, which app dependencies never see."""
    url = app.openapi_url
    plain = [r for r in app.router.routes
             if isinstance(r, Route) and not isinstance(r, APIRoute) and r.path == url]
    if not url or not plain:
        return
    original = plain[0].endpoint
    app.router.routes.remove(plain[0])

    async def openapi_document(request: Request) -> Response:
        response: Response = await original(request)
        return response

    app.add_api_route(url, openapi_document, methods=["GET"], include_in_schema=False,
                      response_model=None)
