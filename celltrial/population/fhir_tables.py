"""Flatten FHIR R4 data into the OMOP CDM tables the prescreen reads, with DuckDB.

Input: a directory of FHIR Bundles (``*.json``, one or many patients each) and/or bulk-data
NDJSON files (``*.ndjson``, one resource per line, any resource types). Bundles are split into
NDJSON per resource type (streamed, one Bundle in memory at a time); DuckDB then reads the
NDJSON (``read_ndjson_objects``) and writes ``person``, ``death``, ``measurement``,
``observation``, ``condition_occurrence`` and ``concept`` as Parquet into a temporary directory,
which the prescreen opens like any OMOP source.

Mapping (the same codes and reading rules as the per-patient FHIR reader where it matters):

* Patient → person (``birthDate``, ``gender``), ``deceasedDateTime`` → death;
* Observation (not ``entered-in-error``/``cancelled``) → one row per coding of ``code``: with
  ``valueString``/``valueBoolean`` to ``observation.value_as_string`` (``yes``/``no`` for
  booleans), else to ``measurement`` (``valueQuantity`` with its UCUM code or unit, and
  ``referenceRange[0].high`` as ``range_high``; ``valueInteger``; ``valueCodeableConcept`` as
  ``value_as_concept_id``); date from ``effectiveDateTime``, ``effectivePeriod.start``,
  ``effectiveInstant`` or ``issued``;
* Condition (not ``refuted``/``entered-in-error``) → condition_occurrence, SNOMED CT coding as
  the concept, ICD-10-CM coding as the source concept; onset from ``onsetDateTime`` or
  ``onsetPeriod.start``; a ``clinicalStatus`` of inactive/remission/resolved ends the
  condition on its ``abatementDateTime`` (else on its onset).

Every code gets a concept row: its OMOP standard id when ``omop_concepts.yaml`` knows it, else a
local id (≥ 2,000,000,000).
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

import duckdb
import pyarrow as pa

from celltrial.errors import InvalidInput
from celltrial.jsoninput import read_json_file, refuse_deep_json
from celltrial.population.concepts import mapping_file

__all__ = ["SYSTEMS", "flatten_fhir"]

SYSTEMS = {
    "http://loinc.org": "LOINC",
    "http://snomed.info/sct": "SNOMED",
    "http://hl7.org/fhir/sid/icd-10-cm": "ICD10CM",
    "http://unitsofmeasure.org": "UCUM",
    "https://celltrial.org/fhir/CodeSystem/eligibility-facts": "celltrial",
}
_TYPES = ("Patient", "Observation", "Condition")
_CELLTRIAL = next(system for system, vocab in SYSTEMS.items() if vocab == "celltrial")


@contextmanager
def flatten_fhir(directory: Path) -> Iterator[Path]:
    """OMOP Parquet tables of the FHIR data in ``directory``, in a temporary directory."""
    if not directory.is_dir():
        raise InvalidInput("not a directory of FHIR Bundles or NDJSON files", field=str(directory))
    work = Path(tempfile.mkdtemp(prefix="celltrial-fhir-"))
    try:
        ndjson = work / "ndjson"
        ndjson.mkdir()
        counts = _split(directory, ndjson)
        if not counts.get("Patient"):
            raise InvalidInput("no Patient resource in the FHIR files", field=str(directory))
        out = work / "omop"
        out.mkdir()
        _tables(ndjson, out)
        yield out
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _split(directory: Path, ndjson: Path) -> dict[str, int]:
    """Write every Patient, Observation and Condition to ``<type>.ndjson``."""
    handles: dict[str, TextIO] = {
        kind: (ndjson / f"{kind}.ndjson").open("w", encoding="utf-8") for kind in _TYPES
    }
    counts: dict[str, int] = {}

    def emit(resource: Any) -> None:
        kind = resource.get("resourceType") if isinstance(resource, dict) else None
        if kind in handles:
            handles[kind].write(json.dumps(resource, separators=(",", ":")) + "\n")
            counts[kind] = counts.get(kind, 0) + 1

    try:
        files = sorted(p for p in directory.rglob("*") if p.suffix.lower() in (".json", ".ndjson"))
        if not files:
            raise InvalidInput("no *.json or *.ndjson files", field=str(directory))
        for path in files:
            if path.suffix.lower() == ".ndjson":
                _read_ndjson(path, emit)
                continue
            data = read_json_file(path)
            if isinstance(data, dict) and data.get("resourceType") == "Bundle":
                for entry in data.get("entry") or []:
                    emit(entry.get("resource") if isinstance(entry, dict) else None)
            else:
                emit(data)
    finally:
        for handle in handles.values():
            handle.close()
    return counts


def _read_ndjson(path: Path, emit: Any) -> None:
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            refuse_deep_json(line, field=f"{path}: line {number}")
            try:
                emit(json.loads(line))
            except json.JSONDecodeError as error:
                raise InvalidInput(f"line {number} is not JSON: {error.msg}", field=str(path)) from None


_VOCABULARY = (
    "CASE "
    + " ".join(f"WHEN {{s}} = '{system}' THEN '{vocab}'" for system, vocab in SYSTEMS.items())
    + " END"
)


def _vocab(expression: str) -> str:
    return _VOCABULARY.replace("{s}", expression)


_KEY = "regexp_replace(json->>'$.subject.reference', '^(urn:uuid:|.*/)', '')"
_CODINGS = """from_json(json->'$.code.coding', '[{"system":"VARCHAR","code":"VARCHAR"}]')"""

_SQL = f"""
CREATE TABLE patient AS
SELECT json->>'$.id' AS pid, json->>'$.birthDate' AS birth, json->>'$.gender' AS gender,
       json->>'$.deceasedDateTime' AS deceased
