"""Screenings: evaluate and store a subject's screening, judge what needs review, the screening log."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from celltrial.errors import NotFound
from celltrial.study.permissions import Action, require
from celltrial.study.screening import service as screenings
from celltrial.study.screening.models import ScreeningRead
from celltrial.study.subjects import service as subjects
from celltrial.study.trial import service as trials
from celltrial.study.types import utcnow
from celltrial.web.api.common import AUTHENTICATED, Id
from celltrial.web.api.eligibility import DOCUMENT
from celltrial.web.api.study import running_trial
from celltrial.web.api.subjects import WRITES
from celltrial.web.deps import ApiUser, DbSession, settings_of
from celltrial.web.problems import problem_responses
from celltrial.web.routing import UnitOfWorkRoute
from celltrial.web.screening import evaluate_document

router = APIRouter(route_class=UnitOfWorkRoute, tags=["screenings"])


class JudgmentCreate(BaseModel):
    """The investigator's answer for a ``needs_review`` criterion, with its grounds."""

    criterion_id: str = Field(min_length=1, max_length=16, examples=["I4"])
    answer: Literal["met", "not_met"]
    comment: str = Field(min_length=1, max_length=2000)
    reason: str | None = Field(default=None, max_length=2000, description="Required to change a judgment")


class ScreeningLogRowOut(BaseModel):
    """One screened patient (no identifying data)."""

    subject_id: int
    site: str
    screening_number: str
    subject_number: str | None
    status: str
    attempts: int
    first_screened: date
    latest_screened: date
    decision: str
    screen_fail_reasons: list[str]
    outstanding: list[str]


class ScreeningLog(BaseModel):
    """The screening log and its CONSORT counts."""

    rows: list[ScreeningLogRowOut]
    consort: dict[str, Any]


@router.post(
    "/subjects/{subject_id}/screenings", response_model=ScreeningRead, status_code=201, responses=WRITES
)
def screen_subject(
    session: DbSession,
    user: ApiUser,
    subject_id: Id,
    document: Annotated[dict[str, Any], DOCUMENT],
    on: Annotated[date | None, Query(description="Screening date (default: the form's, else today)")] = None,
) -> ScreeningRead:
    """Evaluate a screening form or FHIR Bundle for the subject and store it as a screening attempt."""
    require(user, Action.SCREENING_CREATE)
    subject = subjects.get(session, subject_id=subject_id, by=user)
    trial = trials.get_or_raise(session, study_id=subject.study_id)
    result = evaluate_document(document, nct_id=trial.nct_id, on=on, today=utcnow().date())
    attempt = screenings.record(
        session,
        subject_id=subject.id,
        result=result.to_json(),
        rule_set_version=result.rules_version,
        by=user,
    )
    return screenings.read(session, attempt=attempt)


@router.get(
    "/subjects/{subject_id}/screening",
    response_model=ScreeningRead,
    responses=AUTHENTICATED | problem_responses(404),
)
def latest_screening(session: DbSession, user: ApiUser, subject_id: Id) -> ScreeningRead:
    """The subject's latest screening attempt, with judgments and screen-fail reasons."""
    subject = subjects.get(session, subject_id=subject_id, by=user)
    attempt = screenings.latest(session, subject_id=subject.id)
    if attempt is None:
        raise NotFound(f"subject {subject.label} has not been screened", field="screening")
    return screenings.read(session, attempt=attempt)


@router.post("/screenings/{screening_id}/judgments", response_model=ScreeningRead, responses=WRITES)
def judge(
    session: DbSession,
    user: ApiUser,
    screening_id: Id,
    judgment: JudgmentCreate,
) -> ScreeningRead:
    """Record the investigator's judgment of a ``needs_review`` criterion; the decision follows."""
    attempt = screenings.judge(
        session,
        screening_id=screening_id,
        criterion_id=judgment.criterion_id,
        answer=judgment.answer,
        comment=judgment.comment,
        reason=judgment.reason,
        by=user,
    )
    return screenings.read(session, attempt=attempt)


@router.get("/screening-log", response_model=ScreeningLog, responses=AUTHENTICATED | problem_responses(404))
def screening_log(request: Request, session: DbSession, user: ApiUser) -> ScreeningLog:
    """Every screened patient with the latest decision and screen-fail reasons, and the CONSORT counts."""
    trial = running_trial(session, settings_of(request))
    if trial is None:
        raise NotFound("no study is running in this database", field="study")
    rows = screenings.screening_log(session, study_id=trial.id, by=user)
    return ScreeningLog(
        rows=[ScreeningLogRowOut(**asdict(row)) for row in rows], consort=screenings.consort_counts(rows)
    )
