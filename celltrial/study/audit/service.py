"""Write and verify the audit trail.

:func:`record` adds one entry to the caller's transaction, stamped with the study clock: the
entries are numbered, chained and inserted when the transaction commits, under a lock held
only for that append (:mod:`celltrial.study.audit.sealing`), so that concurrent writers keep
one linear chain in commit order (see :mod:`celltrial.study.audit.chain`) and nothing is
audited that did not commit. Reading the trail in the same transaction seals its entries first.
:func:`verify` recomputes the chain, streaming, and names the first entry that does not match,
or the end of the trail short of the chain head (21 CFR 11.10(e): secure, computer-generated,
time-stamped audit trails that do not obscure previous values).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from celltrial.errors import InvalidInput
from celltrial.study.audit import sealing
from celltrial.study.audit.chain import (
    VerifyReport,
    canonical_json,
    check_chain,
    entry_hash,
)
from celltrial.study.audit.models import AuditChainHead, AuditEntry, AuditEntryRead
from celltrial.study.clock import now
from celltrial.study.permissions import IDENTIFYING_FIELDS, Action, allowed, require
from celltrial.study.scope import subject_site
from celltrial.study.serialise import serialise_writes
from celltrial.study.users.models import User

__all__ = [
    "REASON_REQUIRED",
    "VerifyReport",
    "canonical_json",
    "count",
    "entry_hash",
    "history",
    "record",
    "subject_history",
    "verify",
]

REASON_REQUIRED = frozenset({"update", "delete"})
"""Actions that change data already saved: they need a reason for change."""

_LIMITS = {"actor": 64, "action": 64, "entity": 64, "entity_id": 64, "field": 128}


def _value(value: object, name: str) -> str | None:
    if value is None:
        return None
    try:
        return canonical_json(value)
    except (TypeError, ValueError) as error:
        raise InvalidInput(f"the {name} value cannot be audited: {error}", field=name) from None


def _check(name: str, value: str | None, *, required: bool) -> None:
    if value is None or not value.strip():
        if required:
            raise InvalidInput(f"the audit entry needs a {name.replace('_', ' ')}", field=name)
        return
    limit = _LIMITS[name]
    if len(value) > limit:
        raise InvalidInput(f"the {name} {value[:20]!r}... is longer than {limit} characters", field=name)


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    entity: str,
    entity_id: str | int,
    field: str | None = None,
    old: object = None,
    new: object = None,
    reason: str | None = None,
    subject_id: int | None = None,
    site_id: int | None = None,
) -> AuditEntry:
    """Append an entry to the audit trail in the caller's transaction and return it.

    ``action`` ``update`` and ``delete`` change saved data and need a ``reason``. The entry gets
    its number and hashes when the transaction commits (or when the trail is read before).
    """
    entity_id = str(entity_id)
    for name, value, required in (
        ("actor", actor, True),
        ("action", action, True),
        ("entity", entity, True),
        ("entity_id", entity_id, True),
        ("field", field, False),
    ):
        _check(name, value, required=required)
    if action in REASON_REQUIRED and (reason is None or not reason.strip()):
        problem = f"a reason for change is required to {action} {entity} {entity_id}"
        raise InvalidInput(problem, field="reason")
    old_value, new_value = _value(old, "old"), _value(new, "new")
    if session.connection().dialect.name == "sqlite":
        serialise_writes(session)  # SQLite's single writer: become it now, not at commit
    values = {
        "at": now(),
        "actor": actor,
        "action": action,
        "entity": entity,
        "entity_id": entity_id,
        "field": field,
        "old_value": old_value,
        "new_value": new_value,
        "reason": reason,
        "subject_id": subject_id,
        "site_id": site_id,
    }
    entry = AuditEntry(**values)
    sealing.hold(session, values, entry)
    return entry


_HASHED = "actor, action, entity, entity_id, field, old_value, new_value, reason, subject_id, site_id"
_STAMP = {
    # ``at`` exactly as it enters the hash (chain.STAMP_FORMAT), produced without parsing a datetime
    "postgresql": "to_char(timezone('UTC', at), 'YYYY-MM-DD HH24:MI:SS.US')",
    "sqlite": "at",  # SQLAlchemy stores UTC on SQLite as 'YYYY-MM-DD HH:MM:SS.ffffff'
}


def _entries(session: Session, batch: int) -> Iterator[Sequence[Any]]:
    """Every entry in id order as plain driver tuples, streamed (a server-side cursor on PostgreSQL)."""
    connection = session.connection()
    dialect = connection.dialect.name
    sql = f"SELECT id, {_STAMP[dialect]}, {_HASHED}, previous_hash, hash FROM audit_entry ORDER BY id"
    driver: Any = connection.connection.driver_connection
    cursor = driver.cursor(name="celltrial_audit_verify") if dialect == "postgresql" else driver.cursor()
    try:
        if dialect == "postgresql":
            cursor.itersize = batch
        cursor.execute(sql)
        yield from cursor
    finally:
        cursor.close()


def verify(session: Session, *, batch: int = 50_000) -> VerifyReport:
    """Recompute the whole chain, streaming the entries in id order, and check it reaches the head."""
    sealing.seal(session)
    head = session.execute(select(AuditChainHead.last_id, AuditChainHead.last_hash)).first()
    return check_chain(_entries(session, batch), head=(int(head[0]), str(head[1])) if head else None)


def count(session: Session) -> int:
    """How many entries the audit trail holds."""
    sealing.seal(session)
    return int(session.scalar(select(func.count()).select_from(AuditEntry)) or 0)


def history(
    session: Session,
    *,
    subject_id: int | None = None,
    entity: str | None = None,
    entity_id: str | None = None,
) -> list[AuditEntry]:
    """The entries about a subject, or about one record (``entity`` and ``entity_id``), oldest first."""
    query = select(AuditEntry).order_by(AuditEntry.id)
    if subject_id is None and entity is None:
        raise InvalidInput("name a subject or an entity to show its history", field="subject")
    sealing.seal(session)
    if subject_id is not None:
        query = query.where(AuditEntry.subject_id == subject_id)
    if entity is not None:
        query = query.where(AuditEntry.entity == entity)
    if entity_id is not None:
        query = query.where(AuditEntry.entity_id == str(entity_id))
    return list(session.scalars(query))


REDACTED = '"[identifying data hidden]"'


def subject_history(session: Session, *, subject_id: int, by: User) -> list[AuditEntryRead]:
    """A subject's history for ``by``: audit permission, their site only, identifying values hidden
    from roles that may not see them."""
    require(by, Action.AUDIT_VIEW, site_id=subject_site(session, subject_id))
    identified = allowed(by, Action.IDENTIFYING_DATA_VIEW)
    shown = []
    for entry in history(session, subject_id=subject_id):
        read = AuditEntryRead.model_validate(entry)
        if not identified and entry.field in IDENTIFYING_FIELDS:
            read = read.model_copy(update={
                "old_value": None if read.old_value is None else REDACTED,
                "new_value": None if read.new_value is None else REDACTED,
            })  # fmt: skip
        shown.append(read)
    return shown
