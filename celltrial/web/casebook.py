"""A subject's casebook at a glance: every form with its status, open queries and signature state.

Read in a handful of queries whatever the number of forms (a subject has some eighty), for the
casebook page and ``GET /api/v1/subjects/{id}/forms``. A form's full detail (values, SDV,
signatures) comes from :func:`celltrial.study.forms.service.read`.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from celltrial.study.forms import service as forms
from celltrial.study.forms.dictionary import form_definition
from celltrial.study.forms.models import FormStatus
from celltrial.study.locks import service as locks
from celltrial.study.queries.lifecycle import QueryStatus
from celltrial.study.queries.models import DataQuery
from celltrial.study.signatures.models import Signature
from celltrial.study.signatures.service import content_hash
from celltrial.study.users.models import User

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


def casebook_forms(session: Session, *, subject_id: int, by: User) -> list[FormListItem]:
    """Every form of the subject (by visit), as ``by`` may see them."""
    listed = forms.list_forms(session, subject_id=subject_id, by=by)
    ids = [form.id for form in listed]
    if not ids:
        return []
    open_counts: Counter[int] = Counter(
        dict(
            session.execute(
                select(DataQuery.form_id, func.count())
                .where(DataQuery.form_id.in_(ids), DataQuery.status != QueryStatus.CLOSED)
                .group_by(DataQuery.form_id)
            ).all()
        )
    )
    signed: dict[str, list[str]] = defaultdict(list)
    for entity_id, digest in session.execute(
        select(Signature.entity_id, Signature.content_hash).where(
            Signature.entity == "form", Signature.entity_id.in_([str(i) for i in ids])
        )
    ):
        signed[entity_id].append(digest)
    locked = any(locks.get_active(session, subject_id=scope) is not None for scope in (None, subject_id))
    items = []
    for form in listed:
        digests = signed.get(str(form.id), [])
        valid = None
        if digests:
            current = content_hash(forms.signature_content(form))
            valid = all(digest == current for digest in digests)
        items.append(
            FormListItem(
                id=form.id,
                visit_id=form.visit_id,
                form_code=form.form_code,
                name=form_definition(form.form_code).name,
                sequence=form.sequence,
                status=FormStatus.LOCKED if locked else form.status,
                version=form.version,
                updated_at=form.updated_at,
                updated_by=form.updated_by,
                open_queries=int(open_counts.get(form.id, 0)),
                signed=bool(digests),
                signature_valid=valid,
                consent_withdrawn=form.consent_withdrawn,
            )
        )
    return items
