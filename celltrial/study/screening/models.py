"""Screening attempts with their frozen eligibility result, and investigators' judgments."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict
from sqlalchemy import JSON, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from celltrial.database import Base
from celltrial.study.types import UtcDateTime, utcnow

__all__ = ["Decision", "EligibilityJudgment", "JudgmentRead", "ScreeningAttempt", "ScreeningRead"]

Decision = Literal["eligible", "ineligible", "incomplete"]


class ScreeningAttempt(Base):
    """One screening of a subject: the eligibility engine's result as it was, never changed.

    ``snapshot`` is the engine's JSON result (decision, screening date, every criterion with
    verdict, reason and evidence) and ``rule_set_version`` the rules that produced it.
    ``decision`` is the decision after the investigator's judgments of ``needs_review`` criteria.
    """

    __tablename__ = "screening_attempt"
    __table_args__ = (UniqueConstraint("subject_id", "attempt"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subject.id"), index=True)
    attempt: Mapped[int] = mapped_column(Integer)
    screening_date: Mapped[date] = mapped_column(Date)
    rule_set_version: Mapped[str] = mapped_column(String(64))
    engine_decision: Mapped[str] = mapped_column(String(16))
    decision: Mapped[str] = mapped_column(String(16))
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)
    snapshot_hash: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))

    def __repr__(self) -> str:
        return f"ScreeningAttempt(subject {self.subject_id} #{self.attempt}, {self.decision})"


class EligibilityJudgment(Base):
    """An investigator's answer for a criterion the engine left to them (``needs_review``)."""

    __tablename__ = "eligibility_judgment"
    __table_args__ = (UniqueConstraint("screening_id", "criterion_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    screening_id: Mapped[int] = mapped_column(ForeignKey("screening_attempt.id"), index=True)
    criterion_id: Mapped[str] = mapped_column(String(16))
    answer: Mapped[str] = mapped_column(String(16))
    comment: Mapped[str] = mapped_column(Text)
    judged_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    judged_by_name: Mapped[str] = mapped_column(String(200))
    judged_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class JudgmentRead(BaseModel):
    """A judgment as shown: criterion, answer, comment, who and when."""

    model_config = ConfigDict(from_attributes=True)

    criterion_id: str
    answer: str
    comment: str
    judged_by_name: str
    judged_at: datetime


class ScreeningRead(BaseModel):
    """A screening attempt as shown: its decisions, the snapshot and the judgments."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    subject_id: int
    attempt: int
    screening_date: date
    rule_set_version: str
    engine_decision: str
    decision: str
    snapshot: dict[str, Any]
    recorded_at: datetime
    judgments: list[JudgmentRead] = []
    screen_fail_reasons: list[str] = []
