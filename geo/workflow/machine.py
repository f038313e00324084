"""The case state machine as data: which action leads from which states to which, who may take
it, which fields it needs, and which deadlines it meets, opens and stops.

States (DESIGN.md, local labels in brackets):

    registered [登记] ─assign─► assigned [交办] ─accept─► accepted [受理]
        ─start─► in_progress [办理] ─reply─► replied [答复] ─close─► closed [结案]
    assigned ─object─► disputed [异议] ─assign─► assigned (re-routed)
    registered/assigned ─redirect─► redirected [导入法定途径]; assigned ─reject─► not_accepted
    [不予受理]; registered/assigned ─merge─► merged [合并]
    in_progress ⇄ mediating [调解] (mediate / start); extend [延期] keeps the state
    replied/closed ─request_review─► review [复查] ─decide_review─► reviewed [复查意见]
        ─request_rereview─► rereview [复核] ─decide_rereview─► finalized [复核终结]
    closed/not_accepted/redirected ─reopen─► registered
    lead [包案] (any open state) and evaluate [评价] (after the reply) keep the state

Added to DESIGN.md's list: the state `reviewed` (a review decision was given; the petitioner
may ask for a re-review within 30 days, or the case is closed) and the actions `decide_review`
/ `decide_rereview` (复查意见 / 复核意见), since DESIGN.md names review and re-review but not how
they end. Where DESIGN.md is silent this follows the 信访工作条例 (2022):
- 复查 and 复核 are asked for within 30 days of the written answer and decided within 30 days
  (Art. 35, 36); they are decided by the 上一级 organ, whose 复查复核 office in a district sits
  with the 信访局 — so registrar and commander decide. A re-review decision is final (终结):
  no reopen from `finalized`.
- 导入法定途径 (Art. 31): matters for litigation, arbitration, administrative review or the
  discipline inspection organs leave the petition channel (REDIRECT_REASONS).
- Extension (Art. 34): at most 30 days, approved (here by the commander), once, and only while
  the handling limit still runs.

Local rules where neither says anything (documented here, kept in this table):
- 首接首办: the first `assign` fixes the first unit; the first action by a handler of that unit
  (role unit_handler) fixes the first handler. Neither changes afterwards (DB trigger).
- A unit handler acts only on cases routed to their own unit (scoping also shows them cases
  whose responsible unit they are, e.g. the grid's 居委会).
- An objection stops the unit's acceptance clock and gives the 信访局 a new 15-day routing
  limit from the objection (the matter is back on its desk).
- 办结 is the written reply: `reply` meets the handling (or extended) limit and the local
  15-day target. `close` (结案) records the evaluation and needs a reply first.
- A reopened case goes back to the 信访局 (registered, new 15-day routing limit) and keeps its
  首接首办; it is routed, accepted (new 四定) and handled again.
- 包案 (`lead`): a commander names the leader who owns the case (a staff row when there is
  one, and the name as given); it can be changed while the case is open, each change in the
  history. Backlog-list items have their own leader (geo.workflow.backlog).
- 评价 (`evaluate`): the 信访局 records the petitioner's evaluation after the reply (回访), as
  `close` may; once satisfied / basically satisfied / unsatisfied is on file it stands — only
  not_evaluated may be replaced.
- admin may take every action (data repair); discipline has no workflow actions here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from geo.workflow.deadlines import RULES

STATES: Mapping[str, str] = {
    "registered": "登记", "assigned": "交办", "disputed": "异议", "accepted": "受理",
    "in_progress": "办理", "mediating": "调解", "replied": "答复", "closed": "结案",
    "redirected": "导入法定途径", "not_accepted": "不予受理", "merged": "合并",
    "review": "复查", "reviewed": "复查意见", "rereview": "复核", "finalized": "复核终结",
}
# No action leads anywhere from these, except reopen where listed in its from-states.
TERMINAL = frozenset({"closed", "redirected", "not_accepted", "merged", "finalized"})

# Time windows the petitioner or unit *may* use (a right), not limits someone must meet: they
# lapse quietly and never trigger 督办. Every other rule is an obligation.
WINDOW_RULES = frozenset({"objection", "review_request", "rereview_request",
                          "mediation_confirmation"})
OBLIGATION_RULES = tuple(r for r in RULES if r not in WINDOW_RULES)
ALL_RULES = tuple(RULES)

REDIRECT_REASONS: Mapping[str, str] = {
    "litigation": "诉讼", "arbitration": "仲裁", "administrative_review": "行政复议",
    "discipline_inspection": "纪检监察", "other_legal_channel": "其他法定途径",
}

# Roles that act for a unit: they may act only on cases routed to their own unit.
UNIT_ROLES = frozenset({"unit_handler"})
# What an opened deadline counts from: the action's day, or the end of the handling limit (延期).
# Limits counted from receipt (routing, local target) are opened by schedule.py at registration.
NOW, HANDLING_DUE = "now", "handling_due"


@dataclass(frozen=True)
class Action:
    """One row of the machine: an action, where it may start, where it leads, who may take it,
    what it needs, and what it does to the case's deadlines."""

    code: str
    label: str
    from_states: frozenset[str]
    to_state: str | None            # None: the state does not change (延期)
    roles: tuple[str, ...]
    required: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()
    meets: tuple[str, ...] = ()     # active deadlines of these rules are met now
    stops: tuple[str, ...] = ()     # … and these stop running without being met
    opens: tuple[tuple[str, str], ...] = ()   # (rule, counted from NOW | HANDLING_DUE)
    window: str | None = None       # an open window of this rule is needed (复查 within 30 d)
    fixes_first_unit: bool = False  # 首接首办: the routed unit becomes the first unit, once

    def fields(self) -> tuple[str, ...]:
        """Every field the action takes (note is always allowed)."""
        return (*self.required, *self.optional, "note")


