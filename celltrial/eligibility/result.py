"""What an evaluation returns: a verdict per criterion with its evidence, and the decision.

Verdicts: ``met``, ``not_met``, ``unknown`` (a fact missing, outside its window, or its unit or
ULN unknown) and ``needs_review`` (the investigator decides). The decision is ``eligible`` only
when every top-level inclusion is ``met`` and every top-level exclusion ``not_met``;
``ineligible`` when an inclusion is ``not_met`` or an exclusion ``met``; otherwise
``incomplete``. Sub-criteria (I1a, I8b…) feed their parent criterion and are reported, but the
decision reads the criteria that no other criterion is composed of.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field

from celltrial.eligibility.facts import Fact

__all__ = [
    "AppliedThreshold",
    "CriterionKind",
    "CriterionResult",
    "Decision",
    "EligibilityResult",
    "Evidence",
    "Explanation",
    "Judgment",
    "RuleResult",
    "Verdict",
    "combine_all",
    "combine_any",
    "decide",
]

Verdict = Literal["met", "not_met", "unknown", "needs_review"]
Decision = Literal["eligible", "ineligible", "incomplete"]
CriterionKind = Literal["inclusion", "exclusion"]


class Judgment(BaseModel):
    """An investigator's recorded answer to a criterion that needs judgment (I4, E1.qt, E12)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    criterion: str = Field(min_length=1, description="criterion or part id, e.g. I4, E1.qt, E12")
    answer: Literal["met", "not_met"]
    by: str = Field(min_length=1, description="who judged")
    at: datetime | date = Field(description="when the judgment was recorded")
    comment: str = ""

    @property
    def day(self) -> date:
        return self.at.date() if isinstance(self.at, datetime) else self.at


class Evidence(NamedTuple):
    """A fact a verdict rests on; ``used`` is False for older values listed alongside."""

    fact: str
    value: float | int | bool | str | None
    unit: str | None
    date: date | None
    source: str
    used: bool = True

    @classmethod
    def of(cls, fact: Fact, used: bool) -> Evidence:
        return cls(fact.name, fact.value, fact.unit, fact.date, fact.source, used)

    def to_json(self) -> dict[str, Any]:
        return {
            "fact": self.fact,
            "value": self.value,
            "unit": self.unit,
            "date": self.date.isoformat() if self.date else None,
            "source": self.source,
            "used": self.used,
        }


class AppliedThreshold(NamedTuple):
    """The limit a value was compared with, in the value's own unit after conversion.

    For a multiple of the ULN, ``times_uln`` and the ULN with its unit and origin (``reported with
    the result`` or ``site reference range``) say where the limit comes from.
    """

    operator: str
    value: float
    unit: str | None
    times_uln: float | None = None
    uln: float | None = None
    uln_unit: str | None = None
    uln_origin: str | None = None

    @property
    def basis(self) -> str:
        """Where the limit comes from: ``protocol`` or ``1.5×ULN (ULN 1.1 mg/dL, site reference range)``."""
        if self.times_uln is None:
            return "protocol"
        times = "" if self.times_uln == 1 else f"{_number(self.times_uln)}×"
        uln = f"{_number(self.uln or 0.0)} {self.uln_unit}" if self.uln_unit else _number(self.uln or 0.0)
        return f"{times}ULN (ULN {uln}, {self.uln_origin})"

    def to_json(self) -> dict[str, Any]:
        return {"operator": self.operator, "value": self.value, "unit": self.unit, "basis": self.basis}


Explanation = str | Callable[[], str]


