"""Number, chain and insert a transaction's audit entries when it commits, under a short lock.

:func:`celltrial.study.audit.service.record` checks an entry and stamps its time; the entry
then waits in the session (:func:`hold`) until the transaction commits. Right before the commit
(the session's ``before_commit`` event) :func:`seal`:

1. flushes the transaction's other changes, so that its row locks are taken before the chain's
   (a transaction holding the chain never waits for anything else: no deadlock);
2. locks the chain head (:class:`~celltrial.study.audit.models.AuditChainHead`:
   ``SELECT ... FOR UPDATE`` on PostgreSQL; on SQLite the transaction is already the single
   writer, from its first audited change);
3. numbers the entries after the head, hashes each over its content and the previous hash,
   inserts them and moves the head forward.

On PostgreSQL a transaction with one entry (a single field's save) does steps 2 and 3
optimistically: it reads the head without a lock, chains to it, and one statement moves the
head only if it is still that entry (taking the row lock) and inserts the entry; if another
writer moved the head meanwhile, nothing was written and it chains again (after a few lost
tries it locks first).

So the chain is strictly linear, in commit order, without gaps, and its lock is held only from
step 2 to the end of the commit, not while the transaction reads, checks and writes its data.

On PostgreSQL the transaction commits without waiting for its WAL flush (``synchronous_commit``
off for this transaction only), so the chain lock is released as soon as the commit record is
written; then, outside the lock and before the caller goes on, a one-statement transaction
commits synchronously, which flushes the WAL up to and past this commit (concurrent writers
share WAL flushes: group commit). A save is thus acknowledged only once it is durable, exactly
as with a synchronous commit; a crash can lose only commits never acknowledged, and because the
WAL is written in order, never an entry without the entries before it.

Entries recorded inside a savepoint that rolls back are dropped; entries sealed early inside a
savepoint (by :func:`seal` called from a read of the trail) that rolls back wait to be sealed
again. A read of the trail in a writing transaction seals early and so holds the chain until
the commit: do it last.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Connection, Table, bindparam, event, func, insert, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, SessionTransaction

from celltrial.study.audit.chain import GENESIS_HASH, entry_hash
from celltrial.study.audit.models import AuditChainHead, AuditEntry

__all__ = ["FLUSH_WAL", "hold", "seal", "waiting"]

_PENDING = "celltrial.audit.pending"
_FLUSH = "celltrial.audit.flush"
_ENTRIES = cast(Table, AuditEntry.__table__)
_HEAD = cast(Table, AuditChainHead.__table__)
_LOCK_HEAD = select(_HEAD.c.last_id, _HEAD.c.last_hash).where(_HEAD.c.id == 1).with_for_update()
_LOCK_HEAD_COMMIT_UNFLUSHED = _LOCK_HEAD.add_columns(
    func.set_config("synchronous_commit", "off", True)  # this transaction only (SET LOCAL)
)
_MOVE_HEAD = (
    update(_HEAD).where(_HEAD.c.id == 1).values(last_id=bindparam("to_id"), last_hash=bindparam("to_hash"))
)
_INSERT = insert(_ENTRIES)
_COLUMNS = [column.name for column in _ENTRIES.columns]
_INSERT_AND_MOVE = text(
    "WITH moved_head AS (UPDATE audit_chain_head SET last_id = :id, last_hash = :hash WHERE id = 1) "
    f"INSERT INTO audit_entry ({', '.join(_COLUMNS)}) VALUES ({', '.join(':' + name for name in _COLUMNS)})"
).bindparams(*(bindparam(column.name, type_=column.type) for column in _ENTRIES.columns))
"""PostgreSQL: one entry and the head's move in one statement (a data-modifying CTE runs once)."""
_PG = postgresql.dialect()  # type: ignore[no-untyped-call]
_APPEND_IF_HEAD_IS = text(
    "WITH moved_head AS (UPDATE audit_chain_head SET last_id = :id, last_hash = :hash "
    "WHERE id = 1 AND last_id = :after RETURNING 1) "
    f"INSERT INTO audit_entry ({', '.join(_COLUMNS)}) SELECT "
    + ", ".join(f"CAST(:{column.name} AS {column.type.compile(dialect=_PG)})" for column in _ENTRIES.columns)
    + " WHERE EXISTS (SELECT 1 FROM moved_head)"
).bindparams(*(bindparam(column.name, type_=column.type) for column in _ENTRIES.columns))
"""PostgreSQL: append one entry if the head is still entry ``after``, moving the head, in one statement.

The UPDATE locks the head row (waiting for a writer that holds it, then seeing its commit);
if the head moved meanwhile, nothing is written and the caller chains again."""
_READ_HEAD_COMMIT_UNFLUSHED = select(
    _HEAD.c.last_id, _HEAD.c.last_hash, func.set_config("synchronous_commit", "off", True)
).where(_HEAD.c.id == 1)
_OPTIMISTIC_TRIES = 3
_START_HEAD = {
    "postgresql": postgresql.insert(_HEAD).on_conflict_do_nothing(),
    "sqlite": sqlite.insert(_HEAD).on_conflict_do_nothing(),
}
FLUSH_WAL = "SELECT pg_logical_emit_message(true, 'celltrial.audit', '')"
"""A write (one WAL record) whose synchronous commit flushes the WAL past every earlier commit."""


