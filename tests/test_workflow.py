"""The case workflow through the API on the hand-made squares: every action from every state
and by every role (table-driven over geo.workflow.machine), 四定, 首接首办 across transfers,
stale versions (also two real concurrent transactions), time windows, deadlines with their
rules and warning bands, and 督办 opened by the tick exactly once.

The clock is fixed (get_now overridden): the case arrives Wed 2020-05-06 and is worked on
Thu 2020-05-07, so its limits are known by hand — routing and the local target 2020-05-21,
acceptance notice 2020-05-22, objection 2020-05-13 (5 working days; Sat 05-09 is a 调休
working day), handling from acceptance 2020-07-06.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from api.commands import workflow as workflow_cli
from api.deps import get_geocoder, get_now
from geo.access.scope import scope_for
from geo.cases.people import assign_grid_unit
from geo.cases.reference import ensure_area_units, load_reference_data
from geo.cases.schema import CHINA_TZ
from geo.errors import Conflict
from geo.models.access import ROLES
from geo.settings import CaseSettings
from geo.workflow.calendar import HolidayCalendar
from geo.workflow.machine import ACTIONS, STATES, actions_from, target_state
from geo.workflow.supervision import tick
from geo.workflow.transitions import apply_transition
from tests.squares import COMMUNITY, STEP, STREET, X0, Y0, grid_code, load_squares

RECEIVED = "2020-05-06T09:30:00+08:00"
DAY1 = datetime(2020, 5, 7, 10, 0, tzinfo=CHINA_TZ)
TARGET = "2020-05-15"
CENTRE_5 = (X0 + 1.5 * STEP, Y0 + 1.5 * STEP)
CALENDAR = HolidayCalendar.load()


def at(day: str, hour: int = 10) -> datetime:
    """A China time on a day given as YYYY-MM-DD."""
    return datetime.combine(date.fromisoformat(day), datetime.min.time(),
                            CHINA_TZ).replace(hour=hour)


@dataclass
class Clock:
    """The time every request acts at."""

    now: datetime


@dataclass
class World:
    """Squares with grid 5's responsible unit = the 社区 居委会 (unit C), two bureaus A and B,
    a client per role (unit handlers of C unless said otherwise) and the test's session."""

    session: Session
    clock: Clock
    unit_c: int
    unit_a: int
    unit_b: int
    clients: dict[str, TestClient]
    handler_a: TestClient
    handler_b: TestClient
    login_as: Callable[..., TestClient]
    merge_target: list[int] = field(default_factory=list)

    @property
    def admin(self) -> TestClient:
        return self.clients["admin"]

    @property
    def registrar(self) -> TestClient:
        return self.clients["registrar"]

    def version(self, case_id: int) -> int:
        return int(self.session.scalar(text("SELECT version FROM petition_case WHERE id = :i"),
                                       {"i": case_id}))

    def new_case(self, **kw: Any) -> int:
        body = {"category": "物业", "content": "楼道灯坏了三个月无人修", "channel": "visit",
                "received_at": RECEIVED,
                "location": {"lon": CENTRE_5[0], "lat": CENTRE_5[1], "crs": "wgs84"}}
        body.update(kw)
        resp = self.registrar.post("/cases", json=body)
        assert resp.status_code == 201, resp.text
        return int(resp.json()["id"])


def act(world: World, client: TestClient, case_id: int, action: str,
        version: int | None = None, **fields: Any) -> Response:
    """POST one action at the case's current version (or the one given)."""
    body = {"action": action, "version": world.version(case_id) if version is None
            else version, **fields}
    return client.post(f"/cases/{case_id}/transitions", json=body)


def ok(resp: Response) -> dict[str, Any]:
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    return body


@pytest.fixture
def world(session: Session, tmp_path: Path, login_as: Callable[..., TestClient],
          app: Any) -> World:
    load_squares(session, tmp_path)
    load_reference_data(session)
    ensure_area_units(session)
    assign_grid_unit(session, grid_code(5), COMMUNITY, date(2019, 1, 1))
    units = {r.code: r.id for r in session.execute(text("SELECT code, id FROM unit"))}
    clock = Clock(DAY1)
    app.dependency_overrides[get_now] = lambda: clock.now
    app.dependency_overrides[get_geocoder] = lambda: None
    unit_c = units[COMMUNITY]
    scopes: dict[str, dict[str, Any]] = {
        "grid_worker": {"grid_codes": [grid_code(5)]},
        "grid_leader": {"grid_codes": [grid_code(5)]},
        "community": {"community_code": COMMUNITY}, "street": {"street_code": STREET},
        "unit_handler": {"unit_id": unit_c}}
    clients = {role: login_as(role, **scopes.get(role, {})) for role in ROLES}
    return World(session, clock, unit_c, units["zs-zjj"], units["zs-rsj"], clients,
                 login_as("unit_handler", username="handler_a", unit_id=units["zs-zjj"]),
                 login_as("unit_handler", username="handler_b", unit_id=units["zs-rsj"]),
                 login_as)


# -- driving a case into each state -----------------------------------------------------------

