"""One row per person with what the rules read: birth, sex, death, each fact's latest record, conditions.

The per-patient engine uses, for each fact, the most recent value (ties: the later record), and
checks its date against the rule's window afterwards; a record dated after the screening date is
the most recent and makes the rule ``unknown``. So one record per person and fact suffices: the
latest by (date, table, row id), whatever the window. It is found with a window function over
``measurement`` and ``observation`` restricted to the facts' concepts, then pivoted to columns
``<fact>__day``, ``__number``, ``__answer``, ``__text``, ``__unit_id``, ``__unit_src``, ``__uln``.

Conditions are aggregated per person and fact: how many records, whether one is dated after
the screening date, how many are present / active, and the latest onset of each
(``<fact>__rows``, ``__problem``, ``__present``, ``__active``, ``__present_last``,
``__active_last``, ``__present_undated``, ``__active_undated``). A condition is active on the
screening date unless its ``condition_end_date`` is on or before it.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import ibis
import ibis.expr.types as ir

from celltrial.population.concepts import ConceptMap
from celltrial.population.source import OmopSource

__all__ = ["VALUE_COLUMNS", "condition_columns", "patient_table", "value_facts"]

VALUE_COLUMNS = ("day", "number", "answer", "text", "unit_id", "unit_src", "uln")
CONDITION_COLUMNS = (
    "rows",
    "problem",
    "present",
    "active",
    "present_last",
    "active_last",
    "present_undated",
    "active_undated",
)
_YES = ("yes", "positive", "detected", "reactive", "true")
_NO = ("no", "negative", "not_detected", "not detected", "non-reactive", "false")


def value_facts(concepts: ConceptMap) -> list[str]:
    """Facts read from measurement/observation values, with concepts in this source."""
    return sorted(
        name
        for name, fact in concepts.facts.items()
        if fact.definition.type != "condition" and (fact.concept_ids or fact.local_ids)
    )


def condition_columns(concepts: ConceptMap) -> list[str]:
    """Condition facts with concepts in this source."""
    return sorted(
        name
        for name, fact in concepts.facts.items()
        if fact.definition.type == "condition" and (fact.concept_ids or fact.local_ids or fact.source_ids)
    )


def _concept_table(pairs: list[tuple[int, str]], name: str) -> ir.Table:
    ids = [concept_id for concept_id, _ in pairs] or [-1]
    facts = [fact for _, fact in pairs] or ["-"]
    return ibis.memtable({"concept_id": ids, "fact": facts})


def _value_rows(source: OmopSource, concepts: ConceptMap) -> ir.Table | None:
    pairs = sorted(
        {
            (i, name)
            for name in value_facts(concepts)
            for i in concepts.facts[name].concept_ids | concepts.facts[name].local_ids
        }
    )
    if not pairs:
        return None
    ids = [concept_id for concept_id, _ in pairs]
    lookup = _concept_table(pairs, "celltrial_value_concepts")
    m = source.table("measurement")
    m = m.filter(m.measurement_concept_id.isin(ids))
    measured = m.join(lookup, m.measurement_concept_id == lookup.concept_id).select(
        person_id=m.person_id.cast("int64"),
        fact=lookup.fact,
        day=m.measurement_date.cast("date"),
        number=m.value_as_number.cast("float64"),
        answer=m.value_as_concept_id.cast("int64"),
        text=ibis.null("string"),
        unit_id=m.unit_concept_id.cast("int64"),
        unit_src=m.unit_source_value.cast("string"),
        uln=m.range_high.cast("float64"),
        rank=ibis.literal(0, "int8"),
        row_id=m.measurement_id.cast("int64"),
    )
    o = source.table("observation")
    o = o.filter(o.observation_concept_id.isin(ids))
    observed = o.join(lookup, o.observation_concept_id == lookup.concept_id).select(
        person_id=o.person_id.cast("int64"),
        fact=lookup.fact,
        day=o.observation_date.cast("date"),
        number=o.value_as_number.cast("float64"),
        answer=o.value_as_concept_id.cast("int64"),
        text=o.value_as_string.cast("string"),
        unit_id=o.unit_concept_id.cast("int64"),
        unit_src=o.unit_source_value.cast("string"),
        uln=ibis.null("float64"),
        rank=ibis.literal(1, "int8"),
        row_id=o.observation_id.cast("int64"),
    )
    return measured.union(observed)


def _latest_values(rows: ir.Table, facts: list[str]) -> ir.Table:
    order = ibis.row_number().over(
        group_by=[rows.person_id, rows.fact],
        order_by=[rows.day.desc(), rows.rank.desc(), rows.row_id.desc()],
    )
    latest = rows.mutate(_n=order).filter(lambda t: t._n == 0)
    aggregates: dict[str, Any] = {}
    for fact in facts:
        chosen = latest.fact == fact
        for column in VALUE_COLUMNS:
            aggregates[f"{fact}__{column}"] = latest[column].max(where=chosen)
    return latest.group_by("person_id").aggregate(**aggregates)


def _condition_rows(source: OmopSource, concepts: ConceptMap, as_of: date) -> ir.Table | None:
    names = condition_columns(concepts)
    standard = sorted({(i, n) for n in names for i in concepts.facts[n].concept_ids})
    icd = sorted({(i, n) for n in names for i in concepts.facts[n].source_ids})
    local = sorted({(i, n) for n in names for i in concepts.facts[n].local_ids})
    parts: list[ir.Table] = []
    day_literal = ibis.literal(as_of, "date")
    c = source.table("condition_occurrence")

    def from_conditions(table: ir.Table, key: Any, lookup: ir.Table) -> ir.Table:
        start = table.condition_start_date.cast("date")
        end = table.condition_end_date.cast("date")
        return table.join(lookup, key == lookup.concept_id).select(
            person_id=table.person_id.cast("int64"),
            fact=lookup.fact,
            day=start,
            present=ibis.literal(True),
            active=end.isnull() | (end > day_literal),
            problem=(start > day_literal).fill_null(False),
        )

    if standard:
        lookup = _concept_table(standard, "celltrial_condition_concepts")
        matched = c.filter(c.condition_concept_id.isin([i for i, _ in standard]))
        parts.append(from_conditions(matched, matched.condition_concept_id, lookup))
        o = source.table("observation")
        o = o.filter(o.observation_concept_id.isin([i for i, _ in standard]))
        parts.append(
            o.join(lookup, o.observation_concept_id == lookup.concept_id).select(
                person_id=o.person_id.cast("int64"),
                fact=lookup.fact,
                day=o.observation_date.cast("date"),
                present=ibis.literal(True),
                active=ibis.literal(True),
                problem=(o.observation_date.cast("date") > day_literal).fill_null(False),
            )
        )
    if icd:
        lookup = _concept_table(icd, "celltrial_condition_icd10")
        others = [i for i, _ in standard] or [-1]
        matched = c.filter(
            c.condition_source_concept_id.isin([i for i, _ in icd]) & ~c.condition_concept_id.isin(others)
        )
        parts.append(from_conditions(matched, matched.condition_source_concept_id, lookup))
    if local:
        lookup = _concept_table(local, "celltrial_condition_local")
        o = source.table("observation")
        o = o.filter(o.observation_concept_id.isin([i for i, _ in local]))
        word = o.value_as_string.cast("string").strip().lower()
        present = ibis.cases((word.isin(_YES), True), (word.isin(_NO), False), else_=ibis.null("boolean"))
        parts.append(
            o.join(lookup, o.observation_concept_id == lookup.concept_id).select(
                person_id=o.person_id.cast("int64"),
                fact=lookup.fact,
                day=o.observation_date.cast("date"),
                present=present.fill_null(False),
                active=present.fill_null(False),
                problem=present.isnull() | (o.observation_date.cast("date") > day_literal).fill_null(False),
            )
        )
    if not parts:
        return None
    rows = parts[0]
    for part in parts[1:]:
        rows = rows.union(part)
    return rows


def _condition_summary(rows: ir.Table, facts: list[str]) -> ir.Table:
    aggregates: dict[str, Any] = {}
    for fact in facts:
        mine = rows.fact == fact
        present = mine & rows.present
        active = present & rows.active
        aggregates[f"{fact}__rows"] = mine.sum()
        aggregates[f"{fact}__problem"] = (mine & rows.problem).sum()
        aggregates[f"{fact}__present"] = present.sum()
        aggregates[f"{fact}__active"] = active.sum()
        aggregates[f"{fact}__present_last"] = rows.day.max(where=present)
        aggregates[f"{fact}__active_last"] = rows.day.max(where=active)
        aggregates[f"{fact}__present_undated"] = (present & rows.day.isnull()).sum()
        aggregates[f"{fact}__active_undated"] = (active & rows.day.isnull()).sum()
    return rows.group_by("person_id").aggregate(**aggregates)


def patient_table(source: OmopSource, concepts: ConceptMap, as_of: date) -> ir.Table:
    """Every person with birth date, sex, death date and the columns the rules read."""
    person = source.table("person")
    birth = _birth_date(person)
    patients = person.select(
        person_id=person.person_id.cast("int64"),
        birth_date=birth,
        gender_concept_id=person.gender_concept_id.cast("int64"),
    )
    if source.has("death"):
        death = source.table("death")
        first_death = death.group_by(person_id=death.person_id.cast("int64")).aggregate(
            death_date=death.death_date.cast("date").min()
        )
        patients = patients.left_join(first_death, "person_id").drop("person_id_right")
    else:
        patients = patients.mutate(death_date=ibis.null("date"))
    values = _value_rows(source, concepts)
    if values is not None:
        wide = _latest_values(values, value_facts(concepts))
        patients = patients.left_join(wide, "person_id").drop("person_id_right")
    conditions = _condition_rows(source, concepts, as_of)
    if conditions is not None:
        summary = _condition_summary(conditions, condition_columns(concepts))
        patients = patients.left_join(summary, "person_id").drop("person_id_right")
    return patients


def _birth_date(person: ir.Table) -> ir.DateValue:
    """birth_datetime's date, else year-month-day; a year alone is not precise enough (null)."""
    columns = {column.lower() for column in person.columns}
    from_parts = ibis.cases(
        (
            person.year_of_birth.notnull() & person.month_of_birth.notnull() & person.day_of_birth.notnull(),
            ibis.date(
                person.year_of_birth.cast("int32"),
                person.month_of_birth.cast("int32"),
                person.day_of_birth.cast("int32"),
            ),
        ),
        else_=ibis.null("date"),
    )
    if "birth_datetime" in columns:
        return person.birth_datetime.cast("date").fill_null(from_parts)
    return from_parts
