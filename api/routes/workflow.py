"""Workflow endpoints: take an action on a case (POST /cases/{id}/transitions), read its history,
and 督办 — open by hand, answer with feedback, accept the feedback.

Everything is scoped like the case reads: a case (or a supervision of a case) outside the
caller's scope is a 404. The machine itself — states, actions, roles, fields — is the table in
geo.workflow.machine; the checks and their status codes are in geo.workflow.transitions.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from api.deps import CalendarDep, CipherDep, NowDep, SessionDep
from api.security import ScopeDep
from geo.workflow.machine import ACTIONS
from geo.workflow.read import case_history
from geo.workflow.supervision import accept_feedback, give_feedback, open_supervision
from geo.workflow.transitions import apply_transition, load_case_state

router = APIRouter(tags=["workflow"])

CaseId = Annotated[int, Path(ge=1)]
Text = Annotated[str, Field(min_length=1, max_length=5000)]


class TransitionIn(BaseModel):
    """An action on a case at the version the client last read, with the action's fields
    (see the machine table: which action takes which)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    action: Annotated[str, Field(max_length=32, description="one of " + ", ".join(ACTIONS))]
    version: Annotated[int, Field(ge=1, description="the case's version as last read")]
    unit: int | Annotated[str, Field(max_length=64)] | None = Field(
        None, description="assign: the unit to route to (id or code)")
    responsible_unit: int | Annotated[str, Field(max_length=64)] | None = Field(
        None, description="accept (四定): the responsible unit (id or code)")
    handlers: Annotated[list[Annotated[str, Field(max_length=50)]] | None,
                        Field(max_length=20, description="accept (四定): handlers")] = None
    plan: Annotated[str | None, Field(max_length=5000, description="accept (四定)")] = None
    target_close_date: Annotated[date | None, Field(description="accept (四定)")] = None
    reason: Annotated[str | None, Field(max_length=1000)] = None
    text: Annotated[str | None, Field(max_length=5000, description="reply / decisions")] = None
    days: Annotated[int | None, Field(description="extend: 1–30 days")] = None
    into: Annotated[int | None, Field(description="merge: the open case to merge into")] = None
    evaluation: Literal["satisfied", "basically_satisfied", "unsatisfied",
                        "not_evaluated"] | None = Field(None, description="close / evaluate (评价)")
    leader: Annotated[str | None,
                      Field(max_length=50, description="lead (包案): the leader")] = None
    leader_staff_id: Annotated[int | None, Field(description="lead: the leader's staff id")] = None
    note: Annotated[str | None, Field(max_length=1000)] = None


class SupervisionIn(BaseModel):
    """A manual 督办: why."""

    model_config = ConfigDict(extra="forbid")

    note: Text


class FeedbackIn(BaseModel):
    """The unit's feedback on a 督办."""

    model_config = ConfigDict(extra="forbid")

    feedback: Text


@router.post("/cases/{case_id}/transitions", operation_id="transition_case")
def transition_case(case_id: CaseId, body: TransitionIn, session: SessionDep, scope: ScopeDep,
                    cipher: CipherDep, now: NowDep, calendar: CalendarDep) -> dict[str, Any]:
    """Take a workflow action; 200 with the case as it now is (status, version, deadlines,
    首接首办, 四定, 督办). 403 wrong role, 409 wrong state or stale version, 422 bad field."""
    fields = body.model_dump(exclude_unset=True, exclude={"action", "version"})
    case = apply_transition(session, scope, case_id, body.action, body.version, fields,
                            now=now, calendar=calendar, cipher=cipher)
    session.commit()
    return case


@router.get("/cases/{case_id}/history", operation_id="case_history")
def read_history(case_id: CaseId, session: SessionDep, scope: ScopeDep) -> dict[str, Any]:
    """Every transition of the case in order: who, in which role, when, from, to, note."""
    load_case_state(session, scope, case_id)
    items = case_history(session, case_id)
    return {"case_id": case_id, "items": items, "numberReturned": len(items)}


@router.post("/cases/{case_id}/supervisions", status_code=201,
             operation_id="open_supervision")
def post_supervision(case_id: CaseId, body: SupervisionIn, session: SessionDep,
                     scope: ScopeDep, now: NowDep, calendar: CalendarDep) -> JSONResponse:
    """Open a 督办 by hand (registrar, commander); 201 with its feedback due date."""
    supervision = open_supervision(session, scope, case_id, body.note, now=now,
                                   calendar=calendar)
    session.commit()
    return JSONResponse(supervision, status_code=201)


@router.post("/supervisions/{supervision_id}/feedback", operation_id="supervision_feedback")
def post_feedback(supervision_id: Annotated[int, Path(ge=1)], body: FeedbackIn,
                  session: SessionDep, scope: ScopeDep, now: NowDep) -> dict[str, Any]:
    """The unit answers a 督办 (may amend until it is accepted)."""
    supervision = give_feedback(session, scope, supervision_id, body.feedback, now=now)
    session.commit()
    return supervision


@router.post("/supervisions/{supervision_id}/accept", operation_id="supervision_accept")
def post_accept(supervision_id: Annotated[int, Path(ge=1)], session: SessionDep,
                scope: ScopeDep, now: NowDep) -> dict[str, Any]:
    """Registrar or commander accepts the feedback; the 督办 closes."""
    supervision = accept_feedback(session, scope, supervision_id, now=now)
    session.commit()
    return supervision
