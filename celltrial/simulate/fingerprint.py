"""A fingerprint of a database's study data: the SHA-256 of a canonical export of every table.

Rows are read in primary-key order and written as canonical JSON. What differs between two runs
of the same simulation is left out: the wall-clock times at which rows were written (any
date-time at or after ``written_from``, the moment the run began, since every simulated time
lies before today), the salted password hashes, and the audit entries' hashes (which cover those
times; :func:`celltrial.study.audit.service.verify` checks them). Two simulations with the same
seed, scenario and data cut have the same fingerprint, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine

from celltrial.database import Base
from celltrial.study.audit.service import canonical_json

__all__ = ["WRITTEN", "canonical_rows", "fingerprint"]

WRITTEN = "(written at run time)"
_LEFT_OUT = frozenset(
    {("user_account", "password_hash"), ("audit_entry", "hash"), ("audit_entry", "previous_hash")}
)


def _value(value: Any, written_from: datetime) -> Any:
    if isinstance(value, datetime):
        return WRITTEN if value >= written_from else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, float):
        return round(value, 9)
    return value


def canonical_rows(engine: Engine, *, written_from: datetime) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every row of every celltrial table as (table, values), tables by name, rows by primary key."""
    with engine.connect() as connection:
        for name in sorted(Base.metadata.tables):
            table = Base.metadata.tables[name]
            columns = [column for column in table.columns if (name, column.name) not in _LEFT_OUT]
            query = select(*columns).order_by(*table.primary_key.columns)
            for row in connection.execute(query):
                yield (
                    name,
                    {
                        column.name: _value(value, written_from)
                        for column, value in zip(columns, row, strict=True)
                    },
                )


def fingerprint(engine: Engine, *, written_from: datetime) -> str:
    """SHA-256 (hex) of the canonical export of the database's study data."""
    digest = hashlib.sha256()
    for name, values in canonical_rows(engine, written_from=written_from):
        digest.update(canonical_json([name, values]).encode())
        digest.update(b"\n")
    return digest.hexdigest()
