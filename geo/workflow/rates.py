"""三率 and the workflow counts of an area and a window (GET /stats/rates), computed in one SQL
statement (geo/sql/stats_rates.sql) over the cases the caller may see.

Area: `district` (everything in the caller's scope), a 网格 / 社区 / 街道 by code, or a unit
(cases routed to it, whose responsible unit it is, or that it took first — 首接首办). The numbers
are always those of scope ∩ area: an area outside the caller's scope gives zeros and null rates,
exactly like an area without cases, so nothing about other areas leaks. An unknown code is
invalid input.

Window: [from, to], both China calendar days, inclusive; "as of" is the request's day (today).
Which event puts a case into a window:

- Rates count *limits* (stored case_deadline rows, one per routing, acceptance, extension…; in
  practice one per case). A limit is **settled** as of today when it was met, or when its due date
  has passed unmet (the due day itself is still in time). It settles on the day it was met when
  met on or before the due date, else on its due date (missed; a late act changes nothing).
  It counts in the window its settling day falls in, so a past window's rates never change. A
  limit stopped without being met — superseded by an extension, stopped by an objection, a merge,
  a reopen, a 不予受理 / 导入法定途径 that ends the local target — is neither met nor missed and is
  left out.
- 及时受理率 (timely acceptance): acceptance-notice limits (受理告知, 15 days from 交办) met on
  time ÷ those settled in the window. Met by 受理, 不予受理 or 导入法定途径 (each is the written
  notice).
- 按期办结率 (on-time completion): handling limits (办理 60 days from 受理, or the approved 延期
  that replaced it) met by the written reply (答复) on time ÷ those settled in the window.
  `on_time.local`: the same for the local 15-day target of general cases (本地目标 local_close,
  from receipt; general = not collective, not repeat, not 检举控告).
- 满意率 (satisfaction): (satisfied + basically_satisfied) ÷ evaluated, over cases closed (结案)
  in the window, with their evaluation as it stands; not_evaluated and unrecorded (NULL) are left
  out of the denominator and reported apart.
- Counts, overdue, 督办 and 首接首办 describe the window's **cohort**: the cases received in the
  window, less those merged into another (a duplicate is no 案次 of its own). 件次 / 人次 are
  the submissions (letters, visits, calls…) received in the window and their persons, for any
  case of the area (a merged one's too). Overdue: running obligations past their due date as
  of today, per rule (time windows such as 异议 or 复查申请 never count); open 督办: supervisions
  not closed.
- 首接首办 compliance: of the cohort's cases that have a first unit (were routed at least once),
  those where a handler of the first unit acted (first_handler recorded) ÷ all of them except
  those still waiting on the first unit's first act (routed to it, `assigned`, no handler yet:
  `pending`). The first unit is recorded once and never changes (a database trigger), and the
  scope keeps a transferred case in its first unit's lists, so "the first unit still listed"
  holds by construction; `transferred` / `transferred_handled` show the transfers apart.

A rate is null, never 0, when its denominator is 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from geo.access.scope import Scope
from geo.access.users import resolve_unit
from geo.errors import InvalidInput
from geo.models import Area as AreaRow
from geo.models import GridCell, GridCodeRegistry, Unit
from geo.sql_files import sql
from geo.workflow.deadlines import RULES, china_date
from geo.workflow.machine import OBLIGATION_RULES

LEVELS = ("district", "grid", "community", "street", "unit")
DEFAULT_DAYS = 365          # the default window: the last 365 days up to today
MAX_DAYS = 3 * 365 + 1      # three years, a leap day included
_CODE_DIGITS = {"grid": 15, "community": 12, "street": 12}
_LABEL = {"grid": "网格", "community": "社区", "street": "街道"}

WINDOW_RULE = (
    "统计期为[from, to]（北京时间自然日，含首尾），截至请求当日。三率按期限了结日计入：按期完成的"
    "按完成日，逾期的按到期日；件次、人次按来信来访日，其余计数按收到信访事项之日（已合并的重复"
    "事项不计案次）。"
    " Window [from, to] in China days, both included, as of the request's day. Rates count "
    "limits by the day they settled (met on time: the day met; otherwise the due date); "
    "submissions and persons by the day each submission came in; the other counts, overdue, "
    "督办 and 首接首办 cover the cases received in the window, less those merged into another.")

RULE_TEXT = {
    "acceptance": (
        "及时受理率 = 在受理告知期限（交办后15日）内受理、不予受理或导入法定途径的期限数 ÷ 统计期内"
        "了结的受理告知期限数（期限内办理的按办理日、逾期的按到期日计入；因异议、合并等停止计时的"
        "不计）。 Timely acceptance = acceptance-notice limits (15 days from routing) met by "
        "accept, reject or redirect on or before the due date ÷ acceptance-notice limits "
        "settled in the window (met on time: on the day met; otherwise on the due date, once "
        "past); limits stopped unmet (objection, merge, reopen) are left out."),
    "on_time": (
        "按期办结率 = 在办理期限（受理后60日，经批准延期的以延长后的期限为准）内书面答复的期限数 ÷ "
        "统计期内了结的办理期限数（按期答复的按答复日、逾期的按到期日计入）。 On-time completion = "
        "handling limits (60 days from acceptance, or the approved extension that replaced "
        "it) met by the written reply on or before the due date ÷ handling limits settled in "
        "the window (replied on time: on the reply day; otherwise on the due date, once past)."),
    "local": (
        "本地目标按期率 = 一般信访事项自收到之日起15日内答复的件数 ÷ 统计期内了结的本地目标期限数"
        "（一般 = 非集体访、非重复访、非检举控告；不予受理、导入法定途径、合并的不计）。 Local "
        "15-day target = general cases replied within 15 days of receipt ÷ local targets "
        "settled in the window (general: not collective, not repeat, not 检举控告; cases "
        "rejected, redirected or merged are left out)."),
    "satisfaction": (
        "满意率 = (满意 + 基本满意) ÷ 参评件数（统计期内结案且有满意、基本满意或不满意评价的案次；"
        "未评价和未记录评价的不计入分母，另行列出）。 Satisfaction = (satisfied + "
        "basically_satisfied) ÷ evaluated cases closed in the window; not_evaluated and "
        "unrecorded evaluations are left out of the denominator and reported apart."),
    "first_contact": (
        "首接首办落实率 = 首接单位经办人已办理（记录首办人）的案次 ÷ 统计期内收到、已交办的案次"
        "（仍待首接单位首次办理的不计）；首接单位一经记录不再变更，转办后仍对其可见。 First "
        "contact compliance = cases received in the window and routed at least once where a "
        "handler of the first unit acted (first_handler recorded) ÷ those cases, less those "
        "still waiting on the first unit's first act; the first unit never changes and keeps "
        "seeing a transferred case."),
    "overdue": (
        "逾期：截至请求当日仍在计时且已过到期日的法定期限和本地目标，按规则计数（异议、复查申请等"
        "权利期限不计）。 Overdue: running obligations past their due date as of the request's "
        "day, per rule (windows such as objection or review requests never count)."),
}


@dataclass(frozen=True)
class RatesArea:
    """Where the numbers are taken: a level, its code as given, the unit id for `unit`, and a
    display name when one is known."""

    level: str
    code: str | None = None
    unit_id: int | None = None
    name: str | None = None

    def params(self) -> dict[str, Any]:
        """The area filter of stats_rates.sql (unused levels NULL)."""
        return {
            "grid_code": self.code if self.level == "grid" else None,
            "community_code": self.code if self.level == "community" else None,
            "street_code": self.code if self.level == "street" else None,
            "unit_id": self.unit_id if self.level == "unit" else None,
        }


def resolve_area(session: Session, level: str, code: str | None) -> RatesArea:
    """Check level and code; InvalidInput naming the field (a malformed or unknown code, a code
    missing or given where none is used). Existence only — scope is applied in the query."""
    if level not in LEVELS:
        raise InvalidInput("level", f"level must be one of {', '.join(LEVELS)}, got {level!r}")
    code = code.strip() if code is not None else None
    if level == "district":
        if code:
            raise InvalidInput("code", "level=district takes no code: it means everything in "
                               "your scope")
        return RatesArea("district")
    if not code:
        raise InvalidInput("code", f"level={level} needs a code")
    if level == "unit":
        try:
            unit_id = resolve_unit(session, code)
        except InvalidInput as exc:
            raise InvalidInput("code", exc.message) from None
        return RatesArea("unit", code, unit_id,
                         session.scalar(select(Unit.name).where(Unit.id == unit_id)))
    digits = _CODE_DIGITS[level]
    if len(code) != digits or not code.isascii() or not code.isdigit():
        raise InvalidInput("code", f"{code!r} is not a {digits}-digit {_LABEL[level]} code")
    if level == "grid":
        name = session.scalar(select(GridCell.name).where(GridCell.code == code)
                              .order_by(GridCell.generation_id.desc()).limit(1))
        known = name is not None or session.get(GridCodeRegistry, code) is not None
    else:
        name = session.scalar(select(AreaRow.name).where(AreaRow.level == level,
                                                         AreaRow.code == code)
                              .order_by(AreaRow.generation_id.desc()).limit(1))
        known = name is not None
    if not known:
        raise InvalidInput("code", f"no {_LABEL[level]} with code {code}")
    return RatesArea(level, code, None, name)


def resolve_window(date_from: date | None, date_to: date | None, now: datetime
                   ) -> tuple[date, date]:
    """The window: `to` defaults to the request's China day, `from` to DEFAULT_DAYS days up to
    `to`; InvalidInput naming the bound given when it ends before it starts, InvalidInput("from")
    when it is longer than MAX_DAYS."""
    given_to = date_to is not None
    date_to = date_to if date_to is not None else china_date(now)
    date_from = date_from if date_from is not None else date_to - timedelta(days=DEFAULT_DAYS - 1)
    if date_to < date_from:
        raise InvalidInput("to" if given_to else "from",
                           f"`to` ({date_to.isoformat()}{'' if given_to else ', today'}) is "
                           f"before `from` ({date_from.isoformat()})")
    if (date_to - date_from).days + 1 > MAX_DAYS:
        raise InvalidInput("from", f"the window is {(date_to - date_from).days + 1} days; at "
                           f"most {MAX_DAYS} (three years)")
    return date_from, date_to


def _rate(numerator: int, denominator: int, rule: str, **extra: Any) -> dict[str, Any]:
    return {"rate": round(numerator / denominator, 4) if denominator else None,
            "numerator": numerator, "denominator": denominator, "rule": rule, **extra}


def petition_rates(session: Session, scope: Scope, area: RatesArea, date_from: date,
                   date_to: date, now: datetime) -> dict[str, Any]:
    """三率, counts, overdue per rule, open 督办 and 首接首办 of the area and window, over the
    caller's scope, as of `now`'s China day (rules: this module's docstring)."""
    today = china_date(now)
    row = session.execute(sql("stats_rates"), {
        **scope.params(), **area.params(), "date_from": date_from, "date_to": date_to,
        "today": today, "now": now, "obligation_rules": list(OBLIGATION_RULES)}).one()
    by_rule: dict[str, int] = row.overdue_by_rule or {}
    first_den = row.first_routed - row.first_pending
    return {
        "level": area.level, "code": area.code, "name": area.name,
        "from": date_from.isoformat(), "to": date_to.isoformat(), "as_of": today.isoformat(),
        "window_rule": WINDOW_RULE,
        "acceptance": _rate(row.acceptance_num, row.acceptance_den, RULE_TEXT["acceptance"]),
        "on_time": _rate(row.on_time_num, row.on_time_den, RULE_TEXT["on_time"],
                         local=_rate(row.local_num, row.local_den, RULE_TEXT["local"])),
        "satisfaction": _rate(
            row.satisfied + row.basically_satisfied,
            row.satisfied + row.basically_satisfied + row.unsatisfied,
            RULE_TEXT["satisfaction"], satisfied=row.satisfied,
            basically_satisfied=row.basically_satisfied, unsatisfied=row.unsatisfied,
            not_evaluated=row.not_evaluated, unrecorded=row.unrecorded, closed=row.closed),
        "counts": {"submissions": row.submissions, "persons": int(row.persons),
                   "cases": row.cases, "repeat": row.repeat, "collective": row.collective,
                   "overdue_cases": row.overdue_cases,
                   "open_supervisions": row.open_supervisions},
        "overdue": {rule: int(by_rule.get(rule, 0)) for rule in OBLIGATION_RULES},
        "overdue_labels": {rule: RULES[rule].label for rule in OBLIGATION_RULES},
        "overdue_rule": RULE_TEXT["overdue"],
        "first_contact": _rate(
            row.first_handled, first_den, RULE_TEXT["first_contact"],
            routed=row.first_routed, pending=row.first_pending,
            transferred=row.transferred, transferred_handled=row.transferred_handled),
    }
