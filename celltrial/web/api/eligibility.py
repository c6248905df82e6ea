"""``POST /api/v1/eligibility/evaluate``: eligibility of one patient, stored nowhere."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Query, Request
from pydantic import BaseModel, ConfigDict

from celltrial.study.types import utcnow
from celltrial.web.api.common import AUTHENTICATED
from celltrial.web.api.study import running_trial
from celltrial.web.deps import ApiUser, DbSession, settings_of
from celltrial.web.routing import UnitOfWorkRoute
from celltrial.web.screening import evaluate_document
from celltrial.web.settings import DEFAULT_NCT_ID

router = APIRouter(route_class=UnitOfWorkRoute, prefix="/eligibility", tags=["eligibility"])

Verdict = Literal["met", "not_met", "unknown", "needs_review"]


class EvidenceOut(BaseModel):
    """A fact a verdict rests on."""

    model_config = ConfigDict(extra="allow")

    fact: str
    value: Any = None
    unit: str | None = None
    date: str | None = None
    source: str | None = None
    used: bool = True


class RuleOut(BaseModel):
    """A part of a criterion (``I8a``, ``E1.qt``...)."""

    model_config = ConfigDict(extra="allow")

    id: str
    text: str
    verdict: Verdict
    reason: str
    evidence: list[EvidenceOut]
    threshold: dict[str, Any] | None = None
    parts: list[RuleOut] = []


class CriterionOut(RuleOut):
    """A criterion of the protocol with its verdict, reason and evidence."""

    kind: Literal["inclusion", "exclusion"]


class EligibilityOut(BaseModel):
    """The result of ``celltrial screen --json``: the decision and every criterion."""

    model_config = ConfigDict(extra="allow")

    decision: Literal["eligible", "ineligible", "incomplete"]
    screening_date: date
    protocol: str
    rules_version: str
    criteria: list[CriterionOut]
    missing: list[str]


DOCUMENT = Body(
    description="A screening form (`celltrial-screening-form`, version 1) or a FHIR R4 Bundle of one patient",
    examples=[{"form": "celltrial-screening-form", "version": 1, "patient": {"sex": "female"}, "facts": {}}],
)


@router.post("/evaluate", response_model=EligibilityOut, responses=AUTHENTICATED)
def evaluate(
    request: Request,
    session: DbSession,
    _user: ApiUser,
    document: Annotated[dict[str, Any], DOCUMENT],
    on: Annotated[date | None, Query(description="Screening date (default: the form's, else today)")] = None,
) -> dict[str, Any]:
    """Evaluate every inclusion and exclusion criterion with its evidence; nothing is stored."""
    trial = running_trial(session, settings_of(request))
    nct_id = trial.nct_id if trial else (settings_of(request).nct_id or DEFAULT_NCT_ID)
    result = evaluate_document(document, nct_id=nct_id, on=on, today=utcnow().date())
    return result.to_json()
