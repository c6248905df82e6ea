"""Reviewing filled forms: reading them with their status, source-data verification, signatures.

- Source-data verification (SDV) is per field, by the monitor, bound to the value verified: a
  later change of the value voids it. A complete form is *verified* once every shown field
  holding a value is.
- The investigator signs a complete form (21 CFR 11.50/11.200: the password is asked again); the
  signature is bound to the hash of the form's content, so a later change shows it INVALIDATED
  and the form goes back to complete.
- A form reads as *locked* while its subject's data (or the study's) are locked.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import bindparam, func, literal, select
from sqlalchemy.orm import Session

from celltrial.errors import Conflict
from celltrial.study.audit import service as audit
from celltrial.study.forms.access import FILLED, form_and_subject, get_or_raise
from celltrial.study.forms.checks import visible_fields
from celltrial.study.forms.dictionary import form_definition
from celltrial.study.forms.models import FormInstance, FormRead, FormRevision, FormStatus, SourceVerification
from celltrial.study.locks import service as locks
from celltrial.study.locks.service import ensure_unlocked
from celltrial.study.permissions import Action
from celltrial.study.queries.lifecycle import QueryStatus
from celltrial.study.queries.models import DataQuery
from celltrial.study.signatures import service as signatures
from celltrial.study.signatures.models import Signature
from celltrial.study.subjects.access import subject_for
from celltrial.study.types import utcnow
from celltrial.study.users.models import User
from celltrial.study.visits.models import Visit

__all__ = [
    "FORM_ORDER",
    "list_forms",
    "read",
    "revisions",
    "sign_form",
    "signature_content",
    "signed_content",
    "verified_fields",
    "verify_field",
]


def _verifications(session: Session, form: FormInstance) -> dict[str, SourceVerification]:
    rows = session.scalars(select(SourceVerification).where(SourceVerification.form_id == form.id))
    return {row.field: row for row in rows}


_STANDING = select(
    SourceVerification.field,
    SourceVerification.verified_value,
    select(func.count())
    .where(DataQuery.form_id == bindparam("form_id"), DataQuery.status != QueryStatus.CLOSED)
    .scalar_subquery(),
    locks.IN_FORCE,
).select_from(
    select(literal(1).label("one"))
    .subquery()
    .outerjoin(SourceVerification, SourceVerification.form_id == bindparam("form_id"))
)
"""A form's source-data verifications (a row each, or one empty row), its open queries and whether
its subject's data (or the study's) are locked, in one round trip."""


def _standing(session: Session, form: FormInstance) -> tuple[list[str], int, bool]:
    """The form's verified fields, open queries and lock state."""
    session.flush()  # as session.execute would: the rows are read through the connection
    rows = (
        session.connection()
        .execute(_STANDING, {"form_id": form.id, "lock_subject_id": form.subject_id})
        .all()
    )
    verified = sorted(name for name, value, _, _ in rows if name is not None and value == form.data.get(name))
    return verified, int(rows[0][2] or 0), bool(rows[0][3])


def verified_fields(session: Session, form: FormInstance) -> list[str]:
    """Fields whose source-data verification still holds (the value verified is the value now)."""
    return _standing(session, form)[0]


def verify_field(
    session: Session, *, form_id: int, field: str, by: User, comment: str | None = None
) -> SourceVerification:
    """The monitor's SDV flag on one field; the form is verified once every shown field with a value is."""
    form, subject = form_and_subject(session, form_id, by, Action.FORM_VERIFY)
    definition = form_definition(form.form_code)
    name = definition.field(field).name
    if form.status not in FILLED:
        raise Conflict(f"form {form.id} is {form.status}: verify a complete form", field="status")
    ensure_unlocked(session, subject_id=subject.id)
    value = form.data.get(name)
    existing = _verifications(session, form)
    row = existing.get(name)
    old = row.verified_value if row is not None else None
    if row is None:
        row = SourceVerification(form_id=form.id, field=name, verified_value=value, verified_by=by.username)
        session.add(row)
    else:
        row.verified_value, row.verified_by, row.verified_at = value, by.username, utcnow()
    row.comment = (comment or "").strip() or None
    existing[name] = row
    session.flush()
    audit.record(
        session,
        actor=by.username,
        action="verify",
        entity="form",
        entity_id=form.id,
        field=f"{definition.code}.{name}",
        old=old,
        new=value,
        reason=row.comment,
        subject_id=subject.id,
        site_id=subject.site_id,
    )
    shown = visible_fields(definition, form.data)
    pending = [
        other
        for other in definition.field_names()
        if other in shown
        and form.data.get(other) is not None
        and (other not in existing or existing[other].verified_value != form.data.get(other))
    ]
    if not pending and form.status is FormStatus.COMPLETE:
        form.status = FormStatus.VERIFIED
        audit.record(
            session,
            actor=by.username,
            action="status",
            entity="form",
            entity_id=form.id,
            field="status",
            old=FormStatus.COMPLETE.value,
            new=FormStatus.VERIFIED.value,
            subject_id=subject.id,
            site_id=subject.site_id,
        )
    return row