REPLIED = ["assign", "accept", "start", "reply"]
REVIEWED = [*REPLIED, "request_review", "decide_review"]
PATHS: dict[str, list[str]] = {
    "registered": [], "assigned": ["assign"], "disputed": ["assign", "object"],
    "accepted": ["assign", "accept"], "in_progress": ["assign", "accept", "start"],
    "mediating": ["assign", "accept", "start", "mediate"], "replied": REPLIED,
    "closed": [*REPLIED, "close"], "review": [*REPLIED, "request_review"],
    "reviewed": REVIEWED, "rereview": [*REVIEWED, "request_rereview"],
    "finalized": [*REVIEWED, "request_rereview", "decide_rereview"],
    "redirected": ["redirect"], "not_accepted": ["assign", "reject"], "merged": ["merge"],
}
# A closed case can still ask for 复核 only when it had a 复查 decision.
SPECIAL_PATHS = {("request_rereview", "closed"): [*REVIEWED, "close"]}


def fields_for(world: World, action: str) -> dict[str, Any]:
    """Valid fields of each action for a case in the squares world on DAY1."""
    if action == "merge":
        if not world.merge_target:
            world.merge_target.append(world.new_case(content="同一楼道灯坏了"))
        return {"into": world.merge_target[0]}
    return {
        "assign": {"unit": COMMUNITY}, "object": {"reason": "不属于本单位职责"},
        "accept": {"responsible_unit": world.unit_c, "handlers": ["张科长", "李干事"],
                   "plan": "联系物业公司三日内更换灯具", "target_close_date": TARGET},
        "reject": {"reason": "已经处理过的同一事项"}, "redirect": {"reason": "litigation"},
        "extend": {"days": 10, "reason": "需协调多个部门"}, "reply": {"text": "已更换全部灯具"},
        "close": {}, "request_review": {"reason": "对答复不满意"},
        "decide_review": {"text": "维持原答复"}, "decide_rereview": {"text": "维持复查意见"},
        "reopen": {"reason": "答复与事实不符"}, "lead": {"leader": "王副区长"},
        "evaluate": {"evaluation": "basically_satisfied"},
    }.get(action, {})


def drive(world: World, case_id: int, path: list[str]) -> None:
    """Take the path's actions as admin; each must succeed."""
    for action in path:
        ok(act(world, world.admin, case_id, action, **fields_for(world, action)))


def case_in(world: World, state: str, action: str | None = None) -> int:
    """A fresh case in `state` (by the path the action under test needs)."""
    case_id = world.new_case()
    drive(world, case_id, SPECIAL_PATHS.get((action or "", state), PATHS[state]))
    return case_id


def test_paths_reach_their_states(world: World) -> None:
    for state, path in PATHS.items():
        case_id = world.new_case()
        drive(world, case_id, path)
        assert ok(world.admin.get(f"/cases/{case_id}"))["status"] == state


@pytest.mark.parametrize("state", list(STATES))
def test_every_action_from_every_state(world: World, state: str) -> None:
    base = case_in(world, state)
    for action, spec in ACTIONS.items():
        if state in spec.from_states:
            case_id = case_in(world, state, action)
            before = world.version(case_id)
            body = ok(act(world, world.admin, case_id, action, **fields_for(world, action)))
            assert body["status"] == target_state(spec, state), action
            assert body["version"] == before + 1
        else:
            before = world.version(base)
            resp = act(world, world.admin, base, action, **fields_for(world, action))
            assert resp.status_code == 409, (action, resp.text)
            detail = resp.json()["detail"]
            assert f"case {base} is {state}" in detail and f"{action} (" in detail
            assert f"allowed from {state}: {', '.join(actions_from(state)) or 'none'}" in detail
            assert world.version(base) == before


# For the role test: a from-state where the case is routed to unit C (so the unit check passes).
ROLE_STATE = {action: next(s for s in PATHS if s in spec.from_states and s != "registered")
              if spec.from_states - {"registered"} else "registered"
              for action, spec in ACTIONS.items()}


@pytest.mark.parametrize("action", list(ACTIONS))
def test_every_role_against_every_action(world: World, action: str) -> None:
    spec = ACTIONS[action]
    state = ROLE_STATE[action]
    case_id = case_in(world, state, action)
    for role in ROLES:
        resp = act(world, world.clients[role], case_id, action, **fields_for(world, action))
        if role in spec.roles:
            assert resp.status_code == 200, (role, resp.text)
            assert resp.json()["status"] == target_state(spec, state)
            case_id = case_in(world, state, action)
        else:
            assert resp.status_code == 403, (role, resp.text)
            assert resp.json()["detail"] == (f"role {role} may not {action} ({spec.label}); "
                                              f"allowed: {', '.join(spec.roles)}")


def test_unknown_action_and_stray_fields_are_422_naming_them(world: World) -> None:
    case_id = world.new_case()
    resp = act(world, world.admin, case_id, "approve")
    assert resp.status_code == 422
    assert resp.json()["detail"][0]["loc"] == ["body", "action"]
    resp = act(world, world.admin, case_id, "assign", unit=COMMUNITY, days=3)
    assert resp.status_code == 422 and resp.json()["detail"][0]["loc"] == ["body", "days"]
    resp = act(world, world.admin, case_id, "assign", unit="no-such-unit")
    assert resp.status_code == 422 and resp.json()["detail"][0]["loc"] == ["body", "unit"]
    resp = act(world, world.admin, case_id, "redirect", reason="不想管")
    assert resp.status_code == 422 and "litigation" in resp.json()["detail"][0]["msg"]


