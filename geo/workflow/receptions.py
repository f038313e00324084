"""联合接访: one reception record — the petitioner met by several units at once (the district's
joint reception hall) — fanned out to those units, each with its own part of the matter, its
own due date and its own answer.

Local rules: a joint reception involves at least two different units; it is recorded by the
信访局 or a commander, optionally linked to the case it belongs to (which must be in their
scope); a part's due date is given, or else 15 days from the reception counted like the
acceptance notice (信访工作条例 Art. 32), and never before the reception; each unit answers its
own part (unit_handler of that unit, or admin). District-wide roles see every reception, a unit
handler the receptions with a part for their unit, area roles those whose case lies in their
area.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import insert, update
from sqlalchemy.orm import Session

from geo.access.scope import Scope
from geo.errors import Conflict, Forbidden, NotFound
from geo.models import JointReception, JointReceptionPart
from geo.sql_files import sql
from geo.workflow import fields as check
from geo.workflow.calendar import HolidayCalendar
from geo.workflow.deadlines import china_date, compute_deadline, warning_band
from geo.workflow.schedule import default_calendar
from geo.workflow.transitions import load_case_state

MAY_RECEIVE = ("registrar", "commander", "admin")
MAY_ANSWER = ("unit_handler", "admin")
MAX_PARTS = 20


@dataclass(frozen=True)
class PartIn:
    """One unit's part as asked for: the unit (id or code), what it is to do, optional due."""

    unit: int | str
    part: str
    due_date: date | None = None


def _iso(value: date | datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _reception(session: Session, scope: Scope, reception_id: int, today: date
               ) -> dict[str, Any]:
    head = session.execute(sql("joint_receptions"), {**scope.params(),
                                                    "reception_id": reception_id,
                                                    "open_only": False}).first()
    if head is None:
        raise NotFound(f"no joint reception {reception_id}")
    parts = session.execute(sql("joint_reception_parts"), {"ids": [reception_id]}).all()
    return reception_dict(head, parts, today)


def reception_dict(head: Any, parts: Sequence[Any], today: date) -> dict[str, Any]:
    """A reception with its parts as the API shows them (a band on each open part)."""
    return {
        "id": head.id, "case_id": head.case_id, "received_at": head.received_at.isoformat(),
        "place": head.place, "persons_count": head.persons_count, "note": head.note,
        "created_by": head.created_by,
        "parts": [{"id": p.id, "unit": {"id": p.unit_id, "name": p.unit_name}, "part": p.part,
                   "due_date": p.due_date.isoformat(), "status": p.status,
                   "band": warning_band(p.due_date, today) if p.status == "open" else None,
                   "response": p.response, "done_by": p.done_by, "done_at": _iso(p.done_at)}
                  for p in parts if p.reception_id == head.id],
    }


def list_receptions(session: Session, scope: Scope, today: date, open_only: bool = False
                    ) -> list[dict[str, Any]]:
    """The receptions the caller may see, newest first (open_only: with an unanswered part)."""
    heads = session.execute(sql("joint_receptions"), {**scope.params(), "reception_id": None,
                                                     "open_only": open_only}).all()
    parts = session.execute(sql("joint_reception_parts"),
                            {"ids": [h.id for h in heads]}).all() if heads else []
    return [reception_dict(h, parts, today) for h in heads]


def get_reception(session: Session, scope: Scope, reception_id: int, today: date
                  ) -> dict[str, Any]:
    """One reception in the caller's scope (404 outside it)."""
    return _reception(session, scope, reception_id, today)


def create_reception(session: Session, scope: Scope, *, received_at: datetime, place: str,
                     parts: Sequence[PartIn], case_id: int | None = None,
                     persons_count: int = 1, note: str | None = None,
                     now: datetime | None = None, calendar: HolidayCalendar | None = None
                     ) -> dict[str, Any]:
    """Record a joint reception and fan it out: one part per unit."""
    now = now or datetime.now(UTC)
    calendar = calendar or default_calendar()
    if scope.role not in MAY_RECEIVE:
        raise Forbidden(f"role {scope.role} may not record a joint reception (联合接访); "
                        f"allowed: {', '.join(MAY_RECEIVE)}")
    if received_at > now:
        raise check.bad("received_at", "received_at is in the future")
    if case_id is not None:
        try:
            load_case_state(session, scope, case_id)
        except NotFound:
            raise check.bad("case_id", f"no case {case_id}") from None
    if not 2 <= len(parts) <= MAX_PARTS:
        raise check.bad("parts", f"a joint reception fans out to 2–{MAX_PARTS} units, got "
                        f"{len(parts)}")
    day = china_date(received_at)
    rows, seen = [], set()
    for i, p in enumerate(parts):
        unit_id = check.unit(session, p.unit, f"parts.{i}.unit")
        if unit_id in seen:
            raise check.bad(f"parts.{i}.unit", f"unit {p.unit} appears twice: one part per "
                            "unit")
        seen.add(unit_id)
        due = p.due_date or compute_deadline(day, "acceptance_notice", calendar).due
        if due <= day:
            raise check.bad(f"parts.{i}.due_date", f"due_date {due.isoformat()} is not after "
                            f"the reception day {day.isoformat()}")
        rows.append({"unit_id": unit_id, "part": check.text(p.part, f"parts.{i}.part", 2000),
                     "due_date": due})
    new_id = session.scalar(insert(JointReception).values(
        case_id=case_id, received_at=received_at, place=check.text(place, "place", 200),
        persons_count=check.whole(persons_count, "persons_count", 1),
        note=None if note is None else check.text(note, "note", 1000),
        created_by=scope.username, created_at=now).returning(JointReception.id))
    session.execute(insert(JointReceptionPart), [{**r, "reception_id": new_id} for r in rows])
    return _reception(session, scope, int(new_id or 0), china_date(now))


def answer_part(session: Session, scope: Scope, part_id: int, response: str,
                now: datetime | None = None) -> dict[str, Any]:
    """The unit answers its part of a reception (open → done)."""
    now = now or datetime.now(UTC)
    row = session.execute(sql("load_reception_part"), {**scope.params(), "id": part_id}).first()
    if row is None:
        raise NotFound(f"no joint reception part {part_id}")
    if scope.role not in MAY_ANSWER:
        raise Forbidden(f"role {scope.role} may not answer a joint reception part; allowed: "
                        f"{', '.join(MAY_ANSWER)}")
    if scope.role == "unit_handler" and scope.unit_id != row.unit_id:
        raise Forbidden("only a handler of the part's own unit may answer it")
    if row.status == "done":
        raise Conflict(f"part {part_id} was answered on {row.done_at.isoformat()}")
    session.execute(update(JointReceptionPart).where(JointReceptionPart.id == part_id).values(
        status="done", response=check.text(response, "response", 5000), done_by=scope.username,
        done_at=now).execution_options(synchronize_session=False))
    return _reception(session, scope, row.reception_id, china_date(now))
