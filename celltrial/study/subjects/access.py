"""Finding a subject on behalf of a user: the role must allow the action, the site must be theirs."""

from __future__ import annotations

from sqlalchemy.orm import Session

from celltrial.errors import InvalidInput, NotFound
from celltrial.study.permissions import Action, require, require_site
from celltrial.study.subjects.models import Subject
from celltrial.study.users.models import User

__all__ = ["subject_for"]


def subject_for(session: Session, *, subject_id: int, by: User, action: Action) -> Subject:
    """The subject ``subject_id`` if ``by`` may take ``action`` on it; another site's is not found."""
    require(by, action)
    if not isinstance(subject_id, int) or isinstance(subject_id, bool):
        raise InvalidInput(f"a subject id is a number, not {subject_id!r}", field="subject_id")
    subject = session.get(Subject, subject_id)
    if subject is None:
        raise NotFound(f"no subject with id {subject_id}", field="subject")
    require_site(by, subject.site_id, record_id=subject_id)
    return subject
