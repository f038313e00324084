"""清单 and 销号: backlog lists (积案清单 / 重点清单 / 专项清单) with an owner and a deadline;
items on them — a case, or a matter described in words — each owned by a 包案 leader with its
own due date; striking an item off (销号) takes evidence from the people working it and
approval by the supervising role, who must be someone else (two people for every 销号).

Who does what (local rules; the 信访工作条例 asks for lists and 包案 but not for the steps):
- lists and items are made by the 信访局 and commanders (registrar, commander, admin);
- evidence is submitted by those working the matter: the case's unit handlers, the community
  and street, the 信访局 (unit_handler, community, street, registrar, admin) — for an item with
  a case, the case must be in their scope;
- approval, or sending an item back with the reason, is the supervising role's: commander (and
  admin); the approver cannot be the person who submitted the evidence.
An item's due date may not be later than its list's. Lists are visible to district-wide roles;
others see the lists and items whose cases lie in their scope.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import insert, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from geo.access.scope import Scope
from geo.errors import Conflict, Forbidden, NotFound
from geo.models import BacklogItem, BacklogList
from geo.models.coordination import BACKLOG_KINDS
from geo.sql_files import sql
from geo.workflow import fields as check
from geo.workflow.deadlines import china_date, warning_band
from geo.workflow.transitions import load_case_state

KIND_LABELS = {"backlog": "积案清单", "key": "重点清单", "special": "专项清单"}
STATUS_LABELS = {"open": "在办", "pending": "待审核销号", "struck": "已销号"}
MAY_LIST = ("registrar", "commander", "admin")
MAY_SUBMIT = ("unit_handler", "community", "street", "registrar", "admin")
MAY_APPROVE = ("commander", "admin")


def _role(scope: Scope, allowed: tuple[str, ...], what: str) -> None:
    if scope.role not in allowed:
        raise Forbidden(f"role {scope.role} may not {what}; allowed: {', '.join(allowed)}")


def _iso(value: date | datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def item_dict(r: Any, today: date) -> dict[str, Any]:
    """One list item as the API shows it (band while it is not struck off)."""
    return {
        "id": r.id, "list_id": r.list_id, "case_id": r.case_id, "title": r.title,
        "case_status": r.case_status, "category": r.category_name,
        "grid_code": r.grid_code, "leader": {"staff_id": r.leader_staff_id, "name": r.leader},
        "due_date": r.due_date.isoformat(),
        "band": None if r.status == "struck" else warning_band(r.due_date, today),
        "status": r.status, "status_label": STATUS_LABELS[r.status],
        "evidence": r.evidence, "evidence_by": r.evidence_by, "evidence_at": _iso(r.evidence_at),
        "approved_by": r.approved_by, "approved_at": _iso(r.approved_at),
        "returned_note": r.returned_note, "created_by": r.created_by,
    }


def list_dict(r: Any, today: date) -> dict[str, Any]:
    """One backlog list's head as the API shows it."""
    return {
        "id": r.id, "title": r.title, "kind": r.kind, "kind_label": KIND_LABELS[r.kind],
        "owner": {"staff_id": r.owner_staff_id, "name": r.owner},
        "due_date": r.due_date.isoformat(), "band": warning_band(r.due_date, today)
        if r.items_open else None,
        "note": r.note, "created_by": r.created_by, "created_at": r.created_at.isoformat(),
        "items": {"total": r.items_total, "open": r.items_open, "pending": r.items_pending,
                  "struck": r.items_total - r.items_open - r.items_pending},
    }


def backlog_lists(session: Session, scope: Scope, today: date) -> list[dict[str, Any]]:
    """The lists the caller may see, with item counts over the items they may see."""
    return [list_dict(r, today) for r in session.execute(
        sql("backlog_lists"), {**scope.params(), "list_id": None})]


def backlog_list(session: Session, scope: Scope, list_id: int, today: date) -> dict[str, Any]:
    """One list with the items the caller may see, by due date (404 when none is visible)."""
    head = session.execute(sql("backlog_lists"), {**scope.params(), "list_id": list_id}).first()
    if head is None:
        raise NotFound(f"no backlog list {list_id}")
    items = session.execute(sql("backlog_items"), {**scope.params(), "list_id": list_id,
                                                   "item_id": None, "leader": None})
    return {**list_dict(head, today), "entries": [item_dict(r, today) for r in items]}


