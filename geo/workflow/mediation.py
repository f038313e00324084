"""三调联动: mediation records of a case — people's (人民调解), administrative (行政调解) and
judicial (司法调解) — with the outcome, the agreement date and the judicial confirmation window.

Rules (人民调解法 2010 and 信访工作条例 2022 Art. 31 on 调解 as a way to settle a matter):
- A mediation is recorded on an open case that is being handled (accepted, in progress or
  mediating) by the people working it: the unit it is routed to or responsible for, the
  community and street (调委会 sit there), the 信访局, admin.
- An agreement reached in people's or administrative mediation may be brought to a court for
  judicial confirmation (司法确认) within 30 days of taking effect (人民调解法 第三十三条): the
  window is stored on the mediation (confirmation_due) and as the case's
  `mediation_confirmation` deadline (a window: it lapses quietly, never 督办). A judicial
  mediation ends in the court's own 调解书, which needs no confirmation: no window.
- Confirmation is recorded by date, within the window; it meets the case's deadline.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import insert, update
from sqlalchemy.orm import Session

from geo.access.scope import Scope
from geo.errors import Conflict, Forbidden, NotFound
from geo.models import Mediation
from geo.models.coordination import MEDIATION_KINDS
from geo.sql_files import sql
from geo.workflow import fields as check
from geo.workflow.calendar import HolidayCalendar
from geo.workflow.deadlines import china_date, compute_deadline, warning_band
from geo.workflow.schedule import (
    default_calendar,
    meet_deadlines,
    open_deadlines,
    stop_deadlines,
)
from geo.workflow.transitions import CaseState, load_case_state

KIND_LABELS = {"people": "人民调解", "administrative": "行政调解", "judicial": "司法调解"}
NEEDS_CONFIRMATION = ("people", "administrative")
HANDLING_STATES = ("accepted", "in_progress", "mediating")
MAY_MEDIATE = ("unit_handler", "community", "street", "registrar", "admin")
RULE = "mediation_confirmation"


def _allowed(scope: Scope, case: CaseState) -> None:
    if scope.role not in MAY_MEDIATE:
        raise Forbidden(f"role {scope.role} may not record mediation (三调联动); allowed: "
                        f"{', '.join(MAY_MEDIATE)}")
    if scope.role == "unit_handler" and scope.unit_id not in (case.routed_unit_id,
                                                              case.responsible_unit_id):
        raise Forbidden("only the unit the case is routed to, or its responsible unit, may "
                        "record its mediation")


def mediation_dict(r: Any, today: date) -> dict[str, Any]:
    """One mediation as the API shows it."""
    window_open = r.confirmation_due is not None and r.confirmed_on is None
    return {
        "id": r.id, "case_id": r.case_id, "kind": r.kind, "kind_label": KIND_LABELS[r.kind],
        "organization": r.organization, "mediator": r.mediator,
        "started_on": r.started_on.isoformat(), "outcome": r.outcome,
        "agreement_date": r.agreement_date.isoformat() if r.agreement_date else None,
        "confirmation_due": r.confirmation_due.isoformat() if r.confirmation_due else None,
        "confirmation_band": (warning_band(r.confirmation_due, today)
                              if window_open and r.confirmation_due >= today else None),
        "confirmed_on": r.confirmed_on.isoformat() if r.confirmed_on else None,
        "note": r.note, "created_by": r.created_by, "created_at": r.created_at.isoformat(),
    }


def _load(session: Session, scope: Scope, mediation_id: int) -> Any:
    row = session.execute(sql("load_mediation"), {**scope.params(), "id": mediation_id}).first()
    if row is None:
        raise NotFound(f"no mediation {mediation_id}")
    return row


def list_mediations(session: Session, scope: Scope, case_id: int, today: date
                    ) -> list[dict[str, Any]]:
    """The mediations of a case in the caller's scope (404 outside it), oldest first."""
    load_case_state(session, scope, case_id)
    return [mediation_dict(r, today) for r in session.execute(
        sql("case_mediations"), {"case_id": case_id})]


