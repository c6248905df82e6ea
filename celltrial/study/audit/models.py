"""One audit entry: who changed what, when, from which value to which, why; hash-chained."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from celltrial.database import Base
from celltrial.study.audit.chain import GENESIS_HASH
from celltrial.study.types import UtcDateTime

__all__ = ["GENESIS_HASH", "AuditChainHead", "AuditEntry", "AuditEntryRead"]


class AuditEntry(Base):
    """An append-only record of one event; ``hash`` covers its content and ``previous_hash``.

    Entries are numbered 1, 2, 3... without gaps; ``old_value`` and ``new_value`` hold
    canonical JSON text (NULL when there is no value). The table has no foreign keys so that
    nothing can cascade into it.
    """

    __tablename__ = "audit_entry"
    __table_args__ = (Index("ix_audit_entry_entity", "entity", "entity_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    entity: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[str] = mapped_column(String(64))
    field: Mapped[str | None] = mapped_column(String(128))
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)
    subject_id: Mapped[int | None] = mapped_column(Integer, index=True)
    site_id: Mapped[int | None] = mapped_column(Integer)
    previous_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)

    def __repr__(self) -> str:
        return f"AuditEntry({self.id}, {self.action!r}, {self.entity}/{self.entity_id})"


class AuditEntryRead(BaseModel):
    """An audit entry as the API and the CLI show it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    actor: str
    action: str
    entity: str
    entity_id: str
    field: str | None
    old_value: str | None
    new_value: str | None
    reason: str | None
    subject_id: int | None
    site_id: int | None
    hash: str


class AuditChainHead(Base):
    """The end of the audit chain: the last entry's number and hash (one row, ``id`` 1).

    Appending locks this row (``SELECT ... FOR UPDATE`` on PostgreSQL) for the few statements
    that number and chain the transaction's entries, and moves it forward; ``audit verify``
    checks that the trail still reaches it, so entries cut from the end are detected too.
    """

    __tablename__ = "audit_chain_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_id: Mapped[int] = mapped_column(Integer)
    last_hash: Mapped[str] = mapped_column(String(64))
