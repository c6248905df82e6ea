"""Column types shared by the study tables.

:class:`UtcDateTime` stores an instant in UTC on every database (``timestamp with time zone``
on PostgreSQL, naive UTC text on SQLite) and always hands back an aware UTC ``datetime``, so
the audit trail and the signatures read the same on both. :func:`utcnow` reads the study clock
(:mod:`celltrial.study.clock`: the real UTC clock, or the simulated one the simulator sets).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from celltrial.errors import InvalidInput
from celltrial.study.clock import now

__all__ = ["JsonValue", "UtcDateTime", "utcnow"]


def utcnow() -> datetime:
    """The current instant of the study clock, aware, in UTC, to the microsecond."""
    return now()


class UtcDateTime(TypeDecorator[datetime]):
    """An aware instant, stored and returned in UTC; a naive value is refused."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise InvalidInput(f"the time {value.isoformat()} has no time zone (UTC expected)", field="at")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class JsonValue(TypeDecorator[Any]):
    """One JSON value (a number, text, a list...), read back exactly as written on every database.

    SQLite gives a ``JSON`` column numeric affinity, so a bare ``130.0`` would come back as
    ``130``; the value is therefore stored as a one-element JSON array. (A bare value stored
    before is read as it is.)
    """

    impl = JSON
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        return None if value is None else [value]

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        return value[0] if isinstance(value, list) and len(value) == 1 else value
