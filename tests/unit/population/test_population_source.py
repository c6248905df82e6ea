"""Opening OMOP sources: directories, zips, DuckDB files; bad input named, unreachable servers clear."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from celltrial.errors import InvalidInput, ServiceUnavailable
from celltrial.population.source import REQUIRED_COLUMNS, open_source


def _copy(small_omop: Path, target: Path, skip: tuple[str, ...] = ()) -> Path:
    for item in small_omop.iterdir():
        if item.name.removesuffix(".parquet") in skip:
            continue
        if item.is_dir():
            shutil.copytree(item, target / item.name)
        else:
            shutil.copy(item, target / item.name)
    return target


def test_a_directory_without_the_needed_tables_names_every_missing_one(
    small_omop: Path, tmp_path: Path
) -> None:
    source = _copy(small_omop, tmp_path, skip=("measurement", "observation"))
    with pytest.raises(InvalidInput) as error, open_source(str(source)):
        pass
    assert "measurement" in error.value.message
    assert "observation" in error.value.message
    assert "condition_occurrence" not in error.value.message.split("(needed")[0]


def test_a_table_missing_a_column_names_the_table_and_the_column(small_omop: Path, tmp_path: Path) -> None:
    source = _copy(small_omop, tmp_path, skip=("measurement",))
    table = pq.read_table(small_omop / "measurement").drop(["range_high"])
    pq.write_table(table, source / "measurement.parquet")
    with pytest.raises(InvalidInput) as error, open_source(str(source)):
        pass
    assert "table measurement lacks column(s) range_high" in error.value.message


def test_a_path_that_does_not_exist_is_bad_input(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="no such file"), open_source(str(tmp_path / "nowhere")):
        pass


def test_an_unreachable_postgresql_server_is_reported_as_unavailable() -> None:
    unreachable = "postgresql://postgres@127.0.0.1:1/omop?schema=cdm"
    with pytest.raises(ServiceUnavailable, match="cannot connect to PostgreSQL"), open_source(unreachable):
        pass


def test_a_zip_is_read_and_its_macos_resource_forks_ignored(small_omop: Path, tmp_path: Path) -> None:
    archive = tmp_path / "omop.zip"
    with zipfile.ZipFile(archive, "w") as out:
        for path in sorted(small_omop.rglob("*.parquet")):
            out.write(path, f"cdm/{path.relative_to(small_omop)}")
            fork = path.relative_to(small_omop).with_name(f"._{path.name}")
            out.writestr(f"__MACOSX/cdm/{fork}", b"\x00\x05\x16\x07 not parquet")
    with open_source(str(archive)) as source:
        assert set(REQUIRED_COLUMNS) <= set(source.tables)
        assert source.table("person").count().to_pyarrow().as_py() == 300


def test_a_duckdb_database_file_is_opened_read_only(small_omop: Path, tmp_path: Path) -> None:
    database = tmp_path / "cdm.duckdb"
    with duckdb.connect(str(database)) as con:
        for name in ("person", "measurement", "observation", "condition_occurrence", "death", "concept"):
            path = small_omop / name
            pattern = f"{path}/*.parquet" if path.is_dir() else f"{path}.parquet"
            con.execute(f"CREATE TABLE {name} AS SELECT * FROM read_parquet('{pattern}')")
    with open_source(str(database)) as source:
        assert source.engine == "duckdb"
        assert source.table("measurement").count().to_pyarrow().as_py() > 300


def test_a_file_that_is_not_a_database_is_bad_input(tmp_path: Path) -> None:
    path = tmp_path / "notes.duckdb"
    path.write_text("hello")
    with pytest.raises(InvalidInput, match="not a DuckDB database"), open_source(str(path)):
        pass


def test_the_postgres_engine_needs_a_postgresql_url(small_omop: Path) -> None:
    with pytest.raises(InvalidInput, match="postgresql://"), open_source(str(small_omop), engine="postgres"):
        pass
