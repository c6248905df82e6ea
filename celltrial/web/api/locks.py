"""Data locks: lock a subject's data or the whole study (data manager); unlock with a reason."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from celltrial.study.locks import service as locks
from celltrial.study.permissions import Action, allowed, require
from celltrial.study.subjects import service as subjects
from celltrial.web.api.common import AUTHENTICATED, MAX_ID
from celltrial.web.api.subjects import WRITES
from celltrial.web.deps import ApiUser, DbSession
from celltrial.web.routing import UnitOfWorkRoute

router = APIRouter(route_class=UnitOfWorkRoute, prefix="/locks", tags=["locks"])


class LockOut(BaseModel):
    """A lock of a subject's data (or of the whole study when ``subject_id`` is null)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    subject_id: int | None
    locked_at: datetime
    locked_by: str
    reason: str | None
    unlocked_at: datetime | None
    unlocked_by: str | None
    unlock_reason: str | None


class LockChange(BaseModel):
    """What to lock or unlock (null: the whole study) and why (required to unlock)."""

    subject_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    reason: str | None = Field(default=None, max_length=2000)


@router.get("", response_model=list[LockOut], responses=AUTHENTICATED)
def active_locks(session: DbSession, user: ApiUser) -> list[LockOut]:
    """Every lock in force, the study lock first."""
    if not allowed(user, Action.DATA_UNLOCK):
        require(user, Action.DATA_LOCK)
    return [LockOut.model_validate(entry) for entry in locks.active_locks(session)]


@router.post("", response_model=LockOut, status_code=201, responses=WRITES)
def lock(session: DbSession, user: ApiUser, change: LockChange) -> LockOut:
    """Lock a subject's data, or the whole study."""
    require(user, Action.DATA_LOCK)
    if change.subject_id is not None:
        subjects.get(session, subject_id=change.subject_id, by=user)
    return LockOut.model_validate(
        locks.lock(session, subject_id=change.subject_id, reason=change.reason, by=user)
    )


@router.post("/release", response_model=LockOut, responses=WRITES)
def unlock(session: DbSession, user: ApiUser, change: LockChange) -> LockOut:
    """Lift a lock; the reason is required and audited."""
    require(user, Action.DATA_UNLOCK)
    if change.subject_id is not None:
        subjects.get(session, subject_id=change.subject_id, by=user)
    entry = locks.unlock(session, subject_id=change.subject_id, reason=change.reason or "", by=user)
    return LockOut.model_validate(entry)
