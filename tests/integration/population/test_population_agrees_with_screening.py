"""Every structured criterion: the population verdict equals the per-patient engine's verdict.

The per-patient engine (celltrial.eligibility.evaluate) reads each patient's OMOP record
converted to a FHIR Bundle; the population query reads the same OMOP tables in SQL. The engine's
``needs_review`` (investigator criteria) is ``unknown`` in the population.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest

from celltrial.eligibility import evaluate, load_rules, read_bundle
from celltrial.population.compiler import column_name
from celltrial.population.concepts import resolve_concepts
from celltrial.population.fhir_tables import flatten_fhir
from celltrial.population.prescreen import prescreen
from celltrial.population.source import open_source
from celltrial.population.synth import synthesise
from celltrial.population.to_fhir import patient_bundles
from celltrial.protocol.library import load_settings

RULES = load_rules("NCT07008872")
SETTINGS = load_settings("NCT07008872")


def _label(value: bool | None) -> str:
    return "met" if value is True else "not_met" if value is False else "unknown"


def _disagreements(population: dict[str, Any], bundle: dict[str, Any], on: date) -> list[str]:
    result = evaluate(read_bundle(bundle), RULES, SETTINGS, on)
    found = []
    for criterion in result.criteria:
        engine = "unknown" if criterion.verdict == "needs_review" else criterion.verdict
        mine = _label(population[column_name(criterion.id)])
        if engine != mine:
            found.append(f"{criterion.id}: population {mine}, engine {engine} ({criterion.reason})")
    return found


def _compare(location: str, on: date) -> tuple[int, Counter[str], list[str]]:
    with open_source(location) as source:
        run = prescreen(source, as_of=on)
        population = {row["person_id"]: row for row in run.verdicts.to_pyarrow().to_pylist()}
        concepts = resolve_concepts(source)
        problems: Counter[str] = Counter()
        examples: list[str] = []
        for person_id, bundle in patient_bundles(source, concepts, list(population), on):
            for problem in _disagreements(population[person_id], bundle, on):
                problems[problem.split(":")[0]] += 1
                examples.append(f"person {person_id}: {problem}")
    return len(population), problems, examples[:5]


@pytest.mark.parametrize("on", [date(2025, 6, 1), date(2024, 3, 1)], ids=["data-cut", "records-after-date"])
def test_synthetic_patients_get_the_engines_verdict_on_every_criterion(
    synthetic_omop: Path, on: date
) -> None:
    count, problems, examples = _compare(str(synthetic_omop), on)
    assert count > 500
    assert not problems, examples


@pytest.mark.parametrize("on", [date(2022, 10, 10), date(2009, 2, 20)])
def test_synthea_sample_patients_get_the_engines_verdict_on_every_criterion(
    synthea_omop: Path, on: date
) -> None:
    count, problems, examples = _compare(str(synthea_omop), on)
    assert count >= 25
    assert not problems, examples


def test_fhir_bundles_flattened_to_tables_get_the_engines_verdict_on_the_original_bundle(
    shared_data: Path,
) -> None:
    on = date(2022, 1, 1)
    bundles = shared_data / "fhir" / "synthea_r4_pathling"
    with flatten_fhir(bundles) as omop:
        ids = dict(
            duckdb.sql(f"SELECT person_source_value, person_id FROM '{omop}/person.parquet'").fetchall()
        )
        with open_source(str(omop)) as source:
            population = {
                r["person_id"]: r for r in prescreen(source, as_of=on).verdicts.to_pyarrow().to_pylist()
            }
    compared = 0
    for path in sorted(bundles.glob("*.json")):
        bundle = json.loads(path.read_text(encoding="utf-8"))
        patient = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient")
        person_id = ids[patient["id"]]
        if person_id in population:
            assert _disagreements(population[person_id], bundle, on) == [], path.name
            compared += 1
    assert compared == 13  # 14 patients, one died before 2022


@pytest.mark.stress  # the 600-patient runs above are the make test variant
def test_five_thousand_synthetic_patients_get_the_engines_verdict_on_every_criterion(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    out = tmp_path_factory.mktemp("omop5000") / "synth"
    synthesise(patients=5000, seed=2026, out=out, as_of=date(2025, 6, 1))
    count, problems, examples = _compare(str(out), date(2025, 5, 28))
    assert count > 4500
    assert not problems, examples