def test_a_unit_acts_only_on_cases_routed_to_it(world: World) -> None:
    case_id = world.new_case()
    assert world.handler_a.get(f"/cases/{case_id}").status_code == 404   # not routed yet
    ok(act(world, world.registrar, case_id, "assign", unit="zs-zjj"))
    assert ok(world.handler_a.get(f"/cases/{case_id}"))["routed_unit"]["id"] == world.unit_a
    listed = ok(world.handler_a.get("/cases"))
    assert [c["id"] for c in listed["items"]] == [case_id]
    # Unit C sees the case (its grid's responsible unit) but it is routed to A.
    resp = act(world, world.clients["unit_handler"], case_id, "accept",
               **fields_for(world, "accept"))
    assert resp.status_code == 403 and "routed to unit" in resp.json()["detail"]
    assert world.handler_b.get(f"/cases/{case_id}").status_code == 404


# -- 四定 --------------------------------------------------------------------------------------

@pytest.mark.parametrize("missing", ["responsible_unit", "handlers", "plan",
                                     "target_close_date"])
def test_accept_needs_all_four_fixes(world: World, missing: str) -> None:
    case_id = case_in(world, "assigned")
    fields = {k: v for k, v in fields_for(world, "accept").items() if k != missing}
    resp = act(world, world.clients["unit_handler"], case_id, "accept", **fields)
    assert resp.status_code == 422
    [err] = resp.json()["detail"]
    assert err["loc"] == ["body", missing] and missing in err["msg"]
    assert ok(world.admin.get(f"/cases/{case_id}"))["status"] == "assigned"


@pytest.mark.parametrize(("change", "field_name", "words"), [
    ({"handlers": []}, "handlers", "at least one"),
    ({"handlers": ["  "]}, "handlers", "non-empty"),
    ({"plan": "   "}, "plan", "non-empty"),
    ({"target_close_date": "2020-05-06"}, "target_close_date", "before the acceptance date"),
    ({"target_close_date": "2020-05-25"}, "target_close_date", "local 15-day target 2020-05-21"),
    ({"target_close_date": "2020-07-07"}, "target_close_date",
     "statutory handling limit 2020-07-06"),
])
def test_four_fix_values_are_checked(world: World, change: dict[str, Any], field_name: str,
                                     words: str) -> None:
    case_id = case_in(world, "assigned")
    resp = act(world, world.clients["unit_handler"], case_id, "accept",
               **{**fields_for(world, "accept"), **change})
    assert resp.status_code == 422, resp.text
    [err] = resp.json()["detail"]
    assert err["loc"] == ["body", field_name] and words in err["msg"]


def test_target_past_both_limits_names_both(world: World) -> None:
    case_id = case_in(world, "assigned")
    resp = act(world, world.clients["unit_handler"], case_id, "accept",
               **{**fields_for(world, "accept"), "target_close_date": "2020-08-01"})
    msg = resp.json()["detail"][0]["msg"]
    assert "statutory handling limit 2020-07-06" in msg and "local 15-day target" in msg


def test_collective_cases_have_no_local_target_only_the_statutory_one(world: World) -> None:
    case_id = world.new_case(persons_count=6)
    drive(world, case_id, ["assign"])
    body = ok(act(world, world.clients["unit_handler"], case_id, "accept",
                  **{**fields_for(world, "accept"), "target_close_date": "2020-07-06"}))
    assert body["flags"] == {"repeat": False, "collective": True}
    assert body["plan"] == {"responsible_unit": {"id": world.unit_c, "name": "测试社区居委会"},
                            "handlers": ["张科长", "李干事"], "plan": "联系物业公司三日内更换灯具",
                            "target_close_date": "2020-07-06"}
    assert "local_close" not in {d["rule"] for d in body["deadlines"]["local"]}


# -- 首接首办 ----------------------------------------------------------------------------------

def test_first_contact_stays_with_the_first_unit_across_transfers(world: World) -> None:
    case_id = world.new_case()
    body = ok(act(world, world.registrar, case_id, "assign", unit="zs-zjj"))
    assert body["first_contact"] == {"unit": {"id": world.unit_a,
                                              "name": "中山区住房和城乡建设局"},
                                     "handler": None}
    body = ok(act(world, world.handler_a, case_id, "object", reason="属人社局职责"))
    assert body["status"] == "disputed"
    assert body["first_contact"]["handler"] == "handler_a"
    body = ok(act(world, world.registrar, case_id, "assign", unit="zs-rsj"))
    body = ok(act(world, world.handler_b, case_id, "accept",
                  **{**fields_for(world, "accept"), "responsible_unit": "zs-rsj"}))
    assert body["routed_unit"]["id"] == world.unit_b and body["status"] == "accepted"
    assert body["first_contact"] == {"unit": {"id": world.unit_a,
                                              "name": "中山区住房和城乡建设局"},
                                     "handler": "handler_a"}
    history = ok(world.admin.get(f"/cases/{case_id}/history"))["items"]
    assert [(h["action"], h["from_status"], h["to_status"], h["actor"]) for h in history] == [
        ("assign", "registered", "assigned", world_username(world, "registrar")),
        ("object", "assigned", "disputed", "handler_a"),
        ("assign", "disputed", "assigned", world_username(world, "registrar")),
        ("accept", "assigned", "accepted", "handler_b")]
    assert [h["version_after"] for h in history] == [2, 3, 4, 5]
    assert history[0]["data"] == {"unit": world.unit_a}
    assert history[1]["data"] == {"reason": "属人社局职责"}
    # 首接首办: the first unit stays accountable, so its handler still sees the case.
    assert world.handler_a.get(f"/cases/{case_id}").status_code == 200


