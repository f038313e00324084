"""Drive the demo year through the real workflow, as a well-run district office would have by the
demo's as-of moment (2020-12-31 17:00 China time): routed, accepted with 四定, handled, replied
and closed with the petitioner's evaluation, with the exceptions a real year has — objections
(异议) and re-routing, 不予受理, 导入法定途径, merged repeats, extensions (延期), mediations
(调解) that resume, 复查/复核 — and cases received in the last weeks still open at every stage,
some of them overdue. Then the workflow tick runs at the as-of moment, so overdue obligations get
their automatic 督办, and a few manual 督办 are opened, answered and accepted.

How: a seeded plan (one generator per case, keyed by its external id) gives every case its
steps — action, actor (a Scope of a plausible person: the registrar `dengji`, the commander
`zhihui`, a handler `danwei_<unit>` of the unit the case is routed to, the 社区 `shequ_<code>`),
time (working hours on working days of the holiday calendar) and fields. Steps after the as-of
moment are dropped, so the case stays open where it is.

The plan is written in one of two ways, with the same result:
- `bulk=False`: every step through `geo.workflow.transitions.apply_transition`, in time order
  (≈13 ms a step: about 13 round trips, ~40 % of them reading the case back for the API answer;
  ~14,000 steps take minutes);
- `bulk=True` (the default): each case's steps replayed in memory by `_CaseRun`, which writes
  what apply_transition writes — the petition_case columns, one case_transition row per step,
  the case_deadline rows met, stopped and opened per the machine table — in a few set-based
  statements. tests/test_demo_workflow.py runs cases both ways and compares every row. Cases
  that already have deadlines on file (a tick ran while they were registered) always go step
  by step.

Idempotent: only demo cases still `registered` without any history are driven; a second call
finds nothing to do. Mediation records, 包案 leaders and backlog lists (清单) are not written here.
"""

from __future__ import annotations

import random
import time
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Date, Table, bindparam, exists, func, insert, select, update
from sqlalchemy import cast as sql_cast
from sqlalchemy.orm import Session

from geo.access.scope import Scope, scope_for
from geo.cases.schema import CHINA_TZ
from geo.demo.cases import EXTERNAL_PREFIX
from geo.demo.people import demo_name
from geo.models import (
    CaseDeadline,
    CasePetitioner,
    CaseTransition,
    Category,
    PetitionCase,
    Petitioner,
    Unit,
)
from geo.privacy.crypto import PersonalDataCipher
from geo.workflow.calendar import HolidayCalendar
from geo.workflow.deadlines import Deadline, china_date, compute_deadline
from geo.workflow.machine import (
    ACTIONS,
    HANDLING_DUE,
    OBLIGATION_RULES,
    TERMINAL,
    UNIT_ROLES,
    is_general,
    target_state,
)
from geo.workflow.schedule import deadline_row, default_calendar
from geo.workflow.supervision import accept_feedback, give_feedback, open_supervision, tick
from geo.workflow.transitions import apply_transition

DEFAULT_WORKFLOW_SEED = 20201231
DEMO_AS_OF_TIME = (17, 0)   # the demo clock stops at 17:00 China time on 31 December

# The petition_case columns the workflow writes (besides status and version).
WORKFLOW_COLUMNS = (
    "routed_unit_id", "assigned_at", "responsible_unit_id", "handlers", "plan",
    "target_close_date", "accepted_at", "merged_into_id", "extension_days", "replied_at",
    "closed_at", "evaluation", "evaluated_at", "first_unit_id", "first_handler",
)

# Office hours (minutes of the day): 8:30–11:30 and 13:00–17:30.
OFFICE_HOURS = ((8 * 60 + 30, 11 * 60 + 30), (13 * 60, 17 * 60 + 30))

# Categories a community agent's case is handled by the 社区 itself (社区代办): matters of a
# building, a yard or a household; the rest go to the category's bureau.
COMMUNITY_CATEGORIES = frozenset({"property", "urban", "environment", "civil", "housing",
                                  "transport", "other"})
MEDIATION_CATEGORIES = frozenset({"property", "civil", "legal", "housing", "relocation",
                                  "labour"})
RELOCATION, ENTERPRISE = "华联宾馆地块", "大连市台秤厂"
LONG_RUNNING = frozenset({RELOCATION, ENTERPRISE})

# Evaluations (满意, 基本满意, 不满意, 未评价): a well-run district; the long stories less so.
EVALUATION_WEIGHTS: Mapping[str, tuple[float, float, float, float]] = {
    "default": (0.78, 0.15, 0.05, 0.02),
    "late": (0.55, 0.27, 0.14, 0.04),
    RELOCATION: (0.42, 0.30, 0.23, 0.05),
    ENTERPRISE: (0.45, 0.30, 0.20, 0.05),
}
EVALUATIONS = ("satisfied", "basically_satisfied", "unsatisfied", "not_evaluated")

