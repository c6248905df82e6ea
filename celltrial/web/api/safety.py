"""Safety: adverse events, SAE clocks, DLT evaluation and confirmation, stopping rule, DSMB tables."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from celltrial.analysis.dlt import DltEvaluation
from celltrial.analysis.sae_clocks import Clock
from celltrial.analysis.safety_tables import SafetyTables
from celltrial.analysis.stopping import OperatingCharacteristic, SafetyStoppingRule, operating_characteristics
from celltrial.errors import NotFound
from celltrial.study.safety import monitoring, reports
from celltrial.study.safety import service as safety
from celltrial.study.safety.access import read_action
from celltrial.study.safety.schemas import AdverseEventCreate, AdverseEventRead
from celltrial.study.trial import service as trials
from celltrial.study.trial.models import Trial
from celltrial.study.types import utcnow
from celltrial.study.users.models import User
from celltrial.web.api.common import AUTHENTICATED, Id
from celltrial.web.api.study import running_trial
from celltrial.web.deps import ApiUser, DbSession, settings_of
from celltrial.web.problems import problem_responses
from celltrial.web.routing import UnitOfWorkRoute

__all__ = [
    "OperatingCharacteristics",
    "SaeClockRow",
    "clock_rows",
    "operating_characteristics_of",
    "router",
    "the_trial",
]

router = APIRouter(route_class=UnitOfWorkRoute, tags=["safety"])

READS = AUTHENTICATED | problem_responses(404)
WRITES = AUTHENTICATED | problem_responses(404, 409)


def the_trial(session: Session, request: Request) -> Trial:
    """The trial this database runs; NotFound when there is none."""
    trial = running_trial(session, settings_of(request))
    if trial is None:
        raise NotFound("no study is running in this database", field="study")
    return trial


class SaeClockRow(BaseModel):
    """One SAE with its reporting clocks; ``overdue`` when any clock is past its deadline."""

    sae_id: int
    subject_id: int
    subject: str
    term: str
    overdue: bool
    clocks: tuple[Clock, ...]


def clock_rows(session: Session, *, by: User, study_id: int, overdue_only: bool = False) -> list[SaeClockRow]:
    """The SAE clocks ``by`` may see, overdue first."""
    board = reports.clock_board(session, by=by, now=utcnow(), study_id=study_id, overdue_only=overdue_only)
    return [
        SaeClockRow(
            sae_id=row.sae_id,
            subject_id=row.subject_id,
            subject=row.subject,
            term=row.term,
            overdue=row.overdue,
            clocks=row.clocks,
        )
        for row in board
    ]


class OperatingCharacteristics(BaseModel):
    """The stopping rule and its exact behaviour for true event rates 10-50%."""

    rule: SafetyStoppingRule
    characteristics: tuple[OperatingCharacteristic, ...]


def operating_characteristics_of(session: Session, *, by: User, trial: Trial) -> OperatingCharacteristics:
    """The exact operating characteristics (beta-binomial enumeration) of the trial's stopping rule."""
    read_action(by)
    rule = monitoring.stopping_rule(trials.settings_of(trial))
    return OperatingCharacteristics(rule=rule, characteristics=operating_characteristics(rule))


class DltConfirmation(BaseModel):
    """The investigator's judgment on the automatic DLT evaluation (a comment when overruling it)."""

    is_dlt: bool
    comment: str = Field(default="", max_length=4000)


class DltConfirmed(BaseModel):
    subject_id: int
    status: str
    investigator_dlt: bool | None
    investigator_comment: str | None


class Expectedness(BaseModel):
    """The sponsor's assessment against the reference safety information."""

    expected: bool


@router.get("/subjects/{subject_id}/adverse-events", response_model=list[AdverseEventRead], responses=READS)
def list_adverse_events(session: DbSession, user: ApiUser, subject_id: Id) -> list[AdverseEventRead]:
    """The subject's adverse events, by onset."""
    rows = safety.adverse_events(session, by=user, subject_id=subject_id)
    return [AdverseEventRead.model_validate(row) for row in rows]


