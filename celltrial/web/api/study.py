"""``GET /api/v1/study``: the protocol summary, its status and enrolment against the cap."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from celltrial.errors import NotFound
from celltrial.protocol.library import load_settings, load_study
from celltrial.study.consent import service as consents
from celltrial.study.consent.models import IcfVersion, IcfVersionRead
from celltrial.study.trial import service as trials
from celltrial.study.trial.models import Trial
from celltrial.web.api.common import AUTHENTICATED
from celltrial.web.deps import ApiUser, DbSession, settings_of
from celltrial.web.problems import problem_responses
from celltrial.web.routing import UnitOfWorkRoute
from celltrial.web.settings import DEFAULT_NCT_ID, WebSettings

router = APIRouter(route_class=UnitOfWorkRoute, tags=["study"])


class StudySummary(BaseModel):
    """The study this server runs: its registry identity, status and enrolment so far."""

    nct_id: str
    title: str
    status: str
    registered: bool
    """Whether this database runs the study (False: only its registry record is known)."""
    enrolled: int
    enrolment_cap: int
    phases: list[str]
    study_type: str | None
    lead_sponsor: str | None
    settings_version: str


def running_trial(session: Session, settings: WebSettings) -> Trial | None:
    """The trial this database runs (the configured one, or the only one), None when there is none."""
    try:
        return trials.the_study(session, nct_id=settings.nct_id)
    except NotFound:
        return None


def summarize(session: Session, settings: WebSettings) -> StudySummary:
    """The summary of the served study (see :class:`StudySummary`)."""
    trial = running_trial(session, settings)
    nct_id = trial.nct_id if trial else (settings.nct_id or DEFAULT_NCT_ID)
    record = load_study(nct_id)
    protocol = load_settings(nct_id)
    design = record.protocol_section.design_module
    sponsors = record.protocol_section.sponsor_collaborators_module
    return StudySummary(
        nct_id=nct_id,
        title=record.brief_title,
        status=str(trial.status.value if trial else record.overall_status),
        registered=trial is not None,
        enrolled=trials.enrolled_count(session, study_id=trial.id) if trial else 0,
        enrolment_cap=protocol.enrolment.cap.value,
        phases=[str(phase) for phase in (design.phases or [])] if design else [],
        study_type=str(design.study_type) if design else None,
        lead_sponsor=sponsors.lead_sponsor.name if sponsors else None,
        settings_version=protocol.settings_version,
    )


@router.get("/study", response_model=StudySummary, responses=AUTHENTICATED)
def study(request: Request, session: DbSession, _user: ApiUser) -> StudySummary:
    """The study: registry id and title, status, enrolment count against the protocol's cap."""
    return summarize(session, settings_of(request))


class StatusChange(BaseModel):
    """A new overall status of the study and why."""

    status: str = Field(min_length=1, max_length=32, examples=["RECRUITING"])
    reason: str = Field(min_length=1, max_length=2000)


class IcfApproval(BaseModel):
    """An ICF version approved by the ethics committee."""

    version: str = Field(min_length=1, max_length=32, examples=["2.0"])
    approved_on: date
    summary: str = Field(default="", max_length=2000)


def _running(request: Request, session: Session) -> Trial:
    trial = running_trial(session, settings_of(request))
    if trial is None:
        raise NotFound("no study is running in this database", field="study")
    return trial


@router.post(
    "/study/status", response_model=StudySummary, responses=AUTHENTICATED | problem_responses(404, 409)
)
def change_status(request: Request, session: DbSession, user: ApiUser, change: StatusChange) -> StudySummary:
    """Move the study to a new overall status (sponsor), as the status machine allows."""
    trial = _running(request, session)
    trials.change_status(session, study_id=trial.id, status=change.status, reason=change.reason, by=user)
    return summarize(session, settings_of(request))


@router.get(
    "/study/icf-versions",
    response_model=list[IcfVersionRead],
    responses=AUTHENTICATED | problem_responses(404),
)
def icf_versions(request: Request, session: DbSession, _user: ApiUser) -> list[IcfVersionRead]:
    """The ICF versions approved, oldest first (the last one is current)."""
    trial = _running(request, session)
    found = session.scalars(
        select(IcfVersion)
        .where(IcfVersion.study_id == trial.id)
        .order_by(IcfVersion.approved_on, IcfVersion.id)
    )
    return [IcfVersionRead.model_validate(item) for item in found]


@router.post(
    "/study/icf-versions",
    response_model=IcfVersionRead,
    status_code=201,
    responses=AUTHENTICATED | problem_responses(404, 409),
)
def approve_icf(request: Request, session: DbSession, user: ApiUser, approval: IcfApproval) -> IcfVersionRead:
    """Record an ICF version the ethics committee approved (sponsor); older versions need re-consent."""
    trial = _running(request, session)
    icf = consents.approve_icf_version(
        session,
        study_id=trial.id,
        version=approval.version,
        approved_on=approval.approved_on,
        summary=approval.summary,
        by=user,
    )
    return IcfVersionRead.model_validate(icf)
