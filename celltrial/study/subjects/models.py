"""A subject: a patient screened for the trial, from screening number to subject number.

Identifying data (initials, date of birth) sit on this row only; :class:`SubjectRead` leaves
them out and :class:`SubjectIdentified` adds them, for the roles allowed to see them.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Date, Enum, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from celltrial.database import Base
from celltrial.study.subjects.status import SubjectStatus
from celltrial.study.types import UtcDateTime, utcnow

__all__ = ["Sex", "Subject", "SubjectIdentified", "SubjectRead"]

Sex = Literal["female", "male"]


def _values(items: list[StrEnum]) -> list[str]:
    return [item.value for item in items]


class Subject(Base):
    """A screened patient. ``subject_number`` is assigned at enrolment (site-prefixed sequence)."""

    __tablename__ = "subject"

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id"), index=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), index=True)
    screening_number: Mapped[str] = mapped_column(String(32), unique=True)
    subject_number: Mapped[str | None] = mapped_column(String(32), unique=True)
    status: Mapped[SubjectStatus] = mapped_column(
        Enum(SubjectStatus, native_enum=False, length=32, values_callable=_values),
        index=True,
    )
    date_of_birth: Mapped[date] = mapped_column(Date)
    sex: Mapped[str] = mapped_column(String(8))
    initials: Mapped[str] = mapped_column(String(4))
    enrolment_date: Mapped[date | None] = mapped_column(Date)
    enrolled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    infusion_date: Mapped[date | None] = mapped_column(Date)
    consent_withdrawn_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    status_changed_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))

    @property
    def label(self) -> str:
        """How people call the subject: the subject number once enrolled, else the screening number."""
        return self.subject_number or self.screening_number

    def age_on(self, day: date) -> int:
        """Age in whole years on ``day``."""
        years = day.year - self.date_of_birth.year
        return years - ((day.month, day.day) < (self.date_of_birth.month, self.date_of_birth.day))

    def __repr__(self) -> str:
        return f"Subject({self.label!r}, {self.status!s})"


class SubjectRead(BaseModel):
    """A subject without identifying data: what the sponsor, statistician and DSMB see."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    site_id: int
    screening_number: str
    subject_number: str | None
    status: SubjectStatus
    sex: str
    enrolment_date: date | None
    infusion_date: date | None
    consent_withdrawn_at: datetime | None


class SubjectIdentified(SubjectRead):
    """A subject with the identifying data the site and the monitor need."""

    initials: str
    date_of_birth: date
