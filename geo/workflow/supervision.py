"""督办 (supervision): opened automatically when a running obligation goes overdue (`tick`, safe
to run every minute) and by hand by the 信访局 or a commander; the unit answers with feedback by
the feedback due date; accepting the feedback closes it.

Local rules (DESIGN.md gives none): feedback is due 5 working days after opening; each overdue
deadline is supervised once (accepting the feedback ends it, a new deadline such as an extension
gets its own); at most one open supervision per case and reason — so one open manual 督办.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from geo.access.scope import Scope
from geo.errors import Conflict, Forbidden, InvalidInput, NotFound
from geo.models import Supervision
from geo.sql_files import sql
from geo.workflow.calendar import HolidayCalendar
from geo.workflow.deadlines import china_date
from geo.workflow.machine import OBLIGATION_RULES, TERMINAL, WINDOW_RULES
from geo.workflow.read import supervision_dict
from geo.workflow.schedule import default_calendar, ensure_registration_deadlines
from geo.workflow.transitions import load_case_state

FEEDBACK_WORKING_DAYS = 5
MAY_SUPERVISE = ("registrar", "commander", "admin")
MAY_ANSWER = ("unit_handler", "admin")
SYSTEM = "system"
MAX_TEXT = 5000


def feedback_due(opened: date, calendar: HolidayCalendar,
                 days: int = FEEDBACK_WORKING_DAYS) -> date:
    """When the unit's feedback on a supervision opened on `opened` is due."""
    return calendar.add_working_days(opened, days)


def tick(session: Session, now: datetime | None = None,
         calendar: HolidayCalendar | None = None) -> dict[str, Any]:
    """One pass of the workflow clock: registration deadlines for new cases, unused windows
    lapsed, and a 督办 for every overdue obligation that never had one. Idempotent; the
    caller commits."""
    now = now or datetime.now(UTC)
    calendar = calendar or default_calendar()
    today = china_date(now)
    registered = ensure_registration_deadlines(session, calendar)
    lapsed = session.execute(sql("lapse_windows"),
                             {"today": today, "rules": sorted(WINDOW_RULES)})
    opened = list(session.scalars(sql("open_overdue_supervisions"), {
        "today": today, "now": now, "rules": list(OBLIGATION_RULES), "opened_by": SYSTEM,
        "feedback_due": feedback_due(today, calendar)}))
    return {"today": today.isoformat(), "registration_deadlines": registered.opened,
            "windows_lapsed": int(getattr(lapsed, "rowcount", 0) or 0),
            "supervisions_opened": len(opened), "supervision_ids": opened,
            "skipped_cases": registered.skipped_cases,
            "missing_calendar_years": sorted(registered.missing_years)}


def _load(session: Session, scope: Scope, supervision_id: int) -> Any:
    row = session.execute(sql("load_supervision"),
                          {**scope.params(), "id": supervision_id}).first()
    if row is None:
        raise NotFound(f"no supervision {supervision_id}")
    return row


def _text(value: str | None, field: str) -> str:
    if value is None or not value.strip():
        raise InvalidInput(field, f"{field} must be a non-empty text", where="body")
    if len(value.strip()) > MAX_TEXT:
        raise InvalidInput(field, f"{field} is longer than {MAX_TEXT} characters", where="body")
    return value.strip()


def open_supervision(session: Session, scope: Scope, case_id: int, note: str | None,
                     now: datetime | None = None, calendar: HolidayCalendar | None = None
                     ) -> dict[str, Any]:
    """A manual 督办 of an open case by registrar or commander; 409 when one is already open."""
    now = now or datetime.now(UTC)
    calendar = calendar or default_calendar()
    # 404 outside the scope first, so the role check can't reveal that the case exists.
    case = load_case_state(session, scope, case_id)
    if scope.role not in MAY_SUPERVISE:
        raise Forbidden(f"role {scope.role} may not open a 督办; allowed: "
                        f"{', '.join(MAY_SUPERVISE)}")
    text = _text(note, "note")
    if case.status in TERMINAL:
        raise Conflict(f"case {case_id} is {case.status}: 督办 is for open cases")
    new_id = session.scalar(insert(Supervision).values(
        case_id=case_id, reason="manual", note=text, opened_by=scope.username, opened_at=now,
        feedback_due=feedback_due(china_date(now), calendar),
    ).on_conflict_do_nothing(index_elements=["case_id", "reason"],
                             index_where=Supervision.closed_at.is_(None))
        .returning(Supervision.id))
    if new_id is None:
        open_id = session.scalar(select(Supervision.id).where(
            Supervision.case_id == case_id, Supervision.reason == "manual",
            Supervision.closed_at.is_(None)))
        raise Conflict(f"case {case_id} already has an open manual 督办 ({open_id}): give or "
                       "accept its feedback first")
    return supervision_dict(_load(session, scope, new_id), china_date(now))


def give_feedback(session: Session, scope: Scope, supervision_id: int, feedback: str | None,
                  now: datetime | None = None) -> dict[str, Any]:
    """The unit's answer to a 督办 (it may be amended until accepted)."""
    now = now or datetime.now(UTC)
    row = _load(session, scope, supervision_id)
    if scope.role not in MAY_ANSWER:
        raise Forbidden(f"role {scope.role} may not answer a 督办; allowed: "
                        f"{', '.join(MAY_ANSWER)}")
    if scope.role == "unit_handler" and scope.unit_id not in (row.routed_unit_id,
                                                              row.responsible_unit_id):
        raise Forbidden("only the unit the case is routed to, or its responsible unit, may "
                        "answer its 督办")
    text = _text(feedback, "feedback")
    if row.closed_at is not None:
        raise Conflict(f"supervision {supervision_id} is closed")
    session.execute(update(Supervision).where(Supervision.id == supervision_id).values(
        feedback=text, feedback_by=scope.username, feedback_at=now)
        .execution_options(synchronize_session=False))
    return supervision_dict(_load(session, scope, supervision_id), china_date(now))


def accept_feedback(session: Session, scope: Scope, supervision_id: int,
                    now: datetime | None = None) -> dict[str, Any]:
    """Accept the unit's feedback; this closes the 督办."""
    now = now or datetime.now(UTC)
    row = _load(session, scope, supervision_id)
    if scope.role not in MAY_SUPERVISE:
        raise Forbidden(f"role {scope.role} may not accept 督办 feedback; allowed: "
                        f"{', '.join(MAY_SUPERVISE)}")
    if row.closed_at is not None:
        raise Conflict(f"supervision {supervision_id} is already closed")
    if row.feedback_at is None:
        raise Conflict(f"supervision {supervision_id} has no feedback yet (due "
                       f"{row.feedback_due.isoformat()})")
    session.execute(update(Supervision).where(Supervision.id == supervision_id).values(
        accepted_by=scope.username, accepted_at=now, closed_at=now)
        .execution_options(synchronize_session=False))
    return supervision_dict(_load(session, scope, supervision_id), china_date(now))
