"""Open an OMOP CDM 5.4 source as ibis tables, on DuckDB, PostgreSQL or Spark.

A source is named by one string:

* a directory of OMOP tables: ``person.parquet`` (or a ``person/`` directory of Parquet parts,
  or ``person.csv``) and so on, searched recursively;
* a zip of such files (e.g. the OHDSI Eunomia ``Synthea27NjParquet_5.4.zip``; macOS
  ``__MACOSX/`` entries are ignored), unpacked into a temporary directory;
* a DuckDB database file (``*.duckdb`` / ``*.db``), opened read-only;
* a PostgreSQL URL, ``postgresql://user@host:5432/db?schema=cdm``.

File sources are read by DuckDB (default) or by Spark (``engine="spark"``, with a master URL,
``local[2]`` for one machine). Tables the rules need are checked up front: a missing table or
column is an :class:`~celltrial.errors.InvalidInput` naming all of them, an unreachable server a
:class:`~celltrial.errors.ServiceUnavailable`.
"""

from __future__ import annotations

import shutil
import tempfile
import zipfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qs, urlparse

import ibis
import ibis.expr.operations as ops
import ibis.expr.types as ir
import numpy as np
import pyarrow as pa

from celltrial.errors import InvalidInput, ServiceUnavailable

__all__ = [
    "OPTIONAL_TABLES",
    "REQUIRED_COLUMNS",
    "Columns",
    "Engine",
    "OmopSource",
    "arrow_columns",
    "duckdb_table",
    "open_source",
]

Engine = Literal["duckdb", "postgres", "spark"]

REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "person": ("person_id", "gender_concept_id", "year_of_birth", "month_of_birth", "day_of_birth"),
    "measurement": (
        "measurement_id",
        "person_id",
        "measurement_concept_id",
        "measurement_date",
        "value_as_number",
        "value_as_concept_id",
        "unit_concept_id",
        "unit_source_value",
        "range_high",
    ),
    "observation": (
        "observation_id",
        "person_id",
        "observation_concept_id",
        "observation_date",
        "value_as_number",
        "value_as_string",
        "value_as_concept_id",
        "unit_concept_id",
        "unit_source_value",
    ),
    "condition_occurrence": (
        "condition_occurrence_id",
        "person_id",
        "condition_concept_id",
        "condition_start_date",
        "condition_end_date",
        "condition_source_concept_id",
    ),
}
OPTIONAL_TABLES: dict[str, tuple[str, ...]] = {
    "death": ("person_id", "death_date"),
    "concept": ("concept_id", "vocabulary_id", "concept_code"),
    "concept_ancestor": ("ancestor_concept_id", "descendant_concept_id"),
}
_FILE_SUFFIXES = (".parquet", ".csv")


Columns = Mapping[str, "np.ndarray[Any, Any]"]
"""A query's rows column by column, NULLs masked (:mod:`numpy.ma`)."""


def arrow_columns(table: pa.Table) -> Columns:
    """An Arrow table as :data:`Columns` (NULLs masked)."""
    columns: dict[str, np.ndarray[Any, Any]] = {}
    for name in table.column_names:
        column = table.column(name)
        nulls = column.is_null().to_numpy(zero_copy_only=False)
        filled = column.fill_null(False if pa.types.is_boolean(column.type) else 0)
        columns[name] = np.ma.masked_array(filled.to_numpy(zero_copy_only=False), mask=nulls)
    return columns


@dataclass
class OmopSource:
    """An open OMOP source: an ibis connection and the CDM tables found in it."""

    name: str
    engine: Engine
    con: Any
    tables: dict[str, ir.Table]
    _cleanup: list[Any] = field(default_factory=list, repr=False)

    def table(self, name: str) -> ir.Table:
        return self.tables[name]

    def has(self, name: str) -> bool:
        return name in self.tables

    def _duckdb(self, expr: ir.Table) -> Any:
        """DuckDB's own relation for ``expr``: read from it, not through ibis's conversions."""
        return self.con.con.sql(str(self.con.compile(expr)))

    def fetch(self, expr: ir.Table) -> pa.Table:
        """Run a query and return its rows as Arrow (DuckDB's straight from its connection)."""
        if self.engine == "duckdb":
            result: pa.Table = self._duckdb(expr).to_arrow_table()
            return result
        return expr.to_pyarrow()

    def fetch_columns(self, expr: ir.Table) -> Columns:
        """Run a query and return its rows as numpy arrays by column, NULLs masked.

        DuckDB's own ``fetchnumpy`` does not import pandas (Arrow's conversion to numpy does,
        half a second).
        """
        if self.engine == "duckdb":
            return dict(self._duckdb(expr).fetchnumpy())
        return arrow_columns(expr.to_pyarrow())

    def close(self) -> None:
        for action in reversed(self._cleanup):
            action()
        self._cleanup.clear()


