"""The records around the demo year's cases, as the office would have them at the demo clock
(演示时钟, 2020-12-31 17:00): 包案 leaders on the open collective, repeat and relocation cases, the
year's backlog list (积案清单) with items open, awaiting 销号 approval and struck off, joint
receptions (联合接访) of the 华联宾馆地块 households fanned out to three units, and 三调联动
mediation records for the cases the workflow sent to mediation. Leaders and organisations are
generated (示意); every record is made through the same functions the API uses, acting at the
demo clock, except the mediation records of cases already finished, which are written as the
history they would be (their dates from the case's own mediate/start transitions).

Idempotent: nothing is written when the year's backlog list is already there.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session

from geo.access.scope import Scope, scope_for
from geo.demo.cases import EXTERNAL_PREFIX, RELOCATION_SITE
from geo.demo.people import demo_name
from geo.models import BacklogList, Mediation, PetitionCase, Unit
from geo.privacy.crypto import PersonalDataCipher
from geo.workflow import backlog, mediation, receptions
from geo.workflow.calendar import HolidayCalendar
from geo.workflow.deadlines import china_date, compute_deadline
from geo.workflow.machine import TERMINAL
from geo.workflow.schedule import default_calendar
from geo.workflow.transitions import apply_transition

SEED = 20201230
COMMANDER = scope_for("zhihui", "commander")
REGISTRAR = scope_for("dengji", "registrar")
# District leaders who own cases (领导包案): titles as a district has them, names generated.
LEADER_TITLES = ("区长", "常务副区长", "副区长（分管城建）", "副区长（分管社会事业）",
                 "区委政法委书记", "区信访局局长")
LEADS_AT_MOST = 40
BACKLOG_AGE_DAYS = 30          # open longer than this: on the 积案 list
RECEPTION_UNITS = ("zs-zsb", "zs-zjj", "zs-rsj")
RECEPTION_PARTS = {"zs-zsb": "核实动迁户回迁安置进度，明确回迁时间表",
                   "zs-zjj": "督促开发企业按合同推进安置房建设",
                   "zs-rsj": "核实过渡期安置补助发放情况"}
MEDIATION_KINDS = (("people", 0.6), ("administrative", 0.3), ("judicial", 0.1))


@dataclass
class DemoCoordinationReport:
    """What was written (all zero when the records were already there)."""

    leads: int = 0
    backlog_items: dict[str, int] = field(default_factory=dict)
    receptions: int = 0
    mediations: dict[str, int] = field(default_factory=dict)
    already_loaded: bool = False

    def format(self) -> str:
        """One line for `make run`."""
        if self.already_loaded:
            return "demo 包案/清单/联合接访/三调联动: already loaded"
        items = ", ".join(f"{k} {v}" for k, v in sorted(self.backlog_items.items()))
        med = ", ".join(f"{k} {v}" for k, v in sorted(self.mediations.items()))
        return (f"demo 包案 {self.leads} cases; 积案清单 items: {items}; 联合接访 "
                f"{self.receptions}; 三调联动 mediations: {med}")


def _list_title(year: int) -> str:
    return f"{year}年度信访积案化解清单（示意）"


def _leaders(rng: random.Random) -> list[str]:
    taken: set[str] = set()
    return [f"{demo_name(rng, taken)}（{title}，示意）" for title in LEADER_TITLES]


def _open_cases(session: Session, year: int) -> list[Any]:
    return list(session.execute(
        select(PetitionCase.id, PetitionCase.version, PetitionCase.received_at,
               PetitionCase.status, PetitionCase.is_collective, PetitionCase.is_repeat,
               PetitionCase.category_code, PetitionCase.content, PetitionCase.leader)
        .where(PetitionCase.external_id.like(f"{EXTERNAL_PREFIX}-{year}-%"),
               PetitionCase.status.not_in(sorted(TERMINAL)))
        .order_by(PetitionCase.received_at, PetitionCase.id)))


def _lead(session: Session, rng: random.Random, cases: list[Any], leaders: list[str],
          now: datetime, calendar: HolidayCalendar, cipher: PersonalDataCipher | None
          ) -> dict[int, str]:
    """包案: the heaviest open cases (collective, repeat, relocation) get a district leader."""
    heavy = [c for c in cases if c.leader is None and (
        c.is_collective or c.is_repeat or c.category_code == "relocation")][:LEADS_AT_MOST]
    led: dict[int, str] = {}
    for c in heavy:
        leader = leaders[0 if RELOCATION_SITE in c.content else rng.randrange(len(leaders))]
        apply_transition(session, COMMANDER, c.id, "lead", c.version, {"leader": leader},
                         now=now, calendar=calendar, cipher=cipher)
        led[c.id] = leader
    return led


def _backlog(session: Session, rng: random.Random, year: int, cases: list[Any],
             led: dict[int, str], leaders: list[str], now: datetime) -> dict[str, int]:
    """The year's 积案 list: cases open for over a month; a few finished ones struck off."""
    today = china_date(now)
    made = backlog.create_list(session, COMMANDER, title=_list_title(year), kind="backlog",
                               owner="区信访工作联席会议办公室（示意）", owner_staff_id=None,
                               due_date=date(year + 1, 3, 31),
                               note="逐案包案、逐案化解、化解一件销号一件（示意）", now=now)
    old = [c for c in cases if (today - china_date(c.received_at)).days > BACKLOG_AGE_DAYS]
    counts = {"open": 0, "pending": 0, "struck": 0}
    for c in old:
        leader = led.get(c.id) or leaders[rng.randrange(len(leaders))]
        item = backlog.add_item(session, COMMANDER, made["id"], case_id=c.id, title=None,
                                leader=leader, leader_staff_id=None,
                                due_date=min(today + timedelta(days=rng.choice((30, 45, 60))),
                                             date(year + 1, 3, 31)), now=now)
        if c.status == "replied" and rng.random() < 0.7:
            backlog.submit_evidence(session, REGISTRAR, item["id"],
                                    "已书面答复，信访人签收，回访无异议（示意）", now=now)
            counts["pending"] += 1
        else:
            counts["open"] += 1
    # Matters the list already settled this year: finished cases struck off with evidence.
    done = session.execute(
        select(PetitionCase.id).where(
            PetitionCase.external_id.like(f"{EXTERNAL_PREFIX}-{year}-%"),
            PetitionCase.status == "closed", PetitionCase.is_collective)
        .order_by(PetitionCase.received_at, PetitionCase.id).limit(8)).scalars().all()
    for case_id in done:
        item = backlog.add_item(session, COMMANDER, made["id"], case_id=case_id, title=None,
                                leader=leaders[rng.randrange(len(leaders))],
                                leader_staff_id=None, due_date=today + timedelta(days=30),
                                now=now)
        backlog.submit_evidence(session, REGISTRAR, item["id"],
                                "问题已解决，结案并回访满意（示意）", now=now)
        backlog.decide_item(session, COMMANDER, item["id"], True, now=now)
        counts["struck"] += 1
    return counts


