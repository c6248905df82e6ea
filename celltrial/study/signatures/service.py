"""Sign a record electronically and tell whether a signature still holds.

21 CFR 11.50: the signature shows the printed name, the date and time (UTC) and its meaning.
11.70: it is bound to the record by the SHA-256 of the record's canonical content, so a later
change shows the signature *invalidated* until the record is signed again. 11.200(a): signing
asks for the password again.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from celltrial.errors import InvalidInput
from celltrial.study.audit import service as audit
from celltrial.study.audit.service import canonical_json
from celltrial.study.permissions import Action, require
from celltrial.study.signatures.models import Meaning, Signature
from celltrial.study.types import utcnow
from celltrial.study.users import service as users
from celltrial.study.users.models import User
from celltrial.study.users.passwords import PasswordPolicy

__all__ = ["SignatureStatus", "content_hash", "sign", "signature_status", "signatures_of"]


def content_hash(content: dict[str, Any]) -> str:
    """SHA-256 (hex) of the canonical JSON of ``content``."""
    try:
        return hashlib.sha256(canonical_json(content).encode()).hexdigest()
    except (TypeError, ValueError) as error:
        raise InvalidInput(f"the signed content cannot be hashed: {error}", field="content") from None


def sign(
    session: Session,
    *,
    user: User,
    password: str,
    entity: str,
    entity_id: str | int,
    content: dict[str, Any],
    meaning: Literal["authored", "reviewed", "approved"] | Meaning,
    subject_id: int | None = None,
    site_id: int | None = None,
    action: Action = Action.FORM_SIGN,
    policy: PasswordPolicy | None = None,
) -> Signature:
    """Sign ``entity``/``entity_id`` whose current content is ``content``, after checking the password."""
    require(user, action, site_id=site_id)
    try:
        meaning = Meaning(meaning)
    except ValueError:
        known = ", ".join(m.value for m in Meaning)
        problem = f"unknown signature meaning {meaning!r} (known: {known})"
        raise InvalidInput(problem, field="meaning") from None
    if not isinstance(content, dict) or not content:
        raise InvalidInput("the signed content must be a non-empty mapping", field="content")
    entity_id = str(entity_id)
    if not entity.strip() or not entity_id.strip():
        raise InvalidInput("name the record to sign (entity and id)", field="entity")
    digest = content_hash(content)
    users.reauthenticate(session, user=user, password=password, purpose="signature", policy=policy)
    signature = Signature(
        entity=entity,
        entity_id=entity_id,
        subject_id=subject_id,
        site_id=site_id,
        user_id=user.id,
        username=user.username,
        printed_name=user.full_name,
        role=str(user.role),
        meaning=meaning,
        signed_at=utcnow(),
        content_hash=digest,
    )
    session.add(signature)
    session.flush()
    audit.record(
        session,
        actor=user.username,
        action="sign",
        entity=entity,
        entity_id=entity_id,
        new={"signature": signature.id, "meaning": meaning, "printed_name": user.full_name, "hash": digest},
        subject_id=subject_id,
        site_id=site_id,
    )
    return signature


@dataclass(frozen=True)
class SignatureStatus:
    """A signature and whether the record still has the content that was signed."""

    signature: Signature
    valid: bool

    @property
    def state(self) -> str:
        """``valid`` or ``invalidated``."""
        return "valid" if self.valid else "invalidated"

    def __str__(self) -> str:
        s = self.signature
        when = s.signed_at.strftime("%Y-%m-%d %H:%M:%S UTC")
        shown = f"{s.printed_name} ({s.role}), {when}, {s.meaning}"
        return shown if self.valid else f"{shown} — INVALIDATED: the record changed after signing"


_SIGNATURES_OF = (
    select(Signature)
    .where(Signature.entity == bindparam("entity"), Signature.entity_id == bindparam("entity_id"))
    .order_by(Signature.id)
)


def signatures_of(session: Session, *, entity: str, entity_id: str | int) -> list[Signature]:
    """Every signature of a record, oldest first."""
    return list(session.scalars(_SIGNATURES_OF, {"entity": entity, "entity_id": str(entity_id)}))


def signature_status(
    session: Session, *, entity: str, entity_id: str | int, content: dict[str, Any]
) -> list[SignatureStatus]:
    """Every signature of a record, each valid only if ``content`` is still what was signed."""
    digest = content_hash(content)
    return [
        SignatureStatus(signature, signature.content_hash == digest)
        for signature in signatures_of(session, entity=entity, entity_id=entity_id)
    ]
