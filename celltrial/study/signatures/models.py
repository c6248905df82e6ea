"""An electronic signature: who, printed name, when (UTC), meaning, and the hash of what was signed."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Enum, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from celltrial.database import Base
from celltrial.study.types import UtcDateTime

__all__ = ["Meaning", "Signature"]


class Meaning(StrEnum):
    """The meaning of a signature (21 CFR 11.50(a)(3))."""

    AUTHORED = "authored"
    REVIEWED = "reviewed"
    APPROVED = "approved"


class Signature(Base):
    """A signature of one record (``entity``/``entity_id``), bound to its content by SHA-256.

    The printed name and role are copied at signing time, so the signature keeps showing who
    signed even if the user's name changes later (21 CFR 11.50(a)(1), 11.70).
    """

    __tablename__ = "signature"
    __table_args__ = (Index("ix_signature_entity", "entity", "entity_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entity: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[str] = mapped_column(String(64))
    subject_id: Mapped[int | None] = mapped_column(Integer, index=True)
    site_id: Mapped[int | None] = mapped_column(Integer)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    username: Mapped[str] = mapped_column(String(64))
    printed_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32))
    meaning: Mapped[Meaning] = mapped_column(
        Enum(Meaning, native_enum=False, length=16, values_callable=lambda ms: [m.value for m in ms])
    )
    signed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    content_hash: Mapped[str] = mapped_column(String(64))

    def __repr__(self) -> str:
        return f"Signature({self.entity}/{self.entity_id}, {self.username!r}, {self.meaning!s})"
