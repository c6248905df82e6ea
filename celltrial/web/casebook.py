"""A subject's casebook at a glance: every form with its status, open queries and signature state.

Read in three statements whatever the number of forms (a subject has some eighty), for the
casebook page and ``GET /api/v1/subjects/{id}/forms``: the subject (its access check), the
forms with their open-query counts and whether a data lock holds, and the signatures (plus the
values of the signed forms only, to check that their signatures still hold). A form's full
detail (values, SDV, signatures) comes from :func:`celltrial.study.forms.service.read`.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import Exists, Subquery, exists, func, or_, select
from sqlalchemy.orm import Session

from celltrial.study.forms import service as forms
from celltrial.study.forms.dictionary import form_definition, form_definitions
from celltrial.study.forms.models import FormInstance, FormStatus
from celltrial.study.locks.models import DataLock
from celltrial.study.permissions import Action
from celltrial.study.queries.lifecycle import QueryStatus
from celltrial.study.queries.models import DataQuery
from celltrial.study.signatures.models import Signature
from celltrial.study.signatures.service import content_hash
from celltrial.study.subjects.access import subject_for
from celltrial.study.users.models import User
from celltrial.study.visits.models import Visit

__all__ = ["FormListItem", "casebook_forms"]


class FormListItem(BaseModel):
    """A form in a subject's casebook."""

    id: int
    visit_id: int | None
    form_code: str
    name: str
    sequence: int
    status: FormStatus
    version: int
    updated_at: datetime
    updated_by: str | None
    open_queries: int
    signed: bool
    """Whether the form carries a signature."""
    signature_valid: bool | None
    """Whether every signature still matches the form (None when unsigned)."""
    consent_withdrawn: bool


_COLUMNS = (
    FormInstance.id,
    FormInstance.visit_id,
    FormInstance.form_code,
    FormInstance.sequence,
    FormInstance.status,
    FormInstance.version,
    FormInstance.updated_at,
    FormInstance.updated_by,
    FormInstance.consent_withdrawn,
)


def _open_queries(subject_id: int) -> Subquery:
    """Open queries per form of the subject."""
    return (
        select(DataQuery.form_id, func.count().label("open_queries"))
        .where(DataQuery.subject_id == subject_id, DataQuery.status != QueryStatus.CLOSED)
        .group_by(DataQuery.form_id)
        .subquery()
    )


def _locked(subject_id: int) -> Exists:
    """Whether a data lock holds on the study or on the subject (as :func:`locks.get_active` reads one)."""
    return exists().where(
        DataLock.unlocked_at.is_(None),
        or_(DataLock.subject_id.is_(None), DataLock.subject_id == subject_id),
    )


def casebook_forms(session: Session, *, subject_id: int, by: User) -> list[FormListItem]:
    """Every form of the subject (by visit, as :func:`forms.list_forms` orders them), as ``by`` may see them.

    Reads the forms' columns without their values; only a signed form's values are read, to
    tell whether its signatures still hold.
    """
    subject = subject_for(session, subject_id=subject_id, by=by, action=Action.FORM_VIEW)
    counts = _open_queries(subject.id)
    rows = session.execute(
        select(*_COLUMNS, func.coalesce(counts.c.open_queries, 0), _locked(subject.id))
        .outerjoin(Visit, Visit.id == FormInstance.visit_id)
        .outerjoin(counts, counts.c.form_id == FormInstance.id)
        .where(FormInstance.subject_id == subject.id)
        .order_by(
            Visit.target_date.is_(None),
            Visit.target_date,
            Visit.id,
            FormInstance.form_code,
            FormInstance.sequence,
        )
    ).all()
    if not rows:
        return []
    signed: dict[str, list[str]] = defaultdict(list)
    for entity_id, digest in session.execute(
        select(Signature.entity_id, Signature.content_hash).where(
            Signature.entity == "form", Signature.subject_id == subject.id
        )
    ):
        signed[entity_id].append(digest)
    current: dict[int, str] = {}
    if signed:
        signed_ids = [int(entity_id) for entity_id in signed if entity_id.isdigit()]
        for form in session.scalars(select(FormInstance).where(FormInstance.id.in_(signed_ids))):
            current[form.id] = content_hash(forms.signature_content(form))
    locked = bool(rows[0][-1])
    definitions = form_definitions()  # once per request: each look-up checks the imported forms' folder
    items = []
    for row in rows:
        digests = signed.get(str(row.id), [])
        items.append(
            FormListItem(
                id=row.id,
                visit_id=row.visit_id,
                form_code=row.form_code,
                name=(definitions.get(row.form_code) or form_definition(row.form_code)).name,
                sequence=row.sequence,
                status=FormStatus.LOCKED if locked else row.status,
                version=row.version,
                updated_at=row.updated_at,
                updated_by=row.updated_by,
                open_queries=int(row[-2]),
                signed=bool(digests),
                signature_valid=all(d == current.get(row.id) for d in digests) if digests else None,
                consent_withdrawn=row.consent_withdrawn,
            )
        )
    return items
