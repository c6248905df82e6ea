"""Run a trial's eligibility rules over a whole OMOP source: verdicts per patient and the funnel.

``prescreen(source, as_of=...)`` resolves the facts' concepts and the units the values carry, then
builds one query in the source's engine: each source table read once and aggregated per person
(:mod:`.patients`: every leaf rule's verdict, packed), joined once to the person table, every
criterion compiled into a boolean column (:mod:`.compiler`), and one ``GROUP BY`` over the
criterion verdicts (:func:`.funnel.verdict_combinations`). Only the concept and unit lists and the
few thousand combinations come back to Python, where :func:`.funnel.tally` counts the funnel.
``PrescreenRun.verdicts`` is the per-patient verdict table, computed again when read.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import ibis
import ibis.expr.types as ir
import numpy as np

from celltrial.clinical.units import registry
from celltrial.eligibility.compiled import CompiledCondition, CompiledNode
from celltrial.eligibility.engine import compiled
from celltrial.eligibility.rules import load_rules
from celltrial.population.compiler import LeafCompiler, UnitKey, VerdictCompiler, column_name, leaves
from celltrial.population.concepts import ConceptMap, resolve_concepts
from celltrial.population.funnel import Funnel, tally, verdict_combinations
from celltrial.population.patients import condition_codes, leaf_slots, leaf_table, packed_words, value_codes
from celltrial.population.records import (
    condition_columns,
    condition_records,
    fact_windows,
    person_table,
    value_facts,
    value_records,
)
from celltrial.population.source import OmopSource
from celltrial.protocol.library import load_settings

__all__ = ["STAGES", "PrescreenRun", "prescreen", "unit_code"]

STAGES = ("concepts", "records", "units", "verdicts", "funnel")
Progress = Callable[[str], None]


@dataclass(frozen=True)
class PrescreenRun:
    """A finished run: the funnel, and the per-patient verdict table (still in the engine)."""

    funnel: Funnel
    verdicts: ir.Table
    criteria: tuple[tuple[str, str, str], ...]

    def write_verdicts(self, path: Path) -> None:
        """Per-patient verdicts as Parquet: person_id, one met/not_met/unknown column per criterion."""
        labels = {
            column: ibis.cases(
                (self.verdicts[column] == True, "met"),  # noqa: E712
                (self.verdicts[column] == False, "not_met"),  # noqa: E712
                else_="unknown",
            )
            for _, _, column in self.criteria
        }
        self.verdicts.select("person_id", **labels).to_parquet(path)


def unit_code(unit_id: int | None, unit_src: str | None, ucum: dict[int, str]) -> str | None:
    """The UCUM code of a value's unit: its unit concept, else the unit as written at the source."""
    if unit_id and unit_id in ucum:
        return ucum[unit_id]
    text = (unit_src or "").strip()
    return text or None


def ucum_codes(source: OmopSource, concepts: ConceptMap, unit_ids: set[int]) -> dict[int, str]:
    """Unit concept id -> UCUM code, from the source's concept table, else the shipped ids."""
    found = {i: code for i, code in concepts.unit_fallback.items() if i in unit_ids}
    if source.has("concept") and unit_ids:
        concept = source.table("concept")
        ucum = concept.filter((concept.vocabulary_id == "UCUM") & concept.concept_id.isin(sorted(unit_ids)))
        rows = source.fetch(ucum.select("concept_id", "concept_code")).to_pylist()
        found.update({int(r["concept_id"]): str(r["concept_code"]) for r in rows})
    return found


def _units(
    source: OmopSource, concepts: ConceptMap, facts: list[str]
) -> dict[str, dict[UnitKey, str | None]]:
    """Fact -> each (unit concept, unit as written) its values carry -> UCUM code.

    Read from the measurement and observation rows of the numeric facts' concepts, whatever their
    date (a unit no rule reads adds an unused branch), in one scan of each table.
    """
    fact_of: dict[int, str] = {}
    for fact in facts:
        if concepts.facts[fact].definition.type in ("quantity", "count"):
            fact_of.update(
                dict.fromkeys(concepts.facts[fact].concept_ids | concepts.facts[fact].local_ids, fact)
            )
    if not fact_of:
        return {}
    parts = []
    for table, concept in (
        ("measurement", "measurement_concept_id"),
        ("observation", "observation_concept_id"),
    ):
        rows = source.table(table)
        rows = rows.filter(rows[concept].isin(sorted(fact_of)))
        parts.append(
            rows.select(
                concept=rows[concept].cast("int64"),
                unit_id=rows.unit_concept_id.cast("int64"),
                unit_src=rows.unit_source_value.cast("string"),
            ).distinct()
        )
    found = source.fetch(parts[0].union(parts[1], distinct=True)).to_pylist()
    ucum = ucum_codes(source, concepts, {int(r["unit_id"]) for r in found if r["unit_id"]})
    units: dict[str, dict[UnitKey, str | None]] = {}
    for row in found:
        key = (row["unit_id"], row["unit_src"])
        units.setdefault(fact_of[row["concept"]], {})[key] = unit_code(row["unit_id"], row["unit_src"], ucum)
    return units


