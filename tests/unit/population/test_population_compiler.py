"""Pieces of the rule compiler: answer words, tolerance at the limit, windows, leaves, concepts."""

from __future__ import annotations

import shutil
from pathlib import Path

import ibis
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from celltrial.eligibility.engine import compiled
from celltrial.eligibility.facts import fact_catalogue
from celltrial.eligibility.rules import load_rules
from celltrial.population.compiler import _holds, column_name, fact_value_map, leaves
from celltrial.population.concepts import resolve_concepts
from celltrial.population.records import fact_windows
from celltrial.population.source import open_source
from celltrial.protocol.library import load_settings

RULES = compiled(load_rules("NCT07008872"), load_settings("NCT07008872"))


@pytest.mark.parametrize(
    ("fact", "word", "value"),
    [
        ("hcv_rna", "positive", "detected"),
        ("hcv_rna", "not detected", "not_detected"),
        ("hcv_antibody", "reactive", "positive"),
        ("prior_complete_remission", "yes", "true"),
        ("prior_complete_remission", "no", "false"),
        ("diagnosis", "t_cell_lymphoma", "t_cell_lymphoma"),
    ],
)
def test_answer_words_map_onto_the_facts_own_values(fact: str, word: str, value: str) -> None:
    assert fact_value_map(fact_catalogue().facts[fact], {word}) == {word: value}


def test_a_word_the_fact_does_not_know_maps_to_nothing() -> None:
    assert fact_value_map(fact_catalogue().facts["hcv_antibody"], {"indeterminate"}) == {}


@pytest.mark.parametrize(
    ("value", "operator", "limit", "holds"),
    [
        (1.8, "<=", 1.5 * 1.2, True),  # creatinine exactly 1.5×ULN
        (70.0, ">=", 70.0, True),  # HGB 70 g/L
        (69.0, ">=", 70.0, False),
        (90.0, ">", 90.0, False),  # SpO2 exactly 90 % is not > 90 %
        (90.1, ">", 90.0, True),
        (50.0, "<", 50.0, False),  # LVEF 50 % is not < 50 %
    ],
)
def test_limits_hold_within_the_engines_tolerance(
    value: float, operator: str, limit: float, holds: bool
) -> None:
    expression = _holds(ibis.literal(value), operator, ibis.literal(limit))
    assert ibis.duckdb.connect().execute(expression) is holds


def test_each_fact_is_read_from_its_widest_window() -> None:
    windows = fact_windows(RULES)
    assert windows["hemoglobin"] == 14
    assert windows["lvef"] == 28
    assert windows["diagnosis"] is None
    assert "birth_date" not in windows


def test_every_leaf_rule_is_compiled_once_and_judgments_are_not_leaves() -> None:
    ids = [node.id for node in leaves(RULES)]
    assert len(ids) == len(set(ids))
    assert {"I6", "I8d.alt", "E7.hbv.liver.alt"} <= set(ids)
    assert not {"I4", "E12", "E1.qt"} & set(ids)


def test_column_names_have_no_dots() -> None:
    assert column_name("I1b.ii") == "I1b_ii"


def test_concepts_come_from_the_sources_concept_table(small_omop: Path) -> None:
    with open_source(str(small_omop)) as source:
        concepts = resolve_concepts(source)
    assert 3000963 in concepts.facts["hemoglobin"].concept_ids
    assert concepts.facts["diagnosis"].local_ids  # the synthetic centre's local vocabulary
    assert concepts.facts["atrial_fibrillation"].absent_is_not_present
    assert not concepts.facts["cerebellar_disease"].absent_is_not_present
    assert concepts.answers[9191] == "positive"


def _without(small_omop: Path, target: Path, skip: str) -> Path:
    for item in small_omop.iterdir():
        if item.name.removesuffix(".parquet") == skip:
            continue
        (shutil.copytree if item.is_dir() else shutil.copy)(item, target / item.name)
    return target


def test_without_a_concept_table_the_shipped_standard_ids_are_used(small_omop: Path, tmp_path: Path) -> None:
    with open_source(str(_without(small_omop, tmp_path, "concept"))) as source:
        concepts = resolve_concepts(source)
    assert concepts.facts["hemoglobin"].concept_ids == {3000963}
    assert concepts.facts["myocardial_infarction"].concept_ids == {4329847}
    assert any("no concept table" in note for note in concepts.notes)


def test_descendants_come_from_concept_ancestor_when_it_has_rows(small_omop: Path, tmp_path: Path) -> None:
    source_dir = _without(small_omop, tmp_path, "concept_ancestor")
    pq.write_table(
        pa.table({"ancestor_concept_id": [4329847], "descendant_concept_id": [4108217]}),
        source_dir / "concept_ancestor.parquet",
    )
    with open_source(str(source_dir)) as source:
        concepts = resolve_concepts(source)
    assert {4329847, 4108217} <= concepts.facts["myocardial_infarction"].concept_ids


def test_icd10_codes_match_by_prefix_as_in_the_fhir_reader(small_omop: Path, tmp_path: Path) -> None:
    source_dir = _without(small_omop, tmp_path, "concept")
    concept = pq.read_table(small_omop / "concept.parquet").to_pylist()
    concept.append(
        {
            "concept_id": 45591463,
            "concept_name": "AF",
            "domain_id": "Condition",
            "vocabulary_id": "ICD10CM",
            "concept_class_id": "5-char",
            "standard_concept": None,
            "concept_code": "I48.91",
        }
    )
    pq.write_table(pa.Table.from_pylist(concept), source_dir / "concept.parquet")
    with open_source(str(source_dir)) as source:
        concepts = resolve_concepts(source)
    assert 45591463 in concepts.facts["atrial_fibrillation"].source_ids
