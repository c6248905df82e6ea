"""The OHDSI Synthea OMOP sample (zip of Parquet) runs end to end through celltrial prescreen."""

from __future__ import annotations

import io
import json
import zipfile
from contextlib import redirect_stdout
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from celltrial.cli import main

ON = date(2022, 10, 10)


@pytest.fixture(scope="module")
def funnel(synthea_omop: Path) -> dict[str, Any]:
    """The JSON of one prescreen run over the sample on 2022-10-10."""
    out = io.StringIO()
    with redirect_stdout(out):
        assert main(["prescreen", "--omop", str(synthea_omop), "--date", ON.isoformat(), "--json"]) == 0
    data: dict[str, Any] = json.loads(out.getvalue())
    return data


def _persons(archive: Path, tmp_path: Path) -> tuple[list[dict[str, object]], set[int]]:
    with zipfile.ZipFile(archive) as zipped:
        zipped.extract("Synthea27NjParquet/person.parquet", tmp_path)
        zipped.extract("Synthea27NjParquet/death.parquet", tmp_path)
    persons = pq.read_table(tmp_path / "Synthea27NjParquet" / "person.parquet").to_pylist()
    deaths = pq.read_table(tmp_path / "Synthea27NjParquet" / "death.parquet").to_pylist()
    dead = {int(d["person_id"]) for d in deaths if d["death_date"] <= ON}  # type: ignore[operator]
    return persons, dead


def test_the_sample_runs_and_counts_the_living(
    synthea_omop: Path, tmp_path: Path, funnel: dict[str, Any]
) -> None:
    data = funnel
    persons, dead = _persons(synthea_omop, tmp_path)
    assert data["total"] == len(persons) - len(dead)
    assert data["deceased_before_as_of"] == len(dead)


def test_age_fails_exactly_the_living_outside_14_to_75(
    synthea_omop: Path, tmp_path: Path, funnel: dict[str, Any]
) -> None:
    data = funnel
    persons, dead = _persons(synthea_omop, tmp_path)
    outside = 0
    for person in persons:
        if int(person["person_id"]) in dead:  # type: ignore[call-overload]
            continue
        born = person["birth_datetime"].date()  # type: ignore[union-attr]
        age = ON.year - born.year - ((ON.month, ON.day) < (born.month, born.day))
        outside += not 14 <= age <= 75
    assert outside > 0
    assert data["failed_alone"]["I6"] == outside


def test_the_sample_has_no_haematological_diagnosis_so_nobody_is_confirmed_eligible(
    funnel: dict[str, Any],
) -> None:
    data = funnel
    assert data["confirmed"] == 0
    criteria = {c["criterion"]: c for c in data["criteria"]}
    assert criteria["I1"]["unknown"] == data["total"]


def test_facts_without_a_concept_in_the_source_are_named_in_the_notes(funnel: dict[str, Any]) -> None:
    notes = funnel["notes"]
    unmapped = next(note for note in notes if note.startswith("no concept for these facts"))
    assert "diagnosis" in unmapped.split(": ", 1)[1].split(", ")
    assert "hemoglobin" not in unmapped  # LOINC 718-7 is in the sample's concept table
