"""Encryption at rest and keyed hashes of petitioners' ID and phone numbers (PIPL).

A value is stored as ``version (1 byte) || nonce (12 bytes) || AES-256-GCM ciphertext+tag``,
encrypted with the data key from `geo.access.keys.resolve_keys`. The version byte and the field
name ("id_number", "phone") are the associated data, so a phone ciphertext copied into the ID
column — or a blob of a future format — fails to decrypt instead of being read as the wrong
thing.

Beside each ciphertext a keyed hash, HMAC-SHA256 of the canonical value, lets repeat
petitioners be matched in SQL without decrypting anything. Each field has its own HMAC key,
derived from the data key with HKDF-SHA256 (info names the field), so hashes of one field can
never be compared with another's, and without the data key a hash cannot be brute-forced over
the small space of phone or ID numbers. Canonical values: an ID number as 18 characters with
upper-case X (old 15-digit ones converted), a phone number as digits only without +86.

Nothing here logs or puts a value into an exception message.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from typing import Literal

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from geo.access.keys import resolve_keys
from geo.errors import GridmapError
from geo.privacy.validate import normalize_id_number, normalize_phone, phone_digits
from geo.settings import SecuritySettings

Field = Literal["id_number", "phone"]
FIELDS: tuple[Field, ...] = ("id_number", "phone")
VERSION = 1
NONCE_BYTES = 12
# Fixed so the same data key always gives the same HMAC keys (hashes must stay comparable).
_HKDF_SALT = b"gridmap personal data v1"


class PersonalDataError(GridmapError):
    """Personal data could not be encrypted or decrypted, or no cipher was at hand."""


def canonical(value: str, field: Field) -> str:
    """The form a value is hashed in; ValueError when it is not a valid number of its field."""
    if field == "id_number":
        return normalize_id_number(value)
    if field == "phone":
        return phone_digits(normalize_phone(value))
    raise ValueError(f"unknown personal-data field {field!r}")


def _aad(field: str) -> bytes:
    if field not in FIELDS:
        raise ValueError(f"unknown personal-data field {field!r}")
    return bytes([VERSION]) + field.encode("ascii")


class PersonalDataCipher:
    """AES-256-GCM encryption and per-field HMAC-SHA256 hashes under one 32-byte data key."""

    __slots__ = ("_aead", "_hash_keys")

    def __init__(self, data_key: bytes) -> None:
        if len(data_key) != 32:
            raise PersonalDataError(f"the data key must be 32 bytes (AES-256), "
                                    f"not {len(data_key)}")
        self._aead = AESGCM(data_key)
        self._hash_keys = {
            f: HKDF(algorithm=hashes.SHA256(), length=32, salt=_HKDF_SALT,
                    info=b"gridmap keyed hash " + f.encode("ascii")).derive(data_key)
            for f in FIELDS}

    def __repr__(self) -> str:
        return "PersonalDataCipher(<key hidden>)"

    def encrypt(self, value: str, field: Field) -> bytes:
        """The stored form of `value` in column `field`: version, random nonce, ciphertext."""
        nonce = os.urandom(NONCE_BYTES)
        return (bytes([VERSION]) + nonce
                + self._aead.encrypt(nonce, value.encode("utf-8"), _aad(field)))

    def decrypt(self, blob: bytes, field: Field) -> str:
        """The plain value of a blob stored in column `field`; PersonalDataError when the blob
        is damaged, from another column, or under another key."""
        blob = bytes(blob)  # psycopg hands bytea back as memoryview
        if len(blob) < 1 + NONCE_BYTES + 16 or blob[0] != VERSION:
            raise PersonalDataError(f"a stored {field} is not in a known format")
        try:
            plain = self._aead.decrypt(blob[1:1 + NONCE_BYTES], blob[1 + NONCE_BYTES:],
                                       _aad(field))
        except InvalidTag:
            raise PersonalDataError(f"a stored {field} does not decrypt: wrong data key, or "
                                    "the value was altered or moved from another column"
                                    ) from None
        return plain.decode("utf-8")

    def keyed_hash(self, value: str, field: Field) -> bytes:
        """HMAC-SHA256 of the canonical value under the field's own key (32 bytes)."""
        return hmac.new(self._hash_keys[field], canonical(value, field).encode("ascii"),
                        hashlib.sha256).digest()

    def seal(self, value: str | None, field: Field) -> tuple[bytes | None, bytes | None]:
        """(ciphertext, keyed hash) of a value for its two columns; (None, None) for None."""
        if value is None:
            return None, None
        return self.encrypt(value, field), self.keyed_hash(value, field)


def cipher_from_settings(settings: SecuritySettings) -> PersonalDataCipher:
    """The cipher under the configured data key (KeyConfigError naming the setting at fault)."""
    return PersonalDataCipher(resolve_keys(settings).data_key)