PLAN_TEXTS: Mapping[str, str] = {
    "housing": "现场核查房屋问题，协调产权单位和施工单位制定维修方案，限期整改并回访",
    "property": "约谈物业服务企业，督促限期整改，社区跟踪回访",
    "relocation": "核实征收补偿安置情况，会同街道逐户沟通，依法依规落实回迁安置",
    "labour": "调查核实欠薪和社保欠缴事实，约谈用人单位，督促限期支付",
    "urban": "现场勘查取证，依法责令当事人限期整改，逾期依法处置",
    "environment": "现场监测取证，责令整改，复查整改效果",
    "civil": "入户核实家庭情况，依政策审核救助申请并告知结果",
    "legal": "释法明理，依法答复信访人",
    "market": "调查核实经营者行为，依法调解或查处",
    "education": "核实情况，协调学校和相关部门依规处理",
    "health": "核查医疗机构执业情况，依法依规处理",
    "transport": "会同交通、公安交管部门现场调研，研究改进措施",
    "other": "核实情况，依法依规处理",
}
REPLY_TEXTS: Mapping[str, str] = {
    "housing": "经现场核查，维修方案已确定并组织施工，已书面答复信访人。",
    "property": "已约谈物业服务企业，所反映问题已整改完毕，已书面答复信访人。",
    "relocation": "已向信访人说明征收补偿安置政策和回迁进度，并书面答复。",
    "labour": "经协调，用人单位已制定欠薪支付计划，已书面答复信访人。",
    "urban": "违法建设和占道问题已依法处置，已书面答复信访人。",
    "environment": "经监测，已责令相关单位整改到位，已书面答复信访人。",
    "civil": "经入户核实，已按政策办理救助，已书面答复信访人。",
    "legal": "已依法释明有关法律规定和救济途径，已书面答复信访人。",
    "market": "经调查，已依法处理并督促经营者退赔，已书面答复信访人。",
    "education": "经核实，已协调学校依规处理，已书面答复信访人。",
    "health": "经核查，已依法依规处理，已书面答复信访人。",
    "transport": "经调研，已采取改进措施，已书面答复信访人。",
    "other": "经核实，已依法依规处理，已书面答复信访人。",
}
REDIRECT_NOTES: Mapping[str, str] = {
    "litigation": "属于应当通过诉讼解决的事项，告知信访人依法向人民法院提起诉讼",
    "arbitration": "属于劳动争议，引导信访人依法申请劳动人事争议仲裁",
    "administrative_review": "对行政行为不服，告知信访人依法申请行政复议",
    "discipline_inspection": "检举控告线索，转纪检监察机关依纪依法处理",
    "other_legal_channel": "告知信访人通过其他法定途径解决",
}
OBJECTION_REASON = "所反映事项不属于本单位职责范围，请按职责重新交办"
REJECT_REASONS = ("信访人就已办结的同一事项再次信访，未提出新的事实和理由",
                  "所反映事项已依法处理并答复，不予受理")
EXTENSION_REASONS = ("情况复杂，涉及多个部门协调，经批准延期办理",
                     "需待补偿安置方案调整后答复，经批准延期办理")
REVIEW_DECISIONS = ("经复查，原处理意见事实清楚、依据正确，予以维持。",
                    "经复查，部分支持信访人诉求，责成承办单位补充答复。")
REREVIEW_DECISION = "经复核，维持复查意见。本信访事项终结。"
SUPERVISION_NOTES = ("群众反映强烈，请加快办理，每周报告进展",
                     "涉及群体性诉求，请专班推进，按期办结")
FEEDBACK_TEXTS = ("已成立工作专班逐户沟通，预计近期书面答复",
                  "已约谈责任单位，整改方案已报区联席会议")


def demo_as_of(year: int = 2020) -> datetime:
    """The demo clock's moment for a demo year: 31 December, 17:00 China time."""
    return datetime(year, 12, 31, *DEMO_AS_OF_TIME, tzinfo=CHINA_TZ)


# --- what the plan is made of ------------------------------------------------------------------

@dataclass(frozen=True)
class Actor:
    """Who takes a step: a username in a role (with the unit or 社区 it is scoped to)."""

    username: str
    role: str
    unit_id: int | None = None
    community_code: str | None = None
    sees_restricted: bool = False  # 信访局 leaders see 检举控告 matters

    def scope(self) -> Scope:
        """The Scope the step is taken in."""
        base = scope_for(self.username, self.role, community_code=self.community_code,
                         unit_id=self.unit_id)
        return replace(base, sees_restricted=True) if self.sees_restricted else base


REGISTRAR = Actor("dengji", "registrar")
COMMANDER = Actor("zhihui", "commander")
# 检举控告 is hidden from the registrar's ordinary scope: a 信访局 leader redirects it.
LEADER = Actor("xinfangju_lingdao", "registrar", sees_restricted=True)


@dataclass(frozen=True)
class Step:
    """One workflow action on one case at one time, with the action's (clean) fields."""

    case_id: int
    at: datetime
    action: str
    actor: Actor
    fields: Mapping[str, Any]


@dataclass(frozen=True)
class ManualSupervision:
    """A 督办 opened by hand, maybe answered by the unit, maybe accepted."""

    case_id: int
    opened_at: datetime
    note: str
    handler: Actor
    feedback_at: datetime | None = None
    feedback: str | None = None
    accepted_at: datetime | None = None


@dataclass(frozen=True)
class DemoCase:
    """What the plan needs to know about a demo case (read once)."""

    id: int
    external_id: str
    received_at: datetime
    category: str
    category_unit: int | None
    restricted: bool
    is_repeat: bool
    is_collective: bool
    via_agent: bool
    community_code: str | None
    street_code: str | None
    cluster: str | None
    version: int
    has_deadlines: bool
    columns: Mapping[str, Any]
    keys: tuple[bytes, ...] = ()   # keyed hashes of the petitioners' ID and phone numbers

    @property
    def general(self) -> bool:
        """一般信访事项 (gets the local 15-day target)."""
        return is_general(self.is_collective, self.is_repeat, self.restricted)


@dataclass
class DemoWorkflowPlan:
    """Every step of every case to drive, in time order, and the manual 督办."""

    as_of: datetime
    cases: dict[int, DemoCase]
    steps: list[Step]
    supervisions: list[ManualSupervision]
    final_status: dict[int, str]


@dataclass
class DemoWorkflowReport:
    """What a run did and how the demo year stands at the as-of moment."""

    as_of: datetime
    driven: int = 0
    stepwise: int = 0
    steps: int = 0
    left_alone: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    rates: dict[str, tuple[int, int]] = field(default_factory=dict)
    overdue_cases: int = 0
    supervisions_opened: int = 0
    manual_supervisions: int = 0
    seconds: float = 0.0

    def rate(self, name: str) -> float | None:
        """numerator / denominator of a rate, None without a denominator."""
        num, den = self.rates.get(name, (0, 0))
        return num / den if den else None

    def format(self) -> str:
        """A few lines for the command line."""
        def pct(name: str) -> str:
            r = self.rate(name)
            num, den = self.rates.get(name, (0, 0))
            return "n/a" if r is None else f"{100 * r:.1f} % ({num}/{den})"

        states = ", ".join(f"{k} {v}" for k, v in sorted(self.by_status.items(),
                                                          key=lambda kv: -kv[1]))
        return "\n".join([
            f"demo workflow as of {self.as_of.isoformat()}: {self.driven} cases driven "
            f"({self.steps} steps, {self.stepwise} step by step)"
            + (f", {self.left_alone} already past registration left alone"
               if self.left_alone else "") + f" ({self.seconds:.1f} s)",
            f"  status:   {states}",
            f"  三率: accepted in time {pct('acceptance')}, replied within the local target "
            f"{pct('on_time_local')}, within the statutory limit {pct('on_time_statutory')}, "
            f"satisfied {pct('satisfaction')}",
            f"  督办: {self.supervisions_opened} opened by the tick, {self.manual_supervisions} "
            f"by hand; {self.overdue_cases} cases overdue",
        ])


