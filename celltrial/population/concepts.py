"""Which OMOP concept ids stand for each eligibility fact, unit and coded answer in one source.

The codes come from the eligibility fact catalogue (``facts.yaml``: LOINC, SNOMED CT, ICD-10-CM
and celltrial's own codes), the answer codes from the FHIR reader, so population prescreening
and per-patient screening read the same codes. Each code is looked up in the source's
``concept`` table by ``(vocabulary_id, concept_code)`` — ICD-10-CM codes as prefixes, like the
FHIR reader — and extended with its descendants from ``concept_ancestor`` when that table has
rows. The shipped ``data/omop_concepts.yaml`` gives the standard ids to use when the source has
no concept table or lacks a code.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import ibis
import yaml

from celltrial.eligibility.facts import FactDefinition, fact_catalogue
from celltrial.eligibility.fhir import _ANSWERS, _ECOG_ANSWERS
from celltrial.population.source import OmopSource

__all__ = ["ConceptMap", "FactConcepts", "mapping_file", "resolve_concepts"]


@dataclass(frozen=True, slots=True)
class FactConcepts:
    """The concepts of one fact in this source.

    ``concept_ids`` match ``measurement``/``observation`` rows (non-condition facts) or
    ``condition_occurrence`` rows and SNOMED-coded ``observation`` rows (conditions);
    ``local_ids`` are celltrial-vocabulary concepts (read from ``observation`` with their value);
    ``source_ids`` are ICD-10-CM concepts matched on ``condition_source_concept_id``.
    ``absent_is_not_present``: a coded condition missing from the record is absent, as in the
    FHIR reader; a fact without standard codes is then unknown.
    """

    fact: str
    definition: FactDefinition
    concept_ids: frozenset[int]
    local_ids: frozenset[int]
    source_ids: frozenset[int]
    absent_is_not_present: bool


@dataclass(frozen=True, slots=True)
class ConceptMap:
    """Concepts of every fact, coded answers and sexes, resolved for one source."""

    facts: dict[str, FactConcepts]
    answers: dict[int, str]
    male: frozenset[int]
    female: frozenset[int]
    unit_fallback: dict[int, str]
    notes: tuple[str, ...]


@cache
def mapping_file() -> dict[str, Any]:
    """The shipped ``omop_concepts.yaml``."""
    text = (resources.files("celltrial.population") / "data" / "omop_concepts.yaml").read_text(
        encoding="utf-8"
    )
    data: dict[str, Any] = yaml.safe_load(text)
    return data


def _answer_codes() -> dict[tuple[str, str], str]:
    """(vocabulary, code) -> answer as the FHIR reader reads it (``positive``, ``2``...)."""
    codes: dict[tuple[str, str], str] = {}
    for code, answer in _ANSWERS.items():
        if code.isdigit():
            codes[("SNOMED", code)] = answer
        elif code.startswith("LA"):
            codes[("LOINC", code)] = answer
    for code, score in _ECOG_ANSWERS.items():
        codes[("LOINC", code)] = str(score)
    return codes


def resolve_concepts(source: OmopSource) -> ConceptMap:
    """Look every fact's codes up in ``source`` (falling back on the shipped standard ids)."""
    mapping = mapping_file()
    vocabulary = mapping["vocabularies"]
    fallback: dict[tuple[str, str], int] = {
        (vocab, str(code)): int(concept_id)
        for vocab, codes in mapping["standard_concepts"].items()
        for code, concept_id in codes.items()
    }
    wanted: set[tuple[str, str]] = set()
    catalogue = fact_catalogue().facts
    for definition in catalogue.values():
        wanted.update((vocabulary["loinc"], code) for code in definition.loinc)
        wanted.update((vocabulary["snomed"], code) for code in definition.snomed)
        if definition.celltrial:
            wanted.add((vocabulary["celltrial"], definition.celltrial))
    answer_codes = _answer_codes()
    wanted.update(answer_codes)
    notes: list[str] = []
    found: dict[tuple[str, str], set[int]] = {}
    icd_prefixes = sorted({p.replace(".", "") for d in catalogue.values() for p in d.icd10})
    icd_found: dict[str, set[int]] = {}
    local_answers: dict[int, str] = {}
    if source.has("concept"):
        found, icd_found, local_answers = _lookup(source, wanted, icd_prefixes, vocabulary["celltrial"])
    else:
        notes.append("no concept table: standard concept ids from omop_concepts.yaml, no ICD-10-CM codes")
    for key, concept_id in fallback.items():
        found.setdefault(key, set()).add(concept_id)
    descendants = _descendants(source, {i for ids in found.values() for i in ids})
    if descendants:
        notes.append("concept_ancestor: descendants of every code included")
    facts: dict[str, FactConcepts] = {}
    for name, definition in catalogue.items():
        standard: set[int] = set()
        for code in definition.loinc:
            standard |= found.get((vocabulary["loinc"], code), set())
        for code in definition.snomed:
            standard |= found.get((vocabulary["snomed"], code), set())
        standard |= {d for concept_id in standard for d in descendants.get(concept_id, ())}
        local = (
            found.get((vocabulary["celltrial"], definition.celltrial), set())
            if definition.celltrial
            else set()
        )
        icd = {i for prefix in definition.icd10 for i in icd_found.get(prefix.replace(".", ""), set())}
        facts[name] = FactConcepts(
            name,
            definition,
            frozenset(standard - local),
            frozenset(local),
            frozenset(icd),
            definition.type == "condition" and bool(definition.snomed or definition.icd10),
        )
    answers: dict[int, str] = dict(local_answers)
    for key, answer in answer_codes.items():
        for concept_id in found.get(key, set()):
            answers[concept_id] = answer
    for concept_id, entry in mapping.get("answer_concepts", {}).items():
        known = answer_codes.get((entry["vocabulary"], str(entry["code"])))
        if known is not None:
            answers.setdefault(int(concept_id), known)
    gender = mapping["gender"]
    return ConceptMap(
        facts,
        answers,
        frozenset(int(i) for i in gender["male"]),
        frozenset(int(i) for i in gender["female"]),
        {int(k): str(v) for k, v in mapping["units"].items()},
        tuple(notes),
    )


