"""三调联动: mediation records of a case (people's / administrative / judicial), their outcome and
the judicial confirmation of an agreement within 30 days. Rules: geo.workflow.mediation."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from api.deps import CalendarDep, NowDep, SessionDep
from api.security import ScopeDep
from geo.workflow import mediation
from geo.workflow.deadlines import china_date

router = APIRouter(tags=["workflow"])
Id = Annotated[int, Path(ge=1)]


class MediationIn(BaseModel):
    """A mediation begun on a case."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["people", "administrative", "judicial"]
    organization: Annotated[str, Field(min_length=1, max_length=200)]
    mediator: Annotated[str | None, Field(min_length=1, max_length=50)] = None
    started_on: date
    note: Annotated[str | None, Field(max_length=1000)] = None


class OutcomeIn(BaseModel):
    """How the mediation ended."""

    model_config = ConfigDict(extra="forbid")

    outcome: Literal["agreement", "no_agreement"]
    agreement_date: date | None = None


class ConfirmIn(BaseModel):
    """The day the court confirmed the agreement (司法确认)."""

    model_config = ConfigDict(extra="forbid")

    confirmed_on: date


@router.get("/cases/{case_id}/mediations", operation_id="case_mediations")
def get_mediations(case_id: Id, session: SessionDep, scope: ScopeDep,
                   now: NowDep) -> dict[str, Any]:
    """The case's mediation records, oldest first."""
    items = mediation.list_mediations(session, scope, case_id, china_date(now))
    return {"case_id": case_id, "items": items, "numberReturned": len(items)}


@router.post("/cases/{case_id}/mediations", status_code=201, operation_id="record_mediation")
def post_mediation(case_id: Id, body: MediationIn, session: SessionDep, scope: ScopeDep,
                   now: NowDep) -> JSONResponse:
    """Record a mediation begun on a case being handled."""
    made = mediation.record_mediation(session, scope, case_id, **body.model_dump(), now=now)
    session.commit()
    return JSONResponse(made, status_code=201)


@router.post("/mediations/{mediation_id}/outcome", operation_id="mediation_outcome")
def post_outcome(mediation_id: Id, body: OutcomeIn, session: SessionDep, scope: ScopeDep,
                 now: NowDep, calendar: CalendarDep) -> dict[str, Any]:
    """Agreement (with its date; opens the 30-day confirmation window) or no agreement."""
    done = mediation.conclude_mediation(session, scope, mediation_id, body.outcome,
                                        body.agreement_date, now=now, calendar=calendar)
    session.commit()
    return done


@router.post("/mediations/{mediation_id}/confirmation", operation_id="mediation_confirmation")
def post_confirmation(mediation_id: Id, body: ConfirmIn, session: SessionDep, scope: ScopeDep,
                      now: NowDep) -> dict[str, Any]:
    """Record the judicial confirmation, within the window."""
    done = mediation.confirm_mediation(session, scope, mediation_id, body.confirmed_on, now=now)
    session.commit()
    return done
