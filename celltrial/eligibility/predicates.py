"""The named predicate kinds a rule's leaves use: age, compare, coded, condition, sex, judgment.

Each takes the compiled leaf, the patient's facts and the screening date and returns a
:class:`~celltrial.eligibility.result.RuleResult` with its evidence and a one-line reason.

Windows: a fact counts when its date lies in ``[screening date − window, screening date]``;
of several values in the window the most recent is used and the others are listed as evidence.
A value dated after the screening date, or carrying a reader's problem, makes the rule
``unknown`` with that problem as its reason. Comparisons are made in the value's unit after
pint converts the limit; equality is judged with a relative tolerance of 1e-9 so that
``1.5 × 1.2 mg/dL`` and a reported 1.8 mg/dL compare as equal.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any, NamedTuple

from celltrial.clinical.units import conversion_factor
from celltrial.eligibility.compiled import (
    CompiledAge,
    CompiledCoded,
    CompiledCompare,
    CompiledCondition,
    CompiledSex,
)
from celltrial.eligibility.facts import ACTIVE_CONDITION_STATUSES, Fact, PatientFacts
from celltrial.eligibility.result import AppliedThreshold, Explanation, RuleResult, Verdict
from celltrial.errors import UnsupportedUnit

__all__ = [
    "Context",
    "Selection",
    "age_in_years",
    "evaluate_age",
    "evaluate_coded",
    "evaluate_compare",
    "evaluate_condition",
    "evaluate_sex",
    "months_before",
    "select",
]

# ``tuple.__new__(RuleResult, fields)`` builds a named tuple without its Python-level ``__new__``:
# every field is given, and evaluation makes a few hundred of them per patient.
_new = tuple.__new__

_RELATION = {
    ">=": ("is at least", "is below"),
    ">": ("is above", "is not above"),
    "<=": ("is at most", "is above"),
    "<": ("is below", "is not below"),
    "==": ("equals", "does not equal"),
}


def age_in_years(birth_date: date, on: date) -> int:
    """Age in whole years on ``on`` (a birthday counts from its day; 29 February from 1 March)."""
    return on.year - birth_date.year - ((on.month, on.day) < (birth_date.month, birth_date.day))


def months_before(day: date, months: int) -> date:
    """The same calendar day ``months`` earlier (the month's last day when it is shorter)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    for candidate in range(day.day, 27, -1):
        try:
            return date(year, month, candidate)
        except ValueError:
            continue
    return date(year, month, min(day.day, 28))


def number(value: float) -> str:
    """A number as a coordinator reads it: 70, 1.65, 145.9."""
    if not math.isfinite(value):
        return str(value)
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.4g}" if abs(value) < 1e5 else f"{value:.0f}"


def _with_unit(value: Any, unit: str | None) -> str:
    shown = ("yes" if value else "no") if isinstance(value, bool) else value
    if isinstance(shown, float | int) and not isinstance(shown, bool):
        shown = number(float(shown))
    return f"{shown} {unit}" if unit and unit not in {"1", "{score}"} else str(shown)


def _lower(text: str) -> str:
    """Lower-case a fact's name inside a sentence, keeping acronyms (HIV, ALT, ECOG)."""
    first = text.split(" ", 1)[0]
    return text if first.isupper() or any(ch.isupper() for ch in first[1:]) else text[0].lower() + text[1:]


def _holds(value: float, operator: str, limit: float) -> bool:
    # equality as math.isclose(value, limit, rel_tol=1e-9, abs_tol=1e-12)
    larger = value if value >= 0 else -value
    other = limit if limit >= 0 else -limit
    tolerance = 1e-9 * (larger if larger >= other else other)
    if tolerance < 1e-12:
        tolerance = 1e-12
    difference = value - limit
    if operator == ">=":
        return difference >= -tolerance
    if operator == ">":
        return difference > tolerance
    if operator == "<=":
        return difference <= tolerance
    if operator == "<":
        return difference < -tolerance
    return -tolerance <= difference <= tolerance


def _problem(fact: Fact, screening_date: date) -> str | None:
    if fact.problem:
        return fact.problem
    if fact.date is not None and fact.date > screening_date:
        after = screening_date.isoformat()
        return f"{fact.source}: date {fact.date.isoformat()} is after the screening date {after}"
    return None


