"""A trial's rules bound to its settings: windows in days, thresholds as numbers, ULNs in hand.

Compiling resolves every setting name once (``lab_window_days`` → 14,
``hbv_dna_threshold_iu_per_ml`` → 500) so that evaluating a patient is dictionary look-ups and
arithmetic. A name the settings file does not hold is an :class:`~celltrial.errors.InvalidInput`
naming the rule and the setting.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from celltrial.eligibility.facts import fact_catalogue
from celltrial.eligibility.rules import (
    AgeRule,
    AllOf,
    AnyOf,
    CodedRule,
    CompareRule,
    ConditionRule,
    CriterionRef,
    EligibilityRules,
    JudgmentRule,
    SexRule,
)
from celltrial.errors import InvalidInput
from celltrial.protocol.settings import ProtocolSettings, ReferenceRange

__all__ = [
    "CompiledAge",
    "CompiledAll",
    "CompiledAny",
    "CompiledCoded",
    "CompiledCompare",
    "CompiledCondition",
    "CompiledCriterion",
    "CompiledJudgment",
    "CompiledRef",
    "CompiledRules",
    "CompiledSex",
    "compile_rules",
]


@dataclass(frozen=True, slots=True)
class CompiledAge:
    id: str
    text: str
    min_years: int | None
    max_years: int | None


@dataclass(frozen=True, slots=True)
class CompiledCompare:
    id: str
    text: str
    fact: str
    fact_text: str
    operator: str
    limit: float | None  # fixed limit in ``unit``; None when the limit is a multiple of the ULN
    unit: str | None
    times_uln: float | None
    reference: ReferenceRange | None
    reference_name: str
    window_days: int | None


@dataclass(frozen=True, slots=True)
class CompiledCoded:
    id: str
    text: str
    fact: str
    fact_text: str
    values: tuple[str | bool, ...]
    window_days: int | None


@dataclass(frozen=True, slots=True)
class CompiledCondition:
    id: str
    text: str
    fact: str
    fact_text: str
    active_only: bool
    lookback_months: int | None


@dataclass(frozen=True, slots=True)
class CompiledSex:
    id: str
    text: str
    values: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CompiledJudgment:
    id: str
    text: str
    question: str


@dataclass(frozen=True, slots=True)
class CompiledAll:
    id: str
    text: str
    parts: tuple[CompiledNode, ...]
    own_parts: tuple[int, ...] | None  # positions of the parts reported here; None: all of them


@dataclass(frozen=True, slots=True)
class CompiledAny:
    id: str
    text: str
    parts: tuple[CompiledNode, ...]
    own_parts: tuple[int, ...] | None  # positions of the parts reported here; None: all of them


@dataclass(frozen=True, slots=True)
class CompiledRef:
    id: str
    text: str
    criterion: str


CompiledNode = (
    CompiledAge
    | CompiledCompare
    | CompiledCoded
    | CompiledCondition
    | CompiledSex
    | CompiledJudgment
    | CompiledAll
    | CompiledAny
    | CompiledRef
)


@dataclass(frozen=True, slots=True)
class CompiledCriterion:
    id: str
    kind: str
    text: str
    rule: CompiledNode


@dataclass(frozen=True, slots=True)
class CompiledRules:
    protocol: str
    version: str
    criteria: tuple[CompiledCriterion, ...]
    top_level: tuple[str, ...]
    judgment_ids: frozenset[str]
    by_id: dict[str, CompiledCriterion]


def compile_rules(rules: EligibilityRules, settings: ProtocolSettings) -> CompiledRules:
    """Bind ``rules`` to ``settings``."""
    eligibility = settings.eligibility
    judgment_ids: set[str] = set()

    def setting(name: str, where: str) -> Any:
        if not hasattr(eligibility, name):
            raise InvalidInput(f"no eligibility setting {name!r} in the protocol settings", field=where)
        return getattr(eligibility, name).value

    def fact_text(name: str) -> str:
        definition = fact_catalogue().get(name)
        return definition.text if definition else name

    def build(node: Any, node_id: str, text: str) -> CompiledNode:
        node_id = node.id or node_id
        text = node.text or text
        if isinstance(node, AllOf | AnyOf):
            children = node.all_of if isinstance(node, AllOf) else node.any_of
            parts = tuple(build(child, "", "") for child in children)
            mine = tuple(index for index, part in enumerate(parts) if not isinstance(part, CompiledRef))
            own = None if len(mine) == len(parts) else mine
            return (CompiledAll if isinstance(node, AllOf) else CompiledAny)(node_id, text, parts, own)
        if isinstance(node, CriterionRef):
            return CompiledRef(node.criterion, text, node.criterion)
        if isinstance(node, AgeRule):
            return CompiledAge(node_id, text, node.min_years, node.max_years)
        if isinstance(node, SexRule):
            return CompiledSex(node_id, text, node.values)
        if isinstance(node, JudgmentRule):
            judgment_ids.add(node_id)
            return CompiledJudgment(node_id, text, node.question)
        window = setting(node.window, node_id) if getattr(node, "window", None) else None
        if isinstance(node, CodedRule):
            return CompiledCoded(node_id, text, node.fact, fact_text(node.fact), node.values, window)
        if isinstance(node, ConditionRule):
            lookback = setting(node.onset_within_months, node_id) if node.onset_within_months else None
            return CompiledCondition(
                node_id, text, node.fact, fact_text(node.fact), node.status == "active", lookback
            )
        assert isinstance(node, CompareRule)
        threshold = node.threshold
        reference_name = threshold.reference or node.fact
        limit = threshold.value
        if threshold.setting is not None:
            limit = float(setting(threshold.setting, node_id))
        reference = settings.reference_ranges.get(reference_name) if threshold.times_uln else None
        return CompiledCompare(
            node_id,
            text,
            node.fact,
            fact_text(node.fact),
            node.operator,
            limit,
            threshold.unit,
            threshold.times_uln,
            reference,
            reference_name,
            window,
        )

    compiled = tuple(
        CompiledCriterion(c.id, c.kind, c.text, build(c.rule, c.id, c.text)) for c in rules.criteria
    )
    return CompiledRules(
        protocol=rules.protocol,
        version=rules.version,
        criteria=compiled,
        top_level=tuple(c.id for c in rules.top_level()),
        judgment_ids=frozenset(judgment_ids),
        by_id={criterion.id: criterion for criterion in compiled},
    )
