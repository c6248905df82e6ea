"""What the rules read about each person: birth, sex, death, each fact's latest record, conditions.

The per-patient engine uses, for each fact, the most recent value (ties: the later record), and
checks its date against the rule's window afterwards; a record dated after the screening date is
the most recent and makes the rule ``unknown``. So one record per person and fact suffices: the
latest by (date, table, row id). Only records from the fact's widest window on can decide
(:func:`fact_windows`), so :func:`value_records` reads ``measurement`` and ``observation`` once,
keeping those records of the rules' concepts with their fact's index and an order key (the index
and the window's first day found by a CASE that halves the concept ids at each step); the fields
a fact's rules read are ``day``, ``value`` or ``number``, ``answer``, ``text``, ``unit_id``,
``unit_src`` and ``uln`` (:func:`columns_of`). :mod:`.patients` keeps each leaf's verdict on the
latest record.

Conditions (:func:`condition_records`) are summarised per person and fact
(:func:`condition_aggregates`): how many records, whether one is dated after the screening date,
how many are present / active, and the latest onset of each (``<fact>__rows``, ``__problem``,
``__present``, ``__active``, ``__present_last``, ``__active_last``, ``__present_undated``,
``__active_undated``). A condition is active on the screening date unless its
``condition_end_date`` is on or before it.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import ibis
import ibis.expr.types as ir

from celltrial.eligibility.compiled import (
    CompiledAll,
    CompiledAny,
    CompiledCoded,
    CompiledCompare,
    CompiledRules,
)
from celltrial.population.concepts import ConceptMap
from celltrial.population.source import OmopSource

__all__ = [
    "columns_of",
    "condition_aggregates",
    "condition_columns",
    "condition_records",
    "fact_windows",
    "lookup",
    "person_table",
    "value_facts",
    "value_records",
]

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


def fact_windows(rules: CompiledRules) -> dict[str, int | None]:
    """Fact -> the widest window any rule reads it in (None: no window), for the value facts the rules read.

    Only records from the widest window on can change a verdict: an older record is outside
    every window, and the engine uses an older unusable record only when nothing newer is
    there, which gives ``unknown`` either way.
    """
    windows: dict[str, int | None] = {}
    seen: set[str] = set()

    def visit(node: Any) -> None:
        if isinstance(node, CompiledAll | CompiledAny):
            for part in node.parts:
                visit(part)
        elif isinstance(node, CompiledCompare | CompiledCoded):
            if node.fact in seen:
                old = windows[node.fact]
                windows[node.fact] = (
                    None if old is None or node.window_days is None else max(old, node.window_days)
                )
            else:
                seen.add(node.fact)
                windows[node.fact] = node.window_days

    for criterion in rules.criteria:
        visit(criterion.rule)
    return windows


def value_facts(concepts: ConceptMap, windows: dict[str, int | None]) -> list[str]:
    """Facts the rules read from measurement/observation values and this source has concepts for."""
    return sorted(
        name
        for name in windows
        if concepts.facts[name].definition.type != "condition"
        and (concepts.facts[name].concept_ids or concepts.facts[name].local_ids)
    )


def columns_of(concepts: ConceptMap, fact: str) -> tuple[str, ...]:
    """The value columns a fact's rules read."""
    if concepts.facts[fact].definition.type in ("quantity", "count"):
        return ("day", "value", "unit_id", "unit_src", "uln")
    return ("day", "number", "answer", "text")


def condition_columns(concepts: ConceptMap) -> list[str]:
    """Condition facts with concepts in this source."""
    return sorted(
        name
        for name, fact in concepts.facts.items()
        if fact.definition.type == "condition" and (fact.concept_ids or fact.local_ids or fact.source_ids)
    )


def _order_key(day: Any, rank: int, row_id: Any) -> Any:
    """One int64 that orders records like the engine: by date, then observation after measurement, then id.

    Days from 1833 to 2188 take 17 bits; the row id's lowest 45 bits break ties within a day.
    """
    days = day.epoch_days().cast("int64") + _DAY_OFFSET
    return days * (1 << 46) + rank * (1 << 45) + (row_id.cast("int64") % (1 << 45))


_DAY_OFFSET = 50_000


def _fact_index(concept: Any, pairs: list[tuple[int, int]]) -> Any:
    """The fact index of a concept id (NULL for a concept no fact reads; no table to upload)."""
    return lookup(concept, sorted(pairs), "int32")


