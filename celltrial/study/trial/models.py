"""The study as the database holds it: one row per trial, with its overall status."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Enum, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from celltrial.database import Base
from celltrial.protocol.status import StudyStatus
from celltrial.study.types import UtcDateTime, utcnow

__all__ = ["Trial", "TrialRead"]


def _values(items: list[StrEnum]) -> list[str]:
    return [item.value for item in items]


class Trial(Base):
    """A trial run in this database, by its registry id.

    Enrolment locks this row (``SELECT ... FOR NO KEY UPDATE`` on PostgreSQL, a write on
    SQLite) so that the enrolment cap holds under concurrent attempts; ``enrolled_count`` is
    kept under that lock.
    """

    __tablename__ = "study"

    id: Mapped[int] = mapped_column(primary_key=True)
    nct_id: Mapped[str] = mapped_column(String(16), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    status: Mapped[StudyStatus] = mapped_column(
        Enum(StudyStatus, native_enum=False, length=32, values_callable=_values)
    )
    status_changed_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    enrolled_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"Trial({self.nct_id!r}, {self.status!s})"


class TrialRead(BaseModel):
    """A study as the API and the CLI show it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    nct_id: str
    title: str
    status: StudyStatus
    status_changed_at: datetime
    enrolled_count: int