def record_mediation(session: Session, scope: Scope, case_id: int, kind: str,
                     organization: str, mediator: str | None, started_on: date,
                     note: str | None = None, now: datetime | None = None) -> dict[str, Any]:
    """Open a mediation record (outcome pending) on a case being handled."""
    now = now or datetime.now(UTC)
    today = china_date(now)
    case = load_case_state(session, scope, case_id)
    _allowed(scope, case)
    if kind not in MEDIATION_KINDS:
        raise check.bad("kind", f"kind must be one of {', '.join(MEDIATION_KINDS)} "
                        f"({'、'.join(KIND_LABELS.values())})")
    if case.status not in HANDLING_STATES:
        raise Conflict(f"case {case_id} is {case.status}: mediation is recorded while the case "
                       f"is handled ({', '.join(HANDLING_STATES)})")
    if started_on > today:
        raise check.bad("started_on", f"started_on {started_on.isoformat()} is in the future")
    if started_on < china_date(case.received_at):
        raise check.bad("started_on", f"started_on {started_on.isoformat()} is before the case "
                        "was received")
    new_id = session.scalar(insert(Mediation).values(
        case_id=case_id, kind=kind, organization=check.text(organization, "organization", 200),
        mediator=None if mediator is None else check.text(mediator, "mediator", 50),
        started_on=started_on, note=None if note is None else check.text(note, "note", 1000),
        created_by=scope.username, created_at=now).returning(Mediation.id))
    return mediation_dict(_load(session, scope, int(new_id or 0)), today)


def conclude_mediation(session: Session, scope: Scope, mediation_id: int, outcome: str,
                       agreement_date: date | None, now: datetime | None = None,
                       calendar: HolidayCalendar | None = None) -> dict[str, Any]:
    """Record how a pending mediation ended; an agreement opens the confirmation window."""
    now = now or datetime.now(UTC)
    calendar = calendar or default_calendar()
    today = china_date(now)
    row = _load(session, scope, mediation_id)
    _allowed(scope, load_case_state(session, scope, row.case_id))
    if row.outcome != "pending":
        raise Conflict(f"mediation {mediation_id} already ended ({row.outcome})")
    if outcome not in ("agreement", "no_agreement"):
        raise check.bad("outcome", "outcome must be agreement or no_agreement")
    due = None
    if outcome == "agreement":
        if agreement_date is None:
            raise check.bad("agreement_date", "an agreement needs its agreement_date")
        if not row.started_on <= agreement_date <= today:
            raise check.bad("agreement_date", f"agreement_date {agreement_date.isoformat()} "
                            f"must lie between {row.started_on.isoformat()} and today")
        if row.kind in NEEDS_CONFIRMATION:
            deadline = compute_deadline(agreement_date, RULE, calendar)
            due = deadline.due
            stop_deadlines(session, row.case_id, [RULE])   # a later agreement supersedes
            open_deadlines(session, row.case_id, [deadline])
    elif agreement_date is not None:
        raise check.bad("agreement_date", "no_agreement takes no agreement_date")
    session.execute(update(Mediation).where(Mediation.id == mediation_id).values(
        outcome=outcome, agreement_date=agreement_date if outcome == "agreement" else None,
        confirmation_due=due).execution_options(synchronize_session=False))
    return mediation_dict(_load(session, scope, mediation_id), today)


def confirm_mediation(session: Session, scope: Scope, mediation_id: int, confirmed_on: date,
                      now: datetime | None = None) -> dict[str, Any]:
    """Record the judicial confirmation of an agreement, within its 30-day window."""
    now = now or datetime.now(UTC)
    today = china_date(now)
    row = _load(session, scope, mediation_id)
    _allowed(scope, load_case_state(session, scope, row.case_id))
    if row.confirmation_due is None:
        raise Conflict(f"mediation {mediation_id} has no agreement awaiting judicial "
                       "confirmation")
    if row.confirmed_on is not None:
        raise Conflict(f"mediation {mediation_id} was confirmed on "
                       f"{row.confirmed_on.isoformat()}")
    if not row.agreement_date <= confirmed_on <= today:
        raise check.bad("confirmed_on", f"confirmed_on {confirmed_on.isoformat()} must lie "
                        f"between the agreement date {row.agreement_date.isoformat()} and today")
    if confirmed_on > row.confirmation_due:
        raise Conflict(f"the judicial confirmation window ended on "
                       f"{row.confirmation_due.isoformat()} (人民调解法 第三十三条: 30 days)")
    session.execute(update(Mediation).where(Mediation.id == mediation_id).values(
        confirmed_on=confirmed_on).execution_options(synchronize_session=False))
    meet_deadlines(session, row.case_id, [RULE], now)
    return mediation_dict(_load(session, scope, mediation_id), today)


__all__ = ["confirm_mediation", "conclude_mediation", "list_mediations",
           "mediation_dict", "record_mediation"]
