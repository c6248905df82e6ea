"""Informed consent form (ICF) versions and the consents given on them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Date, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from celltrial.database import Base
from celltrial.study.types import UtcDateTime, utcnow

__all__ = ["Consent", "ConsentRead", "IcfVersion", "IcfVersionRead", "Signer"]

Signer = Literal["subject", "guardian"]


class IcfVersion(Base):
    """A version of the consent form (with its assent form for minors) approved by the ethics committee.

    The current version is the one approved last; subjects consented on an earlier one must
    re-consent before they are enrolled.
    """

    __tablename__ = "icf_version"
    __table_args__ = (UniqueConstraint("study_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("study.id"), index=True)
    version: Mapped[str] = mapped_column(String(32))
    approved_on: Mapped[date] = mapped_column(Date)
    summary: Mapped[str] = mapped_column(Text, default="")
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))


class Consent(Base):
    """A consent: on which ICF version, when, by whom (subject or guardian, with assent), withdrawn or not."""

    __tablename__ = "consent"

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subject.id"), index=True)
    icf_version_id: Mapped[int] = mapped_column(ForeignKey("icf_version.id"))
    signed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    signer: Mapped[str] = mapped_column(String(16))
    guardian_name: Mapped[str | None] = mapped_column(String(200))
    guardian_relationship: Mapped[str | None] = mapped_column(String(64))
    assent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    withdrawn_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    withdrawal_reason: Mapped[str | None] = mapped_column(Text)

    @property
    def withdrawn(self) -> bool:
        return self.withdrawn_at is not None


class IcfVersionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    version: str
    approved_on: date
    summary: str


class ConsentRead(BaseModel):
    """A consent as shown (the guardian's name only to roles that may see identifying data)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    subject_id: int
    icf_version: str
    signed_at: datetime
    signer: Signer
    guardian_relationship: str | None
    assent_at: datetime | None
    withdrawn_at: datetime | None
    withdrawal_reason: str | None
    current: bool
