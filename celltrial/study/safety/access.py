"""Who may enter or read a subject's safety data, and on which subjects.

Entering safety data needs ``safety.report`` at the subject's site, a subject who consented
(and has not withdrawn consent) and was enrolled, and data that are not locked. Reading needs
``safety.view`` or ``safety.report``; site roles see their own site's subjects only. A central
assessment (an SAE's expectedness, its SUSAR submission) needs ``safety.assess`` and a central
scope: the sponsor assesses against the reference safety information (ICH E2A).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from celltrial.errors import Conflict, NotAllowed
from celltrial.study.consent.service import require_consent
from celltrial.study.locks import service as locks
from celltrial.study.permissions import Action, allowed, require, visible_site_id
from celltrial.study.subjects.access import subject_for
from celltrial.study.subjects.models import Subject
from celltrial.study.subjects.status import ENROLLED_STATUSES, SubjectStatus
from celltrial.study.types import utcnow
from celltrial.study.users.models import User

__all__ = [
    "SAFETY_STATUSES",
    "ensure_may_read",
    "read_action",
    "subject_for_central_assessment",
    "subject_for_entry",
    "today",
]

SAFETY_STATUSES = ENROLLED_STATUSES | {SubjectStatus.DIED}
"""Statuses in which a subject's safety data may be entered (a death is reported after it)."""


def today() -> date:
    """The study clock's date (UTC)."""
    return utcnow().date()


def subject_for_entry(session: Session, *, subject_id: int, by: User, what: str = "subject") -> Subject:
    """The subject whose safety data ``by`` is entering, after every check; refuse otherwise."""
    subject = subject_for(session, subject_id=subject_id, by=by, action=Action.SAFETY_REPORT)
    if subject.status not in SAFETY_STATUSES or subject.subject_number is None:
        raise Conflict(
            f"subject {subject.label} is {subject.status}: safety data are recorded for enrolled subjects",
            field="subject",
        )
    require_consent(session, subject=subject)
    locks.ensure_unlocked(session, subject_id=subject.id)
    return subject


def read_action(by: User) -> Action:
    """The action under which ``by`` reads safety data (refused when neither is granted)."""
    if allowed(by, Action.SAFETY_VIEW):
        return Action.SAFETY_VIEW
    require(by, Action.SAFETY_REPORT)
    return Action.SAFETY_REPORT


def ensure_may_read(session: Session, *, subject_id: int, by: User) -> Subject:
    """The subject whose safety data ``by`` may read."""
    return subject_for(session, subject_id=subject_id, by=by, action=read_action(by))


def subject_for_central_assessment(session: Session, *, subject_id: int, by: User) -> Subject:
    """The subject of a central safety assessment by ``by`` (``safety.assess``, every site in scope)."""
    require(by, Action.SAFETY_ASSESS)
    if visible_site_id(by) is not None:
        raise NotAllowed(
            f"{by.username!r} assesses safety at one site; the expectedness of an SAE and its SUSAR "
            "submission are assessed centrally by the sponsor",
            field="role",
        )
    return subject_for(session, subject_id=subject_id, by=by, action=Action.SAFETY_ASSESS)