def _lookup(
    source: OmopSource, wanted: set[tuple[str, str]], icd_prefixes: list[str], local_vocabulary: str
) -> tuple[dict[tuple[str, str], set[int]], dict[str, set[int]], dict[int, str]]:
    concept = source.table("concept")
    vocabularies = sorted({vocab for vocab, _ in wanted} | {"ICD10CM"})
    codes = sorted({code for _, code in wanted})
    plain = concept.filter(concept.vocabulary_id.isin(vocabularies) & concept.concept_code.isin(codes))
    frame = source.fetch(plain.select("concept_id", "vocabulary_id", "concept_code")).to_pylist()
    found: dict[tuple[str, str], set[int]] = {}
    for row in frame:
        key = (str(row["vocabulary_id"]), str(row["concept_code"]))
        if key in wanted:
            found.setdefault(key, set()).add(int(row["concept_id"]))
    icd_found: dict[str, set[int]] = {}
    if icd_prefixes:
        compact = concept.concept_code.replace(".", "")
        condition = ibis.or_(*(compact.startswith(prefix) for prefix in icd_prefixes))
        icd = concept.filter((concept.vocabulary_id == "ICD10CM") & condition)
        for row in source.fetch(icd.select("concept_id", "concept_code")).to_pylist():
            code = str(row["concept_code"]).replace(".", "").upper()
            for prefix in icd_prefixes:
                if code.startswith(prefix):
                    icd_found.setdefault(prefix, set()).add(int(row["concept_id"]))
    local = concept.filter(concept.vocabulary_id == local_vocabulary).select("concept_id", "concept_code")
    local_answers = {int(r["concept_id"]): str(r["concept_code"]) for r in source.fetch(local).to_pylist()}
    return found, icd_found, local_answers


def _descendants(source: OmopSource, ancestors: set[int]) -> dict[int, set[int]]:
    if not ancestors or not source.has("concept_ancestor"):
        return {}
    table = source.table("concept_ancestor")
    wanted = table.filter(table.ancestor_concept_id.isin(sorted(ancestors)))
    rows = source.fetch(wanted.select("ancestor_concept_id", "descendant_concept_id")).to_pylist()
    found: dict[int, set[int]] = {}
    for row in rows:
        found.setdefault(int(row["ancestor_concept_id"]), set()).add(int(row["descendant_concept_id"]))
    return found
