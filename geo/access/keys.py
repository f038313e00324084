"""The two secrets gridmap needs: the token-signing key and the personal-data key.

Outside demo mode both must be configured (GRIDMAP_SECRET_KEY; GRIDMAP_DATA_KEY or
GRIDMAP_DATA_KEY_FILE) and well-known or short values are refused, so a real deployment can
never run on a default. In demo mode (`make run`) missing keys are generated once into the
git-ignored state directory (.local/, mode 0600) and reused.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from geo.errors import GridmapError
from geo.settings import SecuritySettings

# Values people paste from tutorials; never acceptable outside demo mode.
KNOWN_WEAK = {"", "secret", "changeme", "change-me", "dev", "development", "test", "gridmap",
              "please-change-me", "your-secret-key", "supersecret"}
MIN_SECRET_CHARS = 32


class KeyConfigError(GridmapError):
    """A key is missing, weak or malformed; the message says which setting to fix."""


@dataclass(frozen=True)
class Keys:
    """Resolved keys: the token secret (text) and the 32-byte data key."""

    secret_key: str
    data_key: bytes


def _state_file(settings: SecuritySettings, name: str, make: bool) -> str | None:
    path = settings.state_dir / name
    if path.exists():
        return path.read_text().strip()
    if not make:
        return None
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    value = base64.b64encode(secrets.token_bytes(32)).decode()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(value + "\n")
    return value


def _decode_data_key(value: str, where: str) -> bytes:
    try:
        key = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise KeyConfigError(f"{where} is not base64: {exc}") from exc
    if len(key) != 32:
        raise KeyConfigError(f"{where} must decode to 32 bytes (AES-256), not {len(key)}")
    return key


def resolve_keys(settings: SecuritySettings) -> Keys:
    """The keys to run with, or KeyConfigError naming the setting at fault."""
    secret = settings.secret_key
    if not secret and settings.demo:
        secret = _state_file(settings, "secret.key", make=True) or ""
    if secret.strip().lower() in KNOWN_WEAK or len(secret) < MIN_SECRET_CHARS:
        raise KeyConfigError(
            "GRIDMAP_SECRET_KEY is missing, well-known or shorter than "
            f"{MIN_SECRET_CHARS} characters; set a random one, e.g. "
            "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`")
    if settings.data_key:
        data_key = _decode_data_key(settings.data_key, "GRIDMAP_DATA_KEY")
    elif settings.data_key_file:
        path: Path = settings.data_key_file
        if not path.is_file():
            raise KeyConfigError(f"GRIDMAP_DATA_KEY_FILE {path} does not exist")
        data_key = _decode_data_key(path.read_text(), f"GRIDMAP_DATA_KEY_FILE {path}")
    elif settings.demo:
        data_key = _decode_data_key(_state_file(settings, "data.key", make=True) or "",
                                    "the demo data key")
    else:
        raise KeyConfigError("GRIDMAP_DATA_KEY (32 bytes, base64) or GRIDMAP_DATA_KEY_FILE is "
                             "required outside demo mode: it encrypts ID and phone numbers")
    return Keys(secret, data_key)