def _in_windows(day: Any, concept: Any, groups: dict[int | None, list[int]], as_of: date) -> Any:
    """Rows of each fact group from its window's first day on (every dated row when it has no window).

    A lookup gives a row's first day, cheaper than an OR of a test per group. An undated row
    goes: its order key is NULL, which ``arg_max`` skips.
    """
    first_days = sorted(
        (concept_id, date.min if window is None else as_of - timedelta(days=window))
        for window, ids in groups.items()
        for concept_id in ids
    )
    return day >= lookup(concept, first_days, "date")


def lookup(column: Any, pairs: list[tuple[int, Any]], kind: str) -> Any:
    """The value paired with the column's id (``pairs`` sorted by id, values plain or expressions; NULL
    when it has none): a CASE that halves the ids at each step, a few comparisons a row rather than
    one per id."""
    if not pairs:
        return ibis.null(kind)
    if len(pairs) <= 3:
        literal = [(key, v if isinstance(v, ir.Value) else ibis.literal(v, kind)) for key, v in pairs]
        return ibis.cases(*((column == key, value) for key, value in literal), else_=ibis.null(kind))
    half = len(pairs) // 2
    return ibis.cases(
        (column < pairs[half][0], lookup(column, pairs[:half], kind)),
        else_=lookup(column, pairs[half:], kind),
    )


def _numeric(number: Any, answer: Any, digits: dict[int, float]) -> Any:
    """The record's number, else the score its coded answer stands for (ECOG LA9622-7 → 0...)."""
    number = number.cast("float64")
    if not digits:
        return number
    score = ibis.cases(*((answer == i, ibis.literal(v, "float64")) for i, v in digits.items()), else_=None)
    return number.fill_null(score)


def value_records(
    source: OmopSource, concepts: ConceptMap, windows: dict[str, int | None], as_of: date
) -> ir.Table:
    """The measurement and observation records that can decide a rule, one scan of each table.

    ``fact`` is the index of the fact in :func:`value_facts`; ``key`` orders a person's records
    of one fact like the engine does.
    """
    facts = value_facts(concepts, windows)
    digits = {i: float(a) for i, a in concepts.answers.items() if a.isdigit()}
    pairs: list[tuple[int, int]] = []
    groups: dict[int | None, list[int]] = {}
    for index, fact in enumerate(facts):
        for concept_id in sorted(concepts.facts[fact].concept_ids | concepts.facts[fact].local_ids):
            pairs.append((concept_id, index))
            groups.setdefault(windows[fact], []).append(concept_id)
    if not groups:
        groups = {None: [-1]}
    m = source.table("measurement")
    day = m.measurement_date.cast("date")
    m = m.filter(_in_windows(day, m.measurement_concept_id, groups, as_of))
    measured = m.select(
        person_id=m.person_id.cast("int64"),
        fact=_fact_index(m.measurement_concept_id, pairs),
        key=_order_key(m.measurement_date.cast("date"), 0, m.measurement_id),
        day=m.measurement_date.cast("date"),
        number=m.value_as_number.cast("float64"),
        value=_numeric(m.value_as_number, m.value_as_concept_id, digits),
        answer=m.value_as_concept_id.cast("int64"),
        text=ibis.null("string"),
        unit_id=m.unit_concept_id.cast("int64"),
        unit_src=m.unit_source_value.cast("string"),
        uln=m.range_high.cast("float64"),
    )
    o = source.table("observation")
    day = o.observation_date.cast("date")
    o = o.filter(_in_windows(day, o.observation_concept_id, groups, as_of))
    observed = o.select(
        person_id=o.person_id.cast("int64"),
        fact=_fact_index(o.observation_concept_id, pairs),
        key=_order_key(o.observation_date.cast("date"), 1, o.observation_id),
        day=o.observation_date.cast("date"),
        number=o.value_as_number.cast("float64"),
        value=_numeric(o.value_as_number, o.value_as_concept_id, digits),
        answer=o.value_as_concept_id.cast("int64"),
        text=o.value_as_string.cast("string").strip().lower(),
        unit_id=o.unit_concept_id.cast("int64"),
        unit_src=o.unit_source_value.cast("string"),
        uln=ibis.null("float64"),
    )
    return measured.union(observed)