@dataclass
class _Waiting:
    values: dict[str, Any]
    entry: AuditEntry
    recorded_in: SessionTransaction | None
    sealed_in: SessionTransaction | None = None


def _innermost(session: Session) -> SessionTransaction | None:
    return session.get_nested_transaction() or session.get_transaction()


def _within(transaction: SessionTransaction | None, ancestor: SessionTransaction) -> bool:
    while transaction is not None:
        if transaction is ancestor:
            return True
        transaction = transaction.parent
    return False


def hold(session: Session, values: dict[str, Any], entry: AuditEntry) -> None:
    """Keep an entry (its content without id and hashes) until the transaction commits."""
    session.info.setdefault(_PENDING, []).append(_Waiting(values, entry, _innermost(session)))


def waiting(session: Session) -> int:
    """How many of the transaction's entries are not numbered and chained yet."""
    return sum(1 for item in session.info.get(_PENDING, ()) if item.sealed_in is None)


def _lock_head(connection: Connection, *, unflushed: bool) -> tuple[int, str]:
    """Lock the chain head and read it (``unflushed``: and let this commit skip its WAL flush)."""
    query = _LOCK_HEAD_COMMIT_UNFLUSHED if unflushed else _LOCK_HEAD
    head = connection.execute(query).first()
    if head is None:  # the trail's first append: the head row is born here, once
        start = {"id": 1, "last_id": 0, "last_hash": GENESIS_HASH}
        connection.execute(_START_HEAD[connection.dialect.name], start)
        head = connection.execute(query).first()
        assert head is not None
    return int(head[0]), str(head[1])


def _chain(items: list[_Waiting], last: int, previous: str) -> list[dict[str, Any]]:
    rows = []
    for item in items:
        last += 1
        row = {**item.values, "id": last, "previous_hash": previous}
        row["hash"] = previous = entry_hash(**row)
        rows.append(row)
    return rows


def _append_one_optimistically(connection: Connection, item: _Waiting) -> dict[str, Any] | None:
    """PostgreSQL, one entry: read the head unlocked, chain to it, append if it has not moved.

    The chain is then locked only from that one statement to the end of the commit. After a few
    tries lost to other writers, None: the caller locks the head first.
    """
    for _ in range(_OPTIMISTIC_TRIES):
        head = connection.execute(_READ_HEAD_COMMIT_UNFLUSHED).first()
        if head is None:
            return None
        row = _chain([item], int(head[0]), str(head[1]))[0]
        if connection.execute(_APPEND_IF_HEAD_IS, {**row, "after": int(head[0])}).rowcount == 1:
            return row
    return None


def seal(session: Session) -> None:
    """Number, chain and insert the transaction's waiting entries now (they hold the chain until commit)."""
    items = [item for item in session.info.get(_PENDING, ()) if item.sealed_in is None]
    if not items:
        return
    session.flush()
    connection = session.connection()
    unflushed = connection.dialect.name == "postgresql"
    appended = _append_one_optimistically(connection, items[0]) if unflushed and len(items) == 1 else None
    if appended is not None:
        rows = [appended]
    else:
        rows = _chain(items, *_lock_head(connection, unflushed=unflushed))
        if unflushed and len(rows) == 1:  # one round trip under the lock
            connection.execute(_INSERT_AND_MOVE, rows[0])
        else:
            connection.execute(_INSERT, rows)
            connection.execute(_MOVE_HEAD, {"to_id": rows[-1]["id"], "to_hash": rows[-1]["hash"]})
    if unflushed:
        session.info[_FLUSH] = connection
    transaction = _innermost(session)
    for item, row in zip(items, rows, strict=True):
        item.sealed_in = transaction
        entry = item.entry
        entry.id, entry.previous_hash, entry.hash = row["id"], row["previous_hash"], row["hash"]


@event.listens_for(Session, "before_commit")
def _seal_before_commit(session: Session) -> None:
    if _PENDING in session.info and not session.in_nested_transaction():
        seal(session)


@event.listens_for(Session, "after_commit")
def _flush_after_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return
    connection: Connection | None = session.info.pop(_FLUSH, None)
    if connection is None:
        return
    driver: Any = connection.connection.driver_connection
    autocommit = driver.autocommit
    driver.autocommit = True
    try:
        driver.execute(FLUSH_WAL)
    finally:
        driver.autocommit = autocommit


@event.listens_for(Session, "after_transaction_end")
def _forget_at_the_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_PENDING, None)
        session.info.pop(_FLUSH, None)


@event.listens_for(Session, "after_soft_rollback")
def _forget_rolled_back(session: Session, previous_transaction: SessionTransaction) -> None:
    items: list[_Waiting] | None = session.info.get(_PENDING)
    if not items or previous_transaction.parent is None:
        return
    kept = []
    for item in items:
        if _within(item.recorded_in, previous_transaction):
            continue
        if _within(item.sealed_in, previous_transaction):
            item.sealed_in = None
        kept.append(item)
    session.info[_PENDING] = kept