@contextmanager
def open_source(
    location: str, *, engine: Engine | None = None, spark_master: str = "local[2]"
) -> Iterator[OmopSource]:
    """Open ``location`` (directory, zip, DuckDB file or PostgreSQL URL) and check its tables."""
    source = _open(location, engine, spark_master)
    try:
        check_tables(source)
        yield source
    finally:
        source.close()


def _open(location: str, engine: Engine | None, spark_master: str) -> OmopSource:
    if location.startswith(("postgresql://", "postgres://", "postgresql+psycopg://")):
        if engine not in (None, "postgres"):
            raise InvalidInput(
                f"a PostgreSQL URL is read by the postgres engine, not {engine}", field="--engine"
            )
        return _open_postgres(location)
    if engine == "postgres":
        raise InvalidInput("the postgres engine needs a postgresql://...?schema= URL", field="--omop")
    path = Path(location)
    if not path.exists():
        raise InvalidInput("no such file or directory", field=location)
    cleanup: list[Any] = []
    if path.is_file() and zipfile.is_zipfile(path):
        directory = Path(tempfile.mkdtemp(prefix="celltrial-omop-"))
        cleanup.append(lambda: shutil.rmtree(directory, ignore_errors=True))
        _unzip(path, directory)
        path = directory
    if path.is_file():
        if engine == "spark":
            raise InvalidInput(
                "Spark reads a directory or zip of Parquet files, not a DuckDB file", field=location
            )
        return _open_duckdb_file(path, location)
    files = _table_files(path)
    if engine == "spark":
        return _open_spark(files, location, spark_master, cleanup)
    con = ibis.duckdb.connect(preserve_insertion_order=False)  # row order is never used; saves memory
    tables = {name: _read_file(con, name, found) for name, found in files.items()}
    return OmopSource(location, "duckdb", con, tables, [*cleanup, con.disconnect])


def _unzip(path: Path, directory: Path) -> None:
    try:
        with zipfile.ZipFile(path) as archive:
            members = [m for m in archive.namelist() if not m.startswith("__MACOSX/") and "/._" not in m]
            archive.extractall(directory, members)
    except (zipfile.BadZipFile, OSError) as error:
        raise InvalidInput(f"cannot unpack the zip: {error}", field=str(path)) from None


def _table_files(directory: Path) -> dict[str, Path]:
    """OMOP table name -> its file (or directory of Parquet parts), found anywhere below ``directory``."""
    found: dict[str, Path] = {}
    wanted = set(REQUIRED_COLUMNS) | set(OPTIONAL_TABLES)
    for candidate in sorted(directory.rglob("*")):
        if "__MACOSX" in candidate.parts or candidate.name.startswith("._"):
            continue
        name = candidate.name.lower()
        for suffix in _FILE_SUFFIXES:
            name = name.removesuffix(suffix)
        if name not in wanted or name in found:
            continue
        is_file = candidate.is_file() and candidate.suffix.lower() in _FILE_SUFFIXES
        if is_file or (candidate.is_dir() and any(candidate.glob("*.parquet"))):
            found[name] = candidate
    return found


def _read_file(con: Any, name: str, path: Path) -> ir.Table:
    if path.is_dir():
        reader = f"read_parquet({_sql_text(str(path / '*.parquet'))})"
    elif path.suffix.lower() == ".csv":
        reader = f"read_csv_auto({_sql_text(str(path))})"
    else:
        reader = f"read_parquet({_sql_text(str(path))})"
    con.con.execute(f"CREATE TEMP VIEW {_sql_name(name)} AS SELECT * FROM {reader}")
    return duckdb_table(con, name)