FROM read_ndjson_objects('{{dir}}/Patient.ndjson');

CREATE TABLE obs AS
SELECT row_number() OVER () AS row_id, {_KEY} AS pid, c.system AS system, c.code AS code,
       try_cast(left(coalesce(json->>'$.effectiveDateTime', json->>'$.effectivePeriod.start',
                              json->>'$.effectiveInstant', json->>'$.issued'), 10) AS DATE) AS day,
       try_cast(coalesce(json->>'$.valueQuantity.value', json->>'$.valueInteger') AS DOUBLE) AS number,
       CASE WHEN json->>'$.valueQuantity.system' = 'http://unitsofmeasure.org'
                 AND json->>'$.valueQuantity.code' IS NOT NULL THEN json->>'$.valueQuantity.code'
            ELSE json->>'$.valueQuantity.unit' END AS unit,
       try_cast(json->>'$.referenceRange[0].high.value' AS DOUBLE) AS uln,
       json->>'$.valueCodeableConcept.coding[0].system' AS answer_system,
       json->>'$.valueCodeableConcept.coding[0].code' AS answer_code,
       coalesce(json->>'$.valueString',
                CASE json->>'$.valueBoolean' WHEN 'true' THEN 'yes' WHEN 'false' THEN 'no' END) AS text
FROM (SELECT json, unnest({_CODINGS}) AS c FROM read_ndjson_objects('{{dir}}/Observation.ndjson')
      WHERE coalesce(json->>'$.status', '') NOT IN ('entered-in-error', 'cancelled'));

CREATE TABLE cond AS
SELECT row_number() OVER () AS row_id, {_KEY} AS pid,
       list_filter({_CODINGS}, lambda x: x.system = 'http://snomed.info/sct')[1].code AS snomed,
       list_filter({_CODINGS}, lambda x: x.system = 'http://hl7.org/fhir/sid/icd-10-cm')[1].code AS icd10,
       list_filter({_CODINGS}, lambda x: x.system = '{_CELLTRIAL}')[1].code AS local_code,
       try_cast(left(coalesce(json->>'$.onsetDateTime', json->>'$.onsetPeriod.start'), 10) AS DATE) AS onset,
       try_cast(left(json->>'$.abatementDateTime', 10) AS DATE) AS abatement,
       json->>'$.clinicalStatus.coding[0].code' AS status
