"""Apply a workflow action to a case: scope, role, version, state, fields and time windows are
checked in that order, then one guarded UPDATE moves the case, the history gets its row and the
deadlines are met, stopped and opened as the machine table says (geo.workflow.machine).

Concurrency: the state change is `UPDATE … WHERE id = :id AND version = :version`; of two
requests holding the same version exactly one matches, the other gets 409 — never a lost update.
Everything runs in a savepoint, so a refused action leaves nothing behind.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from geo.access.scope import Scope
from geo.cases.read import get_case
from geo.errors import Conflict, Forbidden, NotFound
from geo.models import CaseTransition, PetitionCase
from geo.models.cases import EVALUATIONS
from geo.privacy.crypto import PersonalDataCipher
from geo.sql_files import sql
from geo.workflow import fields as check
from geo.workflow.calendar import HolidayCalendar
from geo.workflow.deadlines import RULES, Deadline, china_date, compute_deadline
from geo.workflow.fields import MAX_NAME, MAX_REASON, MAX_TEXT
from geo.workflow.machine import (
    ACTIONS,
    HANDLING_DUE,
    REDIRECT_REASONS,
    STATES,
    TERMINAL,
    UNIT_ROLES,
    Action,
    actions_from,
    is_general,
    target_state,
)
from geo.workflow.schedule import (
    default_calendar,
    ensure_registration_deadlines,
    meet_deadlines,
    open_deadlines,
    running_deadlines,
    stop_deadlines,
)


@dataclass(frozen=True)
class CaseState:
    """What the workflow needs to know about a case (read inside the caller's scope)."""

    id: int
    status: str
    version: int
    received_at: datetime
    restricted: bool
    routed_unit_id: int | None
    responsible_unit_id: int | None
    first_unit_id: int | None
    first_handler: str | None
    is_repeat: bool
    is_collective: bool
    extension_days: int | None
    evaluation: str | None = None

    @property
    def general(self) -> bool:
        """一般信访事项: gets the local 15-day target (machine.is_general)."""
        return is_general(self.is_collective, self.is_repeat, self.restricted)


def load_case_state(session: Session, scope: Scope, case_id: int) -> CaseState:
    """The case's workflow state, or NotFound when it does not exist or lies outside the scope."""
    row = session.execute(sql("load_case_state"), {**scope.params(), "id": case_id}).first()
    if row is None:
        raise NotFound(f"no case {case_id}")
    return CaseState(row.id, row.status, row.version, row.received_at, row.restricted,
                     row.routed_unit_id, row.responsible_unit_id, row.first_unit_id,
                     row.first_handler, row.is_repeat, row.is_collective, row.extension_days,
                     row.evaluation)


def clean_fields(session: Session, spec: Action, fields: Mapping[str, Any]) -> dict[str, Any]:
    """The action's fields checked one by one; InvalidInput names the first one at fault
    (an unknown field, a missing required one, a wrong value)."""
    given = {k: v for k, v in fields.items() if v is not None}
    for name in given:
        if name not in spec.fields():
            takes = ", ".join(spec.fields())
            raise check.bad(name, f"{spec.code} ({spec.label}) takes no field {name!r}; it takes: "
                       f"{takes}")
    for name in spec.required:
        if name not in given:
            raise check.bad(name, f"{spec.code} ({spec.label}) needs {name}")
    out: dict[str, Any] = {}
    for name, value in given.items():
        if name in ("unit", "responsible_unit"):
            out[name] = check.unit(session, value, name)
        elif name == "handlers":
            out[name] = check.handlers(value)
        elif name == "plan":
            out[name] = check.text(value, name, MAX_TEXT)
        elif name == "target_close_date":
            out[name] = check.day(value, name)
        elif name == "reason" and spec.code == "redirect":
            if value not in REDIRECT_REASONS:
                raise check.bad(name, f"reason must be one of {', '.join(REDIRECT_REASONS)}")
            out[name] = value
        elif name in ("reason", "note"):
            out[name] = check.text(value, name, MAX_REASON)
        elif name == "text":
            out[name] = check.text(value, name, MAX_TEXT)
        elif name == "days":
            out[name] = check.whole(value, name, 1, RULES["extension"].days)
        elif name == "into":
            out[name] = check.whole(value, name, 1)
        elif name == "leader":
            out[name] = check.text(value, name, MAX_NAME)
        elif name == "leader_staff_id":
            out[name] = check.staff(session, value, name)
        elif name == "evaluation":
            if value not in EVALUATIONS:
                raise check.bad(name, f"evaluation must be one of {', '.join(EVALUATIONS)}")
            out[name] = value
    return out


# -- checks -----------------------------------------------------------------------------------

def _check_role(scope: Scope, spec: Action) -> None:
    if scope.role not in spec.roles:
        raise Forbidden(f"role {scope.role} may not {spec.code} ({spec.label}); allowed: "
                        f"{', '.join(spec.roles)}")


def _check_state(case: CaseState, spec: Action) -> None:
    if case.status not in spec.from_states:
        allowed = ", ".join(actions_from(case.status)) or "none"
        starts = ", ".join(s for s in STATES if s in spec.from_states)
        raise Conflict(f"case {case.id} is {case.status} ({STATES[case.status]}): "
                       f"{spec.code} ({spec.label}) is allowed only from {starts}; "
                       f"allowed from {case.status}: {allowed}")


def _check_unit(scope: Scope, case: CaseState, spec: Action) -> None:
    if scope.role in UNIT_ROLES and case.routed_unit_id != scope.unit_id:
        raise Forbidden(f"only a handler of the unit the case is routed to may {spec.code} "
                        f"({spec.label}); case {case.id} is routed to unit "
                        f"{case.routed_unit_id}, you are of unit {scope.unit_id}")


def _check_window(spec: Action, running: Mapping[str, Any], today: date) -> None:
    if spec.window is None:
        return
    rule = RULES[spec.window]
    window = running.get(spec.window)
    if window is None:
        raise Conflict(f"{spec.code} ({spec.label}) needs an open {rule.label} window "
                       f"({rule.days} {'working ' if rule.working_days else ''}days); "
                       "there is none")
    if window.due_date < today:
        raise Conflict(f"the {rule.label} window ended on {window.due_date.isoformat()}: "
                       f"{spec.code} ({spec.label}) is no longer possible")


def _check_target(case: CaseState, target: date, handling: Deadline,
                  running: Mapping[str, Any], today: date) -> None:
    """四定: the target close date lies between today and the statutory handling limit, and —
    for general cases — the local 15-day target, while that target can still be met (one
    already missed is counted as local-overdue, not a reason to block acceptance)."""
    if target < today:
        raise check.bad("target_close_date", f"target_close_date {target.isoformat()} is before "
                   f"the acceptance date {today.isoformat()}")
    broken = []
    if target > handling.due:
        broken.append(f"the statutory handling limit {handling.due.isoformat()} "
                      f"({handling.days} days from acceptance)")
    local = running.get("local_close")
    if case.general and local is not None and local.due_date >= today \
            and target > local.due_date:
        broken.append(f"the local 15-day target {local.due_date.isoformat()} for general "
                      "cases (本地目标)")
    if broken:
        raise check.bad("target_close_date", f"target_close_date {target.isoformat()} is after "
                   + " and after ".join(broken))


# -- the transition ---------------------------------------------------------------------------

def _opens(spec: Action, running: Mapping[str, Any], values: Mapping[str, Any],
           now: datetime, calendar: HolidayCalendar) -> list[Deadline]:
    out = []
    for rule, counted_from in spec.opens:
        if counted_from == HANDLING_DUE:
            out.append(compute_deadline(running["handling"].due_date, rule, calendar,
                                        days=values.get("days")))
        else:
            out.append(compute_deadline(now, rule, calendar))
    return out


def _changes(spec: Action, scope: Scope, case: CaseState, values: Mapping[str, Any],
             now: datetime) -> dict[str, Any]:
    """The petition_case columns this action sets, besides status and version."""
    col = PetitionCase
    changes: dict[str, Any] = {}
    if spec.code == "assign":
        changes.update(routed_unit_id=values["unit"], assigned_at=now)
    elif spec.code == "accept":
        changes.update(responsible_unit_id=values["responsible_unit"],
                       handlers=values["handlers"], plan=values["plan"],
                       target_close_date=values["target_close_date"], accepted_at=now)
    elif spec.code == "merge":
        changes.update(merged_into_id=values["into"])
    elif spec.code == "extend":
        changes.update(extension_days=values["days"])
    elif spec.code == "reply":
        changes.update(replied_at=now)
    elif spec.code == "close":
        changes.update(closed_at=now)
        if "evaluation" in values:
            changes.update(evaluation=values["evaluation"], evaluated_at=now)
    elif spec.code == "reopen":
        changes.update(closed_at=None)
    elif spec.code == "lead":
        changes.update(leader=values["leader"], leader_staff_id=values.get("leader_staff_id"))
    elif spec.code == "evaluate":
        changes.update(evaluation=values["evaluation"], evaluated_at=now)
    # 首接首办: set once — COALESCE keeps a value already there (and a trigger refuses changes).
    if spec.fixes_first_unit:
        changes["first_unit_id"] = func.coalesce(col.first_unit_id, values["unit"])
    if scope.role in UNIT_ROLES and case.first_unit_id is not None \
            and scope.unit_id == case.first_unit_id:
        changes["first_handler"] = func.coalesce(col.first_handler, scope.username)
    return changes


def _record(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, date) else v)
            for k, v in values.items() if k != "note"}


