"""Checks of the values workflow actions and coordination records take (texts, whole numbers,
dates, units, staff): each returns the clean value or raises InvalidInput naming the field."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from geo.access.users import resolve_unit
from geo.errors import InvalidInput
from geo.models import Staff

MAX_TEXT = 5000
MAX_REASON = 1000
MAX_HANDLERS = 20
MAX_NAME = 50


def bad(field: str, message: str) -> InvalidInput:
    """A 422 naming a field of the request body."""
    return InvalidInput(field, message, where="body")


def text(value: Any, field: str, max_len: int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise bad(field, f"{field} must be a non-empty text")
    if len(value.strip()) > max_len:
        raise bad(field, f"{field} is longer than {max_len} characters")
    return value.strip()


def unit(session: Session, value: Any, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str) or str(value).strip() == "":
        raise bad(field, f"{field} must be a unit id or code")
    try:
        return resolve_unit(session, str(value).strip())
    except InvalidInput as exc:
        raise bad(field, exc.message) from None


def handlers(value: Any) -> list[str]:
    if not isinstance(value, list) or not value:
        raise bad("handlers", "handlers (定责任人) must list at least one person")
    if len(value) > MAX_HANDLERS:
        raise bad("handlers", f"at most {MAX_HANDLERS} handlers")
    return [text(v, "handlers", MAX_NAME) for v in value]


def staff(session: Session, value: Any, field: str) -> int:
    staff_id = whole(value, field, 1)
    if session.scalar(select(Staff.id).where(Staff.id == staff_id)) is None:
        raise bad(field, f"no staff member {staff_id}")
    return staff_id


def day(value: Any, field: str) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise bad(field, f"{field} must be a date (YYYY-MM-DD), got {value!r}") from None


def whole(value: Any, field: str, low: int, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise bad(field, f"{field} must be a whole number")
    if value < low or (high is not None and value > high):
        raise bad(field, f"{field} must be between {low} and {high}" if high is not None
                   else f"{field} must be at least {low}")
    return value
