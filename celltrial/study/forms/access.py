"""Finding a form on behalf of a user, and whether its data are locked."""

from __future__ import annotations

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from celltrial.errors import InvalidInput, NotFound
from celltrial.study.forms.models import FormInstance, FormStatus
from celltrial.study.permissions import Action, require, require_site
from celltrial.study.subjects.models import Subject
from celltrial.study.users.models import User

__all__ = ["FILLED", "FORM_AND_SUBJECT", "form_and_subject", "get_or_raise"]

FILLED = frozenset({FormStatus.COMPLETE, FormStatus.VERIFIED, FormStatus.SIGNED})
"""Statuses of a form whose data entry is complete."""

FORM_AND_SUBJECT = (
    select(FormInstance, Subject)
    .join(Subject, Subject.id == FormInstance.subject_id)
    .where(FormInstance.id == bindparam("form_id"))
)


def form_and_subject(
    session: Session, form_id: int, by: User, action: Action
) -> tuple[FormInstance, Subject]:
    require(by, action)
    if not isinstance(form_id, int) or isinstance(form_id, bool):
        raise InvalidInput(f"a form id is a number, not {form_id!r}", field="form_id")
    found = session.execute(FORM_AND_SUBJECT, {"form_id": form_id}).first()
    if found is None:
        raise NotFound(f"no form with id {form_id}", field="form")
    form, subject = found
    require_site(by, subject.site_id, what="form", record_id=form_id)
    return form, subject


def get_or_raise(session: Session, *, form_id: int, by: User) -> FormInstance:
    """The form ``form_id`` if ``by`` may see it."""
    return form_and_subject(session, form_id, by, Action.FORM_VIEW)[0]