def world_username(world: World, role: str) -> str:
    me = world.session.execute(text(
        "SELECT username FROM app_user WHERE role = :r ORDER BY id DESC LIMIT 1"), {"r": role})
    return str(me.scalar_one())


@pytest.mark.parametrize(("column", "value"), [("first_unit_id", "unit_b"),
                                               ("first_handler", "'someone_else'")])
def test_the_database_refuses_to_change_first_contact(world: World, column: str,
                                                      value: str) -> None:
    case_id = world.new_case()
    ok(act(world, world.registrar, case_id, "assign", unit="zs-zjj"))
    ok(act(world, world.handler_a, case_id, "object", reason="属人社局职责"))
    new = str(world.unit_b) if value == "unit_b" else value
    with pytest.raises(DBAPIError, match="set once"), world.session.begin_nested():
        world.session.execute(text(f"UPDATE petition_case SET {column} = {new} "
                                   "WHERE id = :i"), {"i": case_id})
    # Still settable where it was empty, and the rest of the row stays writable.
    other = world.new_case()
    with world.session.begin_nested():
        world.session.execute(text("UPDATE petition_case SET first_unit_id = :u, plan = 'x' "
                                   "WHERE id = :i"), {"u": world.unit_b, "i": other})


def test_history_is_append_only(world: World) -> None:
    case_id = world.new_case()
    ok(act(world, world.registrar, case_id, "assign", unit=COMMUNITY))
    for stmt in ("UPDATE case_transition SET actor = 'x' WHERE case_id = :i",
                 "DELETE FROM case_transition WHERE case_id = :i"):
        with pytest.raises(DBAPIError, match="append-only"), world.session.begin_nested():
            world.session.execute(text(stmt), {"i": case_id})


# -- versions ---------------------------------------------------------------------------------

def test_stale_version_is_409_and_only_one_update_lands(world: World) -> None:
    case_id = world.new_case()
    version = ok(world.registrar.get(f"/cases/{case_id}"))["version"]
    first = act(world, world.registrar, case_id, "assign", version, unit="zs-zjj")
    second = act(world, world.clients["commander"], case_id, "assign", version, unit="zs-rsj")
    assert first.status_code == 200 and first.json()["version"] == version + 1
    assert second.status_code == 409
    assert second.json()["detail"].startswith(f"stale version {version}, current {version + 1}")
    history = ok(world.admin.get(f"/cases/{case_id}/history"))
    assert history["numberReturned"] == 1
    assert ok(world.admin.get(f"/cases/{case_id}"))["routed_unit"]["id"] == world.unit_a


def test_two_concurrent_transactions_with_one_version_one_wins(engine: Engine) -> None:
    """Real concurrency on committed rows: A has moved the case but not committed; B, holding
    the same version, blocks on the row and gets 409 once A commits."""
    admin = scope_for("race_admin", "admin")
    category = f"race{time.monotonic_ns() % 10**9}"
    with Session(engine) as s:
        s.execute(text("INSERT INTO category (code, name) VALUES (:c, :n)"),
                  {"c": category, "n": category})
        case_id = int(s.execute(text(
            "INSERT INTO petition_case (channel, received_at, category_code, content, "
            "persons_count, location_status) VALUES ('visit', :r, :c, '测试', 1, "
            "'needs_location') RETURNING id"), {"r": RECEIVED, "c": category}).scalar_one())
        s.commit()
    outcome: dict[str, Any] = {}

    def second() -> None:
        with Session(engine) as sb:
            try:
                apply_transition(sb, admin, case_id, "redirect", 1,
                                 {"reason": "arbitration"}, now=DAY1)
                sb.commit()
                outcome["b"] = "won"
            except Conflict as exc:
                outcome["b"] = str(exc)

    thread = threading.Thread(target=second)
    try:
        with Session(engine) as sa:
            won = apply_transition(sa, admin, case_id, "redirect", 1, {"reason": "litigation"},
                                   now=DAY1)
            assert won["version"] == 2
            thread.start()
            with engine.connect() as watch:     # wait until B is blocked on A's row lock
                deadline = time.monotonic() + 10
                while True:
                    waiting = watch.execute(text(
                        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                        "AND datname = current_database()")).scalar_one()
                    # pg_stat_activity is a snapshot per transaction: end it to see anew.
                    watch.rollback()
                    if waiting:
                        break
                    assert time.monotonic() < deadline and thread.is_alive(), outcome
                    time.sleep(0.02)
            sa.commit()
        thread.join(10)
        assert outcome["b"].startswith("stale version 1, current 2")
        with Session(engine) as s:
            rows = s.execute(text("SELECT data->>'reason', version_after FROM case_transition "
                                  "WHERE case_id = :i"), {"i": case_id}).all()
            assert [tuple(r) for r in rows] == [("litigation", 2)]
    finally:
        if thread.ident is not None:
            thread.join(15)         # B must be done before its rows can be cleaned up
        with Session(engine) as s:
            # The history refuses deletes by design; the test's own rows go with the trigger
            # switched off for this one transaction.
            s.execute(text("ALTER TABLE case_transition DISABLE TRIGGER "
                           "case_transition_no_update_delete"))
            s.execute(text("DELETE FROM case_transition WHERE case_id = :i"), {"i": case_id})
            s.execute(text("ALTER TABLE case_transition ENABLE TRIGGER "
                           "case_transition_no_update_delete"))
            s.execute(text("DELETE FROM case_deadline WHERE case_id = :i"), {"i": case_id})
            s.execute(text("DELETE FROM petition_case WHERE id = :i"), {"i": case_id})
            s.execute(text("DELETE FROM category WHERE code = :c"), {"c": category})
            s.commit()