def prescreen(
    source: OmopSource,
    *,
    as_of: date,
    protocol: str = "NCT07008872",
    progress: Progress | None = None,
) -> PrescreenRun:
    """The funnel of ``protocol`` over every patient of ``source`` on ``as_of``."""
    step: Progress = progress or (lambda stage: None)
    # pint's registry (unit conversions) takes half a second to build: built while the engine reads
    warm = threading.Thread(target=registry, daemon=True)
    warm.start()
    rules = compiled(load_rules(protocol), load_settings(protocol))
    step("concepts")
    concepts = resolve_concepts(source)
    step("records")
    windows = fact_windows(rules)
    facts = value_facts(concepts, windows)
    conditions = condition_columns(concepts)
    values = value_records(source, concepts, windows, as_of)
    step("units")
    units = _units(source, concepts, facts)
    step("verdicts")
    warm.join()
    compiler = LeafCompiler(concepts, units, as_of)
    every_leaf = leaves(rules)
    by_fact: dict[str, list[CompiledNode]] = {}
    for node in every_leaf:
        fact = getattr(node, "fact", None)
        if fact in facts or (isinstance(node, CompiledCondition) and fact in conditions):
            by_fact.setdefault(fact, []).append(node)
    slots = leaf_slots(by_fact)
    parts = [
        value_codes(values, facts, every_leaf, compiler, concepts, slots, source.engine),
        condition_codes(condition_records(source, concepts, as_of), conditions, every_leaf, compiler, slots),
    ]
    words = packed_words(
        person_table(source), [part for part in parts if part is not None], slots, source.engine
    )
    patients = leaf_table(words, every_leaf, slots, compiler)
    expressions = VerdictCompiler(rules, patients).criteria()
    every = [(c.id, c.kind, column_name(c.id)) for c in rules.criteria]
    kinds = {c.id: c.kind for c in rules.criteria}
    top = [(cid, kinds[cid], column_name(cid)) for cid in rules.top_level]
    alive = patients.death_date.isnull() | (patients.death_date > ibis.literal(as_of, "date"))
    everyone = patients.select(
        "person_id", _alive=alive, **{column_name(cid): expr for cid, expr in expressions.items()}
    )
    verdicts = everyone.filter(everyone._alive).drop("_alive")
    step("funnel")
    # one query from the source tables to the combinations of verdicts, the deceased apart
    combinations = source.fetch_columns(verdict_combinations(everyone, [*every, ("", "", "_alive")]))
    living = np.ma.getdata(combinations["_alive"]).astype(bool)  # never NULL
    deceased = int(np.ma.getdata(combinations["patients"])[~living].sum())
    rows_alive = {name: values[living] for name, values in combinations.items()}
    funnel = tally(rows_alive, top, every, as_of, deceased)
    notes = (*concepts.notes, *_unmapped_notes(windows, facts), *_judgment_notes(rules.judgment_ids))
    funnel = replace(funnel, source=source.name, engine=source.engine, notes=notes)
    return PrescreenRun(funnel, verdicts, tuple(every))


def _unmapped_notes(windows: dict[str, int | None], facts: list[str]) -> tuple[str, ...]:
    """Value facts the rules read that this source has no concept for: unknown for everyone."""
    missing = sorted(set(windows) - set(facts))
    if not missing:
        return ()
    return (f"no concept for these facts in this source, unknown for everyone: {', '.join(missing)}",)


def _judgment_notes(ids: frozenset[str]) -> tuple[str, ...]:
    if not ids:
        return ()
    return (f"decided by the investigator, unknown for everyone: {', '.join(sorted(ids))}",)
