"""Form instances: create and save with edit checks and optimistic locking (review: :mod:`.review`).

:func:`save` is the one way CRF data changes. In order, it refuses (changing nothing): a user
whose role or site does not allow it; values of the wrong type; locked data; data before consent
or new data after its withdrawal; a stale ``expected_version`` (:class:`StaleVersion` says what
changed since); a change of a saved value without a reason; a study procedure dated before
consent. Then it stores the values, writes one revision and one audit entry per changed field,
runs the edit checks and raises a query per failed check (closing the edit-check queries that
now pass).

A change to a field that already held a value needs a reason; filling an empty field is an
initial entry and does not. A change voids the source-data verification of that field and any
signature (whose hash no longer matches), so a verified or signed form goes back to complete.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, insert, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from celltrial.analysis.form_derivations import derivation
from celltrial.errors import Conflict, InvalidInput, Locked, NotFound, StaleVersion
from celltrial.study.audit import service as audit
from celltrial.study.consent import service as consents
from celltrial.study.consent.models import Consent
from celltrial.study.forms.access import FILLED, FORM_AND_SUBJECT, get_or_raise
from celltrial.study.forms.checks import CheckFailure, run_edit_checks
from celltrial.study.forms.dictionary import FormDefinition, form_definition, form_definitions
from celltrial.study.forms.models import FormInstance, FormRevision, FormStatus
from celltrial.study.forms.review import (
    detail,
    list_forms,
    read,
    revisions,
    sign_form,
    signature_content,
    verified_fields,
    verify_field,
)
from celltrial.study.forms.values import StoredValue, coerce_values
from celltrial.study.locks import service as locks
from celltrial.study.locks.service import ensure_unlocked
from celltrial.study.permissions import Action, require, require_site
from celltrial.study.queries import service as queries
from celltrial.study.queries.lifecycle import QueryStatus
from celltrial.study.queries.models import DataQuery
from celltrial.study.serialise import serialise_writes
from celltrial.study.subjects.access import subject_for
from celltrial.study.subjects.models import Subject
from celltrial.study.types import utcnow
from celltrial.study.users.models import User
from celltrial.study.visits.models import Visit

__all__ = [
    "SaveResult",
    "add_form",
    "create_instance",
    "detail",
    "get_or_raise",
    "list_forms",
    "read",
    "revisions",
    "save",
    "sign_form",
    "signature_content",
    "verified_fields",
    "verify_field",
]


@dataclass(frozen=True)
class SaveResult:
    """What a save did: the form, the changed fields (old, new), failed checks, queries raised and closed."""

    form: FormInstance
    changes: dict[str, tuple[StoredValue, StoredValue]]
    failures: list[CheckFailure]
    raised: list[DataQuery] = field(default_factory=list)
    resolved: list[DataQuery] = field(default_factory=list)


def create_instance(
    session: Session,
    *,
    subject: Subject,
    form_code: str,
    by: User,
    visit: Visit | None = None,
    first: bool = False,
) -> FormInstance:
    """A new, empty instance of ``form_code`` for the subject (at ``visit``, or as a log entry).

    ``first``: the caller knows there is no other instance yet (a visit just created).
    """
    definition = form_definition(form_code)
    sequence = 1
    if not first:
        query = select(func.count()).where(
            FormInstance.subject_id == subject.id, FormInstance.form_code == form_code
        )
        query = query.where(FormInstance.visit_id == visit.id if visit else FormInstance.visit_id.is_(None))
        sequence = int(session.scalar(query) or 0) + 1
    form = FormInstance(
        subject_id=subject.id,
        visit_id=visit.id if visit else None,
        form_code=definition.code,
        definition_version=definition.version,
        sequence=sequence,
        data={},
        version=0,
        status=FormStatus.NOT_STARTED,
        updated_at=utcnow(),
    )
    session.add(form)
    session.flush()
    audit.record(
        session,
        actor=by.username,
        action="create",
        entity="form",
        entity_id=form.id,
        new={"form": definition.code, "version": definition.version, "visit": visit.code if visit else None},
        subject_id=subject.id,
        site_id=subject.site_id,
    )
    return form


def add_form(
    session: Session, *, subject_id: int, form_code: str, by: User, visit_id: int | None = None
) -> FormInstance:
    """Add a form: a log entry (adverse event, medication...) or a form a visit does not have yet."""
    subject = subject_for(session, subject_id=subject_id, by=by, action=Action.FORM_EDIT)
    definition = form_definition(form_code)
    visit = None
    if visit_id is not None:
        visit = session.get(Visit, visit_id)
        if visit is None or visit.subject_id != subject.id:
            raise NotFound(f"subject {subject.label} has no visit {visit_id}", field="visit_id")
    if not definition.repeating:
        query = select(FormInstance.id).where(
            FormInstance.subject_id == subject.id, FormInstance.form_code == definition.code
        )
        query = query.where(FormInstance.visit_id == visit.id if visit else FormInstance.visit_id.is_(None))
        if session.scalar(query.limit(1)) is not None:
            where = f"visit {visit.code}" if visit else "the subject"
            raise Conflict(
                f"{where} already has the form {definition.code} (it is not repeating)", field="form_code"
            )
    ensure_unlocked(session, subject_id=subject.id)
    consents.require_consent(session, subject=subject)
    return create_instance(session, subject=subject, form_code=definition.code, by=by, visit=visit)


_FIRST_CONSENT = select(func.min(Consent.signed_at)).where(Consent.subject_id == Subject.id).scalar_subquery()
_OPEN_CHECKS = (
    select(func.count())
    .where(
        DataQuery.form_id == FormInstance.id,
        DataQuery.origin == "edit_check",
        DataQuery.status != QueryStatus.CLOSED,
    )
    .scalar_subquery()
)
_SAVE_CONTEXT = FORM_AND_SUBJECT.add_columns(_FIRST_CONSENT, _OPEN_CHECKS)
"""A form, its subject, the first consent and the waiting edit-check queries, in one round trip."""
_FORMS = cast(Table, FormInstance.__table__)
_CLAIM = (
    update(_FORMS)
    .where(_FORMS.c.id == bindparam("form_id"), _FORMS.c.version == bindparam("expected"), ~locks.IN_FORCE)
    .values(
        data=bindparam("new_data", type_=_FORMS.c.data.type),
        version=bindparam("new_version"),
        status=bindparam("new_status", type_=_FORMS.c.status.type),
        updated_at=bindparam("new_updated_at", type_=_FORMS.c.updated_at.type),
        updated_by=bindparam("new_updated_by"),
    )
)
_ADD_REVISION = insert(cast(Table, FormRevision.__table__))


def _save_context(session: Session, form_id: int, by: User) -> tuple[FormInstance, Subject, date | None, int]:
    require(by, Action.FORM_EDIT)
    if not isinstance(form_id, int) or isinstance(form_id, bool):
        raise InvalidInput(f"a form id is a number, not {form_id!r}", field="form_id")
    found = session.execute(_SAVE_CONTEXT, {"form_id": form_id}).first()
    if found is None:
        raise NotFound(f"no form with id {form_id}", field="form")
    form, subject, first_consent, open_checks = found
    require_site(by, subject.site_id, what="form", record_id=form_id)
    return form, subject, first_consent.date() if first_consent else None, int(open_checks or 0)


def _stale(session: Session, form: FormInstance, expected: int) -> StaleVersion:
    later = session.scalars(
        select(FormRevision)
        .where(FormRevision.form_id == form.id, FormRevision.version > expected)
        .order_by(FormRevision.version)
    ).all()
    described = "; ".join(
        f"version {revision.version} by {revision.saved_by} at {revision.saved_at:%Y-%m-%d %H:%M:%S} UTC: "
        + ", ".join(f"{name} {old!r} → {new!r}" for name, (old, new) in sorted(revision.changes.items()))
        for revision in later
    )
    return StaleVersion(
        f"form {form.id} ({form.form_code}) is at version {form.version}, not {expected}; "
        f"changed since: {described or 'nothing recorded'}",
        field="expected_version",
    )


def _context(session: Session, subject_id: int, definition: FormDefinition) -> dict[str, Mapping[str, Any]]:
    """The latest saved values of each other form a cross-form check of ``definition`` names."""
    codes = {
        operand.partition(".")[0]
        for check in definition.checks
        for operand in check.operands()
        if "." in operand
    }
    context: dict[str, Mapping[str, Any]] = {}
    for code in codes:
        latest = session.scalars(
            select(FormInstance.data)
            .where(
                FormInstance.subject_id == subject_id,
                FormInstance.form_code == code,
                FormInstance.version > 0,
            )
            .order_by(FormInstance.updated_at.desc(), FormInstance.id.desc())
            .limit(1)
        ).first()
        if latest:
            context[code] = latest
    return context


def _check_procedure_dates(
    consented: date, definition: FormDefinition, changes: Mapping[str, tuple[Any, Any]]
) -> None:
    for name, (_, new) in changes.items():
        if new is None or not definition.field(name).procedure:
            continue
        day = date.fromisoformat(str(new)[:10])
        if day < consented:
            raise InvalidInput(
                f"{definition.field(name).label} {day} is before the subject's consent "
                f"({consented}): no study procedure before consent",
                field=f"{definition.code}.{name}",
            )


def _without_computed(
    definition: FormDefinition, form: FormInstance, coerced: dict[str, StoredValue]
) -> dict[str, StoredValue]:
    """The typed values less computed fields sent unchanged; a computed field typed otherwise is refused."""
    kept = {}
    for name, value in coerced.items():
        field = definition.field(name)
        if field.computed is None:
            kept[name] = value
        elif value != form.data.get(name):
            raise InvalidInput(
                f"{field.label} is computed from the form's other fields, never entered",
                field=f"{definition.code}.{name}",
            )
    return kept


def _derive(
    session: Session, subject_id: int, form_id: int, definition: FormDefinition, values: dict[str, Any]
) -> dict[str, Any]:
    """``values`` with the computed fields filled by their derivations (the subject's other forms read)."""
    names = sorted({field.computed for field in definition.fields if field.computed})
    for name in names:
        found = derivation(name)
        others: dict[str, list[Mapping[str, Any]]] = {code: [] for code in found.reads}
        if found.reads:
            query = (
                select(FormInstance.form_code, FormInstance.data)
                .where(
                    FormInstance.subject_id == subject_id,
                    FormInstance.form_code.in_(found.reads),
                    FormInstance.version > 0,
                    FormInstance.id != form_id,
                )
                .order_by(FormInstance.id)
            )
            for code, data in session.execute(query):
                others[code].append(data)
        own = {field.name for field in definition.fields if field.computed == name}
        try:
            computed = found.compute(values, others)
        except InvalidInput:
            # an input outside what the derivation accepts (a marrow blast percentage of 116): the
            # edit checks raise a query on that field; the derived value stays empty until it is
            # corrected, and the save itself, like any save with a failed check, goes through
            computed = {}
        values = {**values, **{key: computed.get(key) for key in own}}
    return {key: value for key, value in values.items() if value is not None}


def save(
    session: Session,
    *,
    form_id: int,
    values: Mapping[str, object],
    expected_version: int,
    by: User,
    reason: str | None = None,
    complete: bool = False,
    today: date | None = None,
) -> SaveResult:
    """Save ``values`` into the form (a partial update); see the module docstring for the rules.

    All checks and reads come first; the study write lock (shared) is held only for the writes:
    one UPDATE of the form conditional on its version and on no data lock holding (a data lock
    is refused as :func:`ensure_unlocked` words it), the revision, the audit entries.
    """
    form, subject, first_consent, open_checks = _save_context(session, form_id, by)
    definition = form_definition(form.form_code)
    coerced = coerce_values(definition, values)
    if not isinstance(expected_version, int) or isinstance(expected_version, bool) or expected_version < 0:
        raise InvalidInput(f"expected a version number, got {expected_version!r}", field="expected_version")
    if form.status is FormStatus.LOCKED:
        raise Locked(f"form {form.id} is locked", field="form")
    consented = consents.check_consent_for_data(subject, first_consent, correcting=bool(form.data))
    if expected_version != form.version:
        raise _stale(session, form, expected_version)
    coerced = _without_computed(definition, form, coerced)
    merged = {**form.data, **coerced}
    merged = _derive(session, subject.id, form.id, definition, merged)
    computed = {field.name for field in definition.fields if field.computed}
    changes = {
        name: (form.data.get(name), merged.get(name))
        for name in [*coerced, *sorted(computed - coerced.keys())]
        if form.data.get(name) != merged.get(name)
    }
    corrected = sorted(name for name, (old, _) in changes.items() if old is not None and name not in computed)
    why = (reason or "").strip() or None
    if corrected and why is None:
        raise InvalidInput(
            f"a reason for change is required to change saved values ({', '.join(corrected)})", field="reason"
        )
    _check_procedure_dates(consented, definition, changes)
    filled = complete or form.status in FILLED
    status = FormStatus.COMPLETE if filled else FormStatus.IN_PROGRESS
    if not changes and status == form.status:
        return SaveResult(form=form, changes={}, failures=[])
    failures = run_edit_checks(
        definition,
        merged,
        today=today or utcnow().date(),
        context=_context(session, subject.id, definition),
        require_complete=filled,
    )
    waiting = queries.open_automatic(session, form_id=form.id) if open_checks else []
    serialise_writes(session, shared=True)  # a data lock is taken before this save or sees it
    old_status, first_save, now = form.status, expected_version == 0, utcnow()
    claimed = session.connection().execute(
        _CLAIM,
        {
            "form_id": form.id,
            "lock_subject_id": subject.id,
            "expected": expected_version,
            "new_data": merged,
            "new_version": expected_version + 1,
            "new_status": status,
            "new_updated_at": now,
            "new_updated_by": by.username,
        },
    )
    if claimed.rowcount != 1:  # a data lock holds (refused here), or somebody saved first
        ensure_unlocked(session, subject_id=subject.id)
        session.refresh(form)
        raise _stale(session, form, expected_version)
    for attribute, value in (
        ("data", merged),
        ("version", expected_version + 1),
        ("status", status),
        ("updated_at", now),
        ("updated_by", by.username),
    ):
        set_committed_value(form, attribute, value)
    session.connection().execute(
        _ADD_REVISION,
        {
            "form_id": form.id,
            "version": expected_version + 1,
            "changes": {name: [old, new] for name, (old, new) in changes.items()},
            "reason": why,
            "saved_by": by.username,
            "saved_at": now,
        },
    )
    for name, (old, new) in changes.items():
        audit.record(
            session,
            actor=by.username,
            action="update" if old is not None else "enter",
            entity="form",
            entity_id=form.id,
            field=f"{definition.code}.{name}",
            old=old,
            new=new,
            reason=why,
            subject_id=subject.id,
            site_id=subject.site_id,
        )
    if old_status != status:
        audit.record(
            session,
            actor=by.username,
            action="status",
            entity="form",
            entity_id=form.id,
            field="status",
            old=old_status.value,
            new=status.value,
            reason=why if not first_save else None,
            subject_id=subject.id,
            site_id=subject.site_id,
        )
    failing = {(failure.field, failure.check) for failure in failures}
    resolved = [
        queries.resolve_automatic(session, query=query, by=by)
        for query in waiting
        if (query.field, query.check_id) not in failing
    ]
    known = {(query.field, query.check_id) for query in waiting}
    raised = [
        queries.raise_automatic(session, form=form, site_id=subject.site_id, failure=failure, by=by)
        for failure in failures
        if (failure.field, failure.check) not in known
    ]
    if changes:
        _recompute_dependents(session, subject=subject, changed=form, by=by)
    return SaveResult(form=form, changes=changes, failures=failures, raised=raised, resolved=resolved)


_READERS: list[tuple[dict[str, FormDefinition], dict[str, tuple[str, ...]]]] = []
"""The dictionary :func:`_readers` last worked on, and what it found."""


def _readers(definitions: dict[str, FormDefinition]) -> dict[str, tuple[str, ...]]:
    """For each form code, the other forms (in dictionary order) with a computed field that reads it;
    worked out once per dictionary (:func:`form_definitions` answers the same one until an import)."""
    for known, found in _READERS:
        if known is definitions:
            return found
    reads = {
        code: {
            read for field in definition.fields if field.computed for read in derivation(field.computed).reads
        }
        for code, definition in definitions.items()
    }
    found = {
        read: tuple(code for code in definitions if read in reads[code] and code != read)
        for read in definitions
    }
    _READERS[:] = [(definitions, found)]
    return found


def _recompute_dependents(session: Session, *, subject: Subject, changed: FormInstance, by: User) -> None:
    """Derive again the subject's other forms whose computed fields read the changed form's code.

    A response derived from a lesion form follows a correction of that lesion form: each
    recomputed field is a new revision of the dependent form with one audit entry per field.
    """
    definitions = form_definitions()
    for code in _readers(definitions).get(changed.form_code, ()):
        definition = definitions[code]
        dependents = session.scalars(
            select(FormInstance)
            .where(
                FormInstance.subject_id == subject.id,
                FormInstance.form_code == code,
                FormInstance.version > 0,
            )
            .order_by(FormInstance.id)
        ).all()
        for dependent in dependents:
            data = _derive(session, subject.id, dependent.id, definition, dict(dependent.data))
            moved = {
                name: (dependent.data.get(name), data.get(name))
                for name in sorted(set(data) | set(dependent.data))
                if dependent.data.get(name) != data.get(name)
            }
            if not moved:
                continue
            why = f"recomputed: {changed.form_code} form {changed.id} changed"
            now, version = utcnow(), dependent.version + 1
            dependent.data, dependent.version, dependent.updated_at = data, version, now
            dependent.updated_by = by.username
            session.add(
                FormRevision(
                    form_id=dependent.id,
                    version=version,
                    changes={name: [old, new] for name, (old, new) in moved.items()},
                    reason=why,
                    saved_by=by.username,
                    saved_at=now,
                )
            )
            for name, (old, new) in moved.items():
                audit.record(
                    session,
                    actor=by.username,
                    action="update",
                    entity="form",
                    entity_id=dependent.id,
                    field=f"{code}.{name}",
                    old=old,
                    new=new,
                    reason=why,
                    subject_id=subject.id,
                    site_id=subject.site_id,
                )
    session.flush()
