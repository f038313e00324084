"""The demo year driven through the workflow up to the demo clock (2020-12-31 17:00 China time):
every state the demo must show, 三率 of a well-run district computed straight from the stored
deadlines, histories that are valid paths through the machine table, nothing after the as-of
moment, 督办 opened by the tick exactly for the overdue obligations, a second run that changes
nothing, the bulk writer and apply_transition writing the same rows, and the request clock
(GRIDMAP_CLOCK) driving the deadline bands a client sees.

The year is loaded and driven once for the module, in a transaction rolled back at the end.
"""

from __future__ import annotations

import contextlib
import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from api.app import AppSettings, create_app
from api.commands import demo_cases as demo_cli
from api.commands import workflow as workflow_cli
from api.deps import get_session
from geo.access.keys import Keys
from geo.access.tokens import issue_token
from geo.access.users import create_user
from geo.cases.reference import load_reference_data
from geo.cases.schema import CHINA_TZ
from geo.demo.cases import RELOCATION_SITE, generate_demo_year
from geo.demo.people import assign_demo_people
from geo.demo.workflow import (
    DemoWorkflowPlan,
    DemoWorkflowReport,
    demo_as_of,
    plan_demo_workflow,
    run_demo_workflow,
)
from geo.geocode.gazetteer import build_gazetteer
from geo.privacy.crypto import PersonalDataCipher
from geo.settings import ClockSettings
from geo.workflow.calendar import HolidayCalendar
from geo.workflow.deadlines import warning_band
from geo.workflow.machine import ACTIONS, OBLIGATION_RULES, TERMINAL, target_state

AS_OF = demo_as_of(2020)
TODAY = date(2020, 12, 31)
CIPHER = PersonalDataCipher(bytes(range(32)))
CALENDAR = HolidayCalendar.load()
DEMO = "c.external_id LIKE 'DEMO-2020-%'"
OPEN_STAGES = ("registered", "assigned", "disputed", "accepted", "in_progress", "mediating",
               "replied", "review")


Snapshot = dict[str, list[Any]]


def snapshot(session: Session, ids: list[int]) -> Snapshot:
    """Every row the workflow writes for these cases, without generated ids (a supervision's
    deadline by its rule and start day)."""
    p = {"ids": ids}
    queries = {
        "petition_case": "SELECT * FROM petition_case WHERE id = ANY(:ids) ORDER BY id",
        "case_transition": "SELECT case_id, action, from_status, to_status, actor, role, at, "
                           "note, data, version_after FROM case_transition "
                           "WHERE case_id = ANY(:ids) ORDER BY case_id, version_after",
        "case_deadline": "SELECT case_id, rule, start_date, due_date, days, working_days, "
                         "basis, statutory, active, met_at, created_at FROM case_deadline "
                         "WHERE case_id = ANY(:ids) "
                         "ORDER BY case_id, rule, start_date, due_date, active, met_at",
        "supervision": "SELECT s.case_id, s.reason, d.rule, d.start_date, s.note, s.opened_by, "
                       "s.opened_at, s.feedback_due, s.feedback, s.feedback_by, s.feedback_at, "
                       "s.accepted_by, s.accepted_at, s.closed_at FROM supervision s "
                       "LEFT JOIN case_deadline d ON d.id = s.deadline_id "
                       "WHERE s.case_id = ANY(:ids) ORDER BY s.case_id, s.reason, s.opened_at",
    }
    return {name: [dict(r._mapping) for r in session.execute(text(q), p)]
            for name, q in queries.items()}


def path_signature(plan: DemoWorkflowPlan) -> dict[tuple[tuple[str, ...], str], int]:
    """One case for each distinct path (its actions and where it ends)."""
    actions: dict[int, list[str]] = {}
    for step in plan.steps:
        actions.setdefault(step.case_id, []).append(step.action)
    out: dict[tuple[tuple[str, ...], str], int] = {}
    for case_id in sorted(plan.cases):
        out.setdefault((tuple(actions.get(case_id, [])), plan.final_status[case_id]), case_id)
    return out


@dataclass
class Driven:
    """The module's session with the demo year driven, and what the fixture found on the way."""

    session: Session
    plan: DemoWorkflowPlan
    report: DemoWorkflowReport
    compared: list[int]
    paths: set[tuple[str, ...]]
    both_ways: tuple[Snapshot, Snapshot]


