"""Evaluate a trial's eligibility for one patient: a pure function of facts, rules, settings and date.

``evaluate(facts, rules, settings, screening_date, judgments)`` compiles the rules against the
settings (cached), evaluates every criterion in protocol order — composite rules from their
parts, criteria composed of other criteria from those criteria's verdicts — applies the
investigator's judgments to the rules that need them, and decides. No clock, no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

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

_VERDICT_WORDS = {"met": "met", "not_met": "not met", "unknown": "unknown", "needs_review": "needs review"}
_CACHE: dict[tuple[int, int], tuple[EligibilityRules, ProtocolSettings, CompiledRules]] = {}


def compiled(rules: EligibilityRules, settings: ProtocolSettings) -> CompiledRules:
    """``rules`` bound to ``settings``, compiled once per pair of objects."""
    key = (id(rules), id(settings))
    hit = _CACHE.get(key)
    if hit is not None and hit[0] is rules and hit[1] is settings:
        return hit[2]
    result = compile_rules(rules, settings)
    if len(_CACHE) > 64:
        _CACHE.clear()
    _CACHE[key] = (rules, settings, result)
    return result


class _Evaluation:
    def __init__(
        self, rules: CompiledRules, facts: PatientFacts, screening_date: date, judgments: dict[str, Judgment]
    ) -> None:
        self.rules = rules
        self.by_id = rules.by_id
        self.context = Context(facts, screening_date)
        self.judgments = judgments
        self.done: dict[str, CriterionResult] = {}

    def criterion(self, criterion_id: str) -> CriterionResult:
        found = self.done.get(criterion_id)
        if found is None:
            criterion: CompiledCriterion = self.by_id[criterion_id]
            kind: CriterionKind = "inclusion" if criterion.kind == "inclusion" else "exclusion"
            rule = self.node(criterion.rule)
            found = CriterionResult(criterion.id, kind, criterion.text, rule.verdict, rule)
            self.done[criterion_id] = found
        return found

    def node(self, node: CompiledNode) -> RuleResult:
        evaluator = LEAF_EVALUATORS.get(type(node))
        if evaluator is not None:
            return evaluator(node, self.context)
        kind = type(node)
        if kind is CompiledAll or kind is CompiledAny:
            return self.composite(node)  # type: ignore[arg-type]
        if kind is CompiledRef:
            referenced = self.criterion(node.criterion)  # type: ignore[union-attr]
            return RuleResult(referenced.id, referenced.text, referenced.verdict, _Referred(referenced))
        return self.judged(node)  # type: ignore[arg-type]

    def composite(self, node: CompiledAll | CompiledAny) -> RuleResult:
        context, leaf_evaluator, evaluate_node = self.context, LEAF_EVALUATORS.get, self.node
        results = []
        for part in node.parts:
            evaluator = leaf_evaluator(type(part))
            results.append(evaluator(part, context) if evaluator is not None else evaluate_node(part))
        verdicts = {result.verdict for result in results}
        verdict = combine_all(verdicts) if type(node) is CompiledAll else combine_any(verdicts)
        own = node.own_parts
        parts = tuple(results) if own is None else tuple([results[index] for index in own])
        return RuleResult(node.id, node.text, verdict, _Joined(results, verdict), (), (), None, parts)

    def judged(self, node: CompiledJudgment) -> RuleResult:
        judgment = self.judgments.get(node.id)
        if judgment is None:
            return RuleResult(
                node.id, node.text, "needs_review", f"Needs the investigator's judgment: {node.question}"
            )
        comment = f": {judgment.comment}" if judgment.comment else ""
        words = "met" if judgment.answer == "met" else "not met"
        evidence = Fact(
            "investigator_judgment", judgment.answer, judgment.day, f"judgment by {judgment.by}{comment}"
        )
        reason = f"Judged {words} by {judgment.by} on {judgment.day.isoformat()}{comment}"
        return RuleResult(node.id, node.text, judgment.answer, reason, (evidence,))


class _Joined:
    """A composite's reason: the reasons of its parts that share its verdict."""

    __slots__ = ("results", "verdict")

    def __init__(self, results: list[RuleResult], verdict: Verdict) -> None:
        self.results, self.verdict = results, verdict

    def __call__(self) -> str:
        return "; ".join(result.reason for result in self.results if result.verdict == self.verdict)


class _Referred:
    """The reason of a rule that is another criterion's verdict."""

    __slots__ = ("criterion",)

    def __init__(self, criterion: CriterionResult) -> None:
        self.criterion = criterion

    def __call__(self) -> str:
        found = self.criterion
        return f"{found.id} {_VERDICT_WORDS[found.verdict]}: {found.reason}"


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
    compiled_rules = compiled(rules, settings)
    evaluation = _Evaluation(
        compiled_rules, facts, screening_date, _judgments_by_rule(compiled_rules, judgments)
    )
    results = tuple(evaluation.criterion(criterion.id) for criterion in compiled_rules.criteria)
    top = [evaluation.done[criterion_id] for criterion_id in compiled_rules.top_level]
    decision = decide([(result.kind, result.verdict) for result in top])
    return EligibilityResult(
        protocol=compiled_rules.protocol,
        rules_version=compiled_rules.version,
        screening_date=screening_date,
        decision=decision,
        criteria=results,
        missing=_missing(evaluation, top),
    )


def _missing(evaluation: _Evaluation, top: list[CriterionResult]) -> tuple[str, ...]:
    """Unresolved criteria the decision depends on, in protocol order."""
    unresolved: set[str] = set()
    pending: list[str] = [result.id for result in top if result.verdict in ("unknown", "needs_review")]
    while pending:
        criterion_id = pending.pop()
        if criterion_id in unresolved:
            continue
        unresolved.add(criterion_id)
        rule = evaluation.by_id[criterion_id].rule
        for referenced in _references(rule):
            if evaluation.done[referenced].verdict in ("unknown", "needs_review"):
                pending.append(referenced)
    return tuple(c.id for c in evaluation.rules.criteria if c.id in unresolved)


def _references(node: CompiledNode) -> list[str]:
    if isinstance(node, CompiledRef):
        return [node.criterion]
    if isinstance(node, CompiledAll | CompiledAny):
        return [found for part in node.parts for found in _references(part)]
    return []
