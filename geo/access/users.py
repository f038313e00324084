"""Users: create (role and scope checked against the data), list, disable, and log in with
throttling of repeated failures."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from geo.access import passwords
from geo.access.scope import Scope, scope_for
from geo.errors import InvalidInput, NotAuthenticated, NotFound, TooManyAttempts
from geo.models import ROLES, AppUser, Area, BoundaryGeneration, GridCell, Unit
from geo.settings import SecuritySettings

USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{1,63}$")
# One message for an unknown user, a wrong password and a disabled account: a login form must
# not tell an attacker which usernames exist.
BAD_CREDENTIALS = "wrong username or password"
# Lock time after the allowed failures: 30 s, doubling with each further failure, at most 15 min.
LOCK_BASE_S = 30
LOCK_MAX_S = 15 * 60

# The CLI flag of each scope argument, for messages.
_FLAGS = {"grid_codes": "--grid", "community_code": "--community", "street_code": "--street",
          "unit_id": "--unit"}
# The scope argument each scoped role needs; the other roles take none.
_NEEDS = {"grid_worker": "grid_codes", "grid_leader": "grid_codes",
          "community": "community_code", "street": "street_code", "unit_handler": "unit_id"}


def _active_grid_codes(session: Session, codes: Sequence[str]) -> set[str]:
    return set(session.scalars(
        select(GridCell.code)
        .join(BoundaryGeneration, (BoundaryGeneration.id == GridCell.generation_id)
              & BoundaryGeneration.is_active & (BoundaryGeneration.level == "grid"))
        .where(GridCell.code.in_(list(codes)))))


def _active_area_name(session: Session, level: str, code: str) -> str | None:
    name: str | None = session.scalar(
        select(Area.name)
        .join(BoundaryGeneration, (BoundaryGeneration.id == Area.generation_id)
              & BoundaryGeneration.is_active)
        .where(Area.level == level, Area.code == code))
    return name


def _check_scope(session: Session, role: str, grid_codes: tuple[str, ...],
                 community_code: str | None, street_code: str | None,
                 unit_id: int | None) -> None:
    given = {"grid_codes": bool(grid_codes), "community_code": community_code is not None,
             "street_code": street_code is not None, "unit_id": unit_id is not None}
    needed = _NEEDS.get(role)
    for arg, present in given.items():
        if present and arg != needed:
            field = _FLAGS[arg].lstrip("-")
            owners = sorted(r for r, a in _NEEDS.items() if a == arg)
            raise InvalidInput(field, f"{_FLAGS[arg]} is only for the role "
                               f"{' / '.join(owners)}, not {role}")
    if needed is None:
        return
    if not given[needed]:
        raise InvalidInput(_FLAGS[needed].lstrip("-"),
                           f"role {role} needs {_FLAGS[needed]} (the scope it may see)")
    if needed == "grid_codes":
        bad = [c for c in grid_codes if not re.fullmatch(r"\d{15}", c)]
        if bad:
            raise InvalidInput("grid", f"{bad[0]!r} is not a 15-digit grid code")
        missing = [c for c in grid_codes if c not in _active_grid_codes(session, grid_codes)]
        if missing:
            raise InvalidInput("grid", f"no active grid {', '.join(missing)}")
    elif needed in ("community_code", "street_code"):
        level = "community" if needed == "community_code" else "street"
        code = community_code if level == "community" else street_code
        label = "社区" if level == "community" else "街道"
        if not (code and re.fullmatch(r"\d{12}", code)):
            raise InvalidInput(level, f"{code!r} is not a 12-digit {label} code")
        if _active_area_name(session, level, code) is None:
            raise InvalidInput(level, f"no active {label} {code}")
    elif session.get(Unit, unit_id) is None:
        raise InvalidInput("unit", f"no unit with id {unit_id}")


def resolve_unit(session: Session, value: str) -> int:
    """A unit's id from its id or its code (e.g. `zs-zjj` or a 社区 code); InvalidInput("unit")."""
    unit_id = session.scalar(select(Unit.id).where(Unit.code == value))
    if unit_id is None and value.isdigit():
        unit_id = session.scalar(select(Unit.id).where(Unit.id == int(value)))
    if unit_id is None:
        raise InvalidInput("unit", f"no unit with id or code {value!r}")
    return int(unit_id)