def apply_transition(session: Session, scope: Scope, case_id: int, action: str, version: int,
                     fields: Mapping[str, Any], now: datetime | None = None,
                     calendar: HolidayCalendar | None = None, *,
                     cipher: PersonalDataCipher | None = None) -> dict[str, Any]:
    """Take `action` on a case at `version` with its fields; the updated case (as read back in
    the caller's scope, deadlines banded for `now`).

    404 outside the scope, 422 for an unknown action or a bad field (named), 403 for a role
    that may not take the action or a unit the case is not routed to, 409 for a stale version,
    a state that does not allow the action, or a closed time window. The caller commits.
    """
    now = now or datetime.now(UTC)
    calendar = calendar or default_calendar()
    today = china_date(now)
    with session.begin_nested():
        case = load_case_state(session, scope, case_id)
        spec = ACTIONS.get(action)
        if spec is None:
            raise check.bad("action", f"unknown action {action!r}; one of {', '.join(ACTIONS)}")
        _check_role(scope, spec)
        if version != case.version:
            raise Conflict(f"stale version {version}, current {case.version}: reload the case "
                           "and try again")
        _check_state(case, spec)
        _check_unit(scope, case, spec)
        values = clean_fields(session, spec, fields)
        running = running_deadlines(session, case_id)
        _check_window(spec, running, today)
        _check_action(session, scope, case, spec, values, running, now, today, calendar)
        opened = _opens(spec, running, values, now, calendar)
        to_state = target_state(spec, case.status)

        new_version = session.scalar(
            update(PetitionCase)
            .where(PetitionCase.id == case_id, PetitionCase.version == version)
            .values(status=to_state, version=PetitionCase.version + 1, updated_at=func.now(),
                    **_changes(spec, scope, case, values, now))
            .returning(PetitionCase.version)
            .execution_options(synchronize_session=False))
        if new_version is None:
            current = session.scalar(select(PetitionCase.version)
                                     .where(PetitionCase.id == case_id))
            raise Conflict(f"stale version {version}, current {current}: reload the case and "
                           "try again")
        session.execute(insert(CaseTransition).values(
            case_id=case_id, action=spec.code, from_status=case.status, to_status=to_state,
            actor=scope.username, role=scope.role, at=now, note=values.get("note"),
            data=_record(values), version_after=new_version))
        if case.status == "registered":
            # Leaving the registry: its routing limit (and the local target) go on file, met
            # or stopped below, even when no tick has opened them yet.
            ensure_registration_deadlines(session, calendar, [case_id], strict=True)
        meet_deadlines(session, case_id, spec.meets, now)
        stop_deadlines(session, case_id, spec.stops)
        open_deadlines(session, case_id, opened)
    try:
        return get_case(session, scope, case_id, cipher=cipher, today=today)
    except NotFound:
        # The action moved the case out of the caller's sight; say what happened, nothing more.
        return {"id": case_id, "status": to_state, "version": new_version,
                "note": "done; the case now lies outside your scope"}


