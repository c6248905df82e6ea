"""Synthetic OMOP CDM 5.4 data of a haematology centre, at scale, deterministic for a seed.

``synthesise(patients=N, seed=S, out=DIR)`` writes ``person``, ``death``, ``measurement``,
``observation``, ``condition_occurrence``, ``concept`` and ``cdm_source`` as Parquet (one
directory per table, one part per chunk of patients), generated with numpy in chunks of
:data:`CHUNK` patients so that memory stays flat (1,000,000 patients ≈ 20 M measurement rows).
Chunk *k* draws from ``numpy.random.default_rng([seed, k])``: the same seed gives the same files.

What is drawn (all dates relative to the data cut ``as_of``):

* person: sex (55 % male), age at the data cut from a paediatric (15 %, 1–17 y) and an adult
  (58 ± 16 y, 18–95) component; 8 % died before the data cut;
* one haematological malignancy each (T-cell lymphoma 8 %, T-ALL 7 %, AML 30 %, B-ALL 12 %,
  DLBCL 18 %, myeloma 15 %, CLL 10 %) coded in ICD-10-CM, in SNOMED CT where standard;
* about 20 measurements: haemoglobin (g/dL or g/L), creatinine (mg/dL, or µmol/L under its own
  LOINC code), bilirubin, ALT, AST (with the laboratory's ULN in ``range_high`` for 70 %), SpO2,
  LVEF, ECOG, and serologies (HBV DNA, HCV antibody and RNA, HIV, syphilis; pregnancy tests in
  women of 12–55); dates spread over the 60 days before the data cut, so that some fall
  outside the eligibility windows; a few values without a unit, in an unknown unit or missing;
* conditions: atrial fibrillation, myocardial infarction, heart failure, pericardial effusion,
  GVHD, sepsis, epilepsy, stroke, dementia, HIV, syphilis, other cancers, pregnancy, with onset
  dates and, for some, an end date (resolved);
* for 70 % of patients the disease facts a haematology service records in its local
  vocabulary (``celltrial`` concepts, ids ≥ 2,000,000,000): diagnosis, disease status, prior
  courses, complete remission, blasts, CD7 by flow cytometry, peripheral tumour cells.

Laboratory distributions are plausible for patients on treatment (anaemia, some hepatic and
renal impairment); they are illustrations for feasibility counts, not epidemiology.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from celltrial.eligibility.facts import fact_catalogue
from celltrial.errors import InvalidInput
from celltrial.population.concepts import mapping_file
from celltrial.population.synth_labs import labs, local_facts, serologies

__all__ = ["CHUNK", "DEFAULT_AS_OF", "synthesise"]

CHUNK = 100_000
DEFAULT_AS_OF = date(2025, 6, 1)
LOCAL_BASE = 2_000_000_000
_EPOCH = np.datetime64("1970-01-01", "D")

# (name, ICD-10-CM, SNOMED CT or "", share, local diagnosis value)
DIAGNOSES = (
    ("Peripheral T-cell lymphoma", "C84.40", "", 0.08, "t_cell_lymphoma"),
    ("T-cell acute lymphoblastic leukaemia", "C91.00", "", 0.07, "t_cell_acute_lymphoblastic_leukemia"),
    ("Acute myeloid leukaemia", "C92.00", "91861009", 0.30, "acute_myeloid_leukemia"),
    ("B-cell acute lymphoblastic leukaemia", "C91.00", "", 0.12, "other"),
    ("Diffuse large B-cell lymphoma", "C83.30", "109969005", 0.18, "other"),
    ("Multiple myeloma", "C90.00", "109989006", 0.15, "other"),
    ("Chronic lymphocytic leukaemia", "C91.10", "92814006", 0.10, "other"),
)
# condition fact -> (prevalence, share resolved)
CONDITIONS = {
    "atrial_fibrillation": (0.04, 0.2),
    "myocardial_infarction": (0.04, 0.5),
    "heart_failure": (0.03, 0.1),
    "pericardial_effusion": (0.01, 0.5),
    "gvhd": (0.03, 0.4),
    "uncontrolled_infection": (0.05, 0.6),
    "uncontrolled_epilepsy": (0.01, 0.1),
    "cerebral_ischemia": (0.02, 0.3),
    "dementia": (0.01, 0.0),
    "hiv_infection": (0.005, 0.0),
    "syphilis": (0.003, 0.5),
    "other_advanced_malignancy": (0.03, 0.3),
}


@dataclass
class _Concepts:
    """Concept ids of the synthetic vocabulary: standard ids where known, local ids otherwise."""

    rows: dict[tuple[str, str], tuple[int, str, str]] = field(default_factory=dict)
    _next: int = LOCAL_BASE

    def __post_init__(self) -> None:
        for concept_id, entry in mapping_file()["answer_concepts"].items():
            key = (str(entry["vocabulary"]), str(entry["code"]))
            self.rows[key] = (int(concept_id), str(entry["code"]), "Meas Value")

    def id(self, vocabulary: str, code: str, name: str = "", domain: str = "Measurement") -> int:
        key = (vocabulary, code)
        if key not in self.rows:
            known = mapping_file()["standard_concepts"].get(vocabulary, {}).get(code)
            concept_id = int(known) if known is not None else self._take()
            self.rows[key] = (concept_id, name or code, domain)
        return self.rows[key][0]

    def _take(self) -> int:
        self._next += 1
        return self._next

    def table(self) -> pa.Table:
        keys = sorted(self.rows, key=lambda k: self.rows[k][0])
        return pa.table(
            {
                "concept_id": pa.array([self.rows[k][0] for k in keys], pa.int64()),
                "concept_name": [self.rows[k][1] for k in keys],
                "domain_id": [self.rows[k][2] for k in keys],
                "vocabulary_id": [k[0] for k in keys],
                "concept_class_id": ["Synthetic" for _ in keys],
                "standard_concept": ["S" if k[0] != "ICD10CM" else None for k in keys],
                "concept_code": [k[1] for k in keys],
            }
        )


def _loinc(fact: str, index: int = 0) -> str:
    return fact_catalogue().facts[fact].loinc[index]


def _snomed(fact: str) -> str:
    return fact_catalogue().facts[fact].snomed[0]


class _Rows:
    """Columns of one table for one chunk, appended block by block."""

    def __init__(self) -> None:
        self.blocks: dict[str, list[np.ndarray[Any, Any]]] = {}

    def add(self, **columns: Any) -> None:
        size = max(len(v) for v in columns.values() if isinstance(v, np.ndarray))
        for name, value in columns.items():
            array = value if isinstance(value, np.ndarray) else np.full(size, value)
            self.blocks.setdefault(name, []).append(array)

    def table(self, types: dict[str, pa.DataType]) -> pa.Table:
        arrays = {}
        for name, kind in types.items():
            joined = np.concatenate(self.blocks[name]) if name in self.blocks else np.array([])
            if kind == pa.date32():
                arrays[name] = pa.array(joined.astype("datetime64[D]"), pa.date32(), from_pandas=True)
            elif kind == pa.string():
                arrays[name] = pa.array(joined.astype(object), pa.string(), from_pandas=True)
            elif kind == pa.float64():
                arrays[name] = pa.array(joined.astype(np.float64), pa.float64(), from_pandas=True)
            else:
                arrays[name] = pa.array(joined.astype(np.int64), kind)
        return pa.table(arrays)


MEASUREMENT_TYPES = {
    "measurement_id": pa.int64(),
    "person_id": pa.int64(),
    "measurement_concept_id": pa.int64(),
    "measurement_date": pa.date32(),
    "value_as_number": pa.float64(),
    "value_as_concept_id": pa.int64(),
    "unit_concept_id": pa.int64(),
    "unit_source_value": pa.string(),
    "range_high": pa.float64(),
}
OBSERVATION_TYPES = {
    "observation_id": pa.int64(),
    "person_id": pa.int64(),
    "observation_concept_id": pa.int64(),
    "observation_date": pa.date32(),
    "value_as_number": pa.float64(),
    "value_as_string": pa.string(),
    "value_as_concept_id": pa.int64(),
    "unit_concept_id": pa.int64(),
    "unit_source_value": pa.string(),
}
CONDITION_TYPES = {
    "condition_occurrence_id": pa.int64(),
    "person_id": pa.int64(),
    "condition_concept_id": pa.int64(),
    "condition_start_date": pa.date32(),
    "condition_end_date": pa.date32(),
    "condition_source_value": pa.string(),
    "condition_source_concept_id": pa.int64(),
}


def synthesise(
    *,
    patients: int,
    seed: int,
    out: Path,
    as_of: date = DEFAULT_AS_OF,
    progress: Callable[[int], None] | None = None,
) -> dict[str, int]:
    """Write ``patients`` synthetic patients under ``out``; returns the row count of each table."""
    if patients < 1:
        raise InvalidInput("must be at least 1", field="--patients")
    out.mkdir(parents=True, exist_ok=True)
    if any(out.iterdir()):
        raise InvalidInput("the output directory is not empty", field=str(out))
    concepts = _Concepts()
    counts: dict[str, int] = {}
    for chunk, start in enumerate(range(0, patients, CHUNK)):
        size = min(CHUNK, patients - start)
        rng = np.random.default_rng([seed, chunk])
        tables = _chunk(rng, start, size, np.datetime64(as_of.isoformat(), "D"), concepts)
        for name, table in tables.items():
            directory = out / name
            directory.mkdir(exist_ok=True)
            pq.write_table(table, directory / f"part-{chunk:05d}.parquet")
            counts[name] = counts.get(name, 0) + table.num_rows
        if progress:
            progress(start + size)
    pq.write_table(concepts.table(), out / "concept.parquet")
    counts["concept"] = len(concepts.rows)
    pq.write_table(
        pa.table(
            {
                "cdm_source_name": ["celltrial synthetic haematology centre"],
                "cdm_version": ["5.4"],
                "source_release_date": pa.array([as_of], pa.date32()),
                "cdm_release_date": pa.array([as_of], pa.date32()),
                "source_description": [f"celltrial population synth --patients {patients} --seed {seed}"],
            }
        ),
        out / "cdm_source.parquet",
    )
    return counts


def _chunk(
    rng: np.random.Generator, start: int, size: int, cut: np.datetime64, concepts: _Concepts
) -> dict[str, pa.Table]:
    ids = np.arange(start + 1, start + size + 1, dtype=np.int64)
    male = rng.random(size) < 0.55
    child = rng.random(size) < 0.15
    age_days = np.where(
        child, rng.uniform(1, 18, size) * 365.25, np.clip(rng.normal(58, 16, size), 18, 95.9) * 365.25
    ).astype(np.int64)
    birth = cut - age_days.astype("timedelta64[D]")
    age = age_days / 365.25
    person = _person(ids, male, birth)
    dead = rng.random(size) < 0.08
    death = pa.table(
        {
            "person_id": pa.array(ids[dead]),
            "death_date": pa.array(
                (cut - rng.integers(1, 700, int(dead.sum())).astype("timedelta64[D]")), pa.date32()
            ),
        }
    )
    base = start * 100
    measurements = _Rows()
    observations = _Rows()
    conditions = _Rows()
    counter = {"m": base, "o": base, "c": base}

    def next_ids(kind: str, n: int) -> np.ndarray[Any, Any]:
        first = counter[kind]
        counter[kind] += n
        return np.arange(first + 1, first + n + 1, dtype=np.int64)

    labs(rng, ids, cut, age, male, concepts, measurements, next_ids)
    serologies(rng, ids, cut, age, male, concepts, measurements, next_ids)
    chosen = _diagnoses(rng, ids, cut, concepts, conditions, next_ids)
    local_value = np.array([d[4] for d in DIAGNOSES], object)[chosen]
    local_facts(rng, ids, cut, local_value, concepts, observations, next_ids)
    _comorbidities(rng, ids, cut, age, male, concepts, conditions, next_ids)
    return {
        "person": person,
        "death": death,
        "measurement": measurements.table(MEASUREMENT_TYPES),
        "observation": observations.table(OBSERVATION_TYPES),
        "condition_occurrence": conditions.table(CONDITION_TYPES),
    }


def _person(ids: np.ndarray[Any, Any], male: np.ndarray[Any, Any], birth: np.ndarray[Any, Any]) -> pa.Table:
    years = birth.astype("datetime64[Y]").astype(int) + 1970
    months = birth.astype("datetime64[M]").astype(int) % 12 + 1
    days = (birth - birth.astype("datetime64[M]").astype("datetime64[D]")).astype(int) + 1
    return pa.table(
        {
            "person_id": pa.array(ids),
            "gender_concept_id": pa.array(np.where(male, 8507, 8532).astype(np.int64)),
            "year_of_birth": pa.array(years.astype(np.int64)),
            "month_of_birth": pa.array(months.astype(np.int64)),
            "day_of_birth": pa.array(days.astype(np.int64)),
            "birth_datetime": pa.array(birth.astype("datetime64[us]"), pa.timestamp("us")),
            "gender_source_value": pa.array(np.where(male, "M", "F")),
        }
    )


def _days_before(
    rng: np.random.Generator, cut: np.datetime64, n: int, low: int, high: int
) -> np.ndarray[Any, Any]:
    return cut - rng.integers(low, high, n).astype("timedelta64[D]")


def _diagnoses(
    rng: np.random.Generator,
    ids: np.ndarray[Any, Any],
    cut: np.datetime64,
    concepts: _Concepts,
    rows: _Rows,
    next_ids: Callable[[str, int], np.ndarray[Any, Any]],
) -> np.ndarray[Any, Any]:
    shares = np.array([d[3] for d in DIAGNOSES])
    chosen = rng.choice(len(DIAGNOSES), size=len(ids), p=shares / shares.sum())
    for index, (name, icd, snomed, _, _) in enumerate(DIAGNOSES):
        who = ids[chosen == index]
        if not len(who):
            continue
        standard = concepts.id("SNOMED", snomed, name, "Condition") if snomed else 0
        source = concepts.id("ICD10CM", icd, name, "Condition")
        rows.add(
            condition_occurrence_id=next_ids("c", len(who)),
            person_id=who,
            condition_concept_id=np.full(len(who), standard, np.int64),
            condition_start_date=_days_before(rng, cut, len(who), 60, 2000),
            condition_end_date=np.full(len(who), np.datetime64("NaT"), "datetime64[D]"),
            condition_source_value=np.full(len(who), icd, object),
            condition_source_concept_id=np.full(len(who), source, np.int64),
        )
    return chosen


def _comorbidities(
    rng: np.random.Generator,
    ids: np.ndarray[Any, Any],
    cut: np.datetime64,
    age: np.ndarray[Any, Any],
    male: np.ndarray[Any, Any],
    concepts: _Concepts,
    rows: _Rows,
    next_ids: Callable[[str, int], np.ndarray[Any, Any]],
) -> None:
    catalogue = fact_catalogue().facts
    plan = dict(CONDITIONS)
    for fact, (prevalence, resolved_share) in plan.items():
        older = np.clip(age / 60, 0.2, 2.0) if fact not in ("gvhd", "hiv_infection", "syphilis") else 1.0
        who = ids[rng.random(len(ids)) < prevalence * older]
        _condition_rows(
            rng, who, cut, concepts, rows, next_ids, _snomed(fact), catalogue[fact].text, resolved_share
        )
    women = ids[(~male) & (age >= 16) & (age <= 45)]
    pregnant = women[rng.random(len(women)) < 0.03]
    _condition_rows(
        rng, pregnant, cut, concepts, rows, next_ids, _snomed("pregnancy"), "Pregnancy", 0.3, recent=True
    )


def _condition_rows(
    rng: np.random.Generator,
    who: np.ndarray[Any, Any],
    cut: np.datetime64,
    concepts: _Concepts,
    rows: _Rows,
    next_ids: Callable[[str, int], np.ndarray[Any, Any]],
    snomed: str,
    name: str,
    resolved_share: float,
    *,
    recent: bool = False,
) -> None:
    n = len(who)
    if not n:
        return
    start = _days_before(rng, cut, n, 1, 280 if recent else 3 * 365)
    resolved = rng.random(n) < resolved_share
    end = start + rng.integers(10, 200, n).astype("timedelta64[D]")
    end = np.where(resolved & (end < cut), end, np.datetime64("NaT"))
    rows.add(
        condition_occurrence_id=next_ids("c", n),
        person_id=who,
        condition_concept_id=np.full(n, concepts.id("SNOMED", snomed, name, "Condition"), np.int64),
        condition_start_date=start,
        condition_end_date=end.astype("datetime64[D]"),
        condition_source_value=np.full(n, snomed, object),
        condition_source_concept_id=np.zeros(n, np.int64),
    )
