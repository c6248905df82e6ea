"""Write and verify the audit trail.

:func:`record` appends one entry in the caller's transaction: it takes the study write lock
(:func:`celltrial.study.serialise.serialise_writes`), reads the last entry and chains to it,
so that concurrent writers keep one linear chain. Each entry's SHA-256 covers the canonical
JSON of its content and the previous entry's hash; :func:`verify` recomputes the chain and
names the first entry that does not match (21 CFR 11.10(e): secure, computer-generated,
time-stamped audit trails that do not obscure previous values).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from celltrial.errors import InvalidInput
from celltrial.study.audit.models import GENESIS_HASH, AuditEntry
from celltrial.study.serialise import serialise_writes
from celltrial.study.types import utcnow

__all__ = [
    "REASON_REQUIRED",
    "VerifyReport",
    "canonical_json",
    "entry_hash",
    "history",
    "record",
    "verify",
]

REASON_REQUIRED = frozenset({"update", "delete"})
"""Actions that change data already saved: they need a reason for change."""

_LIMITS = {"actor": 64, "action": 64, "entity": 64, "entity_id": 64, "field": 128}


def _to_json(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    raise TypeError(f"{type(value).__name__} cannot be written to the audit trail")


def canonical_json(value: object) -> str:
    """``value`` as canonical JSON: sorted keys, no spaces, UTF-8 characters kept."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_to_json)


_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def entry_hash(
    id: int,
    at: datetime,
    actor: str,
    action: str,
    entity: str,
    entity_id: str,
    field: str | None,
    old_value: str | None,
    new_value: str | None,
    reason: str | None,
    subject_id: int | None,
    site_id: int | None,
    previous_hash: str,
) -> str:
    """SHA-256 (hex) of an entry's canonical content, ``previous_hash`` included."""
    stamp = at.astimezone(UTC).isoformat(timespec="microseconds")
    content = [id, stamp, actor, action, entity, entity_id, field, old_value, new_value, reason]
    content += [subject_id, site_id, previous_hash]
    return hashlib.sha256(_encode(content).encode()).hexdigest()


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
    if len(value) > _LIMITS[name]:
        raise InvalidInput(
            f"the {name} {value[:20]!r}... is longer than {_LIMITS[name]} characters", field=name
        )


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

    ``action`` ``update`` and ``delete`` change saved data and need a ``reason``.
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
        raise InvalidInput(
            f"a reason for change is required to {action} {entity} {entity_id}", field="reason"
        )
    old_value, new_value = _value(old, "old"), _value(new, "new")
    serialise_writes(session)
    session.flush()
    last = session.execute(
        select(AuditEntry.id, AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)
    ).first()
    number, previous = (last[0] + 1, last[1]) if last else (1, GENESIS_HASH)
    entry = AuditEntry(
        id=number,
        at=utcnow(),
        actor=actor,
        action=action,
        entity=entity,
        entity_id=entity_id,
        field=field,
        old_value=old_value,
        new_value=new_value,
        reason=reason,
        subject_id=subject_id,
        site_id=site_id,
        previous_hash=previous,
    )
    entry.hash = entry_hash(
        number, entry.at, actor, action, entity, entity_id, field, old_value, new_value, reason,
        subject_id, site_id, previous,
    )  # fmt: skip
    session.add(entry)
    session.flush()
    return entry


@dataclass(frozen=True)
class VerifyReport:
    """The result of recomputing the chain: ``ok``, entries checked, the first broken entry."""

    ok: bool
    count: int
    first_broken_id: int | None = None
    problem: str | None = None
    last_hash: str = GENESIS_HASH

    def __str__(self) -> str:
        if self.ok:
            return f"OK, {self.count} entries"
        return f"entry {self.first_broken_id}: {self.problem}"


_COLUMNS = [AuditEntry.__table__.c[name] for name in (
    "id", "at", "actor", "action", "entity", "entity_id", "field", "old_value", "new_value", "reason",
    "subject_id", "site_id", "previous_hash", "hash",
)]  # fmt: skip


def check_chain(rows: Iterable[Sequence[Any]]) -> VerifyReport:
    """Verify entries (tuples in :data:`_COLUMNS` order, by id) as they stream past."""
    sha256 = hashlib.sha256
    previous = GENESIS_HASH
    expected = 1
    for row in rows:
        number, at, stored_previous, stored = row[0], row[1], row[12], row[13]
        if number != expected:
            problem = f"expected entry {expected} next, found entry {number} (entries are missing)"
            return VerifyReport(False, expected - 1, expected, problem, previous)
        if stored_previous != previous:
            problem = (
                f"its previous hash {stored_previous} differs from the hash of entry {number - 1} "
                f"({previous}): an entry was removed or re-chained"
            )
            return VerifyReport(False, expected - 1, number, problem, previous)
        content = list(row[:13])
        content[1] = at.astimezone(UTC).isoformat(timespec="microseconds")
        if sha256(_encode(content).encode()).hexdigest() != stored:
            problem = (
                f"its content does not match its hash (stored {stored}, recomputed "
                f"{entry_hash(*row[:13])}): the entry was changed after it was written"
            )
            return VerifyReport(False, expected - 1, number, problem, previous)
        previous = stored
        expected += 1
    return VerifyReport(True, expected - 1, last_hash=previous)


def verify(session: Session, *, batch: int = 20_000) -> VerifyReport:
    """Recompute the whole chain, streaming the entries in id order."""
    result = session.execute(
        select(*_COLUMNS).order_by(AuditEntry.id), execution_options={"yield_per": batch}
    )
    try:
        return check_chain(result)
    finally:
        result.close()


def count(session: Session) -> int:
    """How many entries the audit trail holds."""
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
    if subject_id is not None:
        query = query.where(AuditEntry.subject_id == subject_id)
    if entity is not None:
        query = query.where(AuditEntry.entity == entity)
    if entity_id is not None:
        query = query.where(AuditEntry.entity_id == str(entity_id))
    return list(session.scalars(query))
