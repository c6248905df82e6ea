"""ICF versions: the consent form (with its assent form) as approved by the ethics committee.

The version approved last is the current one; subjects consented on an earlier version must
re-consent before enrolment.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from celltrial.errors import Conflict, InvalidInput
from celltrial.study.audit import service as audit
from celltrial.study.consent.models import IcfVersion
from celltrial.study.permissions import Action, require
from celltrial.study.trial import service as trials
from celltrial.study.types import utcnow
from celltrial.study.users.models import User

__all__ = ["approve_icf_version", "current_icf_version"]


def approve_icf_version(
    session: Session, *, study_id: int, version: str, approved_on: date, by: User, summary: str = ""
) -> IcfVersion:
    """Record an ICF version approved by the ethics committee; it becomes the current one."""
    require(by, Action.STUDY_MANAGE)
    trial = trials.get_or_raise(session, study_id=study_id)
    label = (version or "").strip()
    if not label or len(label) > 32:
        raise InvalidInput("the ICF version label must have 1 to 32 characters", field="version")
    if not isinstance(approved_on, date) or isinstance(approved_on, datetime):
        raise InvalidInput(f"expected a date, got {approved_on!r}", field="approved_on")
    if approved_on > utcnow().date():
        raise InvalidInput(f"the approval date {approved_on} is in the future", field="approved_on")
    current = current_icf_version(session, study_id=trial.id)
    if session.scalar(
        select(IcfVersion.id).where(IcfVersion.study_id == trial.id, IcfVersion.version == label)
    ):
        raise Conflict(f"ICF version {label} is already recorded", field="version")
    if current is not None and approved_on < current.approved_on:
        raise InvalidInput(
            f"version {label} approved on {approved_on} would predate the current version "
            f"{current.version} (approved {current.approved_on})",
            field="approved_on",
        )
    icf = IcfVersion(
        study_id=trial.id,
        version=label,
        approved_on=approved_on,
        summary=summary.strip(),
        recorded_by_id=by.id,
    )
    session.add(icf)
    session.flush()
    audit.record(
        session,
        actor=by.username,
        action="create",
        entity="icf_version",
        entity_id=icf.id,
        new={"version": label, "approved_on": approved_on.isoformat()},
    )
    return icf


def current_icf_version(session: Session, *, study_id: int, on: date | None = None) -> IcfVersion | None:
    """The ICF version in force on ``on`` (default: now): the one approved last by then."""
    query = select(IcfVersion).where(IcfVersion.study_id == study_id)
    if on is not None:
        query = query.where(IcfVersion.approved_on <= on)
    return session.scalars(
        query.order_by(IcfVersion.approved_on.desc(), IcfVersion.id.desc()).limit(1)
    ).first()
