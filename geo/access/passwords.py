"""Password hashes (argon2id), the policy for passwords set by hand, and generated passwords."""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from argon2.profiles import RFC_9106_LOW_MEMORY

from geo.errors import InvalidInput

# RFC 9106's second recommended profile (argon2id, t=3, 64 MiB, p=4): about 0.1 s per hash on
# an office server, slow enough that a stolen table is expensive to crack. Tests swap HASHER
# for argon2's CHEAPEST profile; everything here reads HASHER at call time for that reason.
PARAMETERS = RFC_9106_LOW_MEMORY
HASHER = PasswordHasher.from_parameters(PARAMETERS)

MIN_LENGTH = 10
# argon2 takes any length, but a megabyte "password" is a cheap way to make us hash a lot.
MAX_LENGTH = 256
# No 0/O, 1/l/I: generated passwords are read off a terminal and typed on a phone.
_ALPHABET = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
GENERATED_LENGTH = 16  # 16 of 57 symbols ≈ 93 bits

_dummy_hashes: dict[int, str] = {}


def hash_password(password: str) -> str:
    """The argon2id hash of `password` (salted; a PHC string with its parameters)."""
    return HASHER.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether `password` matches `password_hash`; False for a mismatch or a damaged hash."""
    try:
        return HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Whether the hash was made with other parameters than today's (rehash after login)."""
    try:
        return HASHER.check_needs_rehash(password_hash)
    except (InvalidHashError, ValueError):
        return True


def burn_verification(password: str) -> None:
    """Spend what a real verification costs, for logins without a (usable) account, so the
    response time does not tell which usernames exist."""
    key = id(HASHER)
    if key not in _dummy_hashes:
        _dummy_hashes[key] = HASHER.hash(secrets.token_urlsafe(16))
    verify_password(_dummy_hashes[key], password)


def generate_password() -> str:
    """A random password that passes the policy (about 93 bits)."""
    while True:
        candidate = "".join(secrets.choice(_ALPHABET) for _ in range(GENERATED_LENGTH))
        # Mixed classes so that a site rule like "letters and digits" never rejects it.
        if (any(c.isdigit() for c in candidate) and any(c.islower() for c in candidate)
                and any(c.isupper() for c in candidate)):
            return candidate


def check_password_policy(password: str, username: str | None = None) -> None:
    """Refuse a password set by hand that is short, overlong, the username or one repeated
    character; InvalidInput("password", ...) says which."""
    if len(password) < MIN_LENGTH:
        raise InvalidInput("password", f"a password needs at least {MIN_LENGTH} characters "
                           f"(got {len(password)})")
    if len(password) > MAX_LENGTH:
        raise InvalidInput("password", f"a password may have at most {MAX_LENGTH} characters")
    if password != password.strip():
        raise InvalidInput("password", "a password may not start or end with whitespace")
    if len(set(password)) < 4:
        raise InvalidInput("password", "a password needs at least 4 different characters")
    if username and username.lower() in password.lower():
        raise InvalidInput("password", "a password may not contain the username")
