"""Form instances (a CRF filled for one subject and visit), their revisions and SDV flags."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import JSON, Boolean, Enum, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from celltrial.database import Base
from celltrial.study.types import JsonValue, UtcDateTime, utcnow

__all__ = ["FormInstance", "FormRead", "FormRevision", "FormStatus", "SourceVerification"]


def _values(items: list[StrEnum]) -> list[str]:
    return [item.value for item in items]


class FormStatus(StrEnum):
    """Where a form stands: filled, checked against source (SDV), signed, locked."""

    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    COMPLETE = "complete"
    VERIFIED = "verified"
    SIGNED = "signed"
    LOCKED = "locked"


class FormInstance(Base):
    """One CRF of one subject (at one visit, or a log entry): its values and version.

    ``version`` counts saves (0: never saved) and is the optimistic lock: a save names the
    version it started from. ``definition_version`` is the data dictionary version it was
    entered on. ``consent_withdrawn`` marks data collected before the subject withdrew consent.
    """

    __tablename__ = "form_instance"

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subject.id"), index=True)
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visit.id"), index=True)
    form_code: Mapped[str] = mapped_column(String(64))
    definition_version: Mapped[int] = mapped_column(Integer)
    sequence: Mapped[int] = mapped_column(Integer, default=1)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    version: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[FormStatus] = mapped_column(
        Enum(FormStatus, native_enum=False, length=16, values_callable=_values)
    )
    consent_withdrawn: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_by: Mapped[str | None] = mapped_column(String(64))


class FormRevision(Base):
    """One save of a form: the version it made, what changed (field: [old, new]), who, when, why."""

    __tablename__ = "form_revision"
    __table_args__ = (UniqueConstraint("form_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    form_id: Mapped[int] = mapped_column(ForeignKey("form_instance.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    changes: Mapped[dict[str, Any]] = mapped_column(JSON)
    reason: Mapped[str | None] = mapped_column(Text)
    saved_by: Mapped[str] = mapped_column(String(64))
    saved_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class SourceVerification(Base):
    """A monitor's source-data verification of one field, bound to the value verified.

    The flag holds while the field still has ``verified_value``; a later change voids it.
    """

    __tablename__ = "source_verification"
    __table_args__ = (UniqueConstraint("form_id", "field"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    form_id: Mapped[int] = mapped_column(ForeignKey("form_instance.id"), index=True)
    field: Mapped[str] = mapped_column(String(64))
    verified_value: Mapped[Any] = mapped_column(JsonValue, nullable=True)
    verified_by: Mapped[str] = mapped_column(String(64))
    verified_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    comment: Mapped[str | None] = mapped_column(Text)


class FormRead(BaseModel):
    """A form as shown: values, status, version, and which fields are source-verified."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    subject_id: int
    visit_id: int | None
    form_code: str
    definition_version: int
    sequence: int
    data: dict[str, Any]
    version: int
    status: FormStatus
    consent_withdrawn: bool
    updated_at: datetime
    updated_by: str | None
    verified_fields: list[str] = []
    open_queries: int = 0
    signatures: list[str] = []
    """Each signature with printed name, time (UTC) and meaning; INVALIDATED when the data changed since."""
