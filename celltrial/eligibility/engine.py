"""Evaluate a trial's eligibility for one patient: a pure function of facts, rules, settings and date.

``evaluate(facts, rules, settings, screening_date, judgments)`` compiles the rules against the
settings (cached), evaluates every criterion in protocol order — composite rules from their
parts, criteria composed of other criteria from those criteria's verdicts — applies the
investigator's judgments to the rules that need them, and decides. No clock, no I/O.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from celltrial.eligibility.compiled import (
    CompiledAll,
    CompiledAny,
    CompiledCriterion,
    CompiledJudgment,
    CompiledNode,
    CompiledRef,
    CompiledRules,
    compile_rules,
)
from celltrial.eligibility.facts import Fact, PatientFacts
from celltrial.eligibility.predicates import LEAF_EVALUATORS, Context
from celltrial.eligibility.result import (
    CriterionKind,
    CriterionResult,
    EligibilityResult,
    Judgment,
    RuleResult,
    Verdict,
    combine_all,
    combine_any,
    decide,
)
from celltrial.eligibility.rules import EligibilityRules
from celltrial.errors import InvalidInput
from celltrial.protocol.settings import ProtocolSettings

__all__ = ["compiled", "evaluate"]

_new = tuple.__new__  # a named tuple from all its fields, without its Python-level __new__
_verdict = operator.itemgetter(2)  # a RuleResult's verdict
_VERDICT_WORDS = {"met": "met", "not_met": "not met", "unknown": "unknown", "needs_review": "needs review"}
_VERDICTS: tuple[Verdict, ...] = ("met", "not_met", "unknown", "needs_review")
_Compiled = tuple[EligibilityRules, ProtocolSettings, CompiledRules, "dict[str, _CriterionPlan]"]
_CACHE: dict[tuple[int, int], _Compiled] = {}


def _compiled(rules: EligibilityRules, settings: ProtocolSettings) -> _Compiled:
    key = (id(rules), id(settings))
    hit = _CACHE.get(key)
    if hit is not None and hit[0] is rules and hit[1] is settings:
        return hit
    result = compile_rules(rules, settings)
    if len(_CACHE) > 64:
        _CACHE.clear()
    entry = _CACHE[key] = (rules, settings, result, _criterion_plans(result))
    return entry


def compiled(rules: EligibilityRules, settings: ProtocolSettings) -> CompiledRules:
    """``rules`` bound to ``settings``, compiled once per pair of objects."""
    return _compiled(rules, settings)[2]


# A plan is the compiled rules turned into functions once: every node becomes a function of the
# evaluation (which is also the leaves' context). Leaves that ask the same question under two ids
# (E7's "ALT above the ULN" for hepatitis B and for hepatitis C) are evaluated once per patient.
Step = Callable[[Any], RuleResult]


def _plan(node: CompiledNode, shared: Mapping[CompiledNode, int]) -> Step:
    """How to evaluate ``node`` given the evaluation; ``shared``: the questions asked more than once."""
    evaluator = LEAF_EVALUATORS.get(type(node))
    if evaluator is not None:
        number = shared.get(_question(node))
        if number is not None:
            return functools.partial(_shared_leaf, evaluator, node, number)
        return functools.partial(evaluator, node)
    if isinstance(node, CompiledAll | CompiledAny):
        return _composite(node, shared)
    if isinstance(node, CompiledRef):
        return functools.partial(_referred, node.criterion)
    assert isinstance(node, CompiledJudgment)
    return functools.partial(_judged, node)


def _question(leaf: CompiledNode) -> CompiledNode:
    """A leaf without its id and text: two leaves with the same question have the same verdict."""
    return dataclasses.replace(leaf, id="", text="")


def _shared_questions(rules: CompiledRules) -> dict[CompiledNode, int]:
    """Each question more than one leaf asks, numbered."""
    seen: set[CompiledNode] = set()
    repeated: set[CompiledNode] = set()

    def visit(node: CompiledNode) -> None:
        if isinstance(node, CompiledAll | CompiledAny):
            for part in node.parts:
                visit(part)
        elif type(node) in LEAF_EVALUATORS:
            question = _question(node)
            (repeated if question in seen else seen).add(question)

    for criterion in rules.criteria:
        visit(criterion.rule)
    return {question: number for number, question in enumerate(repeated)}


def _shared_leaf(
    evaluator: Callable[[Any, Context], RuleResult],
    node: CompiledNode,
    number: int,
    evaluation: _Evaluation,
) -> RuleResult:
    answered = evaluation.answers.get(number)
    if answered is None:
        answered = evaluation.answers[number] = evaluator(node, evaluation)
        return answered
    return _new(RuleResult, (node.id, node.text, *answered[2:]))


def _combined(combine: Callable[[set[Verdict]], Verdict]) -> dict[frozenset[Verdict], Verdict]:
    """``combine`` of every set of verdicts, looked up instead of computed per patient."""
    return {
        frozenset(seen): combine(set(seen))
        for size in range(len(_VERDICTS) + 1)
        for seen in itertools.combinations(_VERDICTS, size)
    }


_ALL_OF = _combined(combine_all)
_ANY_OF = _combined(combine_any)


def _composite(node: CompiledAll | CompiledAny, shared: Mapping[CompiledNode, int]) -> Step:
    parts = tuple(_plan(part, shared) for part in node.parts)
    combined = _ALL_OF if type(node) is CompiledAll else _ANY_OF
    own, node_id, text = node.own_parts, node.id, node.text

    def composite(evaluation: _Evaluation) -> RuleResult:
        results = [step(evaluation) for step in parts]
        verdict = combined[frozenset(map(_verdict, results))]
        shown = tuple(results) if own is None else tuple([results[index] for index in own])
        reason = functools.partial(_joined, results, verdict)
        return _new(RuleResult, (node_id, text, verdict, reason, (), (), None, shown))

    return composite


def _referred(criterion_id: str, evaluation: _Evaluation) -> RuleResult:
    referenced = evaluation.criterion(criterion_id)
    reason = functools.partial(_referred_reason, referenced)
    return _new(RuleResult, (referenced.id, referenced.text, referenced.verdict, reason, (), (), None, ()))


def _judged(node: CompiledJudgment, evaluation: _Evaluation) -> RuleResult:
    judgment = evaluation.judgments.get(node.id)
    if judgment is None:
        question = f"Needs the investigator's judgment: {node.question}"
        return RuleResult(node.id, node.text, "needs_review", question)
    comment = f": {judgment.comment}" if judgment.comment else ""
    words = "met" if judgment.answer == "met" else "not met"
    by = f"judgment by {judgment.by}{comment}"
    evidence = Fact("investigator_judgment", judgment.answer, judgment.day, by)
    reason = f"Judged {words} by {judgment.by} on {judgment.day.isoformat()}{comment}"
    return RuleResult(node.id, node.text, judgment.answer, reason, (evidence,))


@dataclass(frozen=True, slots=True)
class _CriterionPlan:
    id: str
    kind: CriterionKind
    text: str
    step: Step


def _criterion_plans(rules: CompiledRules) -> dict[str, _CriterionPlan]:
    plans = {}
    shared = _shared_questions(rules)
    for criterion in rules.criteria:
        kind: CriterionKind = "inclusion" if criterion.kind == "inclusion" else "exclusion"
        step = _plan(criterion.rule, shared)
        plans[criterion.id] = _CriterionPlan(criterion.id, kind, criterion.text, step)
    return plans


class _Evaluation(Context):
    """One patient's evaluation: the leaves' context, the judgments, and the criteria done so far."""

    __slots__ = ("answers", "done", "judgments", "plans")

    def __init__(
        self,
        plans: dict[str, _CriterionPlan],
        facts: PatientFacts,
        screening_date: date,
        judgments: dict[str, Judgment],
    ) -> None:
        super().__init__(facts, screening_date)
        self.plans = plans
        self.judgments = judgments
        self.done: dict[str, CriterionResult] = {}
        self.answers: dict[int, RuleResult] = {}

    def criterion(self, criterion_id: str) -> CriterionResult:
        found = self.done.get(criterion_id)
        if found is None:
            plan = self.plans[criterion_id]
            rule = plan.step(self)
            found = _new(CriterionResult, (plan.id, plan.kind, plan.text, rule[2], rule))
            self.done[criterion_id] = found
        return found


def _joined(results: list[RuleResult], verdict: Verdict) -> str:
    """A composite's reason: the reasons of its parts that share its verdict."""
    return "; ".join(result.reason for result in results if result.verdict == verdict)


