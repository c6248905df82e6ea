"""The same data give the same funnel on DuckDB, PostgreSQL and Spark (local[2])."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from celltrial.cli import main

ON = "2022-10-10"


def _funnel(capsys: pytest.CaptureFixture[str], argv: list[str]) -> dict[str, Any]:
    assert main([*argv, "--date", ON, "--json"]) == 0
    data: dict[str, Any] = json.loads(capsys.readouterr().out)
    return {key: value for key, value in data.items() if key not in ("source", "engine")}


@pytest.mark.postgres
def test_postgresql_gives_the_duckdb_counts(
    synthea_omop: Path, postgres_database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    url = postgres_database.replace("postgresql+psycopg://", "postgresql://") + "?schema=cdm"
    assert main(["population", "load-omop", str(synthea_omop), "--into", url, "--json"]) == 0
    loaded = json.loads(capsys.readouterr().out)["rows"]
    assert loaded["person"] == 28
    assert loaded["measurement"] == 10040
    on_postgres = _funnel(capsys, ["prescreen", "--omop", url])
    on_duckdb = _funnel(capsys, ["prescreen", "--omop", str(synthea_omop)])
    assert on_postgres == on_duckdb


@pytest.mark.postgres
def test_postgresql_gives_the_duckdb_counts_on_synthetic_data(
    synthetic_omop: Path, postgres_database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    url = postgres_database.replace("postgresql+psycopg://", "postgresql://") + "?schema=synthetic"
    assert main(["population", "load-omop", str(synthetic_omop), "--into", url, "--json"]) == 0
    capsys.readouterr()
    argv = ["--date", "2025-06-01", "--json"]
    assert main(["prescreen", "--omop", url, *argv]) == 0
    on_postgres = json.loads(capsys.readouterr().out)
    assert main(["prescreen", "--omop", str(synthetic_omop), *argv]) == 0
    on_duckdb = json.loads(capsys.readouterr().out)
    assert on_postgres["steps"] == on_duckdb["steps"]
    assert on_postgres["criteria"] == on_duckdb["criteria"]


@pytest.mark.stress  # starting Spark takes 20-80 s: run by make test-stress
def test_spark_local_gives_the_duckdb_counts(synthea_omop: Path, capsys: pytest.CaptureFixture[str]) -> None:
    on_spark = _funnel(
        capsys, ["prescreen", "--omop", str(synthea_omop), "--engine", "spark", "--spark-master", "local[2]"]
    )
    on_duckdb = _funnel(capsys, ["prescreen", "--omop", str(synthea_omop)])
    assert on_spark == on_duckdb


@pytest.mark.stress
def test_a_spark_master_that_cannot_be_used_gives_a_clear_message(
    synthea_omop: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        ["prescreen", "--omop", str(synthea_omop), "--engine", "spark", "--spark-master", "nowhere:7077"]
    )
    assert code == 3
    err = capsys.readouterr().err
    assert "cannot start Spark on master 'nowhere:7077'" in err
    assert "Traceback" not in err