@pytest.fixture(scope="module")
def demo(engine: Engine, zhongshan: None) -> Iterator[Driven]:
    """The 2020 demo year loaded; a sample of cases (one per distinct path, with their merge
    targets and manual 督办) driven step by step and in bulk, each in a savepoint rolled back;
    then the whole year driven (bulk) for the other tests. Rolled back after the module."""
    with engine.connect() as conn:
        trans = conn.begin()
        try:
            with Session(bind=conn, join_transaction_mode="create_savepoint") as session:
                load_reference_data(session)
                build_gazetteer(session)
                assign_demo_people(session)
                generate_demo_year(session, 2020, cipher=CIPHER)
                plan = plan_demo_workflow(session, AS_OF)
                sample = set(path_signature(plan).values())
                sample |= {s.fields["into"] for s in plan.steps
                           if s.action == "merge" and s.case_id in sample}
                sample |= {m.case_id for m in plan.supervisions[:3]}
                ids = sorted(sample)
                snaps = []
                for bulk in (False, True):
                    savepoint = session.begin_nested()
                    # The rest of the year parked out of `registered`: the tick at the as-of
                    # moment then works on the sample alone (the same for both ways).
                    session.execute(text(f"UPDATE petition_case c SET status = 'closed' "
                                         f"WHERE {DEMO} AND NOT c.id = ANY(:ids)"), {"ids": ids})
                    run_demo_workflow(session, AS_OF, bulk=bulk, case_ids=ids, cipher=CIPHER)
                    snaps.append(snapshot(session, ids))
                    savepoint.rollback()
                by_case: dict[int, list[str]] = {}
                for t in snaps[0]["case_transition"]:
                    by_case.setdefault(t["case_id"], []).append(t["action"])
                paths = {tuple(actions) for actions in by_case.values()}
                report = run_demo_workflow(session, AS_OF)
                yield Driven(session, plan, report, ids, paths, (snaps[0], snaps[1]))
        finally:
            trans.rollback()


def rows(session: Session, query: str, **params: Any) -> list[Any]:
    return list(session.execute(text(query), params))


def scalar(session: Session, query: str, **params: Any) -> Any:
    return session.execute(text(query), params).scalar_one()


# --- what the demo shows ------------------------------------------------------------------------

def test_every_state_of_interest_is_there(demo: Driven) -> None:
    s = demo.session
    status = dict(rows(s, f"SELECT c.status, count(*) FROM petition_case c WHERE {DEMO} "
                          "GROUP BY 1"))
    for state in (*OPEN_STAGES, "closed", "not_accepted", "redirected", "merged"):
        assert status.get(state, 0) >= 1, (state, status)
    assert status["closed"] > 0.8 * sum(status.values())
    # Opened cases at every stage come from the year's last weeks (and a few long-running).
    recent = dict(rows(s, f"SELECT c.status, count(*) FROM petition_case c WHERE {DEMO} "
                          "AND c.received_at >= '2020-12-01T00:00+08:00' GROUP BY 1"))
    assert all(recent.get(st, 0) >= 1 for st in OPEN_STAGES if st != "review"), recent
    overdue = rows(s, f"""SELECT DISTINCT c.id, c.status, c.received_at FROM petition_case c
        JOIN case_deadline d ON d.case_id = c.id
        WHERE {DEMO} AND d.active AND d.due_date < :today AND d.rule = ANY(:rules)""",
                   today=TODAY, rules=list(OBLIGATION_RULES))
    assert overdue and all(r.status not in TERMINAL for r in overdue)
    assert any(r.received_at >= datetime(2020, 12, 1, tzinfo=CHINA_TZ) for r in overdue)
    assert scalar(s, "SELECT count(*) FROM supervision WHERE closed_at IS NULL") >= 1
    # Mediated, then handling resumed (and replied or closed since).
    resumed = scalar(s, """SELECT count(DISTINCT m.case_id) FROM case_transition m
        JOIN case_transition r ON r.case_id = m.case_id AND r.version_after > m.version_after
             AND r.action = 'start' AND r.from_status = 'mediating'
        JOIN petition_case c ON c.id = m.case_id
        WHERE m.action = 'mediate' AND c.status IN ('replied', 'closed')""")
    assert resumed >= 10
    actions = dict(rows(s, "SELECT action, count(*) FROM case_transition GROUP BY 1"))
    for action in ("object", "reject", "redirect", "merge", "extend", "mediate", "evaluate",
                   "request_review", "decide_review", "request_rereview", "decide_rereview"):
        assert actions.get(action, 0) >= 1, action
    assert actions["request_review"] <= 0.05 * status["closed"]    # a handful of 复查
    # An objection sends the case back to the registry, which routes it elsewhere.
    rerouted = scalar(s, """SELECT count(*) FROM case_transition o
        JOIN case_transition a ON a.case_id = o.case_id AND a.action = 'assign'
             AND a.from_status = 'disputed'
        WHERE o.action = 'object'
          AND (a.data->>'unit')::int <> (SELECT (data->>'unit')::int FROM case_transition f
                                         WHERE f.case_id = o.case_id AND f.action = 'assign'
                                         ORDER BY f.version_after LIMIT 1)""")
    assert rerouted >= 10
    # 检举控告 goes to the discipline inspection organs, by a 信访局 leader.
    assert rows(s, f"""SELECT DISTINCT c.status, t.data->>'reason' FROM petition_case c
        JOIN case_transition t ON t.case_id = c.id WHERE {DEMO} AND c.category_code =
        'accusation'""") == [("redirected", "discipline_inspection")]


