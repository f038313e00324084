"""The state machine table on its own (no database): consistent, every state reachable, the
terminal states closed, and the rules DESIGN.md fixes written into the table."""

from __future__ import annotations

import pytest

from geo.models.access import ROLES
from geo.models.cases import CASE_STATUSES
from geo.workflow.deadlines import RULES
from geo.workflow.machine import (
    ACTIONS,
    OBLIGATION_RULES,
    STATES,
    TERMINAL,
    WINDOW_RULES,
    actions_from,
    check_table,
    is_general,
    target_state,
)


def test_the_table_names_only_known_states_rules_and_roles() -> None:
    check_table()
    assert set(STATES) == set(CASE_STATUSES)        # the DB check constraint lists the same
    assert set(WINDOW_RULES) | set(OBLIGATION_RULES) == set(RULES)
    assert all("admin" in a.roles for a in ACTIONS.values())


def test_every_state_is_reachable_from_registered() -> None:
    seen, todo = {"registered"}, ["registered"]
    while todo:
        state = todo.pop()
        for code in actions_from(state):
            nxt = target_state(ACTIONS[code], state)
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    assert seen == set(STATES)


@pytest.mark.parametrize("state", sorted(set(STATES) - TERMINAL))
def test_every_open_state_has_a_way_on(state: str) -> None:
    assert any(target_state(ACTIONS[a], state) != state for a in actions_from(state))


def test_terminal_states_lead_only_to_review_or_reopen() -> None:
    assert actions_from("merged") == [] and actions_from("finalized") == []
    assert actions_from("closed") == ["request_review", "request_rereview", "reopen",
                                      "evaluate"]
    assert actions_from("not_accepted") == ["reopen"] == actions_from("redirected")


def test_design_rules_are_in_the_table() -> None:
    assert actions_from("registered") == ["assign", "redirect", "merge", "lead"]
    assert actions_from("assigned") == ["object", "accept", "reject", "redirect", "merge",
                                        "lead"]
    assert {s for s in STATES if "lead" in actions_from(s)} == set(STATES) - TERMINAL   # 包案
    assert ACTIONS["evaluate"].from_states == {"replied", "reviewed", "closed"}     # 评价
    assert ACTIONS["assign"].from_states == {"registered", "disputed"}      # re-routing
    assert ACTIONS["object"].window == "objection" and ACTIONS["object"].to_state == "disputed"
    assert ACTIONS["accept"].required == ("responsible_unit", "handlers", "plan",
                                          "target_close_date")              # 四定
    assert ACTIONS["extend"].to_state is None and ACTIONS["extend"].roles == ("commander",
                                                                             "admin")
    assert {target_state(ACTIONS["mediate"], "in_progress"),
            target_state(ACTIONS["start"], "mediating")} == {"mediating", "in_progress"}
    assert ACTIONS["reply"].meets == ("handling", "extension", "local_close")
    assert ACTIONS["request_review"].window == "review_request"
    assert ACTIONS["assign"].fixes_first_unit and not any(
        a.fixes_first_unit for a in ACTIONS.values() if a.code != "assign")


def test_unit_actions_are_for_unit_handlers_and_registry_actions_are_not() -> None:
    for code in ("object", "accept", "reject", "reply"):
        assert ACTIONS[code].roles == ("unit_handler", "admin")
    for code in ("assign", "merge", "request_review", "request_rereview", "reopen"):
        assert "unit_handler" not in ACTIONS[code].roles
    assert not {r for a in ACTIONS.values() for r in a.roles} - set(ROLES)
    assert all("discipline" not in a.roles and "grid_worker" not in a.roles
               for a in ACTIONS.values())


@pytest.mark.parametrize(("collective", "repeat", "restricted", "general"), [
    (False, False, False, True), (True, False, False, False), (False, True, False, False),
    (False, False, True, False)])
def test_general_cases_are_the_plain_ones(collective: bool, repeat: bool, restricted: bool,
                                          general: bool) -> None:
    assert is_general(collective, repeat, restricted) is general