def _check_action(session: Session, scope: Scope, case: CaseState, spec: Action,
                  values: Mapping[str, Any], running: Mapping[str, Any], now: datetime,
                  today: date, calendar: HolidayCalendar) -> None:
    """Rules of single actions beyond state, role and fields."""
    if spec.code == "accept":
        handling = compute_deadline(now, "handling", calendar)
        _check_target(case, values["target_close_date"], handling, running, today)
    elif spec.code == "extend":
        if case.extension_days is not None:
            raise Conflict(f"case {case.id} was already extended by {case.extension_days} "
                           "days; an extension (延期) is granted once")
        running_handling = running.get("handling")
        if running_handling is None:
            raise Conflict(f"case {case.id} has no running handling limit to extend")
        if running_handling.due_date < today:
            raise Conflict(f"the handling limit ended on "
                           f"{running_handling.due_date.isoformat()}: an extension must be "
                           "approved before it ends")
    elif "evaluation" in values and case.evaluation not in (None, "not_evaluated"):
        raise Conflict(f"case {case.id} already has the evaluation {case.evaluation}; only "
                       "not_evaluated may be replaced")
    elif spec.code == "merge":
        into = values["into"]
        if into == case.id:
            raise check.bad("into", "a case cannot be merged into itself")
        try:
            target = load_case_state(session, scope, into)
        except NotFound:
            raise check.bad("into", f"no case {into}") from None
        if target.status in TERMINAL:
            raise check.bad("into",
                            f"case {into} is {target.status}: merge only into an open case")
