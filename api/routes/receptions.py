"""联合接访: record a joint reception fanned out to several units (each with its part and due
date), list and read them, and let each unit answer its own part. Rules: geo.workflow.receptions.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from api.deps import CalendarDep, NowDep, SessionDep
from api.security import ScopeDep
from geo.workflow import receptions
from geo.workflow.deadlines import china_date

router = APIRouter(prefix="/receptions", tags=["workflow"])
Id = Annotated[int, Path(ge=1)]


class PartBody(BaseModel):
    """One unit's part."""

    model_config = ConfigDict(extra="forbid")

    unit: int | Annotated[str, Field(min_length=1, max_length=64)]
    part: Annotated[str, Field(min_length=1, max_length=2000)]
    due_date: date | None = None


class ReceptionIn(BaseModel):
    """A joint reception: when, where, who came, and the units' parts."""

    model_config = ConfigDict(extra="forbid")

    received_at: datetime
    place: Annotated[str, Field(min_length=1, max_length=200)]
    parts: Annotated[list[PartBody], Field(min_length=2, max_length=20)]
    case_id: Annotated[int | None, Field(ge=1)] = None
    persons_count: Annotated[int, Field(ge=1, le=10000)] = 1
    note: Annotated[str | None, Field(max_length=1000)] = None


class AnswerIn(BaseModel):
    """A unit's answer to its part."""

    model_config = ConfigDict(extra="forbid")

    response: Annotated[str, Field(min_length=1, max_length=5000)]


@router.get("", operation_id="list_receptions")
def get_receptions(session: SessionDep, scope: ScopeDep, now: NowDep,
                   open: bool = False) -> dict[str, Any]:
    """Joint receptions the caller may see, newest first (open=true: with an unanswered part)."""
    items = receptions.list_receptions(session, scope, china_date(now), open_only=open)
    return {"items": items, "numberReturned": len(items)}


@router.post("", status_code=201, operation_id="create_reception")
def post_reception(body: ReceptionIn, session: SessionDep, scope: ScopeDep, now: NowDep,
                   calendar: CalendarDep) -> JSONResponse:
    """Record a joint reception (registrar, commander): one part per unit."""
    parts = [receptions.PartIn(p.unit, p.part, p.due_date) for p in body.parts]
    made = receptions.create_reception(
        session, scope, received_at=body.received_at, place=body.place, parts=parts,
        case_id=body.case_id, persons_count=body.persons_count, note=body.note, now=now,
        calendar=calendar)
    session.commit()
    return JSONResponse(made, status_code=201)


@router.get("/{reception_id}", operation_id="get_reception")
def get_reception(reception_id: Id, session: SessionDep, scope: ScopeDep,
                  now: NowDep) -> dict[str, Any]:
    """One joint reception with its parts."""
    return receptions.get_reception(session, scope, reception_id, china_date(now))


@router.post("/parts/{part_id}/answer", operation_id="answer_reception_part")
def post_answer(part_id: Id, body: AnswerIn, session: SessionDep, scope: ScopeDep,
                now: NowDep) -> dict[str, Any]:
    """A unit answers its own part."""
    done = receptions.answer_part(session, scope, part_id, body.response, now=now)
    session.commit()
    return done