# -- windows, extension, merge, reopen -------------------------------------------------------

def test_objection_window_is_five_working_days_across_national_day(world: World) -> None:
    received = "2020-09-27T09:00:00+08:00"       # a Sunday, but a 调休 working day
    world.clock.now = at("2020-09-28")
    in_time, late = world.new_case(received_at=received), world.new_case(received_at=received)
    for case_id in (in_time, late):
        body = ok(act(world, world.registrar, case_id, "assign", unit="zs-zjj"))
    [objection] = [d for d in body["deadlines"]["local"] if d["rule"] == "objection"]
    # 9-29, 9-30, (10-1…10-8 国庆/中秋), 10-9, Sat 10-10 (调休), Mon 10-12.
    assert (objection["due_date"], objection["working_days"], objection["days"]) == (
        "2020-10-12", True, 5)
    world.clock.now = at("2020-10-12", 17)
    ok(act(world, world.handler_a, in_time, "object", reason="不属本单位"))
    world.clock.now = at("2020-10-13")
    resp = act(world, world.handler_a, late, "object", reason="不属本单位")
    assert resp.status_code == 409
    assert resp.json()["detail"] == ("the 异议 window ended on 2020-10-12: object (异议) is no "
                                     "longer possible")


def test_review_must_be_asked_within_30_days_of_the_reply(world: World) -> None:
    on_time, late = case_in(world, "replied"), case_in(world, "replied")
    world.clock.now = at("2020-06-08")       # reply 05-07 + 30 days = 06-06 (Sat) → Mon 06-08
    assert ok(act(world, world.registrar, on_time, "request_review"))["status"] == "review"
    world.clock.now = at("2020-06-09")
    resp = act(world, world.registrar, late, "request_review")
    assert resp.status_code == 409 and "window ended on 2020-06-08" in resp.json()["detail"]


def test_extension_once_by_the_commander_up_to_30_days(world: World) -> None:
    case_id = case_in(world, "in_progress")
    commander = world.clients["commander"]
    resp = act(world, commander, case_id, "extend", days=31, reason="复杂")
    assert resp.status_code == 422 and resp.json()["detail"][0]["loc"] == ["body", "days"]
    body = ok(act(world, commander, case_id, "extend", days=20, reason="需协调多个部门"))
    assert body["status"] == "in_progress" and body["extension_days"] == 20
    rules = {d["rule"]: d for d in body["deadlines"]["statutory"]}
    assert rules["handling"]["active"] is False and rules["handling"]["met_at"] is None
    # 20 days from the handling limit (07-06): 07-26 is a Sunday → Mon 07-27.
    assert (rules["extension"]["start_date"], rules["extension"]["due_date"]) == (
        "2020-07-06", "2020-07-27")
    resp = act(world, commander, case_id, "extend", days=5, reason="再延")
    assert resp.status_code == 409 and "granted once" in resp.json()["detail"]
    body = ok(act(world, world.admin, case_id, "reply", text="已解决"))
    assert {d["rule"]: d["met_at"] is not None
            for d in body["deadlines"]["statutory"]}["extension"] is True


def test_no_extension_after_the_handling_limit(world: World) -> None:
    case_id = case_in(world, "in_progress")
    world.clock.now = at("2020-07-07")
    resp = act(world, world.clients["commander"], case_id, "extend", days=10, reason="晚了")
    assert resp.status_code == 409 and "ended on 2020-07-06" in resp.json()["detail"]


def test_merge_only_into_an_open_case(world: World) -> None:
    closed, dup = case_in(world, "closed"), world.new_case()
    resp = act(world, world.registrar, dup, "merge", into=closed)
    assert resp.status_code == 422
    assert resp.json()["detail"][0] == {"loc": ["body", "into"], "type": "value_error",
                                        "msg": f"case {closed} is closed: merge only into an "
                                               "open case"}
    resp = act(world, world.registrar, dup, "merge", into=dup)
    assert resp.status_code == 422 and "itself" in resp.json()["detail"][0]["msg"]
    target = world.new_case()
    body = ok(act(world, world.registrar, dup, "merge", into=target))
    assert body["status"] == "merged" and body["merged_into"] == target
    assert not [d for side in body["deadlines"].values() for d in side if d["active"]]


