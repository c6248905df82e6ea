"""Compile a trial's eligibility rules into ibis boolean expressions, one per criterion.

The input is the same compiled rule tree the per-patient engine evaluates
(:func:`celltrial.eligibility.engine.compiled`: windows in days, thresholds as numbers, site
ULNs); the output is a boolean column per criterion over the person table of
:mod:`celltrial.population.records`, where SQL's three-valued logic carries the verdict:
``true`` met, ``false`` not met, ``NULL`` unknown. ``all_of`` is AND and ``any_of`` is OR, which in
Kleene logic are exactly the engine's ``combine_all``/``combine_any`` (needs-review counts as
unknown). Criteria decided by the investigator (``judgment``) are NULL for everyone.

Each leaf mirrors its predicate in :mod:`celltrial.eligibility.predicates`:

* the fact's latest record must be dated on or before the screening date and inside the
  window, with a usable value (a number ≥ 0 and ≤ the catalogue's maximum, or an answer
  among the fact's values), else unknown;
* a limit with a unit is converted by pint into the unit of the value
  (:func:`celltrial.clinical.units.conversion_factor`), one CASE branch per unit present in the
  data; an unknown or inconvertible unit gives unknown; a multiple of the ULN uses the result's
  own ``range_high`` first, then the site's reference range;
* equality holds within a relative tolerance of 1e-9, as in the engine.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import ibis
import ibis.expr.types as ir

from celltrial.clinical.units import conversion_factor
from celltrial.eligibility.compiled import (
    CompiledAge,
    CompiledAll,
    CompiledAny,
    CompiledCoded,
    CompiledCompare,
    CompiledCondition,
    CompiledJudgment,
    CompiledNode,
    CompiledRef,
    CompiledRules,
    CompiledSex,
)
from celltrial.eligibility.facts import FactDefinition
from celltrial.eligibility.fhir import _SYNONYMS
from celltrial.eligibility.predicates import months_before
from celltrial.errors import UnsupportedUnit
from celltrial.population.concepts import ConceptMap

__all__ = [
    "LeafCompiler",
    "UnitKey",
    "VerdictCompiler",
    "column_name",
    "fact_value_map",
    "leaf_column",
    "leaves",
]

UnitKey = tuple[int | None, str | None]
_NULL = ibis.null("boolean")


def column_name(criterion_id: str) -> str:
    """A column name every backend accepts (Spark reads dots as struct access)."""
    return criterion_id.replace(".", "_")


def fact_value_map(definition: FactDefinition, words: set[str]) -> dict[str, str]:
    """Answer word -> the fact's value (``'true'``/``'false'`` for yes/no), as the FHIR reader maps it."""
    mapped: dict[str, str] = {}
    for word in words:
        if definition.type in ("boolean", "condition"):
            truth = _SYNONYMS.get(word.lower(), (None, None, None, None))[3]
            if truth is not None:
                mapped[word] = "true" if truth else "false"
        elif definition.type == "coded":
            if word in definition.values:
                mapped[word] = word
                continue
            for candidate in _SYNONYMS.get(word.lower(), ()):
                if isinstance(candidate, str) and candidate in definition.values:
                    mapped[word] = candidate
                    break
    return mapped


def leaf_column(node_id: str) -> str:
    """The column holding one leaf rule's verdict."""
    return "leaf_" + column_name(node_id)


def leaves(rules: CompiledRules) -> list[CompiledNode]:
    """Every leaf rule (age, sex, compare, coded, condition) of every criterion, once."""
    found: dict[str, CompiledNode] = {}

    def visit(node: CompiledNode) -> None:
        if isinstance(node, CompiledAll | CompiledAny):
            for part in node.parts:
                visit(part)
        elif not isinstance(node, CompiledRef | CompiledJudgment):
            found.setdefault(node.id, node)

    for criterion in rules.criteria:
        visit(criterion.rule)
    return list(found.values())