@router.post(
    "/subjects/{subject_id}/adverse-events",
    response_model=AdverseEventRead,
    status_code=201,
    responses=WRITES,
)
def record_adverse_event(
    session: DbSession, user: ApiUser, subject_id: Id, event: AdverseEventCreate
) -> AdverseEventRead:
    """Report an adverse event (a serious one opens its SAE and starts the reporting clocks)."""
    row = safety.record_adverse_event(session, by=user, subject_id=subject_id, event=event)
    return AdverseEventRead.model_validate(row)


@router.get("/safety/sae-clocks", response_model=list[SaeClockRow], responses=READS)
def sae_clocks(
    request: Request,
    session: DbSession,
    user: ApiUser,
    overdue_only: Annotated[bool, Query(description="Only SAEs with an overdue clock")] = False,
) -> list[SaeClockRow]:
    """Every SAE the user may see with its clocks (report to sponsor, follow-ups, SUSAR), overdue first."""
    return clock_rows(session, by=user, study_id=the_trial(session, request).id, overdue_only=overdue_only)


@router.post("/safety/saes/{sae_id}/expectedness", responses=WRITES)
def assess_expectedness(
    session: DbSession, user: ApiUser, sae_id: Id, assessment: Expectedness
) -> dict[str, Any]:
    """The sponsor's expectedness assessment of a reported SAE."""
    sae = reports.assess_expectedness(session, by=user, sae_id=sae_id, expected=assessment.expected)
    return {"sae_id": sae.id, "expected": sae.expected}


@router.get(
    "/subjects/{subject_id}/dlt", response_model=DltEvaluation, responses=READS | problem_responses(409)
)
def dlt_evaluation(
    session: DbSession,
    user: ApiUser,
    subject_id: Id,
    as_of: Annotated[date | None, Query(description="Default: today")] = None,
) -> DltEvaluation:
    """The automatic DLT evaluation of an infused subject from its AE and CRS/ICANS data."""
    return monitoring.dlt_evaluation(session, by=user, subject_id=subject_id, as_of=as_of)


@router.post("/subjects/{subject_id}/dlt/confirmation", response_model=DltConfirmed, responses=WRITES)
def confirm_dlt(
    session: DbSession, user: ApiUser, subject_id: Id, confirmation: DltConfirmation
) -> DltConfirmed:
    """The investigator confirms (or overrules, with a comment) today's automatic DLT evaluation."""
    row = monitoring.confirm_dlt(
        session, by=user, subject_id=subject_id, is_dlt=confirmation.is_dlt, comment=confirmation.comment
    )
    return DltConfirmed(
        subject_id=row.subject_id,
        status=row.status,
        investigator_dlt=row.investigator_dlt,
        investigator_comment=row.investigator_comment,
    )


@router.get("/safety/stopping-rule", response_model=monitoring.StoppingRuleStatus, responses=READS)
def stopping_rule(request: Request, session: DbSession, user: ApiUser) -> monitoring.StoppingRuleStatus:
    """Where the Bayesian safety stopping rule stands after the evaluable infused subjects."""
    trial = the_trial(session, request)
    return monitoring.stopping_rule_status(session, by=user, study_id=trial.id)


@router.get(
    "/safety/stopping-rule/operating-characteristics",
    response_model=OperatingCharacteristics,
    responses=READS,
)
def stopping_rule_characteristics(
    request: Request, session: DbSession, user: ApiUser
) -> OperatingCharacteristics:
    """P(stop) and the expected number of evaluable subjects for true event rates 10-50% (exact)."""
    return operating_characteristics_of(session, by=user, trial=the_trial(session, request))


@router.get("/safety/dsmb-tables", response_model=SafetyTables, responses=READS)
def dsmb_tables(request: Request, session: DbSession, user: ApiUser) -> SafetyTables:
    """The DSMB safety tables of the infused subjects the user may see."""
    return monitoring.dsmb_tables(session, by=user, study_id=the_trial(session, request).id)
