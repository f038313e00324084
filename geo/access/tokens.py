"""Bearer tokens: HS256 JSON Web Tokens signed with the secret key, expiring after a while."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt

from geo.access.keys import Keys
from geo.errors import NotAuthenticated
from geo.models import AppUser

ALGORITHM = "HS256"
REQUIRED_CLAIMS = ("sub", "uid", "role", "iat", "exp", "jti")


def issue_token(user: AppUser, keys: Keys, minutes: int,
                now: datetime | None = None) -> tuple[str, int]:
    """A signed token for `user` valid `minutes` from now; returns (token, expires_in seconds)."""
    now = now or datetime.now(UTC)
    expires = now + timedelta(minutes=minutes)
    claims = {
        "sub": user.username,
        "uid": user.id,
        "role": user.role,
        "iat": int(now.timestamp()),
        "exp": int(expires.timestamp()),
        # A unique id per token, so one token can be named in logs (or revoked, one day).
        "jti": secrets.token_urlsafe(16),
    }
    return jwt.encode(claims, keys.secret_key, algorithm=ALGORITHM), minutes * 60


def verify_token(token: str, keys: Keys) -> dict[str, Any]:
    """The claims of a valid token; NotAuthenticated for an expired, forged or malformed one."""
    try:
        # The algorithm is pinned: a token may not choose it ("none", or RS256 with our key).
        claims: dict[str, Any] = jwt.decode(token, keys.secret_key, algorithms=[ALGORITHM],
                                            options={"require": list(REQUIRED_CLAIMS)})
    except jwt.ExpiredSignatureError as exc:
        raise NotAuthenticated("token expired: log in again") from exc
    except jwt.InvalidSignatureError as exc:
        raise NotAuthenticated("token signature is not valid") from exc
    except jwt.InvalidTokenError as exc:
        raise NotAuthenticated(f"malformed token: {exc}") from exc
    if not isinstance(claims["uid"], int) or not isinstance(claims["sub"], str):
        raise NotAuthenticated("malformed token: bad subject")
    return claims
