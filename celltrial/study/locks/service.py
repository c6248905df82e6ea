"""Lock a subject's data or the whole study; unlock with a reason; refuse changes to locked data.

Locking takes the study write lock exclusively, every save check takes it shared
(:func:`celltrial.study.serialise.serialise_writes`), so a save either commits before a lock
or sees it: no change slips in after the data manager locked, and saves do not wait for each
other.
"""

from __future__ import annotations

from sqlalchemy import bindparam, exists, or_, select
from sqlalchemy.orm import Session

from celltrial.errors import Conflict, InvalidInput, Locked
from celltrial.study.audit import service as audit
from celltrial.study.locks.models import DataLock
from celltrial.study.permissions import Action, require
from celltrial.study.scope import subject_site
from celltrial.study.serialise import serialise_writes
from celltrial.study.types import utcnow
from celltrial.study.users.models import User

__all__ = ["IN_FORCE", "active_locks", "ensure_unlocked", "get_active", "is_locked", "lock", "unlock"]

_IN_FORCE = (
    DataLock.unlocked_at.is_(None),
    or_(DataLock.subject_id.is_(None), DataLock.subject_id == bindparam("lock_subject_id")),
)
_HOLDING = (
    select(DataLock.subject_id, DataLock.locked_by, DataLock.locked_at)
    .where(*_IN_FORCE)
    .order_by(DataLock.subject_id.is_not(None), DataLock.id.desc())
    .limit(1)
)
"""The lock holding on a subject's data: the study's if there is one, else the subject's (latest first)."""
IN_FORCE = exists().where(*_IN_FORCE)
"""Whether a lock holds on the study or on the subject of the bound parameter ``lock_subject_id``."""
_ANY_HOLDING = select(IN_FORCE)


def get_active(session: Session, *, subject_id: int | None) -> DataLock | None:
    """The lock holding on a subject (or on the study when ``subject_id`` is None), if any."""
    query = select(DataLock).where(DataLock.unlocked_at.is_(None))
    query = query.where(
        DataLock.subject_id.is_(None) if subject_id is None else DataLock.subject_id == subject_id
    )
    return session.scalars(query.order_by(DataLock.id.desc()).limit(1)).first()


def active_locks(session: Session) -> list[DataLock]:
    """Every lock in force, study lock first."""
    query = select(DataLock).where(DataLock.unlocked_at.is_(None))
    return list(session.scalars(query.order_by(DataLock.subject_id.is_not(None), DataLock.id)))


def lock(session: Session, *, subject_id: int | None, by: User, reason: str | None = None) -> DataLock:
    """Lock a subject's data, or the whole study when ``subject_id`` is None."""
    require(by, Action.DATA_LOCK)
    serialise_writes(session)
    site_id = subject_site(session, subject_id) if subject_id is not None else None
    scope = "study" if subject_id is None else f"subject {subject_id}"
    if get_active(session, subject_id=subject_id) is not None:
        raise Conflict(f"the {scope} is already locked", field="subject")
    entry = DataLock(subject_id=subject_id, locked_at=utcnow(), locked_by=by.username, reason=reason)
    session.add(entry)
    session.flush()
    audit.record(
        session,
        actor=by.username,
        action="lock",
        entity="study" if subject_id is None else "subject",
        entity_id="study" if subject_id is None else subject_id,
        new={"lock": entry.id},
        reason=reason,
        subject_id=subject_id,
        site_id=site_id,
    )
    return entry


def unlock(session: Session, *, subject_id: int | None, reason: str, by: User) -> DataLock:
    """Lift a lock; the reason is required and audited."""
    require(by, Action.DATA_UNLOCK)
    if not reason or not reason.strip():
        raise InvalidInput("unlocking needs a reason", field="reason")
    serialise_writes(session)
    site_id = subject_site(session, subject_id) if subject_id is not None else None
    entry = get_active(session, subject_id=subject_id)
    if entry is None:
        scope = "study" if subject_id is None else f"subject {subject_id}"
        raise Conflict(f"the {scope} is not locked", field="subject")
    entry.unlocked_at = utcnow()
    entry.unlocked_by = by.username
    entry.unlock_reason = reason.strip()
    audit.record(
        session,
        actor=by.username,
        action="unlock",
        entity="study" if subject_id is None else "subject",
        entity_id="study" if subject_id is None else subject_id,
        old={"lock": entry.id},
        reason=reason.strip(),
        subject_id=subject_id,
        site_id=site_id,
    )
    return entry


def is_locked(session: Session, *, subject_id: int | None) -> bool:
    """Whether the study, or this subject's data, is locked; reads only, takes no lock."""
    return bool(session.scalar(_ANY_HOLDING, {"lock_subject_id": subject_id}))


def ensure_unlocked(session: Session, *, subject_id: int | None) -> None:
    """Refuse with Locked when the study, or this subject's data, is locked. Call before every save.

    One read finds the lock in force, the study's first.
    """
    serialise_writes(session, shared=True)
    held = session.execute(_HOLDING, {"lock_subject_id": subject_id}).first()
    if held is not None:
        scope_id, locked_by, locked_at = held
        what = "the study" if scope_id is None else f"subject {scope_id}"
        when = locked_at.strftime("%Y-%m-%d %H:%M UTC")
        raise Locked(f"{what} is locked (by {locked_by}, {when}); unlock it first", field="subject")