def test_reopen_sends_the_case_back_to_the_registry_keeping_first_contact(world: World) -> None:
    case_id = world.new_case()
    drive(world, case_id, REPLIED)
    body = ok(act(world, world.registrar, case_id, "close", evaluation="satisfied"))
    assert body["evaluation"] == "satisfied" and body["milestones"]["closed_at"]
    body = ok(act(world, world.clients["commander"], case_id, "reopen", reason="群众反映未解决"))
    assert body["status"] == "registered" and body["milestones"]["closed_at"] is None
    assert body["first_contact"]["unit"]["id"] == world.unit_c
    running = [d for d in body["deadlines"]["statutory"] if d["active"]]
    assert [(d["rule"], d["start_date"], d["due_date"]) for d in running] == [
        ("routing", "2020-05-07", "2020-05-22")]


# -- deadlines and bands ----------------------------------------------------------------------

def test_deadline_rows_store_their_rule_and_basis(world: World) -> None:
    case_id = world.new_case()
    body = ok(act(world, world.registrar, case_id, "assign", unit=COMMUNITY))
    statutory = {d["rule"]: d for d in body["deadlines"]["statutory"]}
    local = {d["rule"]: d for d in body["deadlines"]["local"]}
    assert set(statutory) == {"routing", "acceptance_notice"}
    assert set(local) == {"objection", "local_close"}
    assert datetime.fromisoformat(statutory["routing"]["met_at"]) == DAY1
    assert (statutory["routing"]["active"], statutory["routing"]["band"]) == (False, None)
    assert (statutory["acceptance_notice"]["due_date"], statutory["acceptance_notice"]["band"],
            statutory["acceptance_notice"]["kind"]) == ("2020-05-22", "green", "obligation")
    assert (local["local_close"]["due_date"], local["local_close"]["statutory"]) == (
        "2020-05-21", False)
    assert local["objection"]["kind"] == "window"
    rows = world.session.execute(text(
        "SELECT rule, start_date, due_date, days, working_days, statutory, basis "
        "FROM case_deadline WHERE case_id = :i ORDER BY rule"), {"i": case_id}).all()
    assert [(r.rule, r.start_date.isoformat(), r.due_date.isoformat(), r.days, r.working_days,
             r.statutory) for r in rows] == [
        ("acceptance_notice", "2020-05-07", "2020-05-22", 15, False, True),
        ("local_close", "2020-05-06", "2020-05-21", 15, False, False),
        ("objection", "2020-05-07", "2020-05-13", 5, True, False),
        ("routing", "2020-05-06", "2020-05-21", 15, False, True)]
    basis = {r.rule: r.basis for r in rows}
    assert "信访工作条例" in basis["routing"] and "第二十二条" in basis["acceptance_notice"]
    assert "本地目标" in basis["local_close"]


@pytest.mark.parametrize(("day", "handling_band", "statutory_overdue"), [
    ("2020-07-02", "green", False), ("2020-07-03", "yellow", False),
    ("2020-07-05", "orange", False), ("2020-07-06", "orange", False),
    ("2020-07-07", "red", True)])
def test_warning_bands_on_the_case_follow_the_day(world: World, day: str, handling_band: str,
                                                  statutory_overdue: bool) -> None:
    case_id = case_in(world, "in_progress")
    world.clock.now = at(day)
    body = ok(world.admin.get(f"/cases/{case_id}"))
    [handling] = [d for d in body["deadlines"]["statutory"] if d["rule"] == "handling"]
    assert (handling["due_date"], handling["band"]) == ("2020-07-06", handling_band)
    assert body["overdue"] == {"statutory": statutory_overdue, "local": True}


def test_local_overdue_is_separate_from_statutory(world: World) -> None:
    case_id = case_in(world, "in_progress")
    world.clock.now = at("2020-05-18")
    body = ok(world.admin.get(f"/cases/{case_id}"))
    local = {d["rule"]: d for d in body["deadlines"]["local"]}
    assert local["local_close"]["band"] == "yellow"        # 05-21 is three days away
    world.clock.now = at("2020-05-22")
    body = ok(world.admin.get(f"/cases/{case_id}"))
    assert body["overdue"] == {"statutory": False, "local": True}
    assert {d["rule"]: d["band"] for d in body["deadlines"]["local"]}["local_close"] == "red"
    assert {d["rule"]: d["band"] for d in body["deadlines"]["statutory"]}["handling"] == "green"


# -- 督办 ---------------------------------------------------------------------------------------

def test_overdue_opens_supervision_exactly_once(world: World) -> None:
    case_id = case_in(world, "in_progress")
    late = at("2020-07-07")
    first = tick(world.session, now=late, calendar=CALENDAR)
    again = tick(world.session, now=late + timedelta(minutes=1), calendar=CALENDAR)
    rows = world.session.execute(text(
        "SELECT reason, opened_by, feedback_due FROM supervision WHERE case_id = :i "
        "ORDER BY reason"), {"i": case_id}).all()
    assert [(r.reason, r.opened_by, r.feedback_due.isoformat()) for r in rows] == [
        ("overdue:handling", "system", "2020-07-14"),
        ("overdue:local_close", "system", "2020-07-14")]
    assert first["supervisions_opened"] >= 2 and again["supervisions_opened"] == 0
    world.clock.now = late
    body = ok(world.admin.get(f"/cases/{case_id}"))
    assert {s["reason"]: (s["status"], s["band"]) for s in body["supervisions"]} == {
        "overdue:handling": ("open", "green"), "overdue:local_close": ("open", "green")}


