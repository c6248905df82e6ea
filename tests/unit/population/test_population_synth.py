"""The synthetic OMOP generator: deterministic, chunked, coded like the rules, plausible values."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from celltrial.eligibility.facts import fact_catalogue
from celltrial.errors import InvalidInput
from celltrial.population import synth

TABLES = ("person", "death", "measurement", "observation", "condition_occurrence")


def _tables(path: Path) -> dict[str, object]:
    return {name: pq.read_table(path / name) for name in TABLES}


def test_the_same_seed_writes_the_same_data(tmp_path: Path) -> None:
    synth.synthesise(patients=60, seed=3, out=tmp_path / "a")
    synth.synthesise(patients=60, seed=3, out=tmp_path / "b")
    first, second = _tables(tmp_path / "a"), _tables(tmp_path / "b")
    assert all(first[name].equals(second[name]) for name in TABLES)  # type: ignore[attr-defined]


def test_another_seed_writes_other_data(tmp_path: Path) -> None:
    synth.synthesise(patients=60, seed=3, out=tmp_path / "a")
    synth.synthesise(patients=60, seed=4, out=tmp_path / "b")
    assert not pq.read_table(tmp_path / "a" / "measurement").equals(
        pq.read_table(tmp_path / "b" / "measurement")
    )


def test_chunks_number_people_and_records_without_gaps_or_repeats(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(synth, "CHUNK", 25)
    counts = synth.synthesise(patients=110, seed=1, out=tmp_path / "cdm")
    assert counts["person"] == 110
    assert len(list((tmp_path / "cdm" / "person").glob("*.parquet"))) == 5
    con = duckdb.connect()
    root = (tmp_path / "cdm").as_posix()
    persons = con.sql(
        "SELECT min(person_id), max(person_id), count(DISTINCT person_id) "
        f"FROM read_parquet('{root}/person/*.parquet')"
    )
    assert persons.fetchall()[0] == (1, 110, 110)
    ids = con.sql(
        f"SELECT count(*) = count(DISTINCT measurement_id) FROM read_parquet('{root}/measurement/*.parquet')"
    ).fetchall()[0]
    assert ids == (True,)


def test_measurements_use_the_codes_the_eligibility_rules_read(small_omop: Path) -> None:
    known = {code for d in fact_catalogue().facts.values() for code in d.loinc}
    con = duckdb.connect()
    root = small_omop.as_posix()
    used = con.sql(
        "SELECT DISTINCT c.vocabulary_id, c.concept_code "
        f"FROM read_parquet('{root}/measurement/*.parquet') m "
        f"JOIN '{root}/concept.parquet' c ON c.concept_id = m.measurement_concept_id"
    ).fetchall()
    assert used
    assert all(vocabulary == "LOINC" and code in known for vocabulary, code in used)


def test_about_twenty_measurements_per_patient(small_omop: Path) -> None:
    rows = pq.read_table(small_omop / "measurement").num_rows
    assert 15 <= rows / 300 <= 25


def test_haemoglobin_values_are_plausible_in_their_units(small_omop: Path) -> None:
    con = duckdb.connect()
    root = small_omop.as_posix()
    found = con.sql(
        "SELECT unit_source_value, min(value_as_number), max(value_as_number) "
        f"FROM read_parquet('{root}/measurement/*.parquet') WHERE measurement_concept_id = 3000963 GROUP BY 1"
    ).fetchall()
    ranges = {unit: (low, high) for unit, low, high in found}
    assert ranges["g/dL"][0] >= 3
    assert ranges["g/dL"][1] <= 19
    assert ranges["g/L"][0] >= 30
    assert ranges["g/L"][1] <= 190


def test_every_date_lies_on_or_before_the_data_cut(small_omop: Path) -> None:
    con = duckdb.connect()
    root = small_omop.as_posix()
    latest = con.sql(
        f"SELECT max(measurement_date) FROM read_parquet('{root}/measurement/*.parquet')"
    ).fetchall()[0]
    assert latest[0] <= date(2025, 6, 1)


def test_no_patients_is_bad_input(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="at least 1"):
        synth.synthesise(patients=0, seed=1, out=tmp_path / "x")


def test_a_directory_with_files_in_it_is_not_overwritten(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("mine")
    with pytest.raises(InvalidInput, match="not empty"):
        synth.synthesise(patients=5, seed=1, out=tmp_path)