def _a(code: str, label: str, from_states: tuple[str, ...], to_state: str | None,
       roles: tuple[str, ...], *, required: tuple[str, ...] = (),
       optional: tuple[str, ...] = (), meets: tuple[str, ...] = (),
       stops: tuple[str, ...] = (), opens: tuple[tuple[str, str], ...] = (),
       window: str | None = None, fixes_first_unit: bool = False) -> Action:
    # admin may take every action (data repair).
    return Action(code, label, frozenset(from_states), to_state, (*roles, "admin"), required,
                  optional, meets, stops, opens, window, fixes_first_unit)


_REGISTRY = ("registrar", "commander")
_UNIT = ("unit_handler",)
_LOCAL = ("unit_handler", "community", "street")

ACTIONS: Mapping[str, Action] = {a.code: a for a in (
    _a("assign", "交办", ("registered", "disputed"), "assigned", _REGISTRY,
       required=("unit",), meets=("routing",),
       opens=(("acceptance_notice", NOW), ("objection", NOW)), fixes_first_unit=True),
    _a("object", "异议", ("assigned",), "disputed", _UNIT, required=("reason",),
       meets=("objection",), stops=("acceptance_notice",), opens=(("routing", NOW),),
       window="objection"),
    _a("accept", "受理", ("assigned",), "accepted", _UNIT,
       required=("responsible_unit", "handlers", "plan", "target_close_date"),
       meets=("acceptance_notice",), stops=("objection",), opens=(("handling", NOW),)),
    _a("reject", "不予受理", ("assigned",), "not_accepted", _UNIT, required=("reason",),
       meets=("acceptance_notice",), stops=ALL_RULES),
    _a("redirect", "导入法定途径", ("registered", "assigned"), "redirected",
       ("registrar", "unit_handler"), required=("reason",),
       meets=("routing", "acceptance_notice"), stops=ALL_RULES),
    _a("merge", "合并", ("registered", "assigned"), "merged", ("registrar",), required=("into",),
       meets=("routing",), stops=ALL_RULES),
    _a("start", "办理", ("accepted", "mediating"), "in_progress", _LOCAL),
    _a("mediate", "调解", ("in_progress",), "mediating", _LOCAL),
    _a("extend", "延期", ("accepted", "in_progress", "mediating"), None, ("commander",),
       required=("days", "reason"), stops=("handling",), opens=(("extension", HANDLING_DUE),)),
    _a("reply", "答复", ("in_progress", "mediating"), "replied", _UNIT, required=("text",),
       meets=("handling", "extension", "local_close"), opens=(("review_request", NOW),)),
    _a("close", "结案", ("replied", "reviewed"), "closed", ("unit_handler", "registrar"),
       optional=("evaluation",), stops=OBLIGATION_RULES),
    _a("request_review", "复查", ("replied", "closed"), "review", ("registrar",),
       optional=("reason",), meets=("review_request",), opens=(("review_decision", NOW),),
       window="review_request"),
    _a("decide_review", "复查意见", ("review",), "reviewed", _REGISTRY, required=("text",),
       meets=("review_decision",), opens=(("rereview_request", NOW),)),
    _a("request_rereview", "复核", ("reviewed", "closed"), "rereview", ("registrar",),
       optional=("reason",), meets=("rereview_request",), opens=(("rereview_decision", NOW),),
       window="rereview_request"),
    _a("decide_rereview", "复核意见", ("rereview",), "finalized", _REGISTRY, required=("text",),
       meets=("rereview_decision",), stops=ALL_RULES),
    _a("reopen", "重新办理", ("closed", "not_accepted", "redirected"), "registered",
       ("commander",), required=("reason",), stops=ALL_RULES, opens=(("routing", NOW),)),
    _a("lead", "包案", tuple(s for s in STATES if s not in TERMINAL), None, ("commander",),
       required=("leader",), optional=("leader_staff_id",)),
    _a("evaluate", "评价", ("replied", "reviewed", "closed"), None, ("registrar",),
       required=("evaluation",)),
)}


def actions_from(state: str) -> list[str]:
    """The actions allowed from a state, in table order."""
    return [a.code for a in ACTIONS.values() if state in a.from_states]


def target_state(action: Action, from_state: str) -> str:
    """Where the action leads from this state (unchanged for 延期)."""
    return action.to_state or from_state


def is_general(is_collective: bool, is_repeat: bool, restricted: bool) -> bool:
    """一般信访事项 for the local 15-day target: neither collective, nor a repeat, nor a
    restricted (检举控告) matter — those follow their own, statutory limits only."""
    return not (is_collective or is_repeat or restricted)


def check_table() -> None:
    """Refuse an inconsistent table (run by the tests): known states, rules and roles."""
    from geo.models.access import ROLES

    for a in ACTIONS.values():
        states = set(a.from_states) | ({a.to_state} if a.to_state else set())
        unknown = states - set(STATES)
        if unknown:
            raise ValueError(f"{a.code}: unknown states {sorted(unknown)}")
        rules = {*a.meets, *a.stops, *(r for r, _ in a.opens), *([a.window] if a.window else [])}
        if rules - set(RULES):
            raise ValueError(f"{a.code}: unknown deadline rules {sorted(rules - set(RULES))}")
        if set(a.roles) - set(ROLES):
            raise ValueError(f"{a.code}: unknown roles {sorted(set(a.roles) - set(ROLES))}")
        # Only reopen, a review within its window, or a record that keeps the state (评价)
        # may start from a terminal state.
        if a.from_states & TERMINAL and a.code != "reopen" and not a.window \
                and a.to_state is not None:
            raise ValueError(f"{a.code}: leaves a terminal state")
