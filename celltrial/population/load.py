"""Load OMOP CDM tables (Parquet or CSV files, a directory or a zip) into a PostgreSQL schema.

``load_omop(directory, url)`` creates the schema named by ``?schema=`` (default ``public``), and
for every OMOP table found (see :func:`celltrial.population.source.open_source`) a table with
the file's columns, then streams the rows with ``COPY ... FROM STDIN`` as CSV in batches, so a
large measurement table never sits in memory whole.
"""

from __future__ import annotations

import io
import shutil
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import psycopg
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.dataset as ds
from psycopg import sql

from celltrial.errors import InvalidInput, ServiceUnavailable
from celltrial.population.source import _table_files, _unzip

__all__ = ["load_omop"]

_BATCH = 200_000


def _postgres_type(kind: pa.DataType) -> str:
    if pa.types.is_boolean(kind):
        return "boolean"
    if pa.types.is_integer(kind):
        return "bigint"
    if pa.types.is_floating(kind):
        return "double precision"
    if pa.types.is_decimal(kind):
        return f"numeric({kind.precision}, {kind.scale})"
    if pa.types.is_date(kind):
        return "date"
    if pa.types.is_timestamp(kind):
        return "timestamp"
    return "text"


def connection_parts(url: str) -> tuple[str, str]:
    """(libpq connection URL, schema) from ``postgresql[+psycopg]://...?schema=name``."""
    parsed = urlparse(url)
    if parsed.scheme not in ("postgresql", "postgres", "postgresql+psycopg"):
        raise InvalidInput("expected a postgresql://user@host:port/database?schema=name URL", field="--into")
    schema = parse_qs(parsed.query).get("schema", ["public"])[0]
    plain = parsed._replace(scheme="postgresql", query="").geturl()
    return plain, schema


def load_omop(
    location: Path, url: str, *, progress: Callable[[str, int], None] | None = None
) -> dict[str, int]:
    """Copy every OMOP table under ``location`` into the schema of ``url``; returns rows per table."""
    if not location.exists():
        raise InvalidInput("no such file or directory", field=str(location))
    plain, schema = connection_parts(url)
    work: Path | None = None
    try:
        if location.is_file() and zipfile.is_zipfile(location):
            work = Path(tempfile.mkdtemp(prefix="celltrial-load-"))
            _unzip(location, work)
            location = work
        files = _table_files(location)
        if not files:
            raise InvalidInput(
                "no OMOP table files (person.parquet, measurement.csv, ...)", field=str(location)
            )
        try:
            connection = psycopg.connect(plain, autocommit=True)
        except psycopg.OperationalError as error:
            first = str(error).strip().splitlines()[0] if str(error).strip() else "connection refused"
            raise ServiceUnavailable(f"cannot connect to PostgreSQL: {first}", field="--into") from None
        with connection:
            connection.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
            return {
                name: _load_table(connection, schema, name, path, progress) for name, path in files.items()
            }
    finally:
        if work is not None:
            shutil.rmtree(work, ignore_errors=True)


def _load_table(
    connection: psycopg.Connection[tuple[object, ...]],
    schema: str,
    name: str,
    path: Path,
    progress: Callable[[str, int], None] | None,
) -> int:
    file_format = "csv" if path.suffix.lower() == ".csv" else "parquet"
    dataset = ds.dataset(str(path), format=file_format)
    target = sql.Identifier(schema, name)
    columns = sql.SQL(", ").join(
        sql.SQL("{} {}").format(sql.Identifier(f.name.lower()), sql.SQL(_postgres_type(f.type)))
        for f in dataset.schema
    )
    connection.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(target))
    connection.execute(sql.SQL("CREATE TABLE {} ({})").format(target, columns))
    names = sql.SQL(", ").join(sql.Identifier(f.name.lower()) for f in dataset.schema)
    copy = sql.SQL("COPY {} ({}) FROM STDIN WITH (FORMAT csv, HEADER true)").format(target, names)
    rows = 0
    header = True
    with connection.cursor() as cursor, cursor.copy(copy) as stream:
        for batch in dataset.to_batches(batch_size=_BATCH):
            if batch.num_rows == 0:
                continue
            buffer = io.BytesIO()
            pacsv.write_csv(pa.Table.from_batches([batch]), buffer)
            stream.write(buffer.getvalue() if header else _without_header(buffer.getvalue()))
            header = False
            rows += batch.num_rows
            if progress:
                progress(name, rows)
    return rows


def _without_header(data: bytes) -> bytes:
    return data[data.index(b"\n") + 1 :]