class Selection(NamedTuple):
    """The value of a fact that counts in a window, the others in it, and the older ones."""

    used: Fact | None
    problem: str | None
    others: tuple[Fact, ...]
    outside: tuple[Fact, ...]


def select(
    facts: tuple[Fact, ...], window_days: int | None, screening_date: date, earliest: date | None = None
) -> Selection:
    """The most recent value in ``[screening date − window, screening date]`` (see the module docs).

    ``earliest``, the window's first day, may be passed when the caller already knows it.
    """
    if earliest is None and window_days is not None:
        earliest = screening_date - timedelta(days=window_days)
    if len(facts) == 1:
        fact = facts[0]
        if fact.problem is None and fact.date is not None:
            if earliest is not None and fact.date < earliest:
                return _new(Selection, (None, None, (), facts))
            if fact.date <= screening_date:
                return _new(Selection, (fact, None, (), ()))
    inside: list[tuple[date, int, Fact]] = []
    outside: list[Fact] = []
    for position, fact in enumerate(facts):
        problem = _problem(fact, screening_date)
        if problem is None and earliest is not None and fact.date is None:
            fact = fact._replace(problem=f"{fact.source}: {fact.name} has no date")
        if fact.problem is None and earliest is not None and fact.date is not None and fact.date < earliest:
            outside.append(fact)
            continue
        inside.append((fact.date or date.max, position, fact))
    if not inside:
        return Selection(None, None, (), tuple(outside))
    inside.sort(key=lambda item: (item[0], item[1]))
    used = inside[-1][2]
    others = tuple(item[2] for item in reversed(inside[:-1]))
    return Selection(used, _problem(used, screening_date), others, tuple(outside))


class Context:
    """One patient's facts on one screening date; selections are shared by rules reading the same fact."""

    __slots__ = ("earliest", "facts", "screening_date", "selections")

    def __init__(self, facts: PatientFacts, screening_date: date) -> None:
        self.facts = facts
        self.screening_date = screening_date
        self.selections: dict[tuple[str, int | None], Selection] = {}
        self.earliest: dict[int, date] = {}

    def select(self, fact: str, window_days: int | None) -> Selection:
        key = (fact, window_days)
        found = self.selections.get(key)
        if found is None:
            recorded = self.facts.facts.get(fact, ())
            earliest = None
            if window_days is not None:
                earliest = self.earliest.get(window_days)
                if earliest is None:
                    earliest = self.earliest[window_days] = self.screening_date - timedelta(days=window_days)
            found = self.selections[key] = select(recorded, window_days, self.screening_date, earliest)
        return found


def _missing(text: str, window_days: int | None, screening_date: date, outside: tuple[Fact, ...]) -> str:
    if window_days is None or not outside:
        return f"No {text} recorded"
    latest = max(outside, key=lambda fact: fact.date or date.min)
    when = latest.date.isoformat() if latest.date else "undated"
    return (
        f"No {text} within {window_days} days before {screening_date.isoformat()} "
        f"(latest {_with_unit(latest.value, latest.unit)} on {when})"
    )


def _result(
    node: Any,
    verdict: Verdict,
    reason: Explanation,
    used: tuple[Fact, ...] = (),
    others: tuple[Fact, ...] = (),
    threshold: AppliedThreshold | None = None,
) -> RuleResult:
    return _new(RuleResult, (node.id, node.text, verdict, reason, used, others, threshold, ()))


def _unusable(node: CompiledCompare | CompiledCoded, chosen: Selection, context: Context) -> RuleResult:
    """The ``unknown`` result of a rule whose window holds no value, or a value with a problem."""
    if chosen.used is None:
        outside = chosen.outside
        reason = functools.partial(_not_in_window, node, context.screening_date, outside)
        return _result(node, "unknown", reason, (), outside)
    assert chosen.problem is not None
    return _result(node, "unknown", chosen.problem, (chosen.used,), chosen.others)


def _not_in_window(
    node: CompiledCompare | CompiledCoded, screening_date: date, outside: tuple[Fact, ...]
) -> str:
    """The reason of a rule whose fact has no usable value in its window."""
    return _missing(_lower(node.fact_text), node.window_days, screening_date, outside)


def _note(chosen: Selection, window_days: int | None) -> str:
    if not chosen.others:
        return ""
    return f" (most recent of {len(chosen.others) + 1} values in the {window_days}-day window)"


