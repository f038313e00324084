"""Read the workflow side of cases: deadlines with their warning band for a day (statutory and
local apart), supervisions (督办) and the transition history. The caller checks the scope."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.orm import Session

from geo.sql_files import sql
from geo.workflow.deadlines import RULES, china_date, warning_band
from geo.workflow.machine import STATES, WINDOW_RULES


def china_today(now: datetime | None = None) -> date:
    """Today in China (or the China day of `now`)."""
    return china_date(now or datetime.now(UTC))


def _iso(value: date | datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def deadline_dict(r: Any, today: date) -> dict[str, Any]:
    """One stored deadline as the API shows it; `band` only while it runs."""
    rule = RULES.get(r.rule)
    return {
        "id": r.id, "rule": r.rule, "label": rule.label if rule else r.rule,
        "kind": "window" if r.rule in WINDOW_RULES else "obligation",
        "start_date": r.start_date.isoformat(), "due_date": r.due_date.isoformat(),
        "days": r.days, "working_days": r.working_days, "basis": r.basis,
        "statutory": r.statutory, "active": r.active, "met_at": _iso(r.met_at),
        "band": warning_band(r.due_date, today) if r.active else None,
    }


def case_deadlines(session: Session, case_ids: Sequence[int], today: date
                   ) -> dict[int, dict[str, Any]]:
    """Per case: {"statutory": [...], "local": [...]} deadlines and {"statutory", "local"}
    overdue flags (a running obligation past its due date; windows never make a case overdue)."""
    out: dict[int, dict[str, Any]] = {
        i: {"deadlines": {"statutory": [], "local": []},
            "overdue": {"statutory": False, "local": False}} for i in case_ids}
    if not case_ids:
        return out
    for r in session.execute(sql("case_deadlines"), {"ids": list(case_ids)}):
        side = "statutory" if r.statutory else "local"
        out[r.case_id]["deadlines"][side].append(deadline_dict(r, today))
        if r.active and r.rule not in WINDOW_RULES and r.due_date < today:
            out[r.case_id]["overdue"][side] = True
    return out


def supervision_dict(r: Any, today: date) -> dict[str, Any]:
    """One supervision as the API shows it: open → answered (feedback given) → closed."""
    status = "closed" if r.closed_at else ("answered" if r.feedback_at else "open")
    return {
        "id": r.id, "case_id": r.case_id, "reason": r.reason, "deadline_id": r.deadline_id,
        "note": r.note, "status": status, "opened_by": r.opened_by,
        "opened_at": _iso(r.opened_at), "feedback_due": r.feedback_due.isoformat(),
        "band": warning_band(r.feedback_due, today) if status == "open" else None,
        "feedback": r.feedback, "feedback_by": r.feedback_by, "feedback_at": _iso(r.feedback_at),
        "accepted_by": r.accepted_by, "accepted_at": _iso(r.accepted_at),
        "closed_at": _iso(r.closed_at),
    }


def case_supervisions(session: Session, case_ids: Sequence[int], today: date
                      ) -> dict[int, list[dict[str, Any]]]:
    """The supervisions of these cases, by case id, oldest first."""
    out: dict[int, list[dict[str, Any]]] = {i: [] for i in case_ids}
    if case_ids:
        for r in session.execute(sql("case_supervisions"), {"ids": list(case_ids)}):
            out[r.case_id].append(supervision_dict(r, today))
    return out


def case_history(session: Session, case_id: int) -> list[dict[str, Any]]:
    """Every transition of a case, in order (the caller has checked the scope)."""
    return [{"id": r.id, "action": r.action, "from_status": r.from_status,
             "to_status": r.to_status, "to_label": STATES.get(r.to_status),
             "actor": r.actor, "role": r.role, "at": r.at.isoformat(), "note": r.note,
             "data": r.data, "version_after": r.version_after}
            for r in session.execute(sql("case_history"), {"case_id": case_id})]
