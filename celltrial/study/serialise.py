"""Serialise the writers that must see each other's commits (data locks, enrolment, custody).

:func:`serialise_writes` makes the caller's transaction the only writer of the study until it
commits or rolls back: PostgreSQL takes a transaction-level advisory lock
(``pg_advisory_xact_lock``); SQLite starts the transaction with ``BEGIN IMMEDIATE`` (or is
already the single writer because it has written). Reads made after the call see every
commit of the writers before it.

With ``shared=True`` (PostgreSQL: ``pg_advisory_xact_lock_shared``) the transaction only keeps
the exclusive writers out: shared holders run side by side, e.g. CRF saves, which must not
overlap a data lock being taken but need not wait for each other. (The audit chain has its own
short lock, taken at commit: :mod:`celltrial.study.audit.sealing`.)
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session, SessionTransaction

__all__ = ["STUDY_WRITE_LOCK", "holds_write_lock", "serialise_writes"]

_TAKE = text("SELECT pg_advisory_xact_lock(:key)")
_TAKE_SHARED = text("SELECT pg_advisory_xact_lock_shared(:key)")

STUDY_WRITE_LOCK = 0x63656C6C74726961
"""The advisory-lock key of study writes on PostgreSQL (``celltria`` in ASCII)."""


def _innermost(session: Session) -> SessionTransaction | None:
    return session.get_nested_transaction() or session.get_transaction()


def _held(session: Session, key: int, *, shared: bool = True) -> bool:
    """Whether the transaction holds the lock: in either mode, or (``shared=False``) exclusively."""
    modes = ("exclusive", "shared") if shared else ("exclusive",)
    for mode in modes:
        holder = session.info.get(("celltrial.write_lock", key, mode))
        transaction = _innermost(session)
        while transaction is not None:
            if transaction is holder:
                return True
            transaction = transaction.parent
    return False


def serialise_writes(session: Session, *, key: int = STUDY_WRITE_LOCK, shared: bool = False) -> None:
    """Hold the study's write lock until the session's transaction ends (re-entrant).

    ``shared``: only keep exclusive holders out (PostgreSQL; SQLite has one writer anyway).
    """
    connection = session.connection()
    dialect = connection.dialect.name
    if dialect == "postgresql":
        if not _held(session, key, shared=shared):
            connection.execute(_TAKE_SHARED if shared else _TAKE, {"key": key})
            mode = "shared" if shared else "exclusive"
            session.info[("celltrial.write_lock", key, mode)] = _innermost(session)
    elif dialect == "sqlite":
        driver = connection.connection.driver_connection
        if driver is not None and not driver.in_transaction:
            connection.exec_driver_sql("BEGIN IMMEDIATE")


def holds_write_lock(session: Session, *, key: int = STUDY_WRITE_LOCK) -> bool:
    """Whether the session's transaction holds the study's write lock, in either mode (so another
    session taking it exclusively would wait on it)."""
    if session.get_transaction() is None:
        return False
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        driver = connection.connection.driver_connection
        return bool(driver is not None and driver.in_transaction)
    return _held(session, key)
