"""Safety records: adverse events, daily CRS/ICANS assessments, SAEs and their follow-ups, DLT assessments.

Grades of CRS and ICANS are computed by :mod:`celltrial.clinical.crs` and
:mod:`celltrial.clinical.icans` from the stored inputs and saved beside them with what set them
(``*_drivers``); nobody types them. Adverse-event lists (seriousness criteria, actions, AESIs) are
JSON arrays of the codes of :mod:`celltrial.analysis.safety_events`.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, CheckConstraint, Date, Enum, Float, ForeignKey, Integer, String, Text
from sqlalchemy import UniqueConstraint as Unique
from sqlalchemy.orm import Mapped, mapped_column

from celltrial.analysis.safety_events import Outcome, Relatedness
from celltrial.clinical.crs import Hypotension, Hypoxia
from celltrial.clinical.icans import CerebralEdema, Consciousness, Seizure
from celltrial.database import Base
from celltrial.study.types import UtcDateTime, utcnow

__all__ = ["AdverseEvent", "CrsIcansAssessment", "DltAssessment", "SaeFollowUp", "SeriousAdverseEvent"]


def _values(items: list[StrEnum]) -> list[str]:
    return [item.value for item in items]


def _enum(kind: type[StrEnum]) -> Enum:
    return Enum(kind, native_enum=False, length=32, values_callable=_values)


class AdverseEvent(Base):
    """An adverse event graded by CTCAE (the version is stored with the grade)."""

    __tablename__ = "adverse_event"
    __table_args__ = (CheckConstraint("grade BETWEEN 1 AND 5", name="grade_range"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subject.id"), index=True)
    term: Mapped[str] = mapped_column(String(200))
    meddra_code: Mapped[str | None] = mapped_column(String(8))
    soc: Mapped[str] = mapped_column(String(100))
    grade: Mapped[int] = mapped_column(Integer)
    ctcae_version: Mapped[str] = mapped_column(String(8))
    onset_date: Mapped[date] = mapped_column(Date)
    resolution_date: Mapped[date | None] = mapped_column(Date)
    serious: Mapped[bool] = mapped_column(Boolean)
    seriousness: Mapped[list[str]] = mapped_column(JSON)
    related_to_cart: Mapped[Relatedness] = mapped_column(_enum(Relatedness))
    related_to_lymphodepletion: Mapped[Relatedness] = mapped_column(_enum(Relatedness))
    action_taken: Mapped[list[str]] = mapped_column(JSON)
    outcome: Mapped[Outcome] = mapped_column(_enum(Outcome))
    aesi: Mapped[list[str]] = mapped_column(JSON)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)

    def __repr__(self) -> str:
        return f"AdverseEvent({self.id}, {self.term!r}, grade {self.grade})"


class CrsIcansAssessment(Base):
    """One day's CRS and ICANS assessment: the calculators' inputs and the grades they computed."""

    __tablename__ = "crs_icans_assessment"
    __table_args__ = (
        Unique("subject_id", "assessment_date"),
        CheckConstraint("crs_grade BETWEEN 0 AND 5", name="crs_grade_range"),
        CheckConstraint("icans_grade BETWEEN 0 AND 5", name="icans_grade_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subject.id"), index=True)
    assessment_date: Mapped[date] = mapped_column(Date)
    symptomatic: Mapped[bool] = mapped_column(Boolean, default=False)
    temperature_c: Mapped[float] = mapped_column(Float)
    fever_masked: Mapped[bool] = mapped_column(Boolean)
    hypotension: Mapped[Hypotension] = mapped_column(_enum(Hypotension))
    hypoxia: Mapped[Hypoxia] = mapped_column(_enum(Hypoxia))
    death_due_to_crs: Mapped[bool] = mapped_column(Boolean)
    ice_score: Mapped[int | None] = mapped_column(Integer)
    capd_score: Mapped[int | None] = mapped_column(Integer)
    consciousness: Mapped[Consciousness] = mapped_column(_enum(Consciousness))
    seizure: Mapped[Seizure] = mapped_column(_enum(Seizure))
    motor_weakness: Mapped[bool] = mapped_column(Boolean)
    cerebral_edema: Mapped[CerebralEdema] = mapped_column(_enum(CerebralEdema))
    death_due_to_icans: Mapped[bool] = mapped_column(Boolean)
    tocilizumab_given: Mapped[bool] = mapped_column(Boolean)
    corticosteroids_given: Mapped[bool] = mapped_column(Boolean)
    crs_grade: Mapped[int] = mapped_column(Integer)
    crs_drivers: Mapped[list[str]] = mapped_column(JSON)
    icans_grade: Mapped[int] = mapped_column(Integer)
    icans_drivers: Mapped[list[str]] = mapped_column(JSON)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class SeriousAdverseEvent(Base):
    """The reporting record of a serious adverse event: awareness, reports, expectedness, SUSAR."""

    __tablename__ = "serious_adverse_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    adverse_event_id: Mapped[int] = mapped_column(ForeignKey("adverse_event.id"), unique=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subject.id"), index=True)
    site_awareness_at: Mapped[datetime] = mapped_column(UtcDateTime)
    reported_to_sponsor_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    expected: Mapped[bool | None] = mapped_column(Boolean)
    expectedness_assessed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    susar_reported_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class SaeFollowUp(Base):
    """New information about an SAE: when the site received it and when it reached the sponsor."""

    __tablename__ = "sae_follow_up"
    __table_args__ = (Unique("sae_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sae_id: Mapped[int] = mapped_column(ForeignKey("serious_adverse_event.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)
    reported_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    summary: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class DltAssessment(Base):
    """A subject's automatic DLT evaluation and the investigator's confirmation of it."""

    __tablename__ = "dlt_assessment"

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subject.id"), unique=True)
    status: Mapped[str] = mapped_column(String(16))
    as_of: Mapped[date] = mapped_column(Date)
    findings: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    pending: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    evaluated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    investigator_dlt: Mapped[bool | None] = mapped_column(Boolean)
    investigator_comment: Mapped[str | None] = mapped_column(Text)
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    confirmed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)
