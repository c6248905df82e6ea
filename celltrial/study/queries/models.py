"""Data queries on a form field, and each query's own history."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Enum, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from celltrial.database import Base
from celltrial.study.queries.lifecycle import QueryStatus
from celltrial.study.types import UtcDateTime, utcnow

__all__ = ["DataQuery", "QueryEvent", "QueryEventRead", "QueryRead"]


def _values(items: list[StrEnum]) -> list[str]:
    return [item.value for item in items]


class DataQuery(Base):
    """A question about a form field, raised by an edit check (``origin`` edit_check) or a person."""

    __tablename__ = "data_query"

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subject.id"), index=True)
    site_id: Mapped[int] = mapped_column(Integer, index=True)
    form_id: Mapped[int] = mapped_column(ForeignKey("form_instance.id"), index=True)
    field: Mapped[str | None] = mapped_column(String(64))
    origin: Mapped[str] = mapped_column(String(16))
    check_id: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[QueryStatus] = mapped_column(
        Enum(QueryStatus, native_enum=False, length=16, values_callable=_values),
        index=True,
    )
    text: Mapped[str] = mapped_column(Text)
    raised_by: Mapped[str] = mapped_column(String(64))
    raised_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class QueryEvent(Base):
    """One step of a query's life: raised, answered, closed, re-opened, resolved by a save."""

    __tablename__ = "query_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    query_id: Mapped[int] = mapped_column(ForeignKey("data_query.id"), index=True)
    action: Mapped[str] = mapped_column(String(16))
    status_after: Mapped[str] = mapped_column(String(16))
    text: Mapped[str | None] = mapped_column(Text)
    by: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class QueryEventRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    action: str
    status_after: str
    text: str | None
    by: str
    at: datetime


class QueryRead(BaseModel):
    """A query as shown, with its history oldest first."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    subject_id: int
    form_id: int
    field: str | None
    origin: str
    check_id: str | None
    status: QueryStatus
    text: str
    raised_by: str
    raised_at: datetime
    history: list[QueryEventRead] = []