def test_tick_opens_routing_deadlines_and_lapses_unused_windows(world: World) -> None:
    waiting = world.new_case()
    routed = case_in(world, "assigned")
    done = tick(world.session, now=at("2020-05-22"), calendar=CALENDAR)
    assert done["registration_deadlines"] >= 2 and done["windows_lapsed"] >= 1
    rows = world.session.execute(text(
        "SELECT rule, due_date FROM case_deadline WHERE case_id = :i"), {"i": waiting})
    assert {r.rule: r.due_date.isoformat() for r in rows} == {"routing": "2020-05-21",
                                                              "local_close": "2020-05-21"}
    reasons = world.session.scalars(text(
        "SELECT reason FROM supervision WHERE case_id = :i ORDER BY reason"), {"i": waiting})
    assert list(reasons) == ["overdue:local_close", "overdue:routing"]
    objection = world.session.execute(text(
        "SELECT active, met_at FROM case_deadline WHERE case_id = :i AND rule = 'objection'"),
        {"i": routed}).one()
    assert tuple(objection) == (False, None)
    assert not world.session.scalar(text(
        "SELECT count(*) FROM supervision WHERE reason = 'overdue:objection'"))


def test_tick_command_runs_once_per_call(world: World, monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    from api.cli import main

    case_id = case_in(world, "in_progress")
    monkeypatch.setattr(workflow_cli, "_open_session",
                        lambda: contextlib.nullcontext(world.session))
    assert main(["workflow", "tick", "--at", "2020-07-07T08:00"]) == 0
    assert main(["workflow", "tick", "--at", "2020-07-07T08:01"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("2020-07-07:") and out[1].endswith(", 0 督办 opened")
    assert world.session.scalar(text("SELECT count(*) FROM supervision WHERE case_id = :i"),
                                {"i": case_id}) == 2
    assert main(["workflow", "tick", "--at", "July"]) == 2


def test_manual_supervision_feedback_and_acceptance(world: World) -> None:
    case_id = case_in(world, "accepted")
    resp = world.clients["grid_worker"].post(f"/cases/{case_id}/supervisions",
                                             json={"note": "群众多次来电"})
    assert resp.status_code == 403 and "registrar, commander, admin" in resp.json()["detail"]
    resp = world.registrar.post(f"/cases/{case_id}/supervisions", json={"note": "群众多次来电"})
    assert resp.status_code == 201, resp.text
    sup = resp.json()
    assert (sup["reason"], sup["status"], sup["feedback_due"], sup["band"]) == (
        "manual", "open", "2020-05-13", "green")      # 5 working days, Sat 05-09 counts
    again = world.clients["commander"].post(f"/cases/{case_id}/supervisions",
                                            json={"note": "再督"})
    assert again.status_code == 409 and str(sup["id"]) in again.json()["detail"]
    resp = world.clients["commander"].post(f"/supervisions/{sup['id']}/accept")
    assert resp.status_code == 409 and "no feedback yet" in resp.json()["detail"]
    resp = world.handler_a.post(f"/supervisions/{sup['id']}/feedback", json={"feedback": "x"})
    assert resp.status_code == 404                      # not A's case
    answered = ok(world.clients["unit_handler"].post(f"/supervisions/{sup['id']}/feedback",
                                                     json={"feedback": "已约谈物业，周五完成"}))
    assert answered["status"] == "answered" and answered["band"] is None
    closed = ok(world.clients["commander"].post(f"/supervisions/{sup['id']}/accept"))
    assert closed["status"] == "closed" and datetime.fromisoformat(closed["closed_at"]) == DAY1
    resp = world.clients["unit_handler"].post(f"/supervisions/{sup['id']}/feedback",
                                              json={"feedback": "补充"})
    assert resp.status_code == 409
    body = ok(world.admin.get(f"/cases/{case_id}"))
    assert [(s["id"], s["status"]) for s in body["supervisions"]] == [(sup["id"], "closed")]
    # Closed, a new manual 督办 may be opened.
    assert world.registrar.post(f"/cases/{case_id}/supervisions",
                                json={"note": "回访仍不满意"}).status_code == 201


def test_no_supervision_of_a_finished_case(world: World) -> None:
    case_id = case_in(world, "closed")
    resp = world.registrar.post(f"/cases/{case_id}/supervisions", json={"note": "督办"})
    assert resp.status_code == 409 and "open cases" in resp.json()["detail"]


def test_history_and_supervision_are_scoped(world: World) -> None:
    case_id = case_in(world, "assigned")
    stranger = world.login_as("grid_worker", grid_codes=[grid_code(1)])
    assert stranger.get(f"/cases/{case_id}/history").status_code == 404
    assert stranger.post(f"/cases/{case_id}/supervisions",
                         json={"note": "x"}).status_code == 404
    resp = act(world, stranger, case_id, "accept", **fields_for(world, "accept"))
    assert resp.status_code == 404
    items = ok(world.clients["grid_worker"].get(f"/cases/{case_id}/history"))["items"]
    assert [i["action"] for i in items] == ["assign"]


# -- repeat and collective at intake -----------------------------------------------------------

def test_repeat_is_same_person_same_category_same_community(world: World) -> None:
    person = {"name": "王五", "phone": "13800005678"}
    first = ok(world.admin.get(f"/cases/{world.new_case(petitioners=[person])}"))
    assert first["flags"] == {"repeat": False, "collective": False}
    later = world.new_case(petitioners=[{"name": "王五", "phone": "138 0000 5678"}],
                           received_at="2020-05-20T09:00:00+08:00")
    other_matter = world.new_case(petitioners=[person], category="住建",
                                  received_at="2020-05-21T09:00:00+08:00")
    by_id = world.new_case(petitioners=[{"name": "王五", "id_number": "210202199001011232"}],
                           received_at="2020-05-22T09:00:00+08:00")
    by_id_again = world.new_case(
        petitioners=[{"name": "王五", "id_number": "210202199001011232"}],
        received_at="2020-05-23T09:00:00+08:00")
    flags = {i: ok(world.admin.get(f"/cases/{i}"))["flags"]["repeat"]
             for i in (later, other_matter, by_id, by_id_again)}
    assert flags == {later: True, other_matter: False, by_id: False, by_id_again: True}


def test_collective_is_a_setting(world: World, app: Any) -> None:
    four = ok(world.admin.get(f"/cases/{world.new_case(persons_count=4)}"))
    five = ok(world.admin.get(f"/cases/{world.new_case(persons_count=5)}"))
    assert (four["flags"]["collective"], five["flags"]["collective"]) == (False, True)
    app.state.case_settings = CaseSettings(collective_min_persons=3)
    three = ok(world.admin.get(f"/cases/{world.new_case(persons_count=3)}"))
    assert three["flags"]["collective"] is True


def test_a_case_redirected_at_the_registry_has_its_routing_limit_on_file(world: World) -> None:
    case_id = world.new_case()
    body = ok(act(world, world.registrar, case_id, "redirect", reason="litigation",
                  note="已告知向人民法院起诉"))
    assert body["status"] == "redirected"
    rows = world.session.execute(text(
        "SELECT rule, active, met_at IS NOT NULL AS met FROM case_deadline WHERE case_id = :i "
        "ORDER BY rule"), {"i": case_id}).all()
    assert [tuple(r) for r in rows] == [("local_close", False, False), ("routing", False, True)]
    [entry] = ok(world.admin.get(f"/cases/{case_id}/history"))["items"]
    assert (entry["note"], entry["data"], entry["role"]) == (
        "已告知向人民法院起诉", {"reason": "litigation"}, "registrar")


def test_evaluation_after_the_reply_and_it_stands_once_given(world: World) -> None:
    case_id = world.new_case()
    drive(world, case_id, ["assign", "accept", "start"])
    resp = act(world, world.registrar, case_id, "evaluate", evaluation="satisfied")
    assert resp.status_code == 409 and "in_progress" in resp.json()["detail"]   # no reply yet
    ok(act(world, world.admin, case_id, "reply", text="已更换全部灯具"))
    body = ok(act(world, world.registrar, case_id, "evaluate", evaluation="not_evaluated"))
    assert (body["status"], body["evaluation"]) == ("replied", "not_evaluated")
    body = ok(act(world, world.registrar, case_id, "evaluate", evaluation="unsatisfied"))
    assert body["evaluation"] == "unsatisfied" and body["evaluated_at"]
    resp = act(world, world.registrar, case_id, "evaluate", evaluation="satisfied")
    assert resp.status_code == 409 and "already has the evaluation unsatisfied" in \
        resp.json()["detail"]
    resp = act(world, world.registrar, case_id, "close", evaluation="satisfied")
    assert resp.status_code == 409
    assert ok(act(world, world.registrar, case_id, "close"))["evaluation"] == "unsatisfied"
    resp = act(world, world.registrar, case_id, "evaluate", evaluation="bad")
    assert resp.status_code == 422


def test_lead_names_the_leader_keeps_the_state_and_is_in_the_history(world: World) -> None:
    case_id = world.new_case()
    drive(world, case_id, ["assign", "accept"])
    staff_id = int(world.session.scalar(text(
        "INSERT INTO staff (name) VALUES ('王副区长') RETURNING id")))
    commander = world.clients["commander"]
    body = ok(act(world, commander, case_id, "lead", leader="王副区长", leader_staff_id=staff_id))
    assert body["status"] == "accepted"
    assert body["leader"] == {"staff_id": staff_id, "name": "王副区长"}
    resp = act(world, commander, case_id, "lead", leader="李局长", leader_staff_id=999999)
    assert resp.status_code == 422 and resp.json()["detail"][0]["loc"][-1] == "leader_staff_id"
    body = ok(act(world, commander, case_id, "lead", leader="李局长"))
    assert body["leader"] == {"staff_id": None, "name": "李局长"}
    history = ok(world.admin.get(f"/cases/{case_id}/history"))["items"]
    leads = [(h["action"], h["from_status"], h["to_status"], h["data"]["leader"])
             for h in history if h["action"] == "lead"]
    assert leads == [("lead", "accepted", "accepted", "王副区长"),
                     ("lead", "accepted", "accepted", "李局长")]
    resp = act(world, world.registrar, case_id, "lead", leader="张三")
    assert resp.status_code == 403
