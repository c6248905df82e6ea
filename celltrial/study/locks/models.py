"""A data lock on one subject, or on the whole study when ``subject_id`` is empty."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from celltrial.database import Base
from celltrial.study.types import UtcDateTime

__all__ = ["DataLock"]


class DataLock(Base):
    """A lock and, once lifted, who unlocked it, when and why. Active while ``unlocked_at`` is empty."""

    __tablename__ = "data_lock"

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_id: Mapped[int | None] = mapped_column(Integer, index=True)
    locked_at: Mapped[datetime] = mapped_column(UtcDateTime)
    locked_by: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(Text)
    unlocked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    unlocked_by: Mapped[str | None] = mapped_column(String(64))
    unlock_reason: Mapped[str | None] = mapped_column(Text)

    @property
    def active(self) -> bool:
        """Whether the lock still holds."""
        return self.unlocked_at is None

    @property
    def scope(self) -> str:
        """``study`` or ``subject <id>``."""
        return "study" if self.subject_id is None else f"subject {self.subject_id}"
