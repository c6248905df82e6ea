"""FHIR Bundles and bulk NDJSON flattened into the OMOP tables the prescreen reads."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pytest

from celltrial.errors import InvalidInput
from celltrial.population.fhir_tables import flatten_fhir

LOINC, SNOMED, UCUM = "http://loinc.org", "http://snomed.info/sct", "http://unitsofmeasure.org"
CELLTRIAL = "https://celltrial.org/fhir/CodeSystem/eligibility-facts"


def _observation(ident: str, code: str, system: str = LOINC, **value: Any) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": ident,
        "status": "final",
        "code": {"coding": [{"system": system, "code": code}]},
        "subject": {"reference": "urn:uuid:p1"},
        "effectiveDateTime": "2025-05-30T09:00:00Z",
        **value,
    }


def _bundle() -> dict[str, Any]:
    resources = [
        {"resourceType": "Patient", "id": "p1", "birthDate": "1980-02-29", "gender": "female"},
        _observation(
            "hb",
            "718-7",
            valueQuantity={"value": 9.5, "unit": "g/dL", "system": UCUM, "code": "g/dL"},
            referenceRange=[{"high": {"value": 16, "unit": "g/dL", "system": UCUM, "code": "g/dL"}}],
        ),
        _observation("dx", "diagnosis", CELLTRIAL, valueString="t_cell_lymphoma"),
        {
            **_observation("gone", "718-7", valueQuantity={"value": 1.0, "unit": "g/dL"}),
            "status": "entered-in-error",
        },
        {
            "resourceType": "Condition",
            "id": "af",
            "subject": {"reference": "Patient/p1"},
            "code": {"coding": [{"system": SNOMED, "code": "49436004"}]},
            "onsetDateTime": "2020-01-02",
            "clinicalStatus": {"coding": [{"code": "active"}]},
        },
        {
            "resourceType": "Condition",
            "id": "mi",
            "subject": {"reference": "Patient/p1"},
            "code": {"coding": [{"system": SNOMED, "code": "22298006"}]},
            "onsetDateTime": "2019-03-04",
            "abatementDateTime": "2019-05-01",
            "clinicalStatus": {"coding": [{"code": "resolved"}]},
        },
    ]
    return {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in resources]}


def _query(directory: Path, sql: str) -> list[tuple[Any, ...]]:
    return duckdb.sql(sql.replace("{d}", directory.as_posix())).fetchall()


def test_a_bundle_becomes_person_measurement_observation_and_conditions(tmp_path: Path) -> None:
    (tmp_path / "p1.json").write_text(json.dumps(_bundle()))
    with flatten_fhir(tmp_path) as omop:
        person = _query(
            omop,
            "SELECT gender_concept_id, year_of_birth, month_of_birth, day_of_birth FROM '{d}/person.parquet'",
        )
        labs = _query(
            omop,
            "SELECT measurement_date, value_as_number, unit_source_value, range_high "
            "FROM '{d}/measurement.parquet'",
        )
        answers = _query(omop, "SELECT value_as_string FROM '{d}/observation.parquet'")
        ended = _query(
            omop,
            "SELECT condition_start_date, condition_end_date "
            "FROM '{d}/condition_occurrence.parquet' ORDER BY 1",
        )
    assert person == [(8532, 1980, 2, 29)]
    assert [(str(d), v, u, h) for d, v, u, h in labs] == [("2025-05-30", 9.5, "g/dL", 16.0)]
    assert answers == [("t_cell_lymphoma",)]
    assert [(str(s), str(e) if e else None) for s, e in ended] == [
        ("2019-03-04", "2019-05-01"),
        ("2020-01-02", None),
    ]


def test_bulk_ndjson_files_are_read_line_by_line(tmp_path: Path) -> None:
    resources = [entry["resource"] for entry in _bundle()["entry"]]
    (tmp_path / "export.ndjson").write_text("\n".join(json.dumps(r) for r in resources) + "\n")
    with flatten_fhir(tmp_path) as omop:
        assert _query(omop, "SELECT count(*) FROM '{d}/condition_occurrence.parquet'") == [(2,)]


def test_codes_get_their_standard_omop_ids_where_known(tmp_path: Path) -> None:
    (tmp_path / "p1.json").write_text(json.dumps(_bundle()))
    with flatten_fhir(tmp_path) as omop:
        found = dict(_query(omop, "SELECT concept_code, concept_id FROM '{d}/concept.parquet'"))
    assert found["718-7"] == 3000963
    assert found["49436004"] == 313217
    assert found["diagnosis"] >= 2_000_000_000


def test_a_file_that_is_not_json_is_named(tmp_path: Path) -> None:
    (tmp_path / "broken.json").write_text("{not json")
    with pytest.raises(InvalidInput, match="not JSON") as error, flatten_fhir(tmp_path):
        pass
    assert "broken.json" in str(error.value)


def test_files_without_any_patient_are_bad_input(tmp_path: Path) -> None:
    bundle = _bundle()
    bundle["entry"] = bundle["entry"][1:]
    (tmp_path / "orphans.json").write_text(json.dumps(bundle))
    with pytest.raises(InvalidInput, match="no Patient"), flatten_fhir(tmp_path):
        pass