def _receptions(session: Session, year: int, now: datetime,
                calendar: HolidayCalendar) -> int:
    """联合接访 of the relocation households: the three units at one table, each its part."""
    units = {code: uid for code, uid in session.execute(
        select(Unit.code, Unit.id).where(Unit.code.in_(RECEPTION_UNITS)))}
    if len(units) < len(RECEPTION_UNITS):
        return 0
    rows = session.execute(
        select(PetitionCase.id, PetitionCase.received_at, PetitionCase.persons_count)
        .where(PetitionCase.external_id.like(f"{EXTERNAL_PREFIX}-{year}-%"),
               PetitionCase.is_collective,
               PetitionCase.content.contains(RELOCATION_SITE))
        .order_by(PetitionCase.received_at, PetitionCase.id)).all()
    picked = rows[:: max(1, len(rows) // 4)][:4]
    for r in picked:
        made = receptions.create_reception(
            session, REGISTRAR, received_at=r.received_at, place="中山区联合接访中心",
            persons_count=r.persons_count, case_id=r.id,
            note=f"{RELOCATION_SITE}动迁户集体来访，三部门联合接待（示意）",
            parts=[receptions.PartIn(code, RECEPTION_PARTS[code]) for code in RECEPTION_UNITS],
            now=now, calendar=calendar)
        for part in made["parts"]:
            due = date.fromisoformat(part["due_date"])
            if due < china_date(now):
                handler = _handler(part["unit"]["id"])
                answered = datetime.combine(due - timedelta(days=2), now.timetz())
                receptions.answer_part(session, handler, part["id"],
                                       "已按分工核实并书面反馈（示意）", now=answered)
    return len(picked)


def _handler(unit_id: int) -> Scope:
    return scope_for(f"danwei_{unit_id}", "unit_handler", unit_id=unit_id)


def _mediated(session: Session, year: int) -> list[Any]:
    """Each demo case the workflow sent to mediation: when, when it resumed, where it is now."""
    return list(session.execute(text("""
        SELECT c.id, c.status, c.street_code, c.routed_unit_id, c.responsible_unit_id,
               m.at AS mediate_at,
               (SELECT min(s.at) FROM case_transition s
                 WHERE s.case_id = c.id AND s.action = 'start' AND s.at > m.at) AS resumed_at
        FROM petition_case c
        JOIN LATERAL (SELECT min(t.at) AS at FROM case_transition t
                      WHERE t.case_id = c.id AND t.action = 'mediate') m ON m.at IS NOT NULL
        WHERE c.external_id LIKE :prefix
        ORDER BY c.id"""), {"prefix": f"{EXTERNAL_PREFIX}-{year}-%"}))


def _organization(kind: str, street: str | None) -> str:
    if kind == "people":
        return f"{street or '中山区'}人民调解委员会（示意）"
    if kind == "administrative":
        return "中山区司法局行政调解（示意）"
    return "中山区人民法院诉调对接中心（示意）"


def _mediations(session: Session, rng: random.Random, year: int, now: datetime,
                calendar: HolidayCalendar) -> dict[str, int]:
    """三调联动 records for the mediated cases (live ones through the API's functions)."""
    streets: dict[str, str] = {code: name for code, name in session.execute(text(
        "SELECT DISTINCT ON (code) code, name FROM area WHERE level = 'street' "
        "ORDER BY code, generation_id DESC"))}
    counts: dict[str, int] = {}
    today = china_date(now)
    for c in _mediated(session, year):
        kind = rng.choices([k for k, _ in MEDIATION_KINDS], [w for _, w in MEDIATION_KINDS])[0]
        started = china_date(c.mediate_at)
        org = _organization(kind, streets.get(c.street_code))
        agreed = c.resumed_at is not None and rng.random() < 0.75
        agreement = china_date(c.resumed_at) if agreed else None
        if c.status in mediation.HANDLING_STATES:
            scope = _handler(c.routed_unit_id)
            made = mediation.record_mediation(session, scope, c.id, kind, org, None, started,
                                              now=now)
            if c.resumed_at is not None:
                mediation.conclude_mediation(
                    session, scope, made["id"], "agreement" if agreed else "no_agreement",
                    agreement, now=now, calendar=calendar)
            key = "pending" if c.resumed_at is None else ("agreement" if agreed
                                                          else "no_agreement")
        else:
            due = (compute_deadline(agreement, mediation.RULE, calendar).due
                   if agreement and kind in mediation.NEEDS_CONFIRMATION else None)
            confirmed = (min(agreement + timedelta(days=rng.randint(5, 25)), due, today)
                         if due and agreement and rng.random() < 0.6 else None)
            session.execute(insert(Mediation).values(
                case_id=c.id, kind=kind, organization=org, started_on=started,
                outcome="agreement" if agreed else "no_agreement", agreement_date=agreement,
                confirmation_due=due, confirmed_on=confirmed, created_by="dengji",
                created_at=c.mediate_at,
                note="历史记录：由案件的调解与恢复办理时间补录（示意）"))
            key = "agreement" if agreed else "no_agreement"
        counts[key] = counts.get(key, 0) + 1
    return counts


def load_demo_coordination(session: Session, as_of: datetime, *,
                           cipher: PersonalDataCipher | None = None,
                           calendar: HolidayCalendar | None = None,
                           seed: int = SEED) -> DemoCoordinationReport:
    """Write the demo's 包案, 清单, 联合接访 and 三调联动 records as of the demo clock, once;
    the caller commits."""
    year = china_date(as_of).year
    report = DemoCoordinationReport()
    if session.scalar(select(BacklogList.id).where(BacklogList.title == _list_title(year))):
        report.already_loaded = True
        return report
    calendar = calendar or default_calendar()
    rng = random.Random(f"{seed}:{year}")
    leaders = _leaders(rng)
    cases = _open_cases(session, year)
    led = _lead(session, rng, cases, leaders, as_of, calendar, cipher)
    report.leads = len(led)
    report.backlog_items = _backlog(session, rng, year, _open_cases(session, year), led,
                                    leaders, as_of)
    report.receptions = _receptions(session, year, as_of, calendar)
    report.mediations = _mediations(session, rng, year, as_of, calendar)
    return report
