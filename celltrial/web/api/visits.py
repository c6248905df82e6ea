"""Visits: a subject's schedule with windows and flags, visit dates, unscheduled visits."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter
from pydantic import BaseModel, Field

from celltrial.study.types import utcnow
from celltrial.study.visits import service as visits
from celltrial.study.visits.models import VisitRead
from celltrial.web.api.common import AUTHENTICATED, Id
from celltrial.web.api.subjects import WRITES
from celltrial.web.deps import ApiUser, DbSession
from celltrial.web.problems import problem_responses
from celltrial.web.routing import UnitOfWorkRoute

router = APIRouter(route_class=UnitOfWorkRoute, tags=["visits"])


class VisitDate(BaseModel):
    """The day the visit took place; a reason to change a recorded one."""

    on: date
    reason: str | None = Field(default=None, max_length=2000)


class UnscheduledVisit(BaseModel):
    """An unscheduled visit: its day, why, and the forms it needs."""

    on: date
    reason: str = Field(min_length=1, max_length=2000)
    form_codes: list[str] = Field(default=[], max_length=20)


@router.get(
    "/subjects/{subject_id}/visits",
    response_model=list[VisitRead],
    responses=AUTHENTICATED | problem_responses(404),
)
def subject_visits(session: DbSession, user: ApiUser, subject_id: Id) -> list[VisitRead]:
    """The subject's visits in date order, with windows and out-of-window, missed, overdue flags."""
    return visits.list_visits(session, subject_id=subject_id, today=utcnow().date(), by=user)


def _shown(session: DbSession, user: ApiUser, subject_id: int, visit_id: int) -> VisitRead:
    listed = visits.list_visits(session, subject_id=subject_id, today=utcnow().date(), by=user)
    return next(item for item in listed if item.id == visit_id)


@router.post("/visits/{visit_id}/date", response_model=VisitRead, responses=WRITES)
def record_date(session: DbSession, user: ApiUser, visit_id: Id, when: VisitDate) -> VisitRead:
    """Record the day the visit took place."""
    visit = visits.record_visit_date(session, visit_id=visit_id, on=when.on, reason=when.reason, by=user)
    return _shown(session, user, visit.subject_id, visit.id)


@router.post("/subjects/{subject_id}/visits", response_model=VisitRead, status_code=201, responses=WRITES)
def add_unscheduled(session: DbSession, user: ApiUser, subject_id: Id, new: UnscheduledVisit) -> VisitRead:
    """Add an unscheduled visit with the forms it needs."""
    visit = visits.add_unscheduled(
        session, subject_id=subject_id, on=new.on, reason=new.reason, form_codes=new.form_codes, by=user
    )
    return _shown(session, user, subject_id, visit.id)