@dataclass
class LeafCompiler:
    """A boolean expression per leaf rule, over the table holding its fact's columns."""

    concepts: ConceptMap
    units: dict[str, dict[UnitKey, str | None]]
    as_of: date

    def leaf(self, node: CompiledNode, t: ir.Table) -> ir.BooleanValue:
        if isinstance(node, CompiledAge):
            return self.age(node, t)
        if isinstance(node, CompiledSex):
            return self.sex(node, t)
        if isinstance(node, CompiledCompare):
            return self.compare(node, t)
        if isinstance(node, CompiledCoded):
            return self.coded(node, t)
        assert isinstance(node, CompiledCondition)
        return self.condition(node, t)

    def age(self, node: CompiledAge, t: ir.Table) -> ir.BooleanValue:
        born = t.birth_date
        birthday_passed = (born.month() * 100 + born.day()) <= (self.as_of.month * 100 + self.as_of.day)
        age = self.as_of.year - born.year() - ibis.cases((birthday_passed, 0), else_=1)
        low = node.min_years if node.min_years is not None else -1
        high = node.max_years if node.max_years is not None else 10**6
        usable = born.notnull() & (born <= ibis.literal(self.as_of, "date"))
        return ibis.cases((usable, (age >= low) & (age <= high)), else_=_NULL)

    def sex(self, node: CompiledSex, t: ir.Table) -> ir.BooleanValue:
        gender = t.gender_concept_id
        sex = ibis.cases(
            (gender.isin(sorted(self.concepts.male)), "male"),
            (gender.isin(sorted(self.concepts.female)), "female"),
            else_=ibis.null("string"),
        )
        return ibis.cases((sex.notnull(), sex.isin(list(node.values))), else_=_NULL)

    def _dated(self, t: ir.Table, fact: str, window_days: int | None) -> ir.BooleanValue:
        day = t[f"{fact}__day"]
        usable = day.notnull() & (day <= ibis.literal(self.as_of, "date"))
        if window_days is not None:
            usable = usable & (day >= ibis.literal(self.as_of - timedelta(days=window_days), "date"))
        return usable

    def prepare(self, fact: str, t: ir.Table) -> ir.Table:
        """Hook for derived columns; the records already carry each value's number (``__value``)."""
        return t

    def compare(self, node: CompiledCompare, t: ir.Table) -> ir.BooleanValue:
        definition = self.concepts.facts[node.fact].definition
        value = t[f"{node.fact}__value"]
        usable = self._dated(t, node.fact, node.window_days) & value.notnull() & (value >= 0)
        if definition.maximum is not None:
            usable = usable & (value <= definition.maximum)
        limit = self._limit(node, t)
        return ibis.cases((usable & limit.notnull(), _holds(value, node.operator, limit)), else_=_NULL)

    def _limit(self, node: CompiledCompare, t: ir.Table) -> ir.FloatingValue:
        unit = t[f"{node.fact}__unit_id"], t[f"{node.fact}__unit_src"]
        if node.times_uln is not None:
            row_uln = node.times_uln * t[f"{node.fact}__uln"]
            reference = node.reference
            if reference is None or reference.uln is None:
                site = ibis.null("float64")
            else:
                site = self._in_value_unit(node.fact, node.times_uln * reference.uln, reference.unit, unit)
            return ibis.cases((row_uln.notnull(), row_uln), else_=site)
        assert node.limit is not None
        if node.unit is None:
            return ibis.literal(float(node.limit), "float64")
        return self._in_value_unit(node.fact, float(node.limit), node.unit, unit)

    def _in_value_unit(
        self, fact: str, limit: float, limit_unit: str, unit: tuple[Any, Any]
    ) -> ir.FloatingValue:
        """``limit`` converted into each unit the fact's values carry; NULL where it cannot be."""
        branches: list[tuple[Any, Any]] = []
        for (unit_id, unit_src), code in self.units.get(fact, {}).items():
            if code is None:
                continue
            try:
                converted = limit if code == limit_unit else limit * conversion_factor(limit_unit, code, fact)
            except UnsupportedUnit:
                continue
            branches.append((_same_unit(unit, unit_id, unit_src), ibis.literal(converted, "float64")))
        if not branches:
            return ibis.null("float64")
        return ibis.cases(*branches, else_=ibis.null("float64"))

    def coded(self, node: CompiledCoded, t: ir.Table) -> ir.BooleanValue:
        """Met when the latest answer is one of the rule's values; unknown when it is none of the fact's."""
        definition = self.concepts.facts[node.fact].definition
        accepted = {"true" if v is True else "false" if v is False else str(v) for v in node.values}
        by_answer = fact_value_map(definition, set(self.concepts.answers.values()))
        answer_ids = {i: by_answer[a] for i, a in self.concepts.answers.items() if a in by_answer}
        by_text = fact_value_map(
            definition, {w for w in {*_SYNONYMS, *definition.values} if isinstance(w, str)}
        )
        answer, text = t[f"{node.fact}__answer"], t[f"{node.fact}__text"]
        yes_ids = sorted(i for i, v in answer_ids.items() if v in accepted) or [-1]
        yes_words = sorted(w for w, v in by_text.items() if v in accepted) or ["\x00"]
        verdict = ibis.cases(
            (t[f"{node.fact}__number"].notnull(), _NULL),
            (
                answer.notnull() & (answer != 0),
                ibis.cases((answer.isin(sorted(answer_ids) or [-1]), answer.isin(yes_ids)), else_=_NULL),
            ),
            (
                text.notnull(),
                ibis.cases((text.isin(sorted(by_text) or ["\x00"]), text.isin(yes_words)), else_=_NULL),
            ),
            else_=_NULL,
        )
        return ibis.cases((self._dated(t, node.fact, node.window_days), verdict), else_=_NULL)

    def condition(self, node: CompiledCondition, t: ir.Table) -> ir.BooleanValue:
        """The verdict from the summary of a person's records of the condition."""
        which = "active" if node.active_only else "present"
        matching = t[f"{node.fact}__{which}"].fill_null(0)
        if node.lookback_months is None:
            verdict: ir.BooleanValue = matching > 0
        else:
            since = ibis.literal(months_before(self.as_of, node.lookback_months), "date")
            last = t[f"{node.fact}__{which}_last"]
            undated = t[f"{node.fact}__{which}_undated"].fill_null(0)
            verdict = ibis.cases((last.notnull() & (last >= since), True), (undated > 0, _NULL), else_=False)
        return ibis.cases(
            (t[f"{node.fact}__rows"].fill_null(0) == 0, self.absent(node)),
            (t[f"{node.fact}__problem"].fill_null(0) > 0, _NULL),
            else_=verdict,
        )

    def absent(self, node: CompiledNode) -> ir.BooleanValue:
        """The verdict of a leaf for a person without any record of its fact."""
        verdict = self.absent_verdict(node)
        return _NULL if verdict is None else ibis.literal(verdict)

    def absent_verdict(self, node: CompiledNode) -> bool | None:
        """:meth:`absent` as a Python value (None: unknown)."""
        if isinstance(node, CompiledCondition):
            fact = self.concepts.facts.get(node.fact)
            return False if fact is not None and fact.absent_is_not_present else None
        return None


