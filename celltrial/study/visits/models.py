"""A subject's visits: scheduled from the protocol, or unscheduled."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict
from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from celltrial.database import Base
from celltrial.study.types import UtcDateTime, utcnow

__all__ = ["Visit", "VisitRead"]


class Visit(Base):
    """One visit: its code, target date and window (empty until known), and when it took place."""

    __tablename__ = "visit"
    __table_args__ = (UniqueConstraint("subject_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subject.id"), index=True)
    code: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(100))
    anchor: Mapped[str | None] = mapped_column(String(16))
    day: Mapped[int | None] = mapped_column(Integer)
    target_date: Mapped[date | None] = mapped_column(Date)
    window_start: Mapped[date | None] = mapped_column(Date)
    window_end: Mapped[date | None] = mapped_column(Date)
    provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    unscheduled: Mapped[bool] = mapped_column(Boolean, default=False)
    reason: Mapped[str | None] = mapped_column(Text)
    forms: Mapped[list[str]] = mapped_column(JSON)
    actual_date: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class VisitRead(BaseModel):
    """A visit as shown, with its flags on the day asked about."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    subject_id: int
    code: str
    name: str
    anchor: str | None
    day: int | None
    target_date: date | None
    window_start: date | None
    window_end: date | None
    provisional: bool
    unscheduled: bool
    reason: str | None
    forms: list[str]
    actual_date: date | None
    out_of_window: bool = False
    missed: bool = False
    overdue_days: int = 0