def test_three_rates_of_a_well_run_district_from_the_stored_deadlines(demo: Driven) -> None:
    def rate(rules: list[str]) -> tuple[int, int]:
        r = demo.session.execute(text(f"""
            SELECT count(*) FILTER (WHERE d.met_at IS NOT NULL
                      AND (d.met_at AT TIME ZONE 'Asia/Shanghai')::date <= d.due_date),
                   count(*) FILTER (WHERE d.met_at IS NOT NULL
                                       OR (d.active AND d.due_date < :today))
            FROM case_deadline d JOIN petition_case c ON c.id = d.case_id
            WHERE {DEMO} AND d.rule = ANY(:rules)"""), {"today": TODAY, "rules": rules}).one()
        return int(r[0]), int(r[1])

    accepted, replied_local, replied = (rate(["acceptance_notice"]), rate(["local_close"]),
                                        rate(["handling", "extension"]))
    assert 0.95 <= accepted[0] / accepted[1] < 1.0 and accepted[1] > 2000
    assert 0.90 <= replied_local[0] / replied_local[1] < 0.98 and replied_local[1] > 1500
    assert 0.95 <= replied[0] / replied[1] < 1.0
    good, evaluated = demo.session.execute(text(f"""
        SELECT count(*) FILTER (WHERE evaluation IN ('satisfied', 'basically_satisfied')),
               count(*) FILTER (WHERE evaluation IN ('satisfied', 'basically_satisfied',
                                                     'unsatisfied'))
        FROM petition_case c WHERE {DEMO}""")).one()
    assert 0.88 <= good / evaluated < 0.98
    # The report says the same.
    assert demo.report.rates["acceptance"] == accepted
    assert demo.report.rates["on_time_local"] == replied_local
    assert demo.report.rates["on_time_statutory"] == replied
    assert demo.report.rates["satisfaction"] == (good, evaluated)


def test_every_history_is_a_valid_path_through_the_machine(demo: Driven) -> None:
    history: dict[int, list[Any]] = {}
    for r in rows(demo.session, """SELECT t.case_id, t.action, t.from_status, t.to_status,
            t.role, t.at, t.version_after FROM case_transition t
            JOIN petition_case c ON c.id = t.case_id WHERE c.external_id LIKE 'DEMO-2020-%'
            ORDER BY t.case_id, t.version_after"""):
        history.setdefault(r.case_id, []).append(r)
    final = dict(rows(demo.session, f"SELECT c.id, c.status FROM petition_case c WHERE {DEMO}"))
    assert len(history) > 2800
    for case_id, steps in history.items():
        state, last = "registered", None
        for t in steps:
            spec = ACTIONS[t.action]
            assert t.from_status == state and state in spec.from_states, (case_id, t)
            assert t.to_status == target_state(spec, state), (case_id, t)
            assert t.role in spec.roles, (case_id, t)
            assert last is None or t.at > last, (case_id, t)
            state, last = t.to_status, t.at
        assert final[case_id] == state


