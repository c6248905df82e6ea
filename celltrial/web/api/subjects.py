"""Subjects: register at screening, list, show, consent, withdraw, enrol, change status."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from celltrial.errors import NotFound
from celltrial.study.consent import service as consents
from celltrial.study.consent.models import ConsentRead
from celltrial.study.subjects import service as subjects
from celltrial.study.subjects.models import Subject, SubjectRead
from celltrial.study.users.models import User
from celltrial.web.api.common import AUTHENTICATED, MAX_ID, Id, Page, Paging, page_of, paging
from celltrial.web.api.study import running_trial
from celltrial.web.deps import ApiUser, DbSession, settings_of
from celltrial.web.problems import problem_responses
from celltrial.web.routing import UnitOfWorkRoute

router = APIRouter(route_class=UnitOfWorkRoute, prefix="/subjects", tags=["subjects"])

WRITES = AUTHENTICATED | problem_responses(404, 409)


class SubjectOut(SubjectRead):
    """A subject; initials and date of birth only for the roles allowed identifying data."""

    label: str
    initials: str | None = None
    date_of_birth: date | None = None


def subject_out(subject: Subject, *, by: User) -> SubjectOut:
    """The subject as ``by`` may see it."""
    return SubjectOut(**subjects.read(subject, by=by).model_dump(), label=subject.label)


class SubjectCreate(BaseModel):
    """A patient to screen."""

    site_id: int = Field(ge=1, le=MAX_ID)
    date_of_birth: date
    sex: Literal["female", "male"]
    initials: str = Field(min_length=1, max_length=8, examples=["AB"])


class ConsentCreate(BaseModel):
    """A signed consent; for a minor, the guardian's name and relationship and the subject's assent."""

    icf_version: str = Field(min_length=1, max_length=32)
    signed_at: datetime
    guardian_name: str | None = Field(default=None, max_length=200)
    guardian_relationship: str | None = Field(default=None, max_length=64)
    assent_at: datetime | None = None


class Withdrawal(BaseModel):
    """Withdrawal of consent: when and why."""

    withdrawn_at: datetime
    reason: str = Field(min_length=1, max_length=2000)


class Enrolment(BaseModel):
    """The enrolment date (default: today)."""

    on: date | None = None


class StatusChange(BaseModel):
    """A move along the trial path; ``on`` is the infusion date when the status is infused."""

    status: str = Field(min_length=1, max_length=32, examples=["apheresed"])
    reason: str = Field(min_length=1, max_length=2000)
    on: date | None = None


@router.get("", response_model=Page[SubjectOut], responses=AUTHENTICATED)
def list_subjects(
    request: Request,
    session: DbSession,
    user: ApiUser,
    chosen: Annotated[Paging, Depends(paging)],
    status: Annotated[str | None, Query(max_length=32, description="Only subjects in this status")] = None,
    number: Annotated[str | None, Query(max_length=32, description="Subject or screening number")] = None,
) -> Page[SubjectOut]:
    """The subjects the user may see (a site role: their site's), by screening number."""
    if number is not None:
        try:
            found = [subjects.find(session, number=number, by=user)]
        except NotFound:
            found = []
    else:
        trial = running_trial(session, settings_of(request))
        found = subjects.list_subjects(session, by=user, study_id=trial.id if trial else None, status=status)
    return page_of([subject_out(subject, by=user) for subject in found], chosen)


@router.post("", response_model=SubjectOut, status_code=201, responses=WRITES)
def register_subject(request: Request, session: DbSession, user: ApiUser, new: SubjectCreate) -> SubjectOut:
    """Register a patient for screening: a screening number of the site (``S01-S001``)."""
    trial = running_trial(session, settings_of(request))
    if trial is None:
        raise NotFound("no study is running in this database", field="study")
    subject = subjects.register(
        session,
        study_id=trial.id,
        site_id=new.site_id,
        date_of_birth=new.date_of_birth,
        sex=new.sex,
        initials=new.initials,
        by=user,
    )
    return subject_out(subject, by=user)


@router.get("/{subject_id}", response_model=SubjectOut, responses=AUTHENTICATED | problem_responses(404))
def show_subject(session: DbSession, user: ApiUser, subject_id: Id) -> SubjectOut:
    """One subject (another site's subject is not found)."""
    return subject_out(subjects.get(session, subject_id=subject_id, by=user), by=user)


@router.get(
    "/{subject_id}/consents",
    response_model=list[ConsentRead],
    responses=AUTHENTICATED | problem_responses(404),
)
def consent_history(session: DbSession, user: ApiUser, subject_id: Id) -> list[ConsentRead]:
    """The subject's consents, oldest first."""
    return consents.history(session, subject_id=subject_id, by=user)


@router.post("/{subject_id}/consents", response_model=ConsentRead, status_code=201, responses=WRITES)
def record_consent(session: DbSession, user: ApiUser, subject_id: Id, consent: ConsentCreate) -> ConsentRead:
    """Record a signed consent (guardian and assent for a minor)."""
    made = consents.record_consent(
        session,
        subject_id=subject_id,
        icf_version=consent.icf_version,
        signed_at=consent.signed_at,
        guardian_name=consent.guardian_name,
        guardian_relationship=consent.guardian_relationship,
        assent_at=consent.assent_at,
        by=user,
    )
    return next(
        item for item in consents.history(session, subject_id=subject_id, by=user) if item.id == made.id
    )


@router.post("/{subject_id}/withdrawal", response_model=SubjectOut, responses=WRITES)
def withdraw_consent(session: DbSession, user: ApiUser, subject_id: Id, why: Withdrawal) -> SubjectOut:
    """The subject withdraws consent: nothing new is collected; what was collected is kept, marked."""
    consents.withdraw(
        session, subject_id=subject_id, withdrawn_at=why.withdrawn_at, reason=why.reason, by=user
    )
    return subject_out(subjects.get(session, subject_id=subject_id, by=user), by=user)


@router.post("/{subject_id}/enrolment", response_model=SubjectOut, responses=WRITES)
def enrol(session: DbSession, user: ApiUser, subject_id: Id, enrolment: Enrolment) -> SubjectOut:
    """Enrol an eligible, consented subject (the cap holds under concurrency); assigns the subject number."""
    return subject_out(subjects.enrol(session, subject_id=subject_id, by=user, on=enrolment.on), by=user)


@router.post("/{subject_id}/status", response_model=SubjectOut, responses=WRITES)
def change_status(session: DbSession, user: ApiUser, subject_id: Id, change: StatusChange) -> SubjectOut:
    """Move the subject along the trial path (apheresed, infused on a date, follow-up, completed...)."""
    subject = subjects.change_status(
        session, subject_id=subject_id, status=change.status, reason=change.reason, on=change.on, by=user
    )
    return subject_out(subject, by=user)
