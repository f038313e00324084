"""The records around cases on the squares world, through the API with a fixed clock: 三调联动
mediation and its 30-day judicial confirmation window, 清单/销号 with evidence and a second
person's approval, 联合接访 fanned out to units with their own deadlines, and 包案 leaders'
lists — each with roles, scope and bad input.

Dates by hand (clock Thu 2020-05-07): an agreement that day may be confirmed until Sat
2020-06-06 → the next working day, Mon 2020-06-08; a reception part with no due date gets 15
days like the acceptance notice → Fri 2020-05-22.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from tests import test_workflow
from tests.test_workflow import World, act, at, case_in, ok, world_username

world = test_workflow.world  # the squares world with a client per role and a fixed clock


def deadline(world: World, case_id: int, rule: str) -> dict[str, Any]:
    body = ok(world.admin.get(f"/cases/{case_id}"))
    return next(d for side in body["deadlines"].values() for d in side if d["rule"] == rule)


# -- 三调联动 -----------------------------------------------------------------------------------

MEDIATION = {"kind": "people", "organization": "青泥洼桥街道人民调解委员会", "mediator": "刘调解员",
             "started_on": "2020-05-07"}


def test_mediation_agreement_opens_the_judicial_confirmation_window(world: World) -> None:
    case_id = case_in(world, "mediating")
    handler = world.clients["unit_handler"]
    resp = handler.post(f"/cases/{case_id}/mediations", json=MEDIATION)
    assert resp.status_code == 201, resp.text
    m = resp.json()
    assert (m["kind_label"], m["outcome"], m["confirmation_due"]) == ("人民调解", "pending", None)
    done = ok(handler.post(f"/mediations/{m['id']}/outcome",
                           json={"outcome": "agreement", "agreement_date": "2020-05-07"}))
    assert (done["agreement_date"], done["confirmation_due"]) == ("2020-05-07", "2020-06-08")
    window = deadline(world, case_id, "mediation_confirmation")
    assert (window["due_date"], window["active"], window["kind"]) == ("2020-06-08", True,
                                                                      "window")
    again = handler.post(f"/mediations/{m['id']}/outcome", json={"outcome": "no_agreement"})
    assert again.status_code == 409 and "already ended" in again.json()["detail"]
    world.clock.now = at("2020-06-10")
    late = handler.post(f"/mediations/{m['id']}/confirmation", json={"confirmed_on": "2020-06-09"})
    assert late.status_code == 409 and "2020-06-08" in late.json()["detail"]
    confirmed = ok(handler.post(f"/mediations/{m['id']}/confirmation",
                                json={"confirmed_on": "2020-06-08"}))
    assert confirmed["confirmed_on"] == "2020-06-08"
    window = deadline(world, case_id, "mediation_confirmation")
    assert window["active"] is False and window["met_at"] is not None
    listed = ok(world.registrar.get(f"/cases/{case_id}/mediations"))
    assert [(i["id"], i["outcome"]) for i in listed["items"]] == [(m["id"], "agreement")]


def test_judicial_mediation_needs_no_confirmation_and_failure_has_no_date(world: World) -> None:
    case_id = case_in(world, "in_progress")
    street = world.clients["street"]
    court = ok_created(street.post(f"/cases/{case_id}/mediations", json={
        **MEDIATION, "kind": "judicial", "organization": "中山区人民法院诉调对接中心"}))
    done = ok(street.post(f"/mediations/{court['id']}/outcome",
                          json={"outcome": "agreement", "agreement_date": "2020-05-07"}))
    assert done["confirmation_due"] is None
    assert world.session.scalar(text(
        "SELECT count(*) FROM case_deadline WHERE case_id = :i AND rule = "
        "'mediation_confirmation'"), {"i": case_id}) == 0
    failed = ok_created(street.post(f"/cases/{case_id}/mediations", json=MEDIATION))
    resp = street.post(f"/mediations/{failed['id']}/outcome",
                       json={"outcome": "no_agreement", "agreement_date": "2020-05-07"})
    assert resp.status_code == 422 and resp.json()["detail"][0]["loc"][-1] == "agreement_date"
    resp = street.post(f"/mediations/{failed['id']}/outcome", json={"outcome": "agreement"})
    assert resp.status_code == 422 and "agreement_date" in resp.json()["detail"][0]["msg"]


def ok_created(resp: Any) -> dict[str, Any]:
    assert resp.status_code == 201, resp.text
    body: dict[str, Any] = resp.json()
    return body


def test_mediation_roles_states_scope_and_fields(world: World) -> None:
    case_id = case_in(world, "in_progress")
    resp = world.clients["grid_worker"].post(f"/cases/{case_id}/mediations", json=MEDIATION)
    assert resp.status_code == 403 and "三调联动" in resp.json()["detail"]
    assert world.handler_a.post(f"/cases/{case_id}/mediations",
                                json=MEDIATION).status_code == 404   # not A's case
    fresh = world.new_case()
    resp = world.registrar.post(f"/cases/{fresh}/mediations", json=MEDIATION)
    assert resp.status_code == 409 and "registered" in resp.json()["detail"]
    resp = world.registrar.post(f"/cases/{case_id}/mediations",
                                json={**MEDIATION, "kind": "family"})
    assert resp.status_code == 422 and resp.json()["detail"][0]["loc"][-1] == "kind"
    resp = world.registrar.post(f"/cases/{case_id}/mediations",
                                json={**MEDIATION, "started_on": "2020-06-01"})
    assert resp.status_code == 422 and "future" in resp.json()["detail"][0]["msg"]


# -- 清单 and 销号 ------------------------------------------------------------------------------

def test_backlog_item_is_struck_off_with_evidence_and_a_second_persons_approval(
        world: World) -> None:
    case_id = case_in(world, "in_progress")
    commander = world.clients["commander"]
    made = ok_created(commander.post("/backlogs", json={
        "title": "2020年信访积案清单", "kind": "backlog", "owner": "区信访局",
        "due_date": "2020-06-30"}))
    assert (made["kind_label"], made["items"]["total"]) == ("积案清单", 0)
    item = ok_created(commander.post(f"/backlogs/{made['id']}/items", json={
        "case_id": case_id, "leader": "王副区长", "due_date": "2020-06-15"}))
    assert (item["status"], item["band"], item["leader"]["name"]) == ("open", "green", "王副区长")
    resp = commander.post(f"/backlogs/{made['id']}/items",
                          json={"case_id": case_id, "due_date": "2020-06-15"})
    assert resp.status_code == 409 and "already on backlog list" in resp.json()["detail"]
    resp = commander.post(f"/backlogs/{made['id']}/items",
                          json={"title": "某小区供暖", "due_date": "2020-07-15"})
    assert resp.status_code == 422 and resp.json()["detail"][0]["loc"][-1] == "due_date"
    resp = commander.post(f"/backlogs/items/{item['id']}/decision", json={"approve": True})
    assert resp.status_code == 409 and "awaiting approval" in resp.json()["detail"]
    pending = ok(world.clients["unit_handler"].post(
        f"/backlogs/items/{item['id']}/evidence", json={"evidence": "已更换灯具，业主签字确认"}))
    assert (pending["status"], pending["status_label"]) == ("pending", "待审核销号")
    resp = world.clients["unit_handler"].post(f"/backlogs/items/{item['id']}/decision",
                                              json={"approve": True})
    assert resp.status_code == 403
    returned = ok(commander.post(f"/backlogs/items/{item['id']}/decision",
                                 json={"approve": False, "note": "缺少业主签字照片"}))
    assert (returned["status"], returned["evidence"], returned["returned_note"]) == (
        "open", None, "缺少业主签字照片")
    ok(world.admin.post(f"/backlogs/items/{item['id']}/evidence",
                        json={"evidence": "补充照片三张"}))
    resp = world.admin.post(f"/backlogs/items/{item['id']}/decision", json={"approve": True})
    assert resp.status_code == 403 and "second person" in resp.json()["detail"]
    struck = ok(commander.post(f"/backlogs/items/{item['id']}/decision", json={"approve": True}))
    assert (struck["status"], struck["approved_by"], struck["band"]) == (
        "struck", world_username(world, "commander"), None)
    head = ok(commander.get(f"/backlogs/{made['id']}"))
    assert head["items"] == {"total": 1, "open": 0, "pending": 0, "struck": 1}
    assert [e["id"] for e in head["entries"]] == [item["id"]]


def test_backlog_lists_are_scoped_and_checked(world: World) -> None:
    case_id = case_in(world, "accepted")
    commander = world.clients["commander"]
    resp = world.clients["grid_worker"].post("/backlogs", json={
        "title": "清单", "owner": "网格员", "due_date": "2020-06-30"})
    assert resp.status_code == 403
    resp = commander.post("/backlogs", json={"title": "清单", "owner": "区信访局",
                                             "due_date": "2020-05-01"})
    assert resp.status_code == 422 and "past" in resp.json()["detail"][0]["msg"]
    made = ok_created(commander.post("/backlogs", json={
        "title": "重点清单", "kind": "key", "owner": "区信访局", "due_date": "2020-06-30"}))
    ok_created(commander.post(f"/backlogs/{made['id']}/items",
                              json={"case_id": case_id, "due_date": "2020-06-01"}))
    ok_created(commander.post(f"/backlogs/{made['id']}/items",
                              json={"title": "全区物业专项整治", "due_date": "2020-06-01"}))
    assert ok(commander.get(f"/backlogs/{made['id']}"))["items"]["total"] == 2
    mine = ok(world.clients["grid_worker"].get(f"/backlogs/{made['id']}"))
    assert [e["case_id"] for e in mine["entries"]] == [case_id]      # the words-only item: not
    assert ok(world.handler_a.get("/backlogs"))["items"] == []
    assert world.handler_a.get(f"/backlogs/{made['id']}").status_code == 404
    resp = commander.post(f"/backlogs/{made['id']}/items", json={"due_date": "2020-06-01"})
    assert resp.status_code == 422 and resp.json()["detail"][0]["loc"][-1] == "case_id"


# -- 联合接访 -----------------------------------------------------------------------------------

def test_joint_reception_fans_out_to_units_each_with_its_deadline(world: World) -> None:
    case_id = case_in(world, "assigned")
    body = {"received_at": "2020-05-07T09:00:00+08:00", "place": "区联合接访中心",
            "persons_count": 3, "case_id": case_id,
            "parts": [{"unit": "zs-zjj", "part": "核实物业维修资金使用"},
                      {"unit": "zs-rsj", "part": "核实物业公司欠薪", "due_date": "2020-05-10"}]}
    made = ok_created(world.registrar.post("/receptions", json=body))
    parts = {p["unit"]["id"]: p for p in made["parts"]}
    assert (parts[world.unit_a]["due_date"], parts[world.unit_b]["due_date"]) == (
        "2020-05-22", "2020-05-10")
    assert {p["status"] for p in made["parts"]} == {"open"}
    a_part, b_part = parts[world.unit_a]["id"], parts[world.unit_b]["id"]
    assert world.handler_a.post(f"/receptions/parts/{b_part}/answer",
                                json={"response": "x"}).status_code == 403
    done = ok(world.handler_a.post(f"/receptions/parts/{a_part}/answer",
                                   json={"response": "维修资金使用合规"}))
    states = {p["id"]: (p["status"], p["band"]) for p in done["parts"]}
    assert states == {a_part: ("done", None), b_part: ("open", "yellow")}
    again = world.handler_a.post(f"/receptions/parts/{a_part}/answer", json={"response": "y"})
    assert again.status_code == 409
    assert [r["id"] for r in ok(world.handler_b.get("/receptions?open=true"))["items"]] == [
        made["id"]]
    assert [r["id"] for r in ok(world.handler_a.get("/receptions"))["items"]] == [made["id"]]
    assert ok(world.clients["grid_worker"].get(f"/receptions/{made['id']}"))["case_id"] == \
        case_id


def test_joint_reception_input_and_roles(world: World) -> None:
    base = {"received_at": "2020-05-07T09:00:00+08:00", "place": "区联合接访中心",
            "parts": [{"unit": "zs-zjj", "part": "甲"}, {"unit": "zs-rsj", "part": "乙"}]}
    resp = world.clients["unit_handler"].post("/receptions", json=base)
    assert resp.status_code == 403
    one = {**base, "parts": base["parts"][:1]}
    assert world.registrar.post("/receptions", json=one).status_code == 422
    twice = {**base, "parts": [base["parts"][0], {"unit": "zs-zjj", "part": "丙"}]}
    resp = world.registrar.post("/receptions", json=twice)
    assert resp.status_code == 422
    assert resp.json()["detail"][0]["loc"] == ["body", "parts", 1, "unit"]
    unknown = {**base, "parts": [base["parts"][0], {"unit": "no-such", "part": "丙"}]}
    resp = world.registrar.post("/receptions", json=unknown)
    assert resp.status_code == 422 and "no-such" in resp.json()["detail"][0]["msg"]
    early = {**base, "parts": [base["parts"][0], {**base["parts"][1], "due_date": "2020-05-07"}]}
    resp = world.registrar.post("/receptions", json=early)
    assert resp.status_code == 422 and resp.json()["detail"][0]["loc"] == ["body", "parts", 1,
                                                                   "due_date"]
    made = ok_created(world.registrar.post("/receptions", json=base))
    assert world.clients["grid_worker"].get(f"/receptions/{made['id']}").status_code == 404
    assert world.session.scalar(text("SELECT count(*) FROM joint_reception_part")) == 2


# -- 包案 ---------------------------------------------------------------------------------------

def test_leaders_cases_and_items_are_listable(world: World) -> None:
    commander = world.clients["commander"]
    first, second = case_in(world, "accepted"), case_in(world, "in_progress")
    ok(act(world, commander, first, "lead", leader="王副区长"))
    ok(act(world, commander, second, "lead", leader="王副区长"))
    made = ok_created(commander.post("/backlogs", json={
        "title": "重点清单", "kind": "key", "owner": "区信访局", "due_date": "2020-06-30"}))
    ok_created(commander.post(f"/backlogs/{made['id']}/items", json={
        "title": "全区物业专项整治", "leader": "王副区长", "due_date": "2020-05-08"}))
    world.clock.now = at("2020-05-11")
    board = ok(commander.get("/leaders"))["items"]
    assert board == [{"leader": "王副区长", "staff_id": None,
                      "cases": {"total": 2, "open": 2, "overdue": 0},
                      "items": {"total": 1, "open": 1, "overdue": 1}}]
    mine = ok(commander.get("/leaders/王副区长/cases"))
    assert sorted(c["id"] for c in mine["cases"]) == sorted([first, second])
    assert [i["title"] for i in mine["backlog_items"]] == ["全区物业专项整治"]
    assert {c["id"] for c in ok(world.registrar.get("/cases?leader=王副区长"))["items"]} == {
        first, second}
    assert ok(world.handler_a.get("/leaders"))["items"] == []