class RuleResult(NamedTuple):
    """The verdict of one rule or part of a composite rule.

    The reason is written when asked for (``explanation`` may be a function), and a composite's
    evidence is gathered from its parts when asked for: bulk evaluation that reads only verdicts
    never pays for the sentences.
    """

    id: str
    text: str
    verdict: Verdict
    explanation: Explanation
    used_facts: tuple[Fact, ...] = ()
    other_facts: tuple[Fact, ...] = ()
    threshold: AppliedThreshold | None = None
    parts: tuple[RuleResult, ...] = ()

    @property
    def own_evidence(self) -> tuple[Evidence, ...]:
        """The facts this rule read itself: the ones used, then the others listed alongside."""
        return tuple(Evidence.of(fact, True) for fact in self.used_facts) + tuple(
            Evidence.of(fact, False) for fact in self.other_facts
        )

    @property
    def reason(self) -> str:
        """One line a coordinator can read."""
        if isinstance(self.explanation, str):
            return self.explanation
        return self.explanation()

    @property
    def evidence(self) -> tuple[Evidence, ...]:
        """The facts the verdict rests on (a composite's: its parts', without repeats)."""
        own = self.own_evidence
        if not self.parts:
            return own
        gathered: dict[tuple[str, str, date | None, bool], Evidence] = {}
        for item in own:
            gathered.setdefault((item.fact, item.source, item.date, item.used), item)
        for part in self.parts:
            for item in part.evidence:
                gathered.setdefault((item.fact, item.source, item.date, item.used), item)
        return tuple(gathered.values())

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "text": self.text,
            "verdict": self.verdict,
            "reason": self.reason,
            "evidence": [item.to_json() for item in self.evidence],
            "threshold": self.threshold.to_json() if self.threshold else None,
            "parts": [part.to_json() for part in self.parts],
        }


class CriterionResult(NamedTuple):
    """The verdict of one criterion of the protocol: its rule's result, with kind and registry text."""

    id: str
    kind: CriterionKind
    text: str
    verdict: Verdict
    rule: RuleResult

    @property
    def reason(self) -> str:
        return self.rule.reason

    @property
    def evidence(self) -> tuple[Evidence, ...]:
        return self.rule.evidence

    @property
    def threshold(self) -> AppliedThreshold | None:
        return self.rule.threshold

    @property
    def parts(self) -> tuple[RuleResult, ...]:
        return self.rule.parts

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "text": self.text,
            "verdict": self.verdict,
            "reason": self.reason,
            "evidence": [item.to_json() for item in self.evidence],
            "threshold": self.threshold.to_json() if self.threshold else None,
            "parts": [part.to_json() for part in self.parts],
        }


@dataclass(frozen=True, slots=True)
class EligibilityResult:
    """Every criterion's verdict in protocol order, and the decision."""

    protocol: str
    rules_version: str
    screening_date: date
    decision: Decision
    criteria: tuple[CriterionResult, ...]
    missing: tuple[str, ...]

    def criterion(self, criterion_id: str) -> CriterionResult:
        for result in self.criteria:
            if result.id == criterion_id:
                return result
        raise KeyError(criterion_id)

    def verdicts(self) -> dict[str, Verdict]:
        return {result.id: result.verdict for result in self.criteria}

    def to_json(self) -> dict[str, Any]:
        """The JSON of ``celltrial screen --json`` and of the API."""
        return {
            "decision": self.decision,
            "screening_date": self.screening_date.isoformat(),
            "protocol": self.protocol,
            "rules_version": self.rules_version,
            "criteria": [result.to_json() for result in self.criteria],
            "missing": list(self.missing),
        }


def _number(value: float) -> str:
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.4g}" if abs(value) < 1e5 else f"{value:.0f}"


def combine_all(verdicts: Iterable[Verdict]) -> Verdict:
    """All of: not met if any part is not met; met if all are met; else unknown before needs_review."""
    seen = verdicts if isinstance(verdicts, set) else set(verdicts)
    if "not_met" in seen:
        return "not_met"
    if seen <= {"met"}:
        return "met"
    return "unknown" if "unknown" in seen else "needs_review"


def combine_any(verdicts: Iterable[Verdict]) -> Verdict:
    """Any of: met if any part is met; not met if all are not met; else unknown before needs_review."""
    seen = verdicts if isinstance(verdicts, set) else set(verdicts)
    if "met" in seen:
        return "met"
    if seen <= {"not_met"}:
        return "not_met"
    return "unknown" if "unknown" in seen else "needs_review"


_EXCLUDING = frozenset({("inclusion", "not_met"), ("exclusion", "met")})
_QUALIFYING = frozenset({("inclusion", "met"), ("exclusion", "not_met")})


def decide(verdicts: Sequence[tuple[CriterionKind, Verdict]]) -> Decision:
    """The screening decision from the top-level criteria's kinds and verdicts."""
    given = set(verdicts)
    if not given.isdisjoint(_EXCLUDING):
        return "ineligible"
    if given <= _QUALIFYING:
        return "eligible"
    return "incomplete"