class PlanError(RuntimeError):
    """A planned step the workflow would refuse (a bug in the plan, never in the data)."""


# --- one case's workflow, in memory ------------------------------------------------------------

class _CaseRun:
    """A case moved through its steps in memory, writing down exactly what apply_transition
    writes: the petition_case columns, a case_transition row per step and the case_deadline
    rows (registration deadlines when leaving `registered`, then met, stopped and opened as the
    machine table says). `refusal` mirrors the checks of apply_transition the plan relies on."""

    def __init__(self, case: DemoCase, calendar: HolidayCalendar) -> None:
        self.case = case
        self.calendar = calendar
        self.status = "registered"
        self.version = case.version
        self.columns: dict[str, Any] = dict(case.columns)
        self.deadlines: list[dict[str, Any]] = []
        self.transitions: list[dict[str, Any]] = []
        self.last_at: datetime | None = None

    def running(self) -> dict[str, dict[str, Any]]:
        """The running deadlines by rule."""
        return {d["rule"]: d for d in self.deadlines if d["active"]}

    def due(self, rule: str) -> date | None:
        """Due date of a running deadline of this rule."""
        d = self.running().get(rule)
        return None if d is None else cast(date, d["due_date"])

    def refusal(self, step: Step) -> str | None:
        """Why apply_transition would refuse the step (role, state, unit, window, 四定 target,
        extension), or None."""
        spec = ACTIONS[step.action]
        today = china_date(step.at)
        if step.actor.role not in spec.roles:
            return f"role {step.actor.role} may not {spec.code}"
        if self.status not in spec.from_states:
            return f"{spec.code} not allowed from {self.status}"
        if step.actor.role in UNIT_ROLES and self.columns["routed_unit_id"] != step.actor.unit_id:
            return "not the routed unit"
        if self.last_at is not None and step.at <= self.last_at:
            return "not after the previous step"
        running = self.running()
        if spec.window is not None:
            window = running.get(spec.window)
            if window is None or window["due_date"] < today:
                return f"no open {spec.window} window"
        if spec.code == "accept":
            target = step.fields["target_close_date"]
            limit = compute_deadline(step.at, "handling", self.calendar).due
            local = running.get("local_close")
            if target < today or target > limit:
                return "target outside the handling limit"
            if self.case.general and local is not None and local["due_date"] >= today \
                    and target > local["due_date"]:
                return "target after the local target"
        if step.fields.get("evaluation") is not None and spec.code not in ("accept", "extend") \
                and self.columns["evaluation"] not in (None, "not_evaluated"):
            return "an evaluation is on file"
        if spec.code == "extend":
            handling = running.get("handling")
            if self.columns["extension_days"] is not None or handling is None \
                    or handling["due_date"] < today:
                return "no extension possible"
        return None

    def apply(self, step: Step) -> None:
        """Take the step (PlanError when apply_transition would refuse it)."""
        problem = self.refusal(step)
        if problem is not None:
            raise PlanError(f"case {self.case.id} ({self.case.external_id}) {step.action} at "
                            f"{step.at.isoformat()}: {problem}")
        spec = ACTIONS[step.action]
        values = {k: v for k, v in step.fields.items() if v is not None}
        now = step.at
        running = self.running()
        opened: list[Deadline] = []
        for rule, counted_from in spec.opens:
            if counted_from == HANDLING_DUE:
                opened.append(compute_deadline(running["handling"]["due_date"], rule,
                                               self.calendar, days=values.get("days")))
            else:
                opened.append(compute_deadline(now, rule, self.calendar))
        to_state = target_state(spec, self.status)
        self.version += 1
        self._change(step, values)
        self.transitions.append({
            "case_id": self.case.id, "action": spec.code, "from_status": self.status,
            "to_status": to_state, "actor": step.actor.username, "role": step.actor.role,
            "at": now, "note": values.get("note"),
            "data": {k: (v.isoformat() if isinstance(v, date) else v)
                     for k, v in values.items() if k != "note"},
            "version_after": self.version})
        if self.status == "registered":
            self._registration_deadlines()
        for d in self.deadlines:
            if d["active"] and d["rule"] in spec.meets:
                d.update(active=False, met_at=now)
        for d in self.deadlines:
            if d["active"] and d["rule"] in spec.stops:
                d["active"] = False
        self.deadlines.extend({**deadline_row(self.case.id, o), "active": True, "met_at": None}
                              for o in opened)
        self.status = to_state
        self.last_at = now

    def _change(self, step: Step, values: Mapping[str, Any]) -> None:
        """The petition_case columns (transitions._changes, with COALESCE done here)."""
        c, now, code = self.columns, step.at, step.action
        first_unit_before = c["first_unit_id"]
        if code == "assign":
            c.update(routed_unit_id=values["unit"], assigned_at=now)
        elif code == "accept":
            c.update(responsible_unit_id=values["responsible_unit"],
                     handlers=list(values["handlers"]), plan=values["plan"],
                     target_close_date=values["target_close_date"], accepted_at=now)
        elif code == "merge":
            c.update(merged_into_id=values["into"])
        elif code == "extend":
            c.update(extension_days=values["days"])
        elif code == "reply":
            c.update(replied_at=now)
        elif code == "close":
            c.update(closed_at=now)
            if "evaluation" in values:
                c.update(evaluation=values["evaluation"], evaluated_at=now)
        elif code == "reopen":
            c.update(closed_at=None)
        elif code == "evaluate":
            c.update(evaluation=values["evaluation"], evaluated_at=now)
        if ACTIONS[code].fixes_first_unit and c["first_unit_id"] is None:
            c["first_unit_id"] = values["unit"]
        if step.actor.role in UNIT_ROLES and first_unit_before is not None \
                and step.actor.unit_id == first_unit_before and c["first_handler"] is None:
            c["first_handler"] = step.actor.username

    def _registration_deadlines(self) -> None:
        """schedule.ensure_registration_deadlines for this case: routing, and the local
        target of a general case, counted from receipt — unless one was ever on file."""
        rules = {d["rule"] for d in self.deadlines}
        received = china_date(self.case.received_at)
        for rule in ("routing", "local_close"):
            if rule in rules or (rule == "local_close" and not self.case.general):
                continue
            self.deadlines.append({**deadline_row(self.case.id, compute_deadline(
                received, rule, self.calendar)), "active": True, "met_at": None})


