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

from pydantic import BaseModel, TypeAdapter
from sqlalchemy import String, bindparam, cast, func, select
from sqlalchemy.orm import Session

from celltrial.study.forms.dictionary import form_definition, form_definitions
from celltrial.study.forms.models import FormInstance, FormStatus
from celltrial.study.forms.review import signed_content
from celltrial.study.locks import service as locks
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


_OPEN_QUERIES = (
    select(DataQuery.form_id, func.count().label("open_queries"))
    .where(DataQuery.subject_id == bindparam("subject_id"), DataQuery.status != QueryStatus.CLOSED)
    .group_by(DataQuery.form_id)
    .subquery()
)
"""Open queries per form of the subject."""
_FORMS = (
    select(
        FormInstance.id,
        FormInstance.visit_id,
        FormInstance.form_code,
        FormInstance.sequence,
        FormInstance.status,
        FormInstance.version,
        FormInstance.updated_at,
        FormInstance.updated_by,
        FormInstance.consent_withdrawn,
        func.coalesce(_OPEN_QUERIES.c.open_queries, 0),
        locks.IN_FORCE,
    )
    .outerjoin(Visit, Visit.id == FormInstance.visit_id)
    .outerjoin(_OPEN_QUERIES, _OPEN_QUERIES.c.form_id == FormInstance.id)
    .where(FormInstance.subject_id == bindparam("subject_id"))
    .order_by(
        Visit.target_date.is_(None),
        Visit.target_date,
        Visit.id,
        FormInstance.form_code,
        FormInstance.sequence,
    )
)
"""The subject's forms by visit (as :func:`forms.list_forms` orders them) without their values, with
their open-query counts and whether a data lock holds (as :func:`locks.is_locked` reads one)."""
_SIGNED = (
    select(
        Signature.content_hash,
        FormInstance.id,
        FormInstance.form_code,
        FormInstance.definition_version,
        FormInstance.data,
    )
    .join(FormInstance, Signature.entity_id == cast(FormInstance.id, String))
    .where(
        Signature.entity == "form",
        Signature.subject_id == bindparam("subject_id"),
        FormInstance.subject_id == bindparam("subject_id"),
    )
)
"""The signatures of the subject's forms, each with the signed form's content as it is now."""
_ITEMS = TypeAdapter(list[FormListItem])


def casebook_forms(session: Session, *, subject_id: int, by: User) -> list[FormListItem]:
    """Every form of the subject (by visit, as :func:`forms.list_forms` orders them), as ``by`` may see them.

    Reads the forms' columns without their values; only a signed form's values are read, to
    tell whether its signatures still hold.
    """
    subject = subject_for(session, subject_id=subject_id, by=by, action=Action.FORM_VIEW)
    bound = {"subject_id": subject.id}
    rows = session.execute(_FORMS, bound).all()
    if not rows:
        return []
    digests: dict[int, list[bool]] = defaultdict(list)
    for digest, form_id, form_code, definition_version, data in session.execute(_SIGNED, bound):
        content = signed_content(form_id, form_code, definition_version, data)
        digests[form_id].append(digest == content_hash(content))
    locked = bool(rows[0][-1])
    definitions = form_definitions()  # once per request: each look-up checks the imported forms' folder
    return _ITEMS.validate_python(
        [
            {
                "id": form_id,
                "visit_id": visit_id,
                "form_code": form_code,
                "name": (definitions.get(form_code) or form_definition(form_code)).name,
                "sequence": sequence,
                "status": FormStatus.LOCKED if locked else status,
                "version": version,
                "updated_at": updated_at,
                "updated_by": updated_by,
                "open_queries": int(open_queries),
                "signed": form_id in digests,
                "signature_valid": all(digests[form_id]) if form_id in digests else None,
                "consent_withdrawn": consent_withdrawn,
            }
            for (
                form_id,
                visit_id,
                form_code,
                sequence,
                status,
                version,
                updated_at,
                updated_by,
                consent_withdrawn,
                open_queries,
                _,
            ) in rows
        ]
    )
