"""Moving a subject from one status to the next: checked, stamped and audited in one place."""

from __future__ import annotations

from sqlalchemy.orm import Session

from celltrial.study.audit import service as audit
from celltrial.study.subjects.models import Subject
from celltrial.study.subjects.status import SubjectStatus, check_subject_transition
from celltrial.study.types import utcnow
from celltrial.study.users.models import User

__all__ = ["ACTIVE_STATUSES", "move"]

ACTIVE_STATUSES = frozenset(
    {
        SubjectStatus.SCREENING,
        SubjectStatus.ENROLLED,
        SubjectStatus.APHERESED,
        SubjectStatus.INFUSED,
        SubjectStatus.IN_FOLLOW_UP,
    }
)
"""Statuses in which the subject still has visits and data to come."""


def move(
    session: Session, *, subject: Subject, to: SubjectStatus, by: User, reason: str | None = None
) -> None:
    """Change ``subject``'s status if the state machine allows it, and audit the change."""
    old = subject.status
    check_subject_transition(old, to)
    subject.status = to
    subject.status_changed_at = utcnow()
    audit.record(
        session,
        actor=by.username,
        action="status",
        entity="subject",
        entity_id=subject.id,
        field="status",
        old=old.value,
        new=to.value,
        reason=reason,
        subject_id=subject.id,
        site_id=subject.site_id,
    )