def evaluate_compare(node: CompiledCompare, context: Context) -> RuleResult:
    chosen = context.select(node.fact, node.window_days)
    used = chosen.used
    if used is None or chosen.problem:
        return _unusable(node, chosen, context)
    facts, others = (used,), chosen.others
    value = used.value
    if (type(value) is not float and type(value) is not int) or not math.isfinite(value):  # bool excluded
        return _result(
            node, "unknown", f"{used.source}: {node.fact_text} value {value!r} is not a number", facts, others
        )
    times_uln = node.times_uln
    if times_uln is not None:
        if used.uln is not None:
            uln, uln_unit, origin = used.uln, used.uln_unit or used.unit, "reported with the result"
        elif node.reference is not None and node.reference.uln is not None:
            uln, uln_unit, origin = node.reference.uln, node.reference.unit, "site reference range"
        else:
            return _result(
                node, "unknown", f"No upper limit of normal known for {node.fact_text}", facts, others
            )
        limit, limit_unit = times_uln * uln, uln_unit
    else:
        assert node.limit is not None
        limit, limit_unit, uln, uln_unit, origin = node.limit, node.unit, None, None, None
    value_unit = used.unit
    if limit_unit and limit_unit != value_unit:
        try:
            if not value_unit:
                raise UnsupportedUnit(f"{node.fact_text} has no unit; {limit_unit} expected")
            limit = limit * conversion_factor(limit_unit, value_unit, node.fact)
        except UnsupportedUnit as error:
            reason = (
                f"{used.source}: {node.fact_text} unit {value_unit!r} cannot be compared "
                f"with {limit_unit!r} ({error.message})"
            )
            return _result(node, "unknown", reason, facts, others)
    shown_unit = value_unit if limit_unit else None
    threshold = _new(AppliedThreshold, (node.operator, limit, shown_unit, times_uln, uln, uln_unit, origin))
    verdict: Verdict = "met" if _holds(float(value), node.operator, limit) else "not_met"
    explain = functools.partial(_compared, node, verdict, threshold, chosen)
    return _new(RuleResult, (node.id, node.text, verdict, explain, facts, others, threshold, ()))


def _compared(node: CompiledCompare, verdict: Verdict, threshold: AppliedThreshold, chosen: Selection) -> str:
    """``Hemoglobin 68 g/L on 2025-07-01 is below 70 g/L``, with the ULN it is a multiple of."""
    used = chosen.used
    assert used is not None
    relation = _RELATION[node.operator][0 if verdict == "met" else 1]
    limit_text = _with_unit(threshold.value, threshold.unit)
    if threshold.times_uln is not None:
        limit_text = f"{limit_text} = {threshold.basis}"
    when = f" on {used.date.isoformat()}" if used.date else ""
    note = _note(chosen, node.window_days)
    return f"{node.fact_text} {_with_unit(used.value, used.unit)}{when} {relation} {limit_text}{note}"


def evaluate_coded(node: CompiledCoded, context: Context) -> RuleResult:
    chosen = context.select(node.fact, node.window_days)
    used = chosen.used
    if used is None or chosen.problem:
        return _unusable(node, chosen, context)
    verdict: Verdict = "met" if used.value in node.values and used.value is not None else "not_met"
    explain = functools.partial(_coded, node, chosen)
    return _new(RuleResult, (node.id, node.text, verdict, explain, (used,), chosen.others, None, ()))


def _coded(node: CompiledCoded, chosen: Selection) -> str:
    """``Diagnosis: t_cell_lymphoma on 2025-06-20``, with the number of values in the window."""
    used = chosen.used
    assert used is not None
    when = f" on {used.date.isoformat()}" if used.date else ""
    return f"{node.fact_text}: {_with_unit(used.value, None)}{when}{_note(chosen, node.window_days)}"


def evaluate_condition(node: CompiledCondition, context: Context) -> RuleResult:
    recorded = context.facts.facts.get(node.fact, ())
    screening_date = context.screening_date
    if len(recorded) == 1:  # the usual answer: stated absent
        only = recorded[0]
        if (
            only.value is False
            and only.problem is None
            and (only.date is None or only.date <= screening_date)
        ):
            reason = functools.partial(_absent, node.fact_text, only.source)
            return _new(RuleResult, (node.id, node.text, "not_met", reason, recorded, (), None, ()))
    return _condition_recorded(node, recorded, screening_date)


