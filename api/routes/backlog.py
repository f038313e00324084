"""清单 and 销号: backlog lists, their items (包案 leader, due date), evidence for striking an item
off and the supervising role's approval. Rules and roles: geo.workflow.backlog."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from api.deps import NowDep, SessionDep
from api.security import ScopeDep
from geo.workflow import backlog
from geo.workflow.deadlines import china_date

router = APIRouter(prefix="/backlogs", tags=["workflow"])
Id = Annotated[int, Path(ge=1)]


class ListIn(BaseModel):
    """A new 清单."""

    model_config = ConfigDict(extra="forbid")

    title: Annotated[str, Field(min_length=1, max_length=200)]
    kind: Literal["backlog", "key", "special"] = "backlog"
    owner: Annotated[str, Field(min_length=1, max_length=50)]
    owner_staff_id: Annotated[int | None, Field(ge=1)] = None
    due_date: date
    note: Annotated[str | None, Field(max_length=1000)] = None


class ItemIn(BaseModel):
    """A case (or a matter in words) for a list, with its 包案 leader and due date."""

    model_config = ConfigDict(extra="forbid")

    case_id: Annotated[int | None, Field(ge=1)] = None
    title: Annotated[str | None, Field(min_length=1, max_length=200)] = None
    leader: Annotated[str | None, Field(min_length=1, max_length=50)] = None
    leader_staff_id: Annotated[int | None, Field(ge=1)] = None
    due_date: date


class EvidenceIn(BaseModel):
    """What shows the matter is settled (销号 evidence)."""

    model_config = ConfigDict(extra="forbid")

    evidence: Annotated[str, Field(min_length=1, max_length=5000)]


class DecisionIn(BaseModel):
    """Approve the 销号, or send it back with the reason."""

    model_config = ConfigDict(extra="forbid")

    approve: bool
    note: Annotated[str | None, Field(min_length=1, max_length=1000)] = None


@router.get("", operation_id="list_backlogs")
def get_lists(session: SessionDep, scope: ScopeDep, now: NowDep) -> dict[str, Any]:
    """The 清单 the caller may see, by due date, with item counts."""
    items = backlog.backlog_lists(session, scope, china_date(now))
    return {"items": items, "numberReturned": len(items)}


@router.post("", status_code=201, operation_id="create_backlog")
def post_list(body: ListIn, session: SessionDep, scope: ScopeDep, now: NowDep) -> JSONResponse:
    """Make a 清单 (registrar, commander)."""
    made = backlog.create_list(session, scope, **body.model_dump(), now=now)
    session.commit()
    return JSONResponse(made, status_code=201)


@router.get("/{list_id}", operation_id="get_backlog")
def get_list(list_id: Id, session: SessionDep, scope: ScopeDep, now: NowDep) -> dict[str, Any]:
    """One 清单 with the items the caller may see, by due date."""
    return backlog.backlog_list(session, scope, list_id, china_date(now))


@router.post("/{list_id}/items", status_code=201, operation_id="add_backlog_item")
def post_item(list_id: Id, body: ItemIn, session: SessionDep, scope: ScopeDep,
              now: NowDep) -> JSONResponse:
    """Put a case or a matter on the list (registrar, commander)."""
    item = backlog.add_item(session, scope, list_id, **body.model_dump(), now=now)
    session.commit()
    return JSONResponse(item, status_code=201)


@router.post("/items/{item_id}/evidence", operation_id="backlog_item_evidence")
def post_evidence(item_id: Id, body: EvidenceIn, session: SessionDep, scope: ScopeDep,
                  now: NowDep) -> dict[str, Any]:
    """Ask for 销号 with the evidence (the item waits for approval)."""
    item = backlog.submit_evidence(session, scope, item_id, body.evidence, now=now)
    session.commit()
    return item


@router.post("/items/{item_id}/decision", operation_id="backlog_item_decision")
def post_decision(item_id: Id, body: DecisionIn, session: SessionDep, scope: ScopeDep,
                  now: NowDep) -> dict[str, Any]:
    """The supervising role strikes the item off or sends it back (commander; not the person
    who submitted the evidence)."""
    item = backlog.decide_item(session, scope, item_id, body.approve, body.note, now=now)
    session.commit()
    return item
