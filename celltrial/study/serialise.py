"""Serialise the writers that must see each other's commits (audit chain, enrolment cap).

:func:`serialise_writes` makes the caller's transaction the only writer of the study until it
commits or rolls back: PostgreSQL takes a transaction-level advisory lock
(``pg_advisory_xact_lock``); SQLite starts the transaction with ``BEGIN IMMEDIATE`` (or is
already the single writer because it has written). Reads made after the call see every
commit of the writers before it.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

__all__ = ["STUDY_WRITE_LOCK", "serialise_writes"]

STUDY_WRITE_LOCK = 0x63656C6C74726961
"""The advisory-lock key of study writes on PostgreSQL (``celltria`` in ASCII)."""


def serialise_writes(session: Session, *, key: int = STUDY_WRITE_LOCK) -> None:
    """Hold the study's write lock until the session's transaction ends (re-entrant)."""
    connection = session.connection()
    dialect = connection.dialect.name
    if dialect == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
    elif dialect == "sqlite":
        driver = connection.connection.driver_connection
        if driver is not None and not driver.in_transaction:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