def create_user(session: Session, username: str, role: str, password: str | None = None,
                grid_codes: Sequence[str] = (), community_code: str | None = None,
                street_code: str | None = None, unit_id: int | None = None,
                display_name: str | None = None, staff_id: int | None = None
                ) -> tuple[AppUser, str]:
    """Add a user after checking the role, its scope and the password; returns the user and
    the password (generated when none was given — show it once, it is not stored)."""
    if not USERNAME.fullmatch(username):
        raise InvalidInput("username", f"{username!r}: 2-64 characters, letters, digits and "
                           "_ . @ -, starting with a letter or digit")
    if role not in ROLES:
        raise InvalidInput("role", f"unknown role {role!r}; one of {', '.join(ROLES)}")
    codes = tuple(dict.fromkeys(c.strip() for c in grid_codes))  # order kept, duplicates gone
    _check_scope(session, role, codes, community_code, street_code, unit_id)
    if password is None:
        password = passwords.generate_password()
    else:
        passwords.check_password_policy(password, username)
    if session.scalar(select(AppUser.id).where(AppUser.username == username)) is not None:
        raise InvalidInput("username", f"user {username!r} already exists")
    user = AppUser(username=username, display_name=display_name, role=role,
                   password_hash=passwords.hash_password(password), grid_codes=list(codes),
                   community_code=community_code, street_code=street_code, unit_id=unit_id,
                   staff_id=staff_id, disabled=False, failed_logins=0)
    session.add(user)
    session.flush()
    return user, password


def list_users(session: Session) -> list[AppUser]:
    """Every user, by username."""
    return list(session.scalars(select(AppUser).order_by(AppUser.username)))


def get_user(session: Session, username: str) -> AppUser:
    """The user called `username`, or NotFound."""
    user = session.scalar(select(AppUser).where(AppUser.username == username))
    if user is None:
        raise NotFound(f"no user {username!r}")
    return user


def disable_user(session: Session, username: str) -> AppUser:
    """Disable a user: no more logins, and their tokens stop working at the next request."""
    user = get_user(session, username)
    user.disabled = True
    session.flush()
    return user


def lock_seconds(failures: int, max_failed: int) -> int:
    """How long a user is locked after `failures` consecutive failed logins (0: not locked)."""
    if failures < max_failed:
        return 0
    # A capped shift: 30 << 1000 would be a huge int long before min() clips it.
    doublings: int = min(failures - max_failed, 16)
    return min(LOCK_BASE_S << doublings, LOCK_MAX_S)


def authenticate(session: Session, username: str, password: str,
                 settings: SecuritySettings, now: datetime | None = None) -> AppUser:
    """The user whose password this is; NotAuthenticated (the same for an unknown user, a wrong
    password or a disabled account) or TooManyAttempts while the user is locked. Flushes the
    failure counter: the caller commits whether or not this raises."""
    now = now or datetime.now(UTC)
    # FOR UPDATE: two parallel guesses must both count.
    user = session.scalar(select(AppUser).where(AppUser.username == username)
                          .with_for_update())
    if user is None:
        passwords.burn_verification(password)
        raise NotAuthenticated(BAD_CREDENTIALS)
    if user.locked_until is not None and user.locked_until > now:
        # Fail fast without looking at the password: guessing on goes nowhere while locked.
        raise TooManyAttempts(max(1, math.ceil((user.locked_until - now).total_seconds())))
    if not passwords.verify_password(user.password_hash, password):
        user.failed_logins += 1
        wait = lock_seconds(user.failed_logins, settings.max_failed_logins)
        user.locked_until = now + timedelta(seconds=wait) if wait else None
        session.flush()
        if wait:
            raise TooManyAttempts(wait)
        raise NotAuthenticated(BAD_CREDENTIALS)
    if user.disabled:
        raise NotAuthenticated(BAD_CREDENTIALS)
    user.failed_logins = 0
    user.locked_until = None
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    session.flush()
    return user


def user_scope(user: AppUser) -> Scope:
    """What `user` may see, for binding into scoped SQL."""
    return scope_for(user.username, user.role, tuple(user.grid_codes or ()),
                     user.community_code, user.street_code, user.unit_id)