def _referred_reason(criterion: CriterionResult) -> str:
    """The reason of a rule that is another criterion's verdict."""
    return f"{criterion.id} {_VERDICT_WORDS[criterion.verdict]}: {criterion.reason}"


def _judgments_by_rule(rules: CompiledRules, judgments: Sequence[Judgment]) -> dict[str, Judgment]:
    latest: dict[str, Judgment] = {}
    for index, judgment in enumerate(judgments):
        if judgment.criterion not in rules.judgment_ids:
            known = ", ".join(sorted(rules.judgment_ids))
            raise InvalidInput(
                f"{judgment.criterion!r} is not decided by the investigator (judgments apply to: {known})",
                field=f"judgments[{index}].criterion",
            )
        previous = latest.get(judgment.criterion)
        if previous is None or _when(judgment) >= _when(previous):
            latest[judgment.criterion] = judgment
    return latest


def _when(judgment: Judgment) -> tuple[date, str]:
    return judgment.day, judgment.at.isoformat()


def evaluate(
    facts: PatientFacts,
    rules: EligibilityRules,
    settings: ProtocolSettings,
    screening_date: date,
    judgments: Sequence[Judgment] = (),
) -> EligibilityResult:
    """Every criterion's verdict with evidence, and the decision, on ``screening_date``.

    The latest judgment per rule applies; a judgment for a rule decided by data is an
    :class:`~celltrial.errors.InvalidInput`.
    """
    _, _, compiled_rules, plans = _compiled(rules, settings)
    evaluation = _Evaluation(plans, facts, screening_date, _judgments_by_rule(compiled_rules, judgments))
    criterion = evaluation.criterion
    results = tuple([criterion(criterion_id) for criterion_id in plans])
    top = [evaluation.done[criterion_id] for criterion_id in compiled_rules.top_level]
    decision = decide([(result.kind, result.verdict) for result in top])
    return EligibilityResult(
        protocol=compiled_rules.protocol,
        rules_version=compiled_rules.version,
        screening_date=screening_date,
        decision=decision,
        criteria=results,
        missing=_missing(evaluation, compiled_rules.by_id, top),
    )


def _missing(
    evaluation: _Evaluation, by_id: dict[str, CompiledCriterion], top: list[CriterionResult]
) -> tuple[str, ...]:
    """Unresolved criteria the decision depends on, in protocol order."""
    unresolved: set[str] = set()
    pending: list[str] = [result.id for result in top if result.verdict in ("unknown", "needs_review")]
    while pending:
        criterion_id = pending.pop()
        if criterion_id in unresolved:
            continue
        unresolved.add(criterion_id)
        rule = by_id[criterion_id].rule
        for referenced in _references(rule):
            if evaluation.done[referenced].verdict in ("unknown", "needs_review"):
                pending.append(referenced)
    return tuple(criterion_id for criterion_id in evaluation.plans if criterion_id in unresolved)


def _references(node: CompiledNode) -> list[str]:
    if isinstance(node, CompiledRef):
        return [node.criterion]
    if isinstance(node, CompiledAll | CompiledAny):
        return [found for part in node.parts for found in _references(part)]
    return []