def test_nothing_happens_after_the_as_of_moment_and_people_work_office_days(
        demo: Driven) -> None:
    s = demo.session
    assert scalar(s, "SELECT max(at) FROM case_transition") <= AS_OF
    assert scalar(s, "SELECT max(opened_at) FROM supervision") <= AS_OF
    assert scalar(s, "SELECT max(coalesce(feedback_at, opened_at)) FROM supervision") <= AS_OF
    times = [r.at.astimezone(CHINA_TZ) for r in rows(s, "SELECT at FROM case_transition")]
    assert all(CALENDAR.is_working_day(t.date()) for t in times)
    assert all(8 <= t.hour <= 18 for t in times)
    # No transition before its case arrived.
    assert scalar(s, """SELECT count(*) FROM case_transition t JOIN petition_case c
                        ON c.id = t.case_id WHERE t.at < c.received_at""") == 0


def test_the_tick_at_the_as_of_moment_supervised_exactly_the_overdue_obligations(
        demo: Driven) -> None:
    s = demo.session
    overdue = {r.id for r in rows(s, """SELECT id FROM case_deadline WHERE active
        AND due_date < :today AND rule = ANY(:rules)""", today=TODAY,
                                   rules=list(OBLIGATION_RULES))}
    supervised = rows(s, "SELECT deadline_id, reason, opened_at, opened_by FROM supervision "
                         "WHERE opened_by = 'system'")
    assert overdue and {r.deadline_id for r in supervised} == overdue
    assert all(r.opened_at == AS_OF and r.reason.startswith("overdue:") for r in supervised)
    assert demo.report.supervisions_opened == len(supervised)
    # Windows that ended unused by the as-of day have lapsed; none is supervised.
    assert scalar(s, """SELECT count(*) FROM case_deadline WHERE active AND due_date < :today
        AND rule IN ('objection', 'review_request', 'rereview_request')""", today=TODAY) == 0


def test_manual_supervisions_are_answered_and_some_accepted(demo: Driven) -> None:
    manual = rows(demo.session, """SELECT s.*, c.status FROM supervision s
        JOIN petition_case c ON c.id = s.case_id WHERE s.reason = 'manual'""")
    assert len(manual) >= 3 and {r.opened_by for r in manual} == {"zhihui"}
    assert all(r.status not in TERMINAL for r in manual)
    answered = [r for r in manual if r.feedback_at is not None]
    assert answered and all(r.feedback_at > r.opened_at and r.feedback_by.startswith("danwei_")
                            for r in answered)
    closed = [r for r in manual if r.closed_at is not None]
    assert closed and all(r.accepted_by == "zhihui" and r.closed_at > r.feedback_at
                          for r in closed)
    assert len(closed) < len(manual)