def condition_records(source: OmopSource, concepts: ConceptMap, as_of: date) -> ir.Table:
    """Every record of a condition the rules read: person, fact index, onset, present, active, problem.

    ``fact`` is the index in :func:`condition_columns`. Conditions are matched on the standard
    concept (SNOMED CT and descendants), else on the ICD-10-CM source concept; SNOMED-coded
    findings in ``observation`` count as present and active; a local (celltrial) observation
    says present or absent in its value. A record dated after ``as_of`` is a problem.
    """
    names = condition_columns(concepts)
    standard = [(i, n) for n, fact in enumerate(names) for i in sorted(concepts.facts[fact].concept_ids)]
    coded = [
        (i, n)
        for n, fact in enumerate(names)
        for i in sorted(concepts.facts[fact].concept_ids | concepts.facts[fact].local_ids)
    ]
    icd = [(i, n) for n, fact in enumerate(names) for i in sorted(concepts.facts[fact].source_ids)]
    local = [(i, n) for n, fact in enumerate(names) for i in sorted(concepts.facts[fact].local_ids)]
    on = ibis.literal(as_of, "date")
    c = source.table("condition_occurrence")

    def from_conditions(table: ir.Table, column: str, pairs: list[tuple[int, int]]) -> ir.Table:
        start, end = table.condition_start_date.cast("date"), table.condition_end_date.cast("date")
        return table.select(
            person_id=table.person_id.cast("int64"),
            fact=_fact_index(table[column], pairs),
            day=start,
            present=ibis.literal(True),
            active=end.isnull() | (end > on),
            problem=(start > on).fill_null(False),
        )

    matched = c.filter(c.condition_concept_id.isin([i for i, _ in coded] or [-1]))
    parts = [from_conditions(matched, "condition_concept_id", coded)]
    if icd:
        unmatched = c.filter(
            c.condition_source_concept_id.isin([i for i, _ in icd])
            & ~c.condition_concept_id.isin([i for i, _ in coded] or [-1])
        )
        parts.append(from_conditions(unmatched, "condition_source_concept_id", icd))
    o = source.table("observation")
    observed = o.filter(o.observation_concept_id.isin([i for i, _ in standard + local] or [-1]))
    day = observed.observation_date.cast("date")
    snomed = observed.filter(observed.observation_concept_id.isin([i for i, _ in standard] or [-1]))
    parts.append(
        snomed.select(
            person_id=snomed.person_id.cast("int64"),
            fact=_fact_index(snomed.observation_concept_id, standard),
            day=day,
            present=ibis.literal(True),
            active=ibis.literal(True),
            problem=(day > on).fill_null(False),
        )
    )
    if local:
        mine = observed.filter(observed.observation_concept_id.isin([i for i, _ in local]))
        word = mine.value_as_string.cast("string").strip().lower()
        day = mine.observation_date.cast("date")
        present = ibis.cases((word.isin(_YES), True), (word.isin(_NO), False), else_=ibis.null("boolean"))
        parts.append(
            mine.select(
                person_id=mine.person_id.cast("int64"),
                fact=_fact_index(mine.observation_concept_id, local),
                day=day,
                present=present.fill_null(False),
                active=present.fill_null(False),
                problem=present.isnull() | (day > on).fill_null(False),
            )
        )
    rows = parts[0]
    for part in parts[1:]:
        rows = rows.union(part)
    return rows


def condition_aggregates(rows: ir.Table, fact: str, mine: Any) -> dict[str, Any]:
    """A condition fact's summary columns (``<fact>__rows`` ...) over the rows where ``mine`` holds."""
    present = mine & rows.present
    active = present & rows.active
    return {
        f"{fact}__rows": mine.sum(),
        f"{fact}__problem": (mine & rows.problem).sum(),
        f"{fact}__present": present.sum(),
        f"{fact}__active": active.sum(),
        f"{fact}__present_last": rows.day.max(where=present),
        f"{fact}__active_last": rows.day.max(where=active),
        f"{fact}__present_undated": (present & rows.day.isnull()).sum(),
        f"{fact}__active_undated": (active & rows.day.isnull()).sum(),
    }


def person_table(source: OmopSource) -> ir.Table:
    """Every person: id, birth date, sex concept and first death date."""
    person = source.table("person")
    persons = person.select(
        person_id=person.person_id.cast("int64"),
        birth_date=_birth_date(person),
        gender_concept_id=person.gender_concept_id.cast("int64"),
    )
    if not source.has("death"):
        return persons.mutate(death_date=ibis.null("date"))
    death = source.table("death")
    first = death.group_by(_key=death.person_id.cast("int64")).aggregate(
        death_date=death.death_date.cast("date").min()
    )
    joined = persons.left_join(first, persons.person_id == first._key)
    return joined.select(*persons.columns, "death_date")


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