FROM read_ndjson_objects('{{dir}}/Condition.ndjson')
WHERE coalesce(json->>'$.verificationStatus.coding[0].code', '') NOT IN ('refuted', 'entered-in-error');
"""


def _tables(ndjson: Path, out: Path) -> None:
    con = duckdb.connect()
    try:
        con.execute(_SQL.replace("{dir}", ndjson.as_posix()))
        codes = con.execute(
            f"""
            SELECT DISTINCT {_vocab("system")} AS vocab, code FROM obs WHERE code IS NOT NULL
            UNION SELECT DISTINCT {_vocab("answer_system")}, answer_code FROM obs
                  WHERE answer_code IS NOT NULL
            UNION SELECT DISTINCT 'UCUM', unit FROM obs WHERE unit IS NOT NULL
            UNION SELECT DISTINCT 'SNOMED', snomed FROM cond WHERE snomed IS NOT NULL
            UNION SELECT DISTINCT 'ICD10CM', icd10 FROM cond WHERE icd10 IS NOT NULL
            UNION SELECT DISTINCT 'celltrial', local_code FROM cond WHERE local_code IS NOT NULL
            """
        ).fetchall()
        con.register("concept_rows", _concept_table([(v, c) for v, c in codes if v is not None]))
        con.execute("CREATE TABLE concept AS SELECT * FROM concept_rows")
        for name, query in _OMOP.items():
            target = (out / f"{name}.parquet").as_posix()
            con.execute(
                f"COPY ({query.replace('{vocab}', _vocab('o.system')).replace('{persons}', _PERSONS)}) "
                f"TO '{target}' (FORMAT parquet)"
            )
    except duckdb.Error as error:
        raise InvalidInput(f"cannot read the FHIR resources: {error}", field=str(ndjson)) from None
    finally:
        con.close()


def _concept_table(codes: list[tuple[str, str]]) -> pa.Table:
    standard = mapping_file()["standard_concepts"]
    answers = {
        (str(e["vocabulary"]), str(e["code"])): int(i) for i, e in mapping_file()["answer_concepts"].items()
    }
    units = {str(code): int(i) for i, code in mapping_file()["units"].items()}
    ids: list[int] = []
    local = 2_000_000_000
    for vocab, code in sorted(codes):
        known = standard.get(vocab, {}).get(code) or answers.get((vocab, code))
        if known is None and vocab == "UCUM":
            known = units.get(code)
        if known is None:
            local += 1
            known = local
        ids.append(int(known))
    return pa.table(
        {
            "concept_id": pa.array(ids, pa.int64()),
            "concept_name": [code for _, code in sorted(codes)],
            "vocabulary_id": [vocab for vocab, _ in sorted(codes)],
            "concept_code": [code for _, code in sorted(codes)],
        }
    )


_PERSONS = "(SELECT pid, row_number() OVER (ORDER BY pid) AS person_id FROM patient)"
_OMOP = {
    "person": """
        SELECT row_number() OVER (ORDER BY pid) AS person_id,
               CASE gender WHEN 'male' THEN 8507 WHEN 'female' THEN 8532 ELSE 0 END AS gender_concept_id,
               try_cast(left(birth, 4) AS INTEGER) AS year_of_birth,
               CASE WHEN length(birth) >= 7 THEN try_cast(substr(birth, 6, 2) AS INTEGER) END
                   AS month_of_birth,
               CASE WHEN length(birth) >= 10 THEN try_cast(substr(birth, 9, 2) AS INTEGER) END
                   AS day_of_birth,
               CASE WHEN length(birth) >= 10 THEN try_cast(left(birth, 10) AS TIMESTAMP) END
                   AS birth_datetime,
               pid AS person_source_value
        FROM patient""",
    "death": """
        SELECT p.person_id, try_cast(left(t.deceased, 10) AS DATE) AS death_date
        FROM patient t JOIN {persons} p USING (pid)
        WHERE t.deceased IS NOT NULL""",
    "measurement": """
        SELECT o.row_id AS measurement_id, p.person_id, c.concept_id AS measurement_concept_id,
               o.day AS measurement_date, o.number AS value_as_number, a.concept_id AS value_as_concept_id,
               coalesce(u.concept_id, 0) AS unit_concept_id, o.unit AS unit_source_value, o.uln AS range_high
        FROM obs o JOIN {persons} p USING (pid)
        JOIN concept c ON c.vocabulary_id = {vocab} AND c.concept_code = o.code
        LEFT JOIN concept a ON a.concept_code = o.answer_code AND a.vocabulary_id <> 'UCUM'
        LEFT JOIN concept u ON u.vocabulary_id = 'UCUM' AND u.concept_code = o.unit
        WHERE o.text IS NULL""",
    "observation": """
        SELECT o.row_id AS observation_id, p.person_id, c.concept_id AS observation_concept_id,
               o.day AS observation_date, o.number AS value_as_number, o.text AS value_as_string,
               CAST(NULL AS BIGINT) AS value_as_concept_id, 0 AS unit_concept_id, o.unit AS unit_source_value
        FROM obs o JOIN {persons} p USING (pid)
        JOIN concept c ON c.vocabulary_id = {vocab} AND c.concept_code = o.code
        WHERE o.text IS NOT NULL""",
    "condition_occurrence": """
        SELECT o.row_id AS condition_occurrence_id, p.person_id,
               coalesce(s.concept_id, l.concept_id, 0) AS condition_concept_id,
               o.onset AS condition_start_date,
               CASE WHEN o.status IN ('inactive', 'remission', 'resolved') THEN coalesce(o.abatement, o.onset)
               END AS condition_end_date,
               coalesce(i.concept_id, 0) AS condition_source_concept_id
        FROM cond o JOIN {persons} p USING (pid)
        LEFT JOIN concept s ON s.vocabulary_id = 'SNOMED' AND s.concept_code = o.snomed
        LEFT JOIN concept i ON i.vocabulary_id = 'ICD10CM' AND i.concept_code = o.icd10
        LEFT JOIN concept l ON l.vocabulary_id = 'celltrial' AND l.concept_code = o.local_code""",
    "concept": "SELECT * FROM concept",
}
