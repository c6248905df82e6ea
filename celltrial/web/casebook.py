"""A subject's casebook at a glance: every form with its status, open queries and signature state.

Read in one statement whatever the number of forms (a subject has some eighty), for the
casebook page and ``GET /api/v1/subjects/{id}/forms``: the forms with their open-query counts,
their signatures (plus the values of the signed forms only, to check that their signatures
still hold), the subject's site (the access check) and whether a data lock holds. A form's full
detail (values, SDV, signatures) comes from :func:`celltrial.study.forms.service.read`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pydantic import BaseModel, TypeAdapter
from sqlalchemy import String, bindparam, case, cast, func, select, type_coerce
from sqlalchemy.orm import Session

from celltrial.study.forms.dictionary import form_definition, form_definitions
from celltrial.study.forms.models import FormInstance, FormStatus
from celltrial.study.forms.review import FORM_ORDER, signed_content
from celltrial.study.locks import service as locks
from celltrial.study.permissions import Action, require, require_site
from celltrial.study.queries.lifecycle import QueryStatus
from celltrial.study.queries.models import DataQuery
from celltrial.study.signatures.models import Signature
from celltrial.study.signatures.service import content_hash
from celltrial.study.subjects.access import subject_for
from celltrial.study.subjects.models import Subject
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
_SIGNATURES = (
    select(
        Signature.entity_id,
        func.min(Signature.content_hash).label("lowest"),
        func.max(Signature.content_hash).label("highest"),
    )
    .where(Signature.entity == "form", Signature.subject_id == bindparam("subject_id"))
    .group_by(Signature.entity_id)
    .subquery()
)
"""The signatures per form of the subject: every one holds when the lowest and highest hashes are
both the hash of the form's content now."""
_FORMS = (
    select(
        FormInstance.id,
        FormInstance.visit_id,
        FormInstance.form_code,
        FormInstance.sequence,
        type_coerce(FormInstance.status, String),  # as stored: validated into a FormStatus below
        FormInstance.version,
        FormInstance.updated_at,
        FormInstance.updated_by,
        FormInstance.consent_withdrawn,
        func.coalesce(_OPEN_QUERIES.c.open_queries, 0),
        _SIGNATURES.c.lowest,
        _SIGNATURES.c.highest,
        FormInstance.definition_version,
        case((_SIGNATURES.c.lowest.is_not(None), FormInstance.data)),
        Subject.site_id,
        locks.IN_FORCE,
    )
    .join(Subject, Subject.id == FormInstance.subject_id)
    .outerjoin(Visit, Visit.id == FormInstance.visit_id)
    .outerjoin(_OPEN_QUERIES, _OPEN_QUERIES.c.form_id == FormInstance.id)
    .outerjoin(_SIGNATURES, _SIGNATURES.c.entity_id == cast(FormInstance.id, String))
    .where(FormInstance.subject_id == bindparam("subject_id"))
    .order_by(*FORM_ORDER)
)
"""The subject's forms by visit (as :func:`forms.list_forms` orders them) with their open-query
counts, their signatures (and the values of the signed forms only), the subject's site, and
whether a data lock holds (as :func:`locks.is_locked` reads one): one statement."""
_ITEMS = TypeAdapter(list[FormListItem])


def _signature_valid(
    lowest: str | None,
    highest: str | None,
    form_id: int,
    form_code: str,
    definition_version: int,
    data: dict[str, Any] | None,
) -> bool | None:
    """Whether every signature of the form still holds; None when it has none."""
    if lowest is None:
        return None
    current = content_hash(signed_content(form_id, form_code, definition_version, data or {}))
    return lowest == highest == current


def casebook_forms(session: Session, *, subject_id: int, by: User) -> list[FormListItem]:
    """Every form of the subject (by visit, as :func:`forms.list_forms` orders them), as ``by`` may see them.

    Reads the forms' columns without their values; only a signed form's values are read, to
    tell whether its signatures still hold. The subject is looked up on its own (not found,
    another site's) only when it has no form.
    """
    require(by, Action.FORM_VIEW)
    rows: Sequence[Any] = []
    if type(subject_id) is int:
        session.flush()  # as session.execute would: the rows are read through the connection
        rows = (  # all(): the driver fetches the rows at once, not one call per row
            session.connection()
            .execute(_FORMS, {"subject_id": subject_id, "lock_subject_id": subject_id})
            .all()
        )
    if not rows:
        subject_for(session, subject_id=subject_id, by=by, action=Action.FORM_VIEW)
        return []
    require_site(by, rows[0][-2], record_id=subject_id)
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
                "signed": lowest is not None,
                "signature_valid": _signature_valid(
                    lowest, highest, form_id, form_code, definition_version, data
                ),
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
                lowest,
                highest,
                definition_version,
                data,
                _,
                _,
            ) in rows
        ]
    )