def _condition_recorded(
    node: CompiledCondition, recorded: tuple[Fact, ...], screening_date: date
) -> RuleResult:
    """A condition rule read from every recorded value (present, dated, with a problem...)."""
    if not recorded:
        return _result(node, "unknown", f"{node.fact_text}: not recorded as present or absent")
    evidence = recorded
    for fact in recorded:
        problem = _problem(fact, screening_date)
        if problem:
            return _result(node, "unknown", problem, evidence)
    present = [fact for fact in recorded if fact.value is True]
    if node.active_only:
        matching = [fact for fact in present if (fact.status or "active") in ACTIVE_CONDITION_STATUSES]
    else:
        matching = present
    if node.lookback_months is not None:
        months = node.lookback_months
        since = months_before(screening_date, months)
        undated = [fact for fact in matching if fact.date is None]
        recent = [fact for fact in matching if fact.date is not None and fact.date >= since]
        if recent:
            found = max(recent, key=lambda item: item.date or date.min)
            return _result(
                node,
                "met",
                lambda: (
                    f"{node.fact_text} on {found.date.isoformat() if found.date else ''}, within {months} "
                    f"months before {screening_date.isoformat()} ({found.source})"
                ),
                evidence,
            )
        if undated:
            return _result(
                node, "unknown", f"{undated[0].source}: {node.fact_text} has no onset date", evidence
            )
        if matching:
            latest = max(fact.date or date.min for fact in matching)
            return _result(
                node,
                "not_met",
                lambda: (
                    f"{node.fact_text} on {latest.isoformat()} is more than {months} months "
                    f"before {screening_date.isoformat()}"
                ),
                evidence,
            )
    elif matching:
        first = matching[0]

        def explain_present() -> str:
            status = f" ({first.status})" if first.status else ""
            onset = f", onset {first.date.isoformat()}" if first.date else ""
            return f"{node.fact_text}{status} recorded{onset} ({first.source})"

        return _result(node, "met", explain_present, evidence)
    if present:
        statuses = ", ".join(sorted({fact.status or "unknown status" for fact in present}))
        return _result(node, "not_met", f"{node.fact_text} recorded but not active ({statuses})", evidence)
    source = recorded[0].source
    return _result(node, "not_met", lambda: f"No {_lower(node.fact_text)} ({source})", evidence)


def _absent(text: str, source: str) -> str:
    """The reason of a condition stated absent: ``No atrial fibrillation (form: facts.…)``."""
    return f"No {_lower(text)} ({source})"


def evaluate_age(node: CompiledAge, context: Context) -> RuleResult:
    birth = context.facts.birth_date
    screening_date = context.screening_date
    if birth is None:
        return _result(node, "unknown", "No birth date recorded")
    evidence = (birth,)
    if birth.problem or birth.date is None:
        return _result(node, "unknown", birth.problem or f"{birth.source}: no birth date", evidence)
    if birth.date > screening_date:
        reason = f"{birth.source}: birth date {birth.date.isoformat()} is after the screening date"
        return _result(node, "unknown", reason, evidence)
    born = birth.date
    age = age_in_years(born, screening_date)
    low = node.min_years if node.min_years is not None else -1
    high = node.max_years if node.max_years is not None else 10**6
    verdict: Verdict = "met" if low <= age <= high else "not_met"

    def explain() -> str:
        bounds = f"{node.min_years}-{node.max_years}"
        where = "within" if verdict == "met" else "outside"
        on = screening_date.isoformat()
        return f"Age {age} years on {on} (born {born.isoformat()}) is {where} {bounds} years"

    return _result(node, verdict, explain, evidence)


def evaluate_sex(node: CompiledSex, context: Context) -> RuleResult:
    sex = context.facts.sex
    if sex is None or sex.value in (None, "unknown"):
        reason = sex.problem if sex is not None and sex.problem else "Sex not recorded"
        return _result(node, "unknown", reason, (sex,) if sex else ())
    verdict: Verdict = "met" if sex.value in node.values else "not_met"
    return _result(node, verdict, f"Sex: {sex.value}", (sex,))


LeafEvaluator = Callable[[Any, Context], RuleResult]
LEAF_EVALUATORS: dict[type, LeafEvaluator] = {
    CompiledAge: evaluate_age,
    CompiledCompare: evaluate_compare,
    CompiledCoded: evaluate_coded,
    CompiledCondition: evaluate_condition,
    CompiledSex: evaluate_sex,
}
