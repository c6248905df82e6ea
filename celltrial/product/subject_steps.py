"""The subject's status follows the product: apheresed at collection, infused at infusion.

The move goes through the subject service (:func:`celltrial.study.subjects.service.change_status`),
so it is checked against the subject's state machine and audited like any other status change,
in the same transaction as the custody step. Of the two people who signed the hand-over, the
one allowed ``subject.status`` (the investigator at the apheresis unit or the bedside) is
recorded as making the change; a hand-over signed by nobody who may change the subject's status
is refused, because a collection or an infusion the subject's record does not show would leave
the casebook and the product chain telling different stories.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from celltrial.errors import NotAllowed
from celltrial.study.permissions import Action, allowed
from celltrial.study.subjects import service as subjects
from celltrial.study.subjects.models import Subject
from celltrial.study.subjects.status import SubjectStatus
from celltrial.study.users.models import User

__all__ = ["check_signatories", "mark_apheresed", "mark_infused"]


def check_signatories(people: tuple[User, User], *, what: str) -> User:
    """The signatory who may change the subject's status; refuse the hand-over when neither may."""
    for person in people:
        if allowed(person, Action.SUBJECT_STATUS):
            return person
    names = " and ".join(repr(person.username) for person in people)
    raise NotAllowed(
        f"{what} moves the subject's status, so one of its two signatories must be allowed to "
        f"change it (an investigator); {names} are not",
        field="received_by",
    )


def mark_apheresed(session: Session, *, subject: Subject, people: tuple[User, User], din: str) -> None:
    """Move an enrolled subject to ``apheresed`` (a repeat collection leaves the status as it is)."""
    if subject.status is not SubjectStatus.ENROLLED:
        return
    by = check_signatories(people, what="the apheresis collection")
    subjects.change_status(
        session,
        subject_id=subject.id,
        status=SubjectStatus.APHERESED.value,
        by=by,
        reason=f"apheresis collection {din} recorded in the chain of custody",
    )


def mark_infused(
    session: Session, *, subject: Subject, people: tuple[User, User], at: datetime, bags: tuple[str, ...]
) -> None:
    """Move the subject to ``infused`` on the infusion's date (UTC), through ``apheresed`` if needed."""
    by = check_signatories(people, what="the infusion")
    reason = f"CAR-T product infused (bags {', '.join(bags)}) as recorded in the chain of custody"
    if subject.status is SubjectStatus.ENROLLED:
        subjects.change_status(
            session, subject_id=subject.id, status=SubjectStatus.APHERESED.value, by=by, reason=reason
        )
    subjects.change_status(
        session,
        subject_id=subject.id,
        status=SubjectStatus.INFUSED.value,
        by=by,
        reason=reason,
        on=at.astimezone(UTC).date(),
    )