# --- the plan ----------------------------------------------------------------------------------

class _PastAsOf(Exception):
    """The next step would come after the as-of moment: the case stays where it is."""


def _weighted(rng: random.Random, weights: Mapping[int, float]) -> int:
    return rng.choices(list(weights), list(weights.values()))[0]


def _unit_suffix(code: str) -> str:
    # The demo users' naming (geo.demo.users): danwei_<code>, 社区/街道 codes without 210202.
    return code[6:] if code.isdigit() else code


class _Planner:
    """Seeded plans for the demo cases, in received order (a merge needs its target's plan)."""

    def __init__(self, cases: Sequence[DemoCase], units: Mapping[int, str],
                 area_units: Mapping[str, int], calendar: HolidayCalendar, as_of: datetime,
                 seed: int) -> None:
        self.cases = sorted(cases, key=lambda c: (c.received_at, c.id))
        self.units = units
        self.area_units = area_units
        self.calendar = calendar
        self.as_of = as_of
        self.seed = seed
        self.terminal_at: dict[int, datetime | None] = {}
        self.by_key: dict[tuple[str, bytes], list[int]] = defaultdict(list)
        self.rosters: dict[int, list[str]] = {}
        self.forced = self._force()

    # -- time --
    def _minute(self, rng: random.Random) -> int:
        total = sum(b - a for a, b in OFFICE_HOURS)
        x = rng.randrange(total)
        for a, b in OFFICE_HOURS:
            if x < b - a:
                return a + x
            x -= b - a
        raise AssertionError("unreachable")

    def _at(self, day: date, minute: int, rng: random.Random) -> datetime:
        return datetime(day.year, day.month, day.day, minute // 60, minute % 60,
                        rng.randint(0, 59), tzinfo=CHINA_TZ)

    def _next_working(self, day: date) -> date:
        return self.calendar.next_working_day(day + timedelta(days=1))

    def slot(self, rng: random.Random, after: datetime, working_days: int) -> datetime:
        """A time in office hours `working_days` working days after `after` (0: later the
        same working day when there is time left, else the next working day)."""
        local = after.astimezone(CHINA_TZ)
        day = local.date()
        if working_days == 0:
            if self.calendar.is_working_day(day):
                now = local.hour * 60 + local.minute + 10
                later = [m for m in range(now, OFFICE_HOURS[1][1], 7)
                         if any(a <= m < b for a, b in OFFICE_HOURS)]
                if later:
                    return self._at(day, rng.choice(later), rng)
            working_days = 1
        for _ in range(working_days):
            day = self._next_working(day)
        return self._at(day, self._minute(rng), rng)

    def on_day(self, rng: random.Random, day: date, after: datetime) -> datetime:
        """A time in office hours on `day` (or the next working day), later than `after`."""
        day = self.calendar.next_working_day(day)
        if day <= china_date(after):
            return self.slot(rng, after, 0)
        return self._at(day, self._minute(rng), rng)

    # -- people --
    def handler(self, unit_id: int) -> Actor:
        return Actor(f"danwei_{_unit_suffix(self.units[unit_id])}", "unit_handler",
                     unit_id=unit_id)

    def handlers(self, rng: random.Random, unit_id: int) -> list[str]:
        """Names for 四定's 责任人: one or two of the unit's (generated) staff."""
        if unit_id not in self.rosters:
            r = random.Random(f"{self.seed}:roster:{self.units[unit_id]}")
            taken: set[str] = set()
            self.rosters[unit_id] = [demo_name(r, taken) for _ in range(4)]
        return rng.sample(self.rosters[unit_id], rng.choice((1, 2, 2)))

    def mediator(self, case: DemoCase, unit_id: int) -> Actor:
        """人民调解 in the 社区 where there is one, else the handling unit."""
        if case.community_code:
            return Actor(f"shequ_{case.community_code[6:]}", "community",
                         community_code=case.community_code)
        return self.handler(unit_id)

    def unit_for(self, case: DemoCase, rng: random.Random) -> int:
        """The registrar routes to the category's unit, a community agent's local matter to the
        社区, a collective visit that is no story to its 街道 office."""
        community = self.area_units.get(case.community_code or "")
        street = self.area_units.get(case.street_code or "")
        if case.cluster is None and case.via_agent and community is not None \
                and case.category in COMMUNITY_CATEGORIES:
            return community
        if case.cluster is None and case.is_collective and street is not None \
                and rng.random() < 0.5:
            return street
        if case.category_unit is not None:
            return case.category_unit
        return community or street or min(self.units)

    # -- which cases end up held at a stage on the as-of day --
    def _force(self) -> dict[int, str]:
        """A few late cases held where the demo must show them: disputed, mediating, under
        复查 (the random draws alone may miss a stage in the year's last weeks)."""
        rng = random.Random(f"{self.seed}:force")
        day = china_date(self.as_of)
        plain = [c for c in self.cases if c.general and c.cluster is None
                 and c.community_code and c.category in COMMUNITY_CATEGORIES]

        def window(lo: int, hi: int) -> list[DemoCase]:
            return [c for c in plain
                    if day - timedelta(days=hi) <= china_date(c.received_at)
                    <= day - timedelta(days=lo)]

        forced: dict[int, str] = {}
        for hold, lo, hi, n in (("disputed", 5, 10, 2), ("mediating", 10, 25, 2),
                                ("review", 35, 50, 1), ("reviewed", 55, 75, 1)):
            pool = [c for c in window(lo, hi) if c.id not in forced]
            for c in rng.sample(pool, min(n, len(pool))):
                forced[c.id] = hold
        return forced

    # -- the plan --
    def plan(self) -> DemoWorkflowPlan:
        steps: list[Step] = []
        final: dict[int, str] = {}
        runs: dict[int, _CaseRun] = {}
        for case in self.cases:
            run, taken = self._plan_case(case)
            runs[case.id] = run
            final[case.id] = run.status
            steps.extend(taken)
            for key in case.keys:
                self.by_key[(case.category, key)].append(case.id)
        steps.sort(key=lambda s: (s.at, s.case_id))
        return DemoWorkflowPlan(self.as_of, {c.id: c for c in self.cases}, steps,
                                self._supervisions(runs), final)

    def _plan_case(self, case: DemoCase) -> tuple[_CaseRun, list[Step]]:
        """The case's steps up to the as-of moment, taken in memory as they are planned."""
        rng = random.Random(f"{self.seed}:{case.external_id}")
        run = _CaseRun(case, self.calendar)
        taken: list[Step] = []

        def add(at: datetime, action: str, actor: Actor, **fields: Any) -> None:
            if at > self.as_of:
                raise _PastAsOf
            step = Step(case.id, at, action, actor, fields)
            run.apply(step)
            taken.append(step)
            if ACTIONS[action].to_state in TERMINAL:
                # The first time it ends: 复查 after a close reopens it, but a merge must
                # come before it was ever closed.
                self.terminal_at.setdefault(case.id, at)

        try:
            if case.received_at <= self.as_of:
                self._path(case, rng, run, add)
        except _PastAsOf:
            pass
        self.terminal_at.setdefault(case.id, None)
        return run, taken

    def _merge_target(self, case: DemoCase, at: datetime) -> int | None:
        """The latest earlier case of the same petitioner and category still open at `at`."""
        if not case.is_repeat:
            return None
        found = [i for key in case.keys for i in self.by_key.get((case.category, key), [])]
        for other in sorted(set(found), reverse=True):
            end = self.terminal_at.get(other)
            if other != case.id and (end is None or end > at):
                return other
        return None

    def _path(self, case: DemoCase, rng: random.Random, run: _CaseRun,
              add: Callable[..., None]) -> None:
        """Registry: redirect, merge or route; then the unit's work."""
        hold = self.forced.get(case.id)
        received = case.received_at
        in_hours = received.astimezone(CHINA_TZ).hour < 16
        registry_at = self.slot(rng, received, _weighted(
            rng, {0: 0.45 if in_hours else 0.0, 1: 0.42, 2: 0.1, 3: 0.03}))
        if case.restricted:
            add(registry_at, "redirect", LEADER, reason="discipline_inspection",
                note=REDIRECT_NOTES["discipline_inspection"])
            return
        merge_p = 0.45 if case.cluster in LONG_RUNNING else 0.6
        into = self._merge_target(case, registry_at)
        if into is not None and hold is None and rng.random() < merge_p:
            add(registry_at, "merge", REGISTRAR, into=into,
                note="同一信访人就同一事项重复信访，并入在办件办理")
            return
        if hold is None:
            reason = self._registry_redirect(case, rng)
            if reason is not None:
                add(registry_at, "redirect", REGISTRAR, reason=reason,
                    note=REDIRECT_NOTES[reason])
                return
        unit = self.unit_for(case, rng)
        wrong = self._wrong_unit(case, unit)
        if wrong is not None and (hold == "disputed" or (hold is None and rng.random() < 0.02)):
            # 异议: routed to a unit that says it is not theirs, within 5 working days.
            add(registry_at, "assign", REGISTRAR, unit=wrong)
            objected = self.slot(rng, registry_at, _weighted(rng, {1: 0.6, 2: 0.3, 3: 0.1}))
            add(objected, "object", self.handler(wrong), reason=OBJECTION_REASON)
            if hold == "disputed":
                return
            registry_at = self.slot(rng, objected, _weighted(rng, {0: 0.5, 1: 0.5}))
        add(registry_at, "assign", REGISTRAR, unit=unit)
        self._unit_work(case, rng, run, add, unit, registry_at, hold)

    def _registry_redirect(self, case: DemoCase, rng: random.Random) -> str | None:
        if case.category == "legal" and rng.random() < 0.4:
            return rng.choices(("litigation", "administrative_review", "other_legal_channel"),
                               (0.7, 0.2, 0.1))[0]
        if case.category == "labour" and rng.random() < 0.03:
            return "arbitration"
        return None

    def _wrong_unit(self, case: DemoCase, unit: int) -> int | None:
        """The unit a case is first mis-routed to before an objection."""
        community = self.area_units.get(case.community_code or "")
        if case.cluster is not None or community is None:
            return None
        if unit == community:
            return case.category_unit
        return community

    def _unit_work(self, case: DemoCase, rng: random.Random, run: _CaseRun,
                   add: Callable[..., None], unit: int, assigned: datetime,
                   hold: str | None) -> None:
        """The unit: 不予受理 / 导入法定途径, or accept with 四定, handle, reply; then the
        registrar's close (回访) and any 复查."""
        h = self.handler(unit)
        if hold is None and rng.random() < 0.008:
            add(self.slot(rng, assigned, rng.randint(1, 3)), "reject", h,
                reason=rng.choice(REJECT_REASONS))
            return
        if hold is None and case.category in ("legal", "labour") \
                and rng.random() < (0.25 if case.category == "legal" else 0.02):
            reason = "litigation" if case.category == "legal" else "arbitration"
            add(self.slot(rng, assigned, rng.randint(1, 3)), "redirect", h, reason=reason,
                note=REDIRECT_NOTES[reason])
            return
        # 受理: most within a few working days; a few late (after the 15-day notice limit).
        if hold is None and rng.random() < 0.025:
            accepted = self.on_day(rng, china_date(assigned) + timedelta(
                days=rng.randint(16, 24)), assigned)
        else:
            accepted = self.slot(rng, assigned, _weighted(
                rng, {0: 0.3, 1: 0.38, 2: 0.18, 3: 0.09, 4: 0.05}))
        day = china_date(accepted)
        handling_due = compute_deadline(accepted, "handling", self.calendar).due
        local_due = run.due("local_close")
        if case.general and local_due is not None and local_due >= day:
            target = max(day, local_due - timedelta(days=rng.choice((0, 0, 1, 2, 3))))
        else:
            target = min(handling_due, day + timedelta(days=rng.randint(
                25 if case.cluster in LONG_RUNNING else 10, 55)))
        add(accepted, "accept", h, responsible_unit=unit, handlers=self.handlers(rng, unit),
            plan=PLAN_TEXTS.get(case.category, PLAN_TEXTS["other"]), target_close_date=target)
        started = (accepted + timedelta(minutes=rng.randint(5, 90)) if rng.random() < 0.7
                   else self.slot(rng, accepted, 1))
        add(started, "start", h)
        last = started
        # 调解 (三调联动): the 社区's people's mediation, then handling resumes.
        mediation_p = (0.2 if case.cluster == RELOCATION else
                       0.05 if case.category in MEDIATION_CATEGORIES else 0.0)
        if hold == "mediating" or (hold is None and rng.random() < mediation_p):
            who = self.mediator(case, unit)
            mediated = self.slot(rng, last, rng.randint(1, 4))
            add(mediated, "mediate", who, note="组织当事人调解")
            if hold == "mediating":
                return
            last = self.slot(rng, mediated, rng.randint(2, 8))
            add(last, "start", who, note="调解未达成协议，继续办理" if rng.random() < 0.5
                else "调解达成协议，继续办理答复")
        long_running = case.cluster in LONG_RUNNING
        # 延期 (commander) for complex, long-running matters, before the limit ends.
        if not case.general and rng.random() < (0.35 if long_running else 0.08):
            handling = run.due("handling")
            if handling is not None:
                ext_day = min(handling, day + timedelta(days=rng.randint(40, 56)))
                ext_at = self.on_day(rng, ext_day, last)
                step = Step(case.id, ext_at, "extend", COMMANDER,
                            {"days": rng.randint(15, 30), "reason": rng.choice(
                                EXTENSION_REASONS)})
                if run.refusal(step) is None:
                    add(ext_at, "extend", COMMANDER, **step.fields)
                    last = ext_at
        # 积案: a few long-running matters are still unanswered at the year's end.
        if long_running and not case.general and rng.random() < 0.12 \
                and china_date(case.received_at).month >= 6:
            return
        replied = self.on_day(rng, self._reply_day(case, rng, run, last), last)
        add(replied, "reply", h, text=REPLY_TEXTS.get(case.category, REPLY_TEXTS["other"]))
        self._close_and_review(case, rng, run, add, h, replied, hold)

    def _reply_day(self, case: DemoCase, rng: random.Random, run: _CaseRun,
                   last: datetime) -> date:
        """When the written answer goes out: within the local target for most general cases,
        within the statutory (or extended) limit for the others, a few late."""
        start = china_date(last)
        local_due = run.due("local_close")
        if case.general and local_due is not None:
            low = max(start, china_date(case.received_at) + timedelta(days=3))
            if rng.random() >= 0.04 and low <= local_due:
                span = (local_due - low).days
                return low + timedelta(days=round(rng.triangular(0, span, span * 0.45)))
            return max(start, local_due) + timedelta(days=rng.randint(1, 10))
        limit = run.due("extension") or run.due("handling") or start
        if rng.random() < 0.03:
            return max(start, limit) + timedelta(days=rng.randint(1, 12))
        accepted = china_date(run.columns["accepted_at"])
        lo, hi = (25, 58) if case.cluster in LONG_RUNNING else (8, 45)
        extended = run.due("extension")
        if extended is not None:
            lo, hi = (extended - accepted).days - 25, (limit - accepted).days - 1
        day = accepted + timedelta(days=rng.randint(lo, max(lo, hi)))
        return max(start, min(day, limit))

    def _close_and_review(self, case: DemoCase, rng: random.Random, run: _CaseRun,
                          add: Callable[..., None], h: Actor, replied: datetime,
                          hold: str | None) -> None:
        """回访 and 结案 with the evaluation; sometimes 复查 (and 复核) after it or before."""
        late = run.columns["target_close_date"] is not None and \
            china_date(replied) > run.columns["target_close_date"]
        weights = EVALUATION_WEIGHTS.get(case.cluster or "",
                                         EVALUATION_WEIGHTS["late" if late else "default"])
        evaluation = rng.choices(EVALUATIONS, weights)[0]
        if hold in ("review", "reviewed"):
            evaluation = "unsatisfied"
        closed = self.slot(rng, replied, _weighted(rng, {1: 0.4, 2: 0.3, 3: 0.2, 5: 0.1}))
        review_p = (0.3 if evaluation == "unsatisfied" else 0.003)
        if hold not in ("review", "reviewed") and rng.random() >= review_p:
            way = rng.random()
            if way < 0.8:    # the 信访局 calls back and closes
                add(closed, "close", REGISTRAR, evaluation=evaluation, note="电话回访")
            elif way < 0.92:  # the unit closes; the 信访局's call back records the evaluation
                add(closed, "close", h)
                add(self.slot(rng, closed, rng.randint(1, 3)), "evaluate", REGISTRAR,
                    evaluation=evaluation, note="电话回访")
            else:             # evaluated on the call back, closed afterwards
                add(closed, "evaluate", REGISTRAR, evaluation=evaluation, note="电话回访")
                add(self.slot(rng, closed, rng.randint(0, 2)), "close", REGISTRAR)
            return
        asked = self.on_day(rng, china_date(replied) + timedelta(days=rng.randint(3, 24)),
                            replied)
        if closed < asked:
            add(closed, "close", REGISTRAR, evaluation=evaluation, note="电话回访")
        add(asked, "request_review", REGISTRAR, reason="信访人对处理意见不服，请求复查")
        if hold == "review":
            return
        decided = self.on_day(rng, china_date(asked) + timedelta(days=rng.randint(8, 26)),
                              asked)
        add(decided, "decide_review", rng.choice((REGISTRAR, COMMANDER)),
            text=rng.choice(REVIEW_DECISIONS))
        if hold == "reviewed":
            return
        if rng.random() < 0.3:
            again = self.on_day(rng, china_date(decided) + timedelta(days=rng.randint(5, 25)),
                                decided)
            add(again, "request_rereview", REGISTRAR, reason="信访人对复查意见不服，请求复核")
            final = self.on_day(rng, china_date(again) + timedelta(days=rng.randint(10, 28)),
                                again)
            add(final, "decide_rereview", COMMANDER, text=REREVIEW_DECISION)
            return
        # An evaluation on file stands (machine: 评价); a first one is asked for now.
        final_evaluation = (rng.choices(EVALUATIONS, (0.2, 0.35, 0.4, 0.05))[0]
                            if run.columns["evaluation"] in (None, "not_evaluated") else None)
        add(self.slot(rng, decided, rng.randint(1, 3)), "close", REGISTRAR,
            evaluation=final_evaluation, note="复查后回访")

    def _supervisions(self, runs: Mapping[int, _CaseRun]) -> list[ManualSupervision]:
        """A few manual 督办 by the commander on open, long-running or collective cases;
        most answered, some accepted."""
        rng = random.Random(f"{self.seed}:supervision")
        latest = self.as_of - timedelta(days=2)
        pool = [r for r in runs.values()
                if r.status not in TERMINAL and r.status != "registered"
                and r.columns["routed_unit_id"] is not None and r.last_at is not None
                and r.last_at < latest - timedelta(days=3)
                and (r.case.cluster is not None or r.case.is_collective
                     or r.last_at < self.as_of - timedelta(days=40))]
        pool.sort(key=lambda r: r.case.id)
        out: list[ManualSupervision] = []
        for r in rng.sample(pool, min(8, len(pool))):
            assert r.last_at is not None
            earliest = max(r.last_at, self.as_of - timedelta(days=20))
            opened = self.on_day(rng, china_date(earliest) + timedelta(
                days=rng.randint(1, 6)), earliest)
            if opened > latest:
                continue
            handler = self.handler(cast(int, r.columns["routed_unit_id"]))
            feedback_at = accepted_at = None
            if rng.random() < 0.7:
                feedback_at = self.slot(rng, opened, rng.randint(1, 3))
                if feedback_at > self.as_of:
                    feedback_at = None
                elif rng.random() < 0.6:
                    accepted_at = self.slot(rng, feedback_at, rng.randint(1, 2))
                    if accepted_at > self.as_of:
                        accepted_at = None
            out.append(ManualSupervision(
                r.case.id, opened, rng.choice(SUPERVISION_NOTES), handler, feedback_at,
                rng.choice(FEEDBACK_TEXTS) if feedback_at else None, accepted_at))
        return sorted(out, key=lambda s: s.opened_at)


