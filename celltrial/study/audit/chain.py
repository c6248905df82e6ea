"""The audit trail's hash chain, pure: canonical content, SHA-256, and the streaming check.

Each entry's hash is the SHA-256 of the canonical JSON array of its content::

    [id, at, actor, action, entity, entity_id, field, old_value, new_value, reason,
     subject_id, site_id, previous_hash]

with ``at`` written ``YYYY-MM-DD HH:MM:SS.ffffff`` in UTC, and ``previous_hash`` the hash of
the entry before (64 zeros for the first). Changing, removing or re-ordering any entry breaks
the chain at that entry.
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

__all__ = [
    "GENESIS_HASH",
    "STAMP_FORMAT",
    "VerifyReport",
    "canonical_json",
    "check_chain",
    "entry_hash",
    "stamp",
]

GENESIS_HASH = "0" * 64
"""The ``previous_hash`` of the first entry."""

STAMP_FORMAT = "%Y-%m-%d %H:%M:%S.%f"
"""How an entry's time enters its hash (UTC, microseconds)."""


def _to_json(value: Any) -> Any:
    if isinstance(value, datetime | date):
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


def _array_encoder() -> Any:
    """The stdlib's C JSON encoder, called directly, for flat arrays of strings, integers and nulls."""
    from json import encoder

    make = getattr(encoder, "c_make_encoder", None)

    def refuse(value: object) -> None:
        raise TypeError(f"{type(value).__name__} is not part of an audit entry")

    if make is None:  # pragma: no cover - CPython always has it
        plain = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
        return lambda content, _level: [plain(content)]
    return make(None, refuse, encoder.encode_basestring, None, ":", ",", False, False, False)


_ENCODE = _array_encoder()


def _digest(content: Sequence[Any]) -> str:
    return hashlib.sha256("".join(_ENCODE(content, 0)).encode()).hexdigest()


def stamp(at: datetime) -> str:
    """An aware time as it enters the hash."""
    return at.astimezone(UTC).strftime(STAMP_FORMAT)


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
    content = (id, stamp(at), actor, action, entity, entity_id, field, old_value, new_value, reason)
    return _digest((*content, subject_id, site_id, previous_hash))


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


def check_chain(rows: Iterable[Sequence[Any]], *, head: tuple[int, str] | None = None) -> VerifyReport:
    """Verify entries streaming past in id order.

    Each row is the 13 hashed values (``at`` already a stamp string, see :func:`stamp`)
    followed by the stored hash. ``head``: the chain head's last entry number and hash, read
    before the rows; the trail must reach it with that hash (entries cut from the end are
    caught). Entries appended after the head was read are checked like the others.
    """
    sha256 = hashlib.sha256
    encode = _ENCODE
    previous = GENESIS_HASH
    expected = 1
    head_id, head_hash = head if head is not None else (0, GENESIS_HASH)
    for row in rows:
        if row[0] != expected:
            problem = f"expected entry {expected} next, found entry {row[0]} (entries are missing)"
            return VerifyReport(False, expected - 1, expected, problem, previous)
        if row[12] != previous:
            problem = (
                f"its previous hash {row[12]} differs from the hash of entry {expected - 1} "
                f"({previous}): an entry was removed or re-chained"
            )
            return VerifyReport(False, expected - 1, expected, problem, previous)
        content = row[:13]
        if sha256("".join(encode(content, 0)).encode()).hexdigest() != row[13]:
            problem = (
                f"its content does not match its hash (stored {row[13]}, recomputed {_digest(content)}): "
                "the entry was changed after it was written"
            )
            return VerifyReport(False, expected - 1, expected, problem, previous)
        if expected == head_id and row[13] != head_hash:
            problem = f"its hash differs from the chain head's ({head_hash}): the trail's end was rewritten"
            return VerifyReport(False, expected - 1, expected, problem, previous)
        previous = row[13]
        expected += 1
    if expected <= head_id:
        problem = (
            f"the trail ends at entry {expected - 1} but the chain head records entry {head_id}: "
            "entries were removed from the end"
        )
        return VerifyReport(False, expected - 1, expected, problem, previous)
    return VerifyReport(True, expected - 1, last_hash=previous)