@dataclass
class VerdictCompiler:
    """Criterion verdicts over a table holding every leaf's verdict column."""

    rules: CompiledRules
    table: ir.Table
    _done: dict[str, ir.BooleanValue] = field(default_factory=dict)

    def criteria(self) -> dict[str, ir.BooleanValue]:
        """Criterion id -> its verdict expression, in protocol order."""
        return {criterion.id: self.criterion(criterion.id) for criterion in self.rules.criteria}

    def criterion(self, criterion_id: str) -> ir.BooleanValue:
        found = self._done.get(criterion_id)
        if found is None:
            rule = next(c.rule for c in self.rules.criteria if c.id == criterion_id)
            found = self.node(rule)
            self._done[criterion_id] = found
        return found

    def node(self, node: CompiledNode) -> ir.BooleanValue:
        if isinstance(node, CompiledAll):
            return _fold([self.node(part) for part in node.parts], all_of=True)
        if isinstance(node, CompiledAny):
            return _fold([self.node(part) for part in node.parts], all_of=False)
        if isinstance(node, CompiledRef):
            return self.criterion(node.criterion)
        if isinstance(node, CompiledJudgment):
            return _NULL
        return self.table[leaf_column(node.id)]


def _same_unit(unit: tuple[Any, Any], unit_id: int | None, unit_src: str | None) -> ir.BooleanValue:
    column_id, column_src = unit
    id_match = column_id.isnull() if unit_id is None else (column_id == unit_id).fill_null(False)
    src_match = column_src.isnull() if unit_src is None else (column_src == unit_src).fill_null(False)
    return id_match & src_match


def _holds(value: Any, operator: str, limit: Any) -> ir.BooleanValue:
    """The engine's comparison: equality within ``max(1e-9 × max(|value|, |limit|), 1e-12)``."""
    tolerance = ibis.greatest(ibis.greatest(value.abs(), limit.abs()) * 1e-9, 1e-12)
    difference = value - limit
    if operator == ">=":
        return difference >= -tolerance
    if operator == ">":
        return difference > tolerance
    if operator == "<=":
        return difference <= tolerance
    if operator == "<":
        return difference < -tolerance
    return (difference >= -tolerance) & (difference <= tolerance)


def _fold(parts: list[ir.BooleanValue], *, all_of: bool) -> ir.BooleanValue:
    result = parts[0]
    for part in parts[1:]:
        result = (result & part) if all_of else (result | part)
    return result