# --- reading the demo cases --------------------------------------------------------------------

def _untouched() -> Any:
    """Demo cases still registered without any history: the ones the demo may drive."""
    c = PetitionCase
    return (c.external_id.like(f"{EXTERNAL_PREFIX}-%") & (c.status == "registered")
            & ~exists().where(CaseTransition.case_id == c.id))


def _left_alone(session: Session) -> int:
    """Demo cases already past registration (or with a history): never driven again."""
    c = PetitionCase
    return int(session.scalar(select(func.count()).select_from(c).where(
        c.external_id.like(f"{EXTERNAL_PREFIX}-%"), ~_untouched())) or 0)


def _demo_cases(session: Session, case_ids: Sequence[int] | None) -> list[DemoCase]:
    """The demo cases still registered without history (or those of them asked for)."""
    c = PetitionCase
    deadlines = exists().where(CaseDeadline.case_id == c.id)
    where = [_untouched()]
    if case_ids is not None:
        where.append(c.id.in_(list(case_ids)))
    rows = session.execute(
        select(c.id, c.external_id, c.received_at, c.category_code, Category.unit_id,
               Category.restricted, c.is_repeat, c.is_collective, c.via_community_agent,
               c.community_code, c.street_code, c.properties["demo_cluster"].astext,
               c.version, deadlines.label("has_deadlines"),
               *(getattr(c, col) for col in WORKFLOW_COLUMNS))
        .join(Category, Category.code == c.category_code)
        .where(*where).order_by(c.received_at, c.id)).all()
    keys: dict[int, set[bytes]] = defaultdict(set)
    ids = [r[0] for r in rows]
    if ids:
        for case_id, id_hash, phone_hash in session.execute(
                select(CasePetitioner.case_id, Petitioner.id_number_hash, Petitioner.phone_hash)
                .join(Petitioner, Petitioner.id == CasePetitioner.petitioner_id)
                .where(CasePetitioner.case_id.in_(ids))):
            keys[case_id].update(k for k in (id_hash, phone_hash) if k is not None)
    n = len(WORKFLOW_COLUMNS)
    cases = [DemoCase(
        id=r[0], external_id=str(r[1]), received_at=r[2], category=r[3], category_unit=r[4],
        restricted=r[5], is_repeat=r[6], is_collective=r[7], via_agent=r[8],
        community_code=r[9], street_code=r[10], cluster=r[11], version=r[12],
        has_deadlines=r[13], columns=dict(zip(WORKFLOW_COLUMNS, r[14:14 + n], strict=True)),
        keys=tuple(sorted(keys.get(r[0], ())))) for r in rows]
    return cases


