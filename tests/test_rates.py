"""三率 and the workflow counts (GET /stats/rates) on the hand-made squares: nine cases driven
through real transitions at fixed China times, every numerator and denominator worked out by
hand below; scope (a grid worker sees only their grid), unit level, windows (a rate of 0 is not
a null rate) and bad input.

The clock stands at Tue 2020-12-01; the window W is 2020-07-01 … 2020-09-30. Limits (2020
calendar: 10-01…10-08 National Day, Sat 10-10 a working day; a limit ending on a rest day moves
to the next working day): acceptance notice = 交办 + 15 days, handling = 受理 + 60 days, local
target = receipt + 15 days (general cases only), extension = handling due + days.

 Case, grid, receipt; flow (day: action, * by a unit handler, which records 首接首办's first
 handler when the unit is the first unit); limits: acceptance notice (acc), handling (hdl),
 local target (loc) — due date, and ✓ met on time / ✗ missed:
 C1 g5 07-06 Mon: 07-07 assign C, 07-08 accept*, 07-15 reply, 07-16 close satisfied; a 2nd visit
    07-20 (2 persons). acc 07-22 ✓07-08, hdl 09-07 ✓07-15, loc 07-21 ✓07-15.
 C2 g5 07-06: 07-07 assign C, 07-27 accept* (late), 08-20 reply, 08-21 close basically
    satisfied. acc 07-22 ✗, hdl 09-25 ✓08-20, loc 07-21 ✗ (replied 08-20).
 C3 g5 07-06: 07-07 assign C, 07-08 accept*, 07-20 extend 10 days, never replied. acc ✓07-08,
    hdl 09-07 stopped by the extension, extension 09-17 ✗ (overdue), loc 07-21 ✗ (overdue).
 C4 g5 09-28 Mon: 09-29 assign C, nothing more. acc 10-14 ✗, loc 10-13 ✗ (both overdue).
 C5 g1 07-10 Fri: collective (6 persons); 07-13 assign A, 07-14 accept*(A), 07-20 reply, 07-21
    close unsatisfied. acc 07-28 ✓07-14, hdl 09-14 ✓07-20, no loc.
 C6 g5 06-20 Sat: repeat; 06-22 assign C, 06-29 accept*, 07-03 reply, 07-04 close not
    evaluated; a 2nd visit 07-05 (1 person). acc 07-07 ✓06-29 (before W), hdl 08-28 ✓07-03.
 C7 g5 08-03 Mon: repeat; 08-04 assign A, 08-05 object*(A), 08-06 assign C, 08-10 reject*(C).
    1st acc 08-19 stopped by the objection, 2nd acc 08-21 ✓08-10, no loc.
 C8 g5 08-10 Mon: 08-11 assign C; 08-12 accept, 08-13 start, 08-20 reply, 08-21 close, all by
    admin (no handler acts), no evaluation. acc 08-26 ✓08-12, hdl 10-12 ✓08-20, loc 08-25 ✓.
 C9 g5 09-01 Tue: 09-02 assign C, 09-03 accept*, never replied. acc 09-17 ✓09-03, hdl 11-02 ✗,
    loc 09-16 ✗ (both overdue).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from api.deps import get_geocoder, get_now
from geo.access.scope import Scope, scope_for
from geo.cases.people import assign_grid_unit
from geo.cases.reference import ensure_area_units, load_reference_data
from geo.cases.schema import CHINA_TZ
from geo.workflow.calendar import HolidayCalendar
from geo.workflow.supervision import tick
from geo.workflow.transitions import apply_transition
from tests.squares import COMMUNITY, STEP, STREET, X0, Y0, grid_code, load_squares

CALENDAR = HolidayCalendar.load()
TODAY = datetime(2020, 12, 1, 10, 0, tzinfo=CHINA_TZ)
W = {"from": "2020-07-01", "to": "2020-09-30"}
CENTRE = {5: (X0 + 1.5 * STEP, Y0 + 1.5 * STEP), 1: (X0 + 0.5 * STEP, Y0 + 2.5 * STEP)}


def at(day: str, hour: int = 10) -> datetime:
    """China time on a 2020 day given as MM-DD."""
    return datetime.combine(date.fromisoformat(f"2020-{day}"), datetime.min.time(),
                            CHINA_TZ).replace(hour=hour)


@dataclass
class Fixture:
    """The squares world with the nine cases in place, and a client factory."""

    session: Session
    cases: dict[str, int]
    unit_a: int
    login_as: Callable[..., TestClient]
    admin: TestClient


class Driver:
    """Creates cases through the API and moves them by real transitions at fixed times."""

    def __init__(self, session: Session, registrar: TestClient, unit_c: int, unit_a: int):
        self.session = session
        self.registrar_client = registrar
        self.unit_c, self.unit_a = unit_c, unit_a
        self.registrar = scope_for("dengji", "registrar")
        self.commander = scope_for("zhihui", "commander")
        self.admin = scope_for("admin", "admin")
        self.handler_c = scope_for("handler_c", "unit_handler", unit_id=unit_c)
        self.handler_a = scope_for("handler_a", "unit_handler", unit_id=unit_a)

    def new(self, day: str, grid: int = 5, persons: int = 1, *, repeat: bool = False) -> int:
        lon, lat = CENTRE[grid]
        resp = self.registrar_client.post("/cases", json={
            "category": "物业", "content": "楼道灯坏了三个月无人修", "channel": "visit",
            "received_at": f"2020-{day}T09:30:00+08:00", "persons_count": persons,
            "location": {"lon": lon, "lat": lat, "crs": "wgs84"}})
        assert resp.status_code == 201, resp.text
        case_id = int(resp.json()["id"])
        if repeat:  # cheaper than two petitioners with matching hashes; set before any limit
            self.session.execute(text("UPDATE petition_case SET is_repeat = true WHERE id = :i"),
                                 {"i": case_id})
        return case_id

    def act(self, case_id: int, scope: Scope, action: str, day: str, **fields: Any) -> None:
        version = self.session.scalar(text("SELECT version FROM petition_case WHERE id = :i"),
                                      {"i": case_id})
        apply_transition(self.session, scope, case_id, action, int(version), fields,
                         now=at(day), calendar=CALENDAR)

    def accept(self, case_id: int, scope: Scope, day: str, target: str, unit: int) -> None:
        self.act(case_id, scope, "accept", day, responsible_unit=unit, handlers=["张科长"],
                 plan="联系物业公司更换灯具", target_close_date=f"2020-{target}")

    def visit(self, case_id: int, day: str, persons: int) -> None:
        """A later submission (another visit) of the same case."""
        self.session.execute(text(
            "INSERT INTO submission (case_id, channel, received_at, persons_count) "
            "VALUES (:c, 'visit', :at, :p)"), {"c": case_id, "at": at(day), "p": persons})


@pytest.fixture
def fx(session: Session, tmp_path: Path, login_as: Callable[..., TestClient],
       app: Any) -> Fixture:
    load_squares(session, tmp_path)
    load_reference_data(session)
    ensure_area_units(session)
    assign_grid_unit(session, grid_code(5), COMMUNITY, date(2019, 1, 1))
    units = {r.code: r.id for r in session.execute(text("SELECT code, id FROM unit"))}
    app.dependency_overrides[get_now] = lambda: TODAY
    app.dependency_overrides[get_geocoder] = lambda: None
    d = Driver(session, login_as("registrar"), units[COMMUNITY], units["zs-zjj"])
    c, a = d.unit_c, d.unit_a
    hc, ha = d.handler_c, d.handler_a

    c1 = d.new("07-06")
    d.act(c1, d.registrar, "assign", "07-07", unit=c)
    d.accept(c1, hc, "07-08", "07-20", c)
    d.act(c1, hc, "start", "07-09")
    d.act(c1, hc, "reply", "07-15", text="已更换灯具")
    d.act(c1, hc, "close", "07-16", evaluation="satisfied")
    d.visit(c1, "07-20", 2)

    c2 = d.new("07-06")
    d.act(c2, d.registrar, "assign", "07-07", unit=c)
    d.accept(c2, hc, "07-27", "08-31", c)
    d.act(c2, hc, "start", "07-28")
    d.act(c2, hc, "reply", "08-20", text="已更换灯具")
    d.act(c2, hc, "close", "08-21", evaluation="basically_satisfied")

    c3 = d.new("07-06")
    d.act(c3, d.registrar, "assign", "07-07", unit=c)
    d.accept(c3, hc, "07-08", "07-20", c)
    d.act(c3, hc, "start", "07-09")
    d.act(c3, d.commander, "extend", "07-20", days=10, reason="需协调多个部门")

    c4 = d.new("09-28")
    d.act(c4, d.registrar, "assign", "09-29", unit=c)

    c5 = d.new("07-10", grid=1, persons=6)
    d.act(c5, d.registrar, "assign", "07-13", unit=a)
    d.accept(c5, ha, "07-14", "08-01", a)
    d.act(c5, ha, "start", "07-15")
    d.act(c5, ha, "reply", "07-20", text="已协调")
    d.act(c5, ha, "close", "07-21", evaluation="unsatisfied")

    c6 = d.new("06-20", repeat=True)
    d.act(c6, d.registrar, "assign", "06-22", unit=c)
    d.accept(c6, hc, "06-29", "07-10", c)
    d.act(c6, hc, "start", "06-30")
    d.act(c6, hc, "reply", "07-03", text="已更换灯具")
    d.act(c6, hc, "close", "07-04", evaluation="not_evaluated")
    d.visit(c6, "07-05", 1)

    c7 = d.new("08-03", repeat=True)
    d.act(c7, d.registrar, "assign", "08-04", unit=a)
    d.act(c7, ha, "object", "08-05", reason="不属于本单位职责")
    d.act(c7, d.registrar, "assign", "08-06", unit=c)
    d.act(c7, hc, "reject", "08-10", reason="已经处理过的同一事项")

    c8 = d.new("08-10")
    d.act(c8, d.registrar, "assign", "08-11", unit=c)
    d.accept(c8, d.admin, "08-12", "08-24", c)
    d.act(c8, d.admin, "start", "08-13")
    d.act(c8, d.admin, "reply", "08-20", text="已更换灯具")
    d.act(c8, d.admin, "close", "08-21")

    c9 = d.new("09-01")
    d.act(c9, d.registrar, "assign", "09-02", unit=c)
    d.accept(c9, hc, "09-03", "09-15", c)
    d.act(c9, hc, "start", "09-04")

    tick(session, now=TODAY, calendar=CALENDAR)  # a 督办 for every overdue limit
    cases = {"C1": c1, "C2": c2, "C3": c3, "C4": c4, "C5": c5, "C6": c6, "C7": c7, "C8": c8,
             "C9": c9}
    return Fixture(session, cases, a, login_as, login_as("admin"))


def rates(client: TestClient, **params: str) -> dict[str, Any]:
    resp = client.get("/stats/rates", params=params)
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    return body


def nums(part: dict[str, Any]) -> tuple[int, int, float | None]:
    return part["numerator"], part["denominator"], part["rate"]


ZERO_OVERDUE = {"routing": 0, "acceptance_notice": 0, "handling": 0, "extension": 0,
                "review_decision": 0, "rereview_decision": 0, "local_close": 0}


def test_fixture_limits_are_the_ones_worked_out_by_hand(fx: Fixture) -> None:
    rows = fx.session.execute(text(
        "SELECT case_id, rule, due_date, active, met_at IS NOT NULL AS met FROM case_deadline "
        "WHERE rule IN ('acceptance_notice','handling','extension','local_close') "
        "ORDER BY case_id, id")).all()
    got = {(r.case_id, r.rule, r.due_date.isoformat()[5:], r.active, r.met) for r in rows}
    c = fx.cases
    assert got == {
        (c["C1"], "acceptance_notice", "07-22", False, True),
        (c["C1"], "local_close", "07-21", False, True),
        (c["C1"], "handling", "09-07", False, True),
        (c["C2"], "acceptance_notice", "07-22", False, True),
        (c["C2"], "local_close", "07-21", False, True),
        (c["C2"], "handling", "09-25", False, True),
        (c["C3"], "acceptance_notice", "07-22", False, True),
        (c["C3"], "local_close", "07-21", True, False),
        (c["C3"], "handling", "09-07", False, False),      # stopped by the extension
        (c["C3"], "extension", "09-17", True, False),
        (c["C4"], "acceptance_notice", "10-14", True, False),
        (c["C4"], "local_close", "10-13", True, False),
        (c["C5"], "acceptance_notice", "07-28", False, True),
        (c["C5"], "handling", "09-14", False, True),
        (c["C6"], "acceptance_notice", "07-07", False, True),
        (c["C6"], "handling", "08-28", False, True),
        (c["C7"], "acceptance_notice", "08-19", False, False),  # stopped by the objection
        (c["C7"], "acceptance_notice", "08-21", False, True),
        (c["C8"], "acceptance_notice", "08-26", False, True),
        (c["C8"], "local_close", "08-25", False, True),
        (c["C8"], "handling", "10-12", False, True),
        (c["C9"], "acceptance_notice", "09-17", False, True),
        (c["C9"], "local_close", "09-16", True, False),
        (c["C9"], "handling", "11-02", True, False),
    }


def test_district_rates_computed_by_hand(fx: Fixture) -> None:
    body = rates(fx.admin, **W)
    assert (body["level"], body["code"], body["from"], body["to"], body["as_of"]) == (
        "district", None, "2020-07-01", "2020-09-30", "2020-12-01")
    # Acceptance limits settled in W: C1 ✓, C2 ✗ (due 07-22, accepted 07-27), C3 ✓, C5 ✓,
    # C7's second ✓ (its first stopped by the objection), C8 ✓, C9 ✓. C6 settled 06-29 (before
    # W), C4 falls due 10-14 (after W).
    assert nums(body["acceptance"]) == (6, 7, round(6 / 7, 4))
    # Handling limits settled in W: C1 ✓ 07-15, C2 ✓ 08-20, C3's extension ✗ 09-17, C5 ✓ 07-20,
    # C6 ✓ 07-03, C8 ✓ 08-20. C9 falls due 11-02 (after W); C3's handling was superseded.
    assert nums(body["on_time"]) == (5, 6, round(5 / 6, 4))
    # Local 15-day target (general cases): C1 ✓, C2 ✗ 07-21, C3 ✗ 07-21, C8 ✓, C9 ✗ 09-16;
    # C4's falls due 10-13; C5 collective and C6, C7 repeat have none.
    assert nums(body["on_time"]["local"]) == (2, 5, 0.4)
    # Closed in W: C1 satisfied, C2 basically satisfied, C5 unsatisfied, C6 not evaluated,
    # C8 without an evaluation.
    sat = body["satisfaction"]
    assert nums(sat) == (2, 3, round(2 / 3, 4))
    assert (sat["satisfied"], sat["basically_satisfied"], sat["unsatisfied"],
            sat["not_evaluated"], sat["unrecorded"], sat["closed"]) == (1, 1, 1, 1, 1, 5)
    # Received in W: C1–C5, C7–C9 (C6 came 06-20). Submissions in W: those 8 at intake, C1's
    # 2nd visit and C6's 2nd visit = 10; persons 7 × 1 + 6 (C5) + 2 + 1 = 16.
    assert body["counts"] == {"submissions": 10, "persons": 16, "cases": 8, "repeat": 1,
                              "collective": 1, "overdue_cases": 3, "open_supervisions": 6}
    # Running past due on 12-01: C3 extension + local, C4 acceptance + local, C9 handling +
    # local — one 督办 each from the tick.
    assert body["overdue"] == {**ZERO_OVERDUE, "acceptance_notice": 1, "handling": 1,
                               "extension": 1, "local_close": 3}
    # 首接首办: routed C1–C5, C7–C9 (8); C4 still waits on its first unit (pending); handlers of
    # the first unit acted on C1, C2, C3, C5, C7 (A objected), C9; C8 was worked by admin only.
    fc = body["first_contact"]
    assert nums(fc) == (6, 7, round(6 / 7, 4))
    assert (fc["routed"], fc["pending"], fc["transferred"], fc["transferred_handled"]) == (
        8, 1, 1, 1)
    for part in ("acceptance", "on_time", "satisfaction", "first_contact"):
        assert body[part]["rule"].count("÷") == 2, part  # the rule in Chinese and in English
    assert body["acceptance"]["rule"].startswith("及时受理率 = ")
    assert "Timely acceptance = " in body["acceptance"]["rule"]
    assert "evaluated" in body["satisfaction"]["rule"] and "参评" in body["satisfaction"]["rule"]


def test_community_and_street_cover_the_same_cases(fx: Fixture) -> None:
    district = rates(fx.admin, **W)
    for level, code in (("community", COMMUNITY), ("street", STREET)):
        body = rates(fx.admin, level=level, code=code, **W)
        assert body["code"] == code and body["name"]
        for part in ("acceptance", "on_time", "satisfaction", "counts", "overdue",
                     "first_contact"):
            assert body[part] == district[part], (level, part)


def test_a_merged_duplicate_is_a_submission_but_no_case(fx: Fixture) -> None:
    before = rates(fx.admin, **W)
    d = Driver(fx.session, fx.login_as("registrar"), 0, fx.unit_a)
    dup = d.new("07-07")  # the same matter as C3, routed to A, then merged into C3
    d.act(dup, d.registrar, "assign", "07-07", unit=fx.unit_a)
    d.act(dup, d.registrar, "merge", "07-08", into=fx.cases["C3"])
    after = rates(fx.admin, **W)
    assert after["counts"] == {**before["counts"], "submissions": 11, "persons": 17}
    # Its acceptance notice and local target were stopped by the merge: in no rate; and A's
    # first act never comes, which is no 首接首办 failure of a case that is no case.
    for part in ("acceptance", "on_time", "satisfaction", "first_contact"):
        assert after[part] == before[part], part


def test_a_grid_worker_sees_only_their_grid(fx: Fixture) -> None:
    worker = fx.login_as("grid_worker", grid_codes=[grid_code(5)])
    body = rates(worker, **W)  # district = everything in their scope: C5 (grid 1) is gone
    assert nums(body["acceptance"]) == (5, 6, round(5 / 6, 4))
    assert nums(body["on_time"]) == (4, 5, 0.8)
    assert nums(body["on_time"]["local"]) == (2, 5, 0.4)
    assert nums(body["satisfaction"]) == (2, 2, 1.0)
    assert body["counts"] == {"submissions": 9, "persons": 10, "cases": 7, "repeat": 1,
                              "collective": 0, "overdue_cases": 3, "open_supervisions": 6}
    assert nums(body["first_contact"]) == (5, 6, round(5 / 6, 4))
    assert rates(worker, level="grid", code=grid_code(5), **W)["counts"] == body["counts"]
    # Another grid: outside the scope, so zeros and null rates — like a grid without cases.
    other = rates(worker, level="grid", code=grid_code(1), **W)
    assert [nums(other[p]) for p in ("acceptance", "on_time", "satisfaction",
                                     "first_contact")] == [(0, 0, None)] * 4
    assert other["counts"] == {"submissions": 0, "persons": 0, "cases": 0, "repeat": 0,
                               "collective": 0, "overdue_cases": 0, "open_supervisions": 0}
    assert other["overdue"] == ZERO_OVERDUE
    # …while the admin sees C5 there.
    assert rates(fx.admin, level="grid", code=grid_code(1), **W)["counts"]["cases"] == 1


def test_unit_level_by_code_or_id(fx: Fixture) -> None:
    # Unit A: C5 (routed to and accepted by A) and C7 (A was its first unit, then objected).
    by_code = rates(fx.admin, level="unit", code="zs-zjj", **W)
    by_id = rates(fx.admin, level="unit", code=str(fx.unit_a), **W)
    for part in ("acceptance", "on_time", "satisfaction", "counts", "first_contact"):
        assert by_code[part] == by_id[part]
    assert by_code["name"]
    assert nums(by_code["acceptance"]) == (2, 2, 1.0)
    assert nums(by_code["on_time"]) == (1, 1, 1.0)
    assert nums(by_code["on_time"]["local"]) == (0, 0, None)
    assert nums(by_code["satisfaction"]) == (0, 1, 0.0)
    assert by_code["counts"] == {"submissions": 2, "persons": 7, "cases": 2, "repeat": 1,
                                 "collective": 1, "overdue_cases": 0, "open_supervisions": 0}
    assert nums(by_code["first_contact"]) == (2, 2, 1.0)
    assert (by_code["first_contact"]["transferred"],
            by_code["first_contact"]["transferred_handled"]) == (1, 1)


def test_limits_count_in_the_window_they_settle_in(fx: Fixture) -> None:
    body = rates(fx.admin, **{"from": "2020-10-01", "to": "2020-11-30"})
    # C4's acceptance notice (10-14) and local target (10-13), C9's handling (11-02): all missed
    # — a rate of 0, not null. Nothing was received or closed in this window.
    assert nums(body["acceptance"]) == (0, 1, 0.0)
    assert nums(body["on_time"]) == (0, 1, 0.0)
    assert nums(body["on_time"]["local"]) == (0, 1, 0.0)
    assert nums(body["satisfaction"]) == (0, 0, None)
    assert body["counts"]["cases"] == 0 and body["overdue"] == ZERO_OVERDUE


def test_a_limit_not_yet_due_is_not_in_any_denominator(fx: Fixture, app: Any) -> None:
    # On 10-14 itself C4's acceptance notice is still in time, and C9's handling runs: as of
    # that day, October holds only C4's local target (10-13, missed).
    app.dependency_overrides[get_now] = lambda: datetime(2020, 10, 14, 18, tzinfo=CHINA_TZ)
    body = rates(fx.admin, **{"from": "2020-10-01", "to": "2020-10-31"})
    assert nums(body["acceptance"]) == (0, 0, None)
    assert nums(body["on_time"]) == (0, 0, None)
    assert nums(body["on_time"]["local"]) == (0, 1, 0.0)
    assert body["as_of"] == "2020-10-14"


def test_empty_window_gives_null_rates(fx: Fixture) -> None:
    body = rates(fx.admin, **{"from": "2019-01-01", "to": "2019-01-31"})
    for part in ("acceptance", "on_time", "satisfaction", "first_contact"):
        assert nums(body[part]) == (0, 0, None), part
    assert nums(body["on_time"]["local"]) == (0, 0, None)
    assert body["counts"] == {"submissions": 0, "persons": 0, "cases": 0, "repeat": 0,
                              "collective": 0, "overdue_cases": 0, "open_supervisions": 0}


def test_default_window_is_the_last_365_days(fx: Fixture) -> None:
    body = rates(fx.admin)
    assert (body["from"], body["to"], body["as_of"]) == ("2019-12-03", "2020-12-01",
                                                         "2020-12-01")
    assert body["counts"]["cases"] == 9
    assert rates(fx.admin, to="2020-09-30")["from"] == "2019-10-02"
    assert rates(fx.admin, **{"from": "2020-07-01"})["to"] == "2020-12-01"


@pytest.mark.parametrize(("params", "field"), [
    ({"level": "city"}, "level"),
    ({"level": "grid"}, "code"),
    ({"level": "grid", "code": "12345"}, "code"),
    ({"level": "grid", "code": grid_code(999)}, "code"),          # no such grid
    ({"level": "community", "code": "210202001999"}, "code"),     # no such 社区
    ({"level": "street", "code": grid_code(5)}, "code"),          # a grid code is no 街道 code
    ({"level": "unit", "code": "no-such-unit"}, "code"),
    ({"level": "district", "code": "210202"}, "code"),
    ({"from": "2020-13-01"}, "from"),
    ({"to": "yesterday"}, "to"),
    ({"from": "2020-09-30", "to": "2020-07-01"}, "to"),
    ({"from": "2021-01-01"}, "from"),                             # after today (the default to)
    ({"from": "2016-01-01", "to": "2020-01-01"}, "from"),         # longer than three years
])
def test_bad_input_is_422_naming_the_field(fx: Fixture, params: dict[str, str],
                                           field: str) -> None:
    resp = fx.admin.get("/stats/rates", params=params)
    assert resp.status_code == 422, resp.text
    assert resp.json()["detail"][0]["loc"] == ["query", field]


def test_needs_a_login(anon_client: TestClient) -> None:
    assert anon_client.get("/stats/rates").status_code == 401
