"""Back up and restore a whole celltrial database as portable JSON lines.

The file's first line describes the backup (format, version, migrations, row counts); each
following line is one row ``{"table": ..., "row": {...}}``, tables in dependency order, rows
in primary-key order. Values are written by column type (instants as ISO 8601 UTC, decimals
as text, bytes as base64), so a backup taken on SQLite restores on PostgreSQL and the other
way round, and restoring then backing up again gives the same rows: the audit chain included.
The backup reads one consistent snapshot of the database.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Connection, Table, func, insert, inspect, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.types import TypeDecorator

import celltrial.models  # noqa: F401  (every table in Base.metadata)
from celltrial.database import Base, upgrade
from celltrial.errors import Conflict, InvalidInput

__all__ = ["FORMAT", "BackupSummary", "backup", "current_heads", "restore"]

FORMAT = "celltrial-backup"
VERSION = 1
_BATCH = 1_000


@dataclass(frozen=True)
class BackupSummary:
    """What a backup or restore moved: rows per table, and the migrations of the schema."""

    tables: dict[str, int]
    migrations: list[str]

    @property
    def rows(self) -> int:
        """Rows in all tables."""
        return sum(self.tables.values())


Codec = tuple[Callable[[Any], Any], Callable[[Any], Any]]
_IDENTITY: Codec = (lambda v: v, lambda v: v)
_CODECS: dict[type, Codec] = {
    datetime: (datetime.isoformat, datetime.fromisoformat),
    date: (date.isoformat, date.fromisoformat),
    time: (time.isoformat, time.fromisoformat),
    Decimal: (str, Decimal),
    bytes: (lambda v: base64.b64encode(v).decode("ascii"), base64.b64decode),
}


def _codec(table: Table, name: str) -> Codec:
    kind_of = table.c[name].type
    while isinstance(kind_of, TypeDecorator):
        kind_of = kind_of.impl_instance
    try:
        python_type = kind_of.python_type
    except NotImplementedError:
        return _IDENTITY
    for kind, codec in _CODECS.items():
        if issubclass(python_type, kind) and not (kind is date and issubclass(python_type, datetime)):
            return codec
    if hasattr(python_type, "__members__"):  # an Enum column: write its value
        return (lambda v: getattr(v, "value", v), lambda v: v)
    return _IDENTITY


def _encoders(table: Table) -> list[tuple[str, Callable[[Any], Any]]]:
    return [(column.name, _codec(table, column.name)[0]) for column in table.columns]


def current_heads(connection: Connection) -> list[str]:
    """The migrations the database is at."""
    from alembic.runtime.migration import MigrationContext

    return sorted(MigrationContext.configure(connection).get_current_heads())


def _tables() -> list[Table]:
    return list(Base.metadata.sorted_tables)


def _derived_tables(connection: Connection) -> set[str]:
    """SQLite virtual tables (full-text indexes) and their shadow tables: rebuilt by triggers on restore."""
    if connection.dialect.name != "sqlite":
        return set()
    query = text("SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE 'CREATE VIRTUAL TABLE%'")
    virtual = [str(name) for name in connection.scalars(query)]
    names = set(inspect(connection).get_table_names())
    return {name for name in names for v in virtual if name == v or name.startswith(f"{v}_")}


def _check_every_table_is_known(connection: Connection) -> None:
    present = set(inspect(connection).get_table_names()) - {"alembic_version"} - _derived_tables(connection)
    unknown = sorted(present - {table.name for table in _tables()})
    if unknown:
        raise Conflict(
            f"the database has tables celltrial does not know ({', '.join(unknown)}); "
            "a backup would leave them out",
            field="database",
        )


def _snapshot(engine: Engine) -> Connection:
    if engine.dialect.name == "postgresql":
        connection = engine.connect().execution_options(isolation_level="REPEATABLE READ")
        connection.execute(text("SET TRANSACTION READ ONLY"))
        return connection
    connection = engine.connect()
    connection.exec_driver_sql("BEGIN")  # one WAL snapshot for every table
    return connection


def _rows(connection: Connection, table: Table) -> Iterator[dict[str, Any]]:
    encoders = _encoders(table)
    query = select(table).order_by(*table.primary_key.columns)
    for row in connection.execute(query, execution_options={"yield_per": _BATCH}):
        yield {
            name: (None if value is None else encode(value))
            for (name, encode), value in zip(encoders, row, strict=True)
        }


def backup(engine: Engine, path: Path) -> BackupSummary:
    """Write every row of every table to ``path`` (JSON lines), from one consistent snapshot."""
    with _snapshot(engine) as connection:
        _check_every_table_is_known(connection)
        migrations = current_heads(connection)
        if not migrations:
            raise InvalidInput(
                "the database has no celltrial schema (run `celltrial db upgrade`)", field="database"
            )
        counts = {
            table.name: int(connection.scalar(select(func.count()).select_from(table)) or 0)
            for table in _tables()
        }
        header = {"format": FORMAT, "version": VERSION, "migrations": migrations, "tables": counts}
        partial = path.with_name(path.name + ".partial")
        with partial.open("w", encoding="utf-8") as out:
            out.write(json.dumps(header) + "\n")
            for table in _tables():
                for row in _rows(connection, table):
                    out.write(json.dumps({"table": table.name, "row": row}, ensure_ascii=False) + "\n")
        partial.replace(path)
        connection.rollback()
    return BackupSummary(counts, migrations)


def _read_header(handle: IO[str], path: Path) -> dict[str, Any]:
    first = handle.readline()
    try:
        header = json.loads(first)
    except json.JSONDecodeError:
        header = None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise InvalidInput(f"{path} is not a celltrial backup (line 1)", field="file")
    if header.get("version") != VERSION:
        raise InvalidInput(
            f"{path} is backup format version {header.get('version')}, expected {VERSION}", field="file"
        )
    return header


def restore(engine: Engine, path: Path) -> BackupSummary:
    """Load a backup into an empty database (migrated here first); everything or nothing."""
    if not path.is_file():
        raise InvalidInput(f"no backup file at {path}", field="file")
    upgrade(engine)
    tables = {table.name: table for table in _tables()}
    with path.open(encoding="utf-8") as handle, engine.begin() as connection:
        header = _read_header(handle, path)
        heads = current_heads(connection)
        if sorted(header.get("migrations", [])) != heads:
            raise Conflict(
                f"the backup was taken at migrations {header.get('migrations')} but this database is at "
                f"{heads}; restore it with the celltrial version that made it",
                field="file",
            )
        filled = [
            name
            for name, table in tables.items()
            if connection.scalar(select(func.count()).select_from(table))
        ]
        if filled:
            raise Conflict(
                f"the database is not empty (rows in {', '.join(filled)}); restore needs an empty one",
                field="database",
            )
        counts = _load(connection, handle, tables, path)
        expected = {name: int(n) for name, n in header.get("tables", {}).items()}
        if {name: n for name, n in counts.items() if n} != {name: n for name, n in expected.items() if n}:
            raise InvalidInput(
                f"{path} is incomplete: header announces {expected}, file holds {counts}", field="file"
            )
        _reset_sequences(connection, list(tables.values()))
    return BackupSummary(counts, heads)


def _load(connection: Connection, handle: IO[str], tables: dict[str, Table], path: Path) -> dict[str, int]:
    counts = dict.fromkeys(tables, 0)
    decoders: dict[str, list[tuple[str, Callable[[Any], Any]]]] = {}
    pending: list[dict[str, Any]] = []
    current: str | None = None
    for number, line in enumerate(handle, start=2):
        try:
            item = json.loads(line)
            name, row = item["table"], item["row"]
        except (json.JSONDecodeError, KeyError, TypeError):
            raise InvalidInput(f"{path} line {number} is not a backup row", field="file") from None
        if name not in tables:
            raise InvalidInput(f"{path} line {number}: unknown table {name!r}", field="file")
        if name != current:
            _flush(connection, tables, current, pending)
            current, pending = name, []
            decoders.setdefault(
                name, [(c.name, _codec(tables[name], c.name)[1]) for c in tables[name].columns]
            )
        try:
            pending.append(
                {col: (None if row.get(col) is None else decode(row[col])) for col, decode in decoders[name]}
            )
        except (ValueError, TypeError) as error:
            raise InvalidInput(f"{path} line {number}: {error}", field="file") from None
        counts[name] += 1
        if len(pending) >= _BATCH:
            _flush(connection, tables, current, pending)
            pending = []
    _flush(connection, tables, current, pending)
    return counts


def _flush(
    connection: Connection, tables: dict[str, Table], name: str | None, rows: list[dict[str, Any]]
) -> None:
    if name is not None and rows:
        connection.execute(insert(tables[name]), rows)


def _reset_sequences(connection: Connection, tables: list[Table]) -> None:
    """PostgreSQL: move each serial key's sequence past the restored rows."""
    if connection.dialect.name != "postgresql":
        return
    for table in tables:
        for column in table.primary_key.columns:
            sequence = connection.scalar(
                text("SELECT pg_get_serial_sequence(:t, :c)"), {"t": table.name, "c": column.name}
            )
            if sequence:
                largest = f'SELECT MAX("{column.name}") FROM "{table.name}"'
                connection.execute(
                    text(f"SELECT setval(:s, COALESCE(({largest}), 0) + 1, false)"), {"s": sequence}
                )