def plan_demo_workflow(session: Session, as_of: datetime, seed: int = DEFAULT_WORKFLOW_SEED,
                       *, case_ids: Sequence[int] | None = None,
                       calendar: HolidayCalendar | None = None) -> DemoWorkflowPlan:
    """The steps that would drive the demo cases still registered (or these of them) up to
    `as_of`, without writing anything."""
    if as_of.tzinfo is None:
        raise ValueError("as_of needs a time zone offset")
    calendar = calendar or default_calendar()
    cases = _demo_cases(session, case_ids)
    units = {r.id: r.code for r in session.execute(select(Unit.id, Unit.code))}
    area_units = {u.area_code: u.id for u in session.execute(
        select(Unit.id, Unit.area_code).where(Unit.area_code.isnot(None)))}
    return _Planner(cases, units, area_units, calendar, as_of, seed).plan()


# --- writing the plan --------------------------------------------------------------------------

def _write_stepwise(session: Session, steps: Sequence[Step], versions: dict[int, int],
                    calendar: HolidayCalendar, cipher: PersonalDataCipher | None) -> None:
    """Each step through apply_transition, in time order."""
    for step in steps:
        out = apply_transition(session, step.actor.scope(), step.case_id, step.action,
                               versions[step.case_id], step.fields, now=step.at,
                               calendar=calendar, cipher=cipher)
        versions[step.case_id] = int(out["version"])