def signature_content(form: FormInstance) -> dict[str, Any]:
    """What a signature of the form is bound to: the form, its dictionary version and its values."""
    return signed_content(form.id, form.form_code, form.definition_version, form.data)


def signed_content(
    form_id: int, form_code: str, definition_version: int, data: Mapping[str, Any]
) -> dict[str, Any]:
    """:func:`signature_content` of a form read as columns."""
    return {
        "form_id": form_id,
        "form_code": form_code,
        "definition_version": definition_version,
        "data": dict(data),
    }


def sign_form(session: Session, *, form_id: int, password: str, meaning: str, by: User) -> Signature:
    """The investigator's electronic signature of a complete form (the password is asked again)."""
    form, subject = form_and_subject(session, form_id, by, Action.FORM_SIGN)
    if form.status not in FILLED:
        raise Conflict(f"form {form.id} is {form.status}: sign a complete form", field="status")
    if locks.is_locked(session, subject_id=subject.id):
        ensure_unlocked(session, subject_id=subject.id)
    signature = signatures.sign(
        session,
        user=by,
        password=password,
        entity="form",
        entity_id=form.id,
        content=signature_content(form),
        meaning=meaning,  # type: ignore[arg-type]
        subject_id=subject.id,
        site_id=subject.site_id,
    )
    ensure_unlocked(session, subject_id=subject.id)
    if form.status is not FormStatus.SIGNED:
        audit.record(
            session,
            actor=by.username,
            action="status",
            entity="form",
            entity_id=form.id,
            field="status",
            old=form.status.value,
            new=FormStatus.SIGNED.value,
            subject_id=subject.id,
            site_id=subject.site_id,
        )
        form.status = FormStatus.SIGNED
    return signature


def detail(session: Session, *, form: FormInstance) -> tuple[FormRead, list[signatures.SignatureStatus]]:
    """The form as :func:`read` shows it, and its signatures with whether each still holds."""
    shown = FormRead.model_validate(form)
    verified, open_queries, locked = _standing(session, form)
    signed = signatures.signature_status(
        session, entity="form", entity_id=form.id, content=signature_content(form)
    )
    return shown.model_copy(
        update={
            "status": FormStatus.LOCKED if locked else form.status,
            "verified_fields": verified,
            "open_queries": open_queries,
            "signatures": [str(state) for state in signed],
        }
    ), signed


FORM_ORDER = (
    Visit.target_date.is_(None),
    Visit.target_date,
    Visit.id,
    FormInstance.form_code,
    FormInstance.sequence,
)
"""A subject's forms by visit (unscheduled last), then form and sequence; the visit outer-joined."""


def read(session: Session, *, form: FormInstance) -> FormRead:
    """The form as shown: status (locked when its subject's data are), SDV'd fields, open queries."""
    return detail(session, form=form)[0]


def list_forms(session: Session, *, subject_id: int, by: User) -> list[FormInstance]:
    """Every form of the subject, by visit then form."""
    subject = subject_for(session, subject_id=subject_id, by=by, action=Action.FORM_VIEW)
    query = (
        select(FormInstance)
        .outerjoin(Visit, Visit.id == FormInstance.visit_id)
        .where(FormInstance.subject_id == subject.id)
        .order_by(*FORM_ORDER)
    )
    return list(session.scalars(query))


def revisions(session: Session, *, form_id: int, by: User) -> list[FormRevision]:
    """Every save of the form, oldest first."""
    form = get_or_raise(session, form_id=form_id, by=by)
    query = select(FormRevision).where(FormRevision.form_id == form.id).order_by(FormRevision.version)
    return list(session.scalars(query))