def _sql_text(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _sql_name(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def duckdb_table(con: Any, name: str, schema: ibis.Schema | None = None) -> ir.Table:
    """An ibis table over DuckDB table or view ``name`` (its schema read with ``DESCRIBE`` unless given).

    ibis 12.0's own ``table`` and ``read_parquet`` read the schema through DuckDB's
    ``fetch_arrow_table``, deprecated since DuckDB 1.5 (a DeprecationWarning on every call; ibis
    main has moved to ``to_arrow_table``, unreleased). Reading it here with ``fetchall`` avoids that.
    """
    if schema is None:
        described = con.con.execute(f"DESCRIBE {_sql_name(name)}").fetchall()
        mapper = con.compiler.type_mapper
        schema = ibis.schema(
            {str(row[0]): mapper.from_string(str(row[1]), nullable=row[2] == "YES") for row in described}
        )
    return ops.DatabaseTable(name, schema=schema, source=con, namespace=ops.Namespace()).to_expr()


def _open_duckdb_file(path: Path, location: str) -> OmopSource:
    try:
        con = ibis.duckdb.connect(str(path), read_only=True)
    except Exception as error:  # duckdb raises its own IOException/InvalidInputException types
        raise InvalidInput(f"not a DuckDB database: {error}", field=location) from None
    listed = con.raw_sql(
        "SELECT DISTINCT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
    ).fetchall()  # ibis's list_tables calls an API DuckDB 2 removed
    names = {str(row[0]).lower(): str(row[0]) for row in listed}
    tables = {
        name: duckdb_table(con, names[name])
        for name in (*REQUIRED_COLUMNS, *OPTIONAL_TABLES)
        if name in names
    }
    return OmopSource(location, "duckdb", con, tables, [con.disconnect])


def _open_postgres(url: str) -> OmopSource:
    parsed = urlparse(url)
    schema = parse_qs(parsed.query).get("schema", ["public"])[0]
    try:
        con = ibis.postgres.connect(
            host=parsed.hostname or "localhost",
            port=parsed.port or 5432,
            user=parsed.username,
            password=parsed.password,
            database=(parsed.path or "/").lstrip("/") or None,
        )
    except Exception as error:  # psycopg's OperationalError and friends
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ServiceUnavailable(f"cannot connect to PostgreSQL: {first}", field=_safe_url(parsed)) from None
    try:
        names = {name.lower(): name for name in con.list_tables(database=schema)}
    except Exception as error:
        con.disconnect()
        raise InvalidInput(f"cannot list the tables of schema {schema!r}: {error}", field="schema") from None
    tables = {
        name: con.table(names[name], database=schema)
        for name in (*REQUIRED_COLUMNS, *OPTIONAL_TABLES)
        if name in names
    }
    return OmopSource(f"{_safe_url(parsed)} (schema {schema})", "postgres", con, tables, [con.disconnect])


def _safe_url(parsed: Any) -> str:
    """The URL without its password."""
    user = f"{parsed.username}@" if parsed.username else ""
    port = f":{parsed.port}" if parsed.port else ""
    return f"{parsed.scheme}://{user}{parsed.hostname}{port}{parsed.path}"


def _open_spark(files: dict[str, Path], location: str, master: str, cleanup: list[Any]) -> OmopSource:
    session = spark_session(master)
    con = ibis.pyspark.connect(session)
    tables: dict[str, ir.Table] = {}
    for name, path in files.items():
        target = str(path) if path.is_dir() or path.suffix.lower() == ".parquet" else None
        if target is None:
            tables[name] = con.read_csv(str(path), table_name=name, header=True, inferSchema=True)
        else:
            tables[name] = con.read_parquet(target, table_name=name)
    return OmopSource(location, "spark", con, tables, cleanup)


def spark_session(master: str) -> Any:
    """A Spark session on ``master`` (``local[2]``, ``spark://host:7077``...), or a clear error."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise ServiceUnavailable(
            "the spark engine needs pyspark (pip install pyspark)", field="--engine"
        ) from None
    builder = (
        SparkSession.builder.master(master)
        .appName("celltrial-prescreen")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.driver.memory", "2g")
    )
    active = SparkSession.getActiveSession()
    if active is not None and active.sparkContext.master != master:
        active.stop()  # a session on another master would be reused silently otherwise
    try:
        session = builder.getOrCreate()
        session.sparkContext.setLogLevel("ERROR")
        session.range(1).count()  # fails fast when the master cannot be reached
    except Exception as error:
        raise ServiceUnavailable(
            f"cannot start Spark on master {master!r}: {_java_reason(error)}", field="--spark-master"
        ) from None
    return session


def _java_reason(error: Exception) -> str:
    """The Java exception's own message inside a py4j error, else the first line."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    for line in lines:
        if "Exception: " in line and not line.startswith("at "):
            return line.split("Exception: ", 1)[1]
    return lines[0] if lines else type(error).__name__


def check_tables(source: OmopSource) -> None:
    """Every table and column the prescreen reads is there; else one error naming them all."""
    missing_tables = sorted(name for name in REQUIRED_COLUMNS if not source.has(name))
    if missing_tables:
        raise InvalidInput(
            f"the OMOP source lacks the table(s) {', '.join(missing_tables)} "
            f"(needed: {', '.join(REQUIRED_COLUMNS)})",
            field=source.name,
        )
    problems: list[str] = []
    for name, columns in (*REQUIRED_COLUMNS.items(), *OPTIONAL_TABLES.items()):
        if not source.has(name):
            continue
        present = {column.lower() for column in source.table(name).columns}
        absent = [column for column in columns if column not in present]
        if absent:
            problems.append(f"table {name} lacks column(s) {', '.join(absent)}")
    if problems:
        raise InvalidInput("; ".join(problems), field=source.name)