def _write_bulk(session: Session, plan: DemoWorkflowPlan, steps: Sequence[Step],
                calendar: HolidayCalendar) -> None:
    """The steps of cases without deadlines on file replayed in memory (_CaseRun) and written
    set-based: what apply_transition writes, row for row."""
    by_case: dict[int, list[Step]] = defaultdict(list)
    for step in steps:
        by_case[step.case_id].append(step)
    runs = []
    for case_id, case_steps in by_case.items():
        run = _CaseRun(plan.cases[case_id], calendar)
        for step in case_steps:
            run.apply(step)
        runs.append(run)
    if not runs:
        return
    # Core statements, one executemany each: the ORM's bulk insert splits rows by which values
    # are None and sends them one by one.
    conn = session.connection()
    conn.execute(insert(cast(Table, CaseTransition.__table__)),
                 [t for r in runs for t in r.transitions])
    deadlines = [d for r in runs for d in r.deadlines]
    if deadlines:
        conn.execute(insert(cast(Table, CaseDeadline.__table__)), deadlines)
    table = cast(Table, PetitionCase.__table__)
    # Core UPDATE, one row per parameter set; updated_at = now() as apply_transition sets it.
    stmt = (update(table).where(table.c.id == bindparam("b_id"))
            .values(status=bindparam("b_status"), version=bindparam("b_version"),
                    updated_at=func.now(),
                    **{col: bindparam(f"b_{col}", type_=table.c[col].type)
                       for col in WORKFLOW_COLUMNS}))
    conn.execute(stmt, [
        {"b_id": r.case.id, "b_status": r.status, "b_version": r.version,
         **{f"b_{col}": r.columns[col] for col in WORKFLOW_COLUMNS}} for r in runs])