def create_list(session: Session, scope: Scope, *, title: str, kind: str, owner: str,
                owner_staff_id: int | None, due_date: date, note: str | None = None,
                now: datetime | None = None) -> dict[str, Any]:
    """A new 清单 (registrar, commander)."""
    now = now or datetime.now(UTC)
    _role(scope, MAY_LIST, "make a backlog list (清单)")
    if kind not in BACKLOG_KINDS:
        raise check.bad("kind", f"kind must be one of {', '.join(BACKLOG_KINDS)}")
    if due_date < china_date(now):
        raise check.bad("due_date", f"due_date {due_date.isoformat()} is in the past")
    new_id = session.scalar(insert(BacklogList).values(
        title=check.text(title, "title", 200), kind=kind, owner=check.text(owner, "owner", 50),
        owner_staff_id=None if owner_staff_id is None else check.staff(session, owner_staff_id,
                                                                       "owner_staff_id"),
        due_date=due_date, note=None if note is None else check.text(note, "note", 1000),
        created_by=scope.username, created_at=now).returning(BacklogList.id))
    return backlog_list(session, scope, int(new_id or 0), china_date(now))


def _item(session: Session, scope: Scope, item_id: int) -> Any:
    row = session.execute(sql("backlog_items"), {**scope.params(), "list_id": None,
                                                 "item_id": item_id, "leader": None}).first()
    if row is None:
        raise NotFound(f"no backlog item {item_id}")
    return row


def add_item(session: Session, scope: Scope, list_id: int, *, case_id: int | None,
             title: str | None, leader: str | None, leader_staff_id: int | None,
             due_date: date, now: datetime | None = None) -> dict[str, Any]:
    """Put a case (or a matter in words) on a list with its 包案 leader and due date."""
    now = now or datetime.now(UTC)
    _role(scope, MAY_LIST, "add to a backlog list (清单)")
    head = session.execute(sql("backlog_lists"), {**scope.params(), "list_id": list_id}).first()
    if head is None:
        raise NotFound(f"no backlog list {list_id}")
    if case_id is None and title is None:
        raise check.bad("case_id", "an item needs a case_id or a title")
    if case_id is not None:
        try:
            load_case_state(session, scope, case_id)
        except NotFound:
            raise check.bad("case_id", f"no case {case_id}") from None
    if due_date > head.due_date:
        raise check.bad("due_date", f"due_date {due_date.isoformat()} is after the list's due "
                        f"date {head.due_date.isoformat()}")
    if due_date < china_date(now):
        raise check.bad("due_date", f"due_date {due_date.isoformat()} is in the past")
    try:
        with session.begin_nested():
            new_id = session.scalar(insert(BacklogItem).values(
                list_id=list_id, case_id=case_id,
                title=None if title is None else check.text(title, "title", 200),
                leader=None if leader is None else check.text(leader, "leader", 50),
                leader_staff_id=None if leader_staff_id is None
                else check.staff(session, leader_staff_id, "leader_staff_id"),
                due_date=due_date, created_by=scope.username, created_at=now)
                .returning(BacklogItem.id))
    except IntegrityError:
        raise Conflict(f"case {case_id} is already on backlog list {list_id}") from None
    return item_dict(_item(session, scope, int(new_id or 0)), china_date(now))


def submit_evidence(session: Session, scope: Scope, item_id: int, evidence: str,
                    now: datetime | None = None) -> dict[str, Any]:
    """Ask for 销号: the evidence that the matter is settled (open → pending)."""
    now = now or datetime.now(UTC)
    row = _item(session, scope, item_id)
    _role(scope, MAY_SUBMIT, "submit 销号 evidence")
    if row.status != "open":
        raise Conflict(f"backlog item {item_id} is {row.status} ({STATUS_LABELS[row.status]}): "
                       "evidence is submitted for open items")
    session.execute(update(BacklogItem).where(BacklogItem.id == item_id).values(
        status="pending", evidence=check.text(evidence, "evidence", 5000),
        evidence_by=scope.username, evidence_at=now)
        .execution_options(synchronize_session=False))
    return item_dict(_item(session, scope, item_id), china_date(now))


def decide_item(session: Session, scope: Scope, item_id: int, approve: bool,
                note: str | None = None, now: datetime | None = None) -> dict[str, Any]:
    """The supervising role strikes the item off (approve) or sends it back with the reason."""
    now = now or datetime.now(UTC)
    row = _item(session, scope, item_id)
    _role(scope, MAY_APPROVE, "approve or return 销号")
    if row.status != "pending":
        raise Conflict(f"backlog item {item_id} is {row.status} ({STATUS_LABELS[row.status]}): "
                       "only items with evidence awaiting approval can be decided")
    if row.evidence_by == scope.username:
        raise Forbidden("销号 needs a second person: you submitted the evidence of this item")
    if approve:
        values: dict[str, Any] = {"status": "struck", "approved_by": scope.username,
                                  "approved_at": now, "returned_note": None}
    else:
        values = {"status": "open", "returned_note": check.text(note, "note", 1000),
                  "evidence": None, "evidence_by": None, "evidence_at": None}
    session.execute(update(BacklogItem).where(BacklogItem.id == item_id).values(**values)
                    .execution_options(synchronize_session=False))
    return item_dict(_item(session, scope, item_id), china_date(now))
