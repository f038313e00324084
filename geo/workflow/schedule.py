"""Stored deadlines of cases: open them from their rules, meet them, stop them, and give newly
registered cases their registration deadlines (routing; the local 15-day target when general).

Registration deadlines are opened by the workflow tick (and by `assign`, for its case), not at
intake: intake must never fail on the holiday calendar, and a case registered late in a year
needs the next year's notice to compute its limits.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache

from sqlalchemy import insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from geo.models import CaseDeadline
from geo.sql_files import sql
from geo.workflow.calendar import CalendarYearMissing, HolidayCalendar
from geo.workflow.deadlines import Deadline, compute_deadline
from geo.workflow.machine import is_general


@cache
def default_calendar() -> HolidayCalendar:
    """The packaged holiday calendar, read once per process."""
    return HolidayCalendar.load()


def deadline_row(case_id: int, d: Deadline) -> dict[str, object]:
    """The case_deadline row of a computed deadline (rule, basis and counting kept)."""
    return {"case_id": case_id, "rule": d.rule, "start_date": d.start, "due_date": d.due,
            "days": d.days, "working_days": d.working_days, "basis": d.basis,
            "statutory": d.statutory}


def open_deadlines(session: Session, case_id: int, deadlines: Sequence[Deadline]) -> None:
    """Store running deadlines of a case (one running deadline per rule: a second is a bug and
    fails on the unique index)."""
    if deadlines:
        session.execute(insert(CaseDeadline), [deadline_row(case_id, d) for d in deadlines])


def meet_deadlines(session: Session, case_id: int, rules: Iterable[str], now: datetime) -> int:
    """Mark the running deadlines of these rules met now; how many were."""
    rules = list(rules)
    if not rules:
        return 0
    result = session.execute(
        update(CaseDeadline)
        .where(CaseDeadline.case_id == case_id, CaseDeadline.active,
               CaseDeadline.rule.in_(rules))
        .values(active=False, met_at=now)
        .execution_options(synchronize_session=False))
    return int(getattr(result, "rowcount", 0) or 0)


def stop_deadlines(session: Session, case_id: int, rules: Iterable[str]) -> int:
    """Stop the running deadlines of these rules without meeting them; how many were."""
    rules = list(rules)
    if not rules:
        return 0
    result = session.execute(
        update(CaseDeadline)
        .where(CaseDeadline.case_id == case_id, CaseDeadline.active,
               CaseDeadline.rule.in_(rules))
        .values(active=False)
        .execution_options(synchronize_session=False))
    return int(getattr(result, "rowcount", 0) or 0)


def running_deadlines(session: Session, case_id: int) -> dict[str, CaseDeadline]:
    """The running deadlines of a case, by rule."""
    rows = session.scalars(select(CaseDeadline).where(CaseDeadline.case_id == case_id,
                                                      CaseDeadline.active))
    return {d.rule: d for d in rows}


@dataclass
class RegistrationReport:
    """What `ensure_registration_deadlines` did."""

    opened: int = 0
    missing_years: set[int] = field(default_factory=set)
    skipped_cases: int = 0


def ensure_registration_deadlines(session: Session, calendar: HolidayCalendar,
                                  case_ids: Sequence[int] | None = None, *,
                                  strict: bool = False) -> RegistrationReport:
    """Open the routing deadline (15 days from receipt) and, for general cases, the local
    15-day target of registered cases that never had one; idempotent.

    `case_ids` None: every case in `registered`; else these cases whatever their state. A case
    whose dates fall in a year missing from the calendar is skipped and its year reported, or,
    with `strict`, raises CalendarYearMissing.
    """
    rows = session.execute(sql("ensure_registration_deadlines"),
                           {"ids": list(case_ids) if case_ids is not None else None}).all()
    report = RegistrationReport()
    computed: dict[tuple[date, str], Deadline] = {}
    new: list[dict[str, object]] = []
    for r in rows:
        rules = (["routing"] if r.needs_routing else []) + (
            ["local_close"] if r.needs_local and is_general(r.is_collective, r.is_repeat,
                                                            r.restricted) else [])
        try:
            for rule in rules:
                key = (r.received_day, rule)
                if key not in computed:
                    computed[key] = compute_deadline(r.received_day, rule, calendar)
                new.append(deadline_row(r.id, computed[key]))
        except CalendarYearMissing as exc:
            if strict:
                raise
            report.missing_years.add(exc.year)
            report.skipped_cases += 1
    if new:
        # A concurrent tick may have opened the same deadlines: the unique index decides.
        opened = session.scalars(pg_insert(CaseDeadline).values(new).on_conflict_do_nothing(
            index_elements=["case_id", "rule"], index_where=text("active"))
            .returning(CaseDeadline.id))
        report.opened = len(opened.all())
    return report