def _write_supervisions(session: Session, supervisions: Sequence[ManualSupervision],
                        calendar: HolidayCalendar) -> int:
    """Manual 督办 through the workflow's own functions; how many were opened."""
    for s in supervisions:
        opened = open_supervision(session, COMMANDER.scope(), s.case_id, s.note,
                                  now=s.opened_at, calendar=calendar)
        if s.feedback_at is not None:
            give_feedback(session, s.handler.scope(), opened["id"], s.feedback,
                          now=s.feedback_at)
            if s.accepted_at is not None:
                accept_feedback(session, COMMANDER.scope(), opened["id"], now=s.accepted_at)
    return len(supervisions)


def run_demo_workflow(session: Session, as_of: datetime, seed: int = DEFAULT_WORKFLOW_SEED,
                      *, bulk: bool = True, case_ids: Sequence[int] | None = None,
                      cipher: PersonalDataCipher | None = None,
                      calendar: HolidayCalendar | None = None) -> DemoWorkflowReport:
    """Drive the demo cases still registered (all, or `case_ids`) through the workflow up to
    `as_of`, open the manual 督办, run the tick at `as_of`; the caller commits.

    `bulk=False` takes every step through apply_transition (which reads each case back: with
    encrypted petitioner numbers that needs the `cipher`). Idempotent: a second call finds no
    case to drive and the tick has nothing left to open.
    """
    started = time.perf_counter()
    calendar = calendar or default_calendar()
    plan = plan_demo_workflow(session, as_of, seed, case_ids=case_ids, calendar=calendar)
    left_alone = _left_alone(session)
    stepwise_ids = {i for i, c in plan.cases.items() if not bulk or c.has_deadlines}
    versions = {i: c.version for i, c in plan.cases.items()}
    _write_stepwise(session, [s for s in plan.steps if s.case_id in stepwise_ids], versions,
                    calendar, cipher)
    _write_bulk(session, plan, [s for s in plan.steps if s.case_id not in stepwise_ids],
                calendar)
    manual = _write_supervisions(session, plan.supervisions, calendar)
    ticked = tick(session, now=as_of, calendar=calendar)
    session.flush()
    report = demo_workflow_report(session, as_of, year=china_date(as_of).year)
    driven = {s.case_id for s in plan.steps}
    report.driven = len(driven)
    report.stepwise = len(driven & stepwise_ids)
    report.steps = len(plan.steps)
    report.left_alone = left_alone
    report.supervisions_opened = int(ticked["supervisions_opened"])
    report.manual_supervisions = manual
    report.seconds = time.perf_counter() - started
    return report


# --- how the year stands -------------------------------------------------------------------------

def demo_workflow_report(session: Session, as_of: datetime, year: int | None = None
                         ) -> DemoWorkflowReport:
    """Status counts and 三率 of the demo cases (of `year`, or all) as of `as_of`, straight from
    the stored deadlines: in time = met on or before the due day (China time); the
    denominator is every deadline met or overdue by then (stopped ones count for neither)."""
    c, d = PetitionCase, CaseDeadline
    prefix = f"{EXTERNAL_PREFIX}-{year}-%" if year is not None else f"{EXTERNAL_PREFIX}-%"
    demo_ids = select(c.id).where(c.external_id.like(prefix)).scalar_subquery()
    today = china_date(as_of)
    report = DemoWorkflowReport(as_of=as_of)
    for status, n in session.execute(select(c.status, func.count())
                                     .where(c.id.in_(demo_ids)).group_by(c.status)):
        report.by_status[str(status)] = int(n)
    met_day = sql_cast(func.timezone("Asia/Shanghai", d.met_at), Date)
    in_time = d.met_at.isnot(None) & (met_day <= d.due_date)
    decided = d.met_at.isnot(None) | (d.active & (d.due_date < today))
    groups = {"acceptance": ["acceptance_notice"], "on_time_local": ["local_close"],
              "on_time_statutory": ["handling", "extension"]}
    for name, rules in groups.items():
        num, den = session.execute(select(func.count().filter(in_time), func.count().filter(
            decided)).where(d.case_id.in_(demo_ids), d.rule.in_(rules))).one()
        report.rates[name] = (int(num), int(den))
    good, evaluated = session.execute(select(
        func.count().filter(c.evaluation.in_(["satisfied", "basically_satisfied"])),
        func.count().filter(c.evaluation.in_(["satisfied", "basically_satisfied",
                                              "unsatisfied"])))
        .where(c.id.in_(demo_ids))).one()
    report.rates["satisfaction"] = (int(good), int(evaluated))
    report.overdue_cases = int(session.scalar(select(func.count(d.case_id.distinct())).where(
        d.case_id.in_(demo_ids), d.active, d.due_date < today,
        d.rule.in_(list(OBLIGATION_RULES)))) or 0)
    return report