def test_the_relocation_story_runs_long_with_repeats_collective_visits_and_merges(
        demo: Driven) -> None:
    story = rows(demo.session, f"""SELECT c.status, c.is_repeat, c.is_collective,
            c.extension_days, c.received_at, c.replied_at FROM petition_case c
            WHERE {DEMO} AND c.properties->>'demo_cluster' = :site""", site=RELOCATION_SITE)
    other = rows(demo.session, f"""SELECT c.received_at, c.replied_at FROM petition_case c
            WHERE {DEMO} AND c.properties->>'demo_cluster' IS NULL
            AND c.replied_at IS NOT NULL""")

    def median_days(rs: list[Any]) -> float:
        days = sorted((r.replied_at - r.received_at).total_seconds() / 86400 for r in rs
                      if r.replied_at is not None)
        return days[len(days) // 2]

    status = Counter(r.status for r in story)
    assert sum(r.is_repeat for r in story) > 0.5 * len(story)
    assert sum(r.is_collective for r in story) >= 5
    assert status["merged"] >= 10 and sum(r.extension_days is not None for r in story) >= 5
    # Still unanswered at the year's end: 积案 from the summer, overdue.
    assert any(r.status not in TERMINAL and r.received_at < datetime(2020, 10, 1,
                                                                      tzinfo=CHINA_TZ)
               for r in story)
    assert median_days(story) > 2 * median_days(other)


def test_first_contact_is_the_first_unit_and_its_first_handler(demo: Driven) -> None:
    bad = scalar(demo.session, f"""SELECT count(*) FROM petition_case c
        JOIN LATERAL (SELECT (data->>'unit')::int AS unit FROM case_transition
                      WHERE case_id = c.id AND action = 'assign'
                      ORDER BY version_after LIMIT 1) f ON true
        WHERE {DEMO} AND (c.first_unit_id IS DISTINCT FROM f.unit
                          OR (c.status IN ('accepted', 'in_progress', 'replied', 'closed')
                              AND c.first_handler IS NULL))""")
    assert bad == 0


# --- idempotent, and the same either way ----------------------------------------------------------

def counts(session: Session) -> tuple[Any, ...]:
    return tuple(session.execute(text("""SELECT
        (SELECT count(*) FROM case_transition), (SELECT count(*) FROM case_deadline),
        (SELECT count(*) FROM case_deadline WHERE active), (SELECT count(*) FROM supervision),
        (SELECT string_agg(status || ':' || n, ',' ORDER BY status)
         FROM (SELECT status, count(*) AS n FROM petition_case GROUP BY status) s)""")).one())


def test_a_second_run_changes_nothing(demo: Driven) -> None:
    before = counts(demo.session)
    again = run_demo_workflow(demo.session, AS_OF)
    assert (again.driven, again.steps, again.supervisions_opened,
            again.manual_supervisions) == (0, 0, 0, 0)
    assert again.left_alone == 2841 - demo.report.by_status["registered"]
    assert counts(demo.session) == before


def test_bulk_writes_exactly_what_apply_transition_writes(demo: Driven) -> None:
    step_by_step, bulk = demo.both_ways
    assert len(demo.compared) >= 40 and len(demo.paths) >= 30
    used = {a for path in demo.paths for a in path}
    assert used >= {"assign", "object", "accept", "reject", "redirect", "merge", "start",
                    "mediate", "extend", "reply", "close", "evaluate", "request_review",
                    "decide_review"}
    assert len(step_by_step["case_transition"]) > 200
    assert step_by_step["supervision"]
    for table in ("petition_case", "case_transition", "case_deadline", "supervision"):
        assert bulk[table] == step_by_step[table], table


def test_the_cli_commands_run_on_the_demo_clock(demo: Driven, monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    from api.cli import main

    monkeypatch.setenv("GRIDMAP_CLOCK", AS_OF.isoformat())
    monkeypatch.setattr(workflow_cli, "_open_session",
                        lambda: contextlib.nullcontext(demo.session))
    monkeypatch.setattr(demo_cli, "_open_session", lambda: contextlib.nullcontext(demo.session))
    before = counts(demo.session)
    assert main(["workflow", "tick"]) == 0
    assert main(["demo", "workflow"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("2020-12-31: 0 registration deadlines opened")
    assert "demo workflow as of 2020-12-31T17:00:00+08:00: 0 cases driven" in out
    assert counts(demo.session) == before
    monkeypatch.setenv("GRIDMAP_CLOCK", "2020-12-31")   # no offset: refused, named
    assert main(["workflow", "tick"]) == 2
    assert "GRIDMAP_CLOCK" in capsys.readouterr().err
    assert demo_cli._as_of("2020-06-30") == datetime(2020, 6, 30, 17, tzinfo=CHINA_TZ)


# --- the request clock ---------------------------------------------------------------------------

def test_gridmap_run_serves_on_the_demo_clock_and_leaves_no_clock_behind(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from api import cli

    monkeypatch.delenv("GRIDMAP_CLOCK", raising=False)
    monkeypatch.setenv("GRIDMAP_DEMO", "0")  # restored after the test (run sets it)
    seen: list[str | None] = []

    def serve(args: object) -> int:
        seen.append(os.environ.get("GRIDMAP_CLOCK"))
        return 0

    monkeypatch.setattr(cli, "_database_url", lambda **kw: "postgresql://unused")
    monkeypatch.setattr("geo.migrate.upgrade", lambda url: None)
    monkeypatch.setattr(cli, "_load_demo", lambda url: True)
    monkeypatch.setattr(cli, "cmd_serve", serve)
    assert cli.main(["run"]) == 0
    assert "演示时钟" in capsys.readouterr().out and "GRIDMAP_CLOCK" not in os.environ
    monkeypatch.setenv("GRIDMAP_CLOCK", "2021-06-30T09:00:00+08:00")   # given: it wins
    assert cli.main(["run"]) == 0
    assert seen == ["2020-12-31T17:00:00+08:00", "2021-06-30T09:00:00+08:00"]
    monkeypatch.setenv("GRIDMAP_CLOCK", "next Tuesday")
    assert cli.main(["run"]) == 2 and len(seen) == 2
    assert "GRIDMAP_CLOCK" in capsys.readouterr().err


def test_the_clock_setting_drives_the_deadline_bands_a_client_sees(
        demo: Driven, app_settings: AppSettings, keys: Keys) -> None:
    s = demo.session
    # A case handled in December whose statutory limit runs into 2021: green on the demo
    # clock, long overdue on the real one.
    case_id = scalar(s, f"""SELECT c.id FROM petition_case c JOIN case_deadline d
        ON d.case_id = c.id WHERE {DEMO} AND c.status = 'in_progress' AND d.active
        AND d.rule = 'handling' AND d.due_date > :later ORDER BY c.id LIMIT 1""",
                     later=TODAY + timedelta(days=10))
    user, _ = create_user(s, "clock_test_admin", "admin")
    token, _ = issue_token(user, keys, 30)
    headers = {"Authorization": f"Bearer {token}"}

    def read(clock: datetime | None) -> tuple[dict[str, Any], dict[str, Any]]:
        app = create_app(replace(app_settings, clock=ClockSettings(clock=clock)))
        app.dependency_overrides[get_session] = lambda: s
        with TestClient(app, headers=headers) as client:
            one = client.get(f"/cases/{case_id}")
            page = client.get("/cases", params={"status": "in_progress", "limit": 1000})
        assert one.status_code == 200 and page.status_code == 200, one.text
        [listed] = [c for c in page.json()["items"] if c["id"] == case_id]
        return one.json(), listed

    def bands(case: dict[str, Any]) -> dict[str, str | None]:
        return {d["rule"]: d["band"] for side in ("statutory", "local")
                for d in case["deadlines"][side] if d["active"]}

    on_clock, listed = read(AS_OF)
    due = {d["rule"]: date.fromisoformat(d["due_date"])
           for side in ("statutory", "local") for d in on_clock["deadlines"][side] if d["active"]}
    assert bands(on_clock) == {rule: warning_band(day, TODAY) for rule, day in due.items()}
    assert bands(on_clock)["handling"] == "green" and on_clock["overdue"]["statutory"] is False
    assert bands(listed) == bands(on_clock)
    real, _ = read(None)
    assert bands(real)["handling"] == "red" and real["overdue"]["statutory"] is True


# --- the records around the cases (geo.demo.coordination) ---------------------------------------

def test_the_demo_keeps_baoan_backlog_receptions_and_mediations(demo: Driven) -> None:
    from geo.demo.coordination import load_demo_coordination
    from geo.workflow.deadlines import compute_deadline

    s = demo.session
    savepoint = s.begin_nested()
    try:
        report = load_demo_coordination(s, AS_OF, cipher=CIPHER)
        assert report.leads > 0 and not report.already_loaded
        led = rows(s, f"SELECT c.status, c.is_collective, c.is_repeat, c.category_code, c.leader "
                      f"FROM petition_case c WHERE {DEMO} AND c.leader IS NOT NULL")
        assert len(led) == report.leads
        assert all(r.status not in TERMINAL and (r.is_collective or r.is_repeat
                                                 or r.category_code == "relocation")
                   and "示意" in r.leader for r in led)
        assert scalar(s, "SELECT count(*) FROM case_transition WHERE action = 'lead'") == len(led)
        items = Counter(r.status for r in rows(s, "SELECT status FROM backlog_item"))
        assert items == Counter(report.backlog_items) and items["open"] and items["struck"]
        assert not rows(s, "SELECT id FROM backlog_item WHERE status = 'struck' AND "
                           "(evidence IS NULL OR approved_by = evidence_by)")
        parts = rows(s, "SELECT reception_id, count(*) AS n FROM joint_reception_part "
                        "GROUP BY reception_id")
        assert len(parts) == report.receptions > 0 and {p.n for p in parts} == {3}
        mediated = scalar(s, "SELECT count(DISTINCT case_id) FROM case_transition "
                             "WHERE action = 'mediate'")
        assert scalar(s, "SELECT count(*) FROM mediation") == mediated > 0
        assert not rows(s, "SELECT m.id FROM mediation m JOIN petition_case c ON c.id = m.case_id "
                           "WHERE c.status = 'mediating' AND m.outcome <> 'pending'")
        for m in rows(s, "SELECT kind, agreement_date, confirmation_due, confirmed_on "
                         "FROM mediation WHERE outcome = 'agreement'"):
            due = (compute_deadline(m.agreement_date, "mediation_confirmation", CALENDAR).due
                   if m.kind != "judicial" else None)
            assert m.confirmation_due == due
            assert m.confirmed_on is None or m.agreement_date <= m.confirmed_on <= due
        assert load_demo_coordination(s, AS_OF, cipher=CIPHER).already_loaded
    finally:
        savepoint.rollback()
