"""The study row: register a trial from its protocol, change its overall status, lock it to enrol.

Status changes follow :mod:`celltrial.protocol.status`; each is audited with its reason.
:func:`lock_for_enrolment` is what keeps the enrolment cap under concurrency: on PostgreSQL a
row lock (``SELECT ... FOR NO KEY UPDATE``) on the study row, on SQLite the database's single
write lock taken up front (``BEGIN IMMEDIATE``), so enrolments of one study run one at a time
and each sees the ones committed before it.
"""

from __future__ import annotations

import functools

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from celltrial.errors import Conflict, InvalidInput, NotFound
from celltrial.protocol.library import load_settings, load_study
from celltrial.protocol.settings import ProtocolSettings
from celltrial.protocol.status import StudyStatus, check_study_transition, parse_study_status
from celltrial.study.audit import service as audit
from celltrial.study.permissions import Action, require
from celltrial.study.serialise import serialise_writes
from celltrial.study.subjects.models import Subject
from celltrial.study.trial.models import Trial
from celltrial.study.types import utcnow
from celltrial.study.users.models import User

__all__ = [
    "change_status",
    "enrolled_count",
    "get",
    "get_all",
    "get_or_raise",
    "lock_for_enrolment",
    "register",
    "settings_of",
    "the_study",
]


def register(session: Session, *, nct_id: str, by: User) -> Trial:
    """Start running the protocol ``nct_id`` in this database, with the registry's current status."""
    require(by, Action.STUDY_MANAGE)
    nct_id = nct_id.strip().upper()
    record = load_study(nct_id)
    load_settings(nct_id)
    if session.scalar(select(Trial.id).where(Trial.nct_id == nct_id)) is not None:
        raise Conflict(f"the study {nct_id} is already registered", field="nct_id")
    try:
        status = StudyStatus(record.overall_status)
    except ValueError:
        status = StudyStatus.NOT_YET_RECRUITING
    trial = Trial(nct_id=nct_id, title=record.brief_title[:300], status=status, enrolled_count=0)
    session.add(trial)
    session.flush()
    audit.record(
        session,
        actor=by.username,
        action="create",
        entity="study",
        entity_id=trial.id,
        new={"nct_id": nct_id, "status": status.value},
    )
    return trial


def get(session: Session, *, study_id: int) -> Trial | None:
    return session.get(Trial, study_id)


def get_or_raise(session: Session, *, study_id: int) -> Trial:
    trial = get(session, study_id=study_id)
    if trial is None:
        raise NotFound(f"no study with id {study_id}", field="study")
    return trial


def get_all(session: Session) -> list[Trial]:
    return list(session.scalars(select(Trial).order_by(Trial.nct_id)))


def the_study(session: Session, *, nct_id: str | None = None) -> Trial:
    """The study ``nct_id``, or the only study of the database when none is named."""
    if nct_id:
        trial = session.scalar(select(Trial).where(Trial.nct_id == nct_id.strip().upper()))
        if trial is None:
            raise NotFound(f"the study {nct_id} is not registered in this database", field="study")
        return trial
    trials = get_all(session)
    if len(trials) != 1:
        found = ", ".join(trial.nct_id for trial in trials) or "none"
        raise NotFound(f"name the study (registered: {found})", field="study")
    return trials[0]


@functools.cache
def _settings(nct_id: str) -> ProtocolSettings:
    return load_settings(nct_id)


def settings_of(trial: Trial) -> ProtocolSettings:
    """The protocol settings of ``trial`` (schedule, enrolment cap, subject number format)."""
    return _settings(trial.nct_id)


def enrolled_count(session: Session, *, study_id: int) -> int:
    """How many subjects of the study were ever enrolled (they keep their subject number)."""
    query = select(func.count()).where(Subject.study_id == study_id, Subject.subject_number.is_not(None))
    return int(session.scalar(query) or 0)


def lock_for_enrolment(session: Session, *, study_id: int) -> Trial:
    """Hold the study row until the transaction ends and return it as now committed.

    Call it before any other write of the transaction (the audit trail's own lock comes after).
    """
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        query = select(Trial).where(Trial.id == study_id).with_for_update(key_share=True)
        trial = session.scalars(query.execution_options(populate_existing=True)).one_or_none()
    else:
        serialise_writes(session)
        trial = session.get(Trial, study_id, populate_existing=True)
    if trial is None:
        raise NotFound(f"no study with id {study_id}", field="study")
    return trial


def change_status(session: Session, *, study_id: int, status: str, reason: str, by: User) -> Trial:
    """Move the study to ``status`` when the status machine allows it; the reason is audited."""
    require(by, Action.STUDY_MANAGE)
    new = parse_study_status(status)
    if not reason or not reason.strip():
        raise InvalidInput("a reason is required to change the study status", field="reason")
    trial = lock_for_enrolment(session, study_id=study_id)
    old = trial.status
    check_study_transition(old, new, enrolled=enrolled_count(session, study_id=study_id))
    trial.status = new
    trial.status_changed_at = utcnow()
    audit.record(
        session,
        actor=by.username,
        action="update",
        entity="study",
        entity_id=trial.id,
        field="status",
        old=old.value,
        new=new.value,
        reason=reason.strip(),
    )
    return trial
