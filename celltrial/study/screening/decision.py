"""The eligibility result a screening stores, and the decision after investigators' judgments.

The eligibility engine's JSON result (``celltrial screen --json``)::

    {"decision": "eligible|ineligible|incomplete", "screening_date": "2025-07-01",
     "rules_version": "2025-06-06.1",
     "criteria": [{"id": "I7", "kind": "inclusion", "text": "...", "verdict": "met",
                   "reason": "...", "evidence": [...]}]}

is validated here (:func:`parse_result`), never trusted blindly: its decision must follow from
its verdicts. The decision rule (DESIGN.md) runs over the top-level criteria (``I1``…``I9``,
``E1``…``E12``; sub-criteria such as ``I1b.i`` or ``I8a`` feed their parent): *eligible* when
every inclusion is met and every exclusion not met, *ineligible* when an inclusion is not met or
an exclusion is met, else *incomplete*. A judgment answers a ``needs_review`` criterion with
``met`` or ``not_met``. Pure: no database.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from celltrial.errors import InvalidInput

__all__ = [
    "CriterionResult",
    "EligibilityResult",
    "decide",
    "effective_verdicts",
    "parse_result",
    "screen_fail_reasons",
]

Verdict = Literal["met", "not_met", "unknown", "needs_review"]
TOP_LEVEL = re.compile(r"^[IE]\d+$")


class CriterionResult(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)

    id: str = Field(min_length=1, max_length=16)
    kind: Literal["inclusion", "exclusion"]
    text: str = ""
    verdict: Verdict
    reason: str = ""
    evidence: list[Any] = []


class EligibilityResult(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)

    decision: Literal["eligible", "ineligible", "incomplete"]
    screening_date: date
    rule_set_version: str | None = Field(default=None, max_length=64)
    rules_version: str | None = Field(default=None, max_length=64)
    """The name ``celltrial screen --json`` gives the rule-set version."""
    criteria: list[CriterionResult] = Field(min_length=1)


def parse_result(raw: object) -> EligibilityResult:
    """Validate an eligibility result; the error names the JSON path of the first problem."""
    if not isinstance(raw, Mapping):
        raise InvalidInput("an eligibility result must be a JSON object", field="result")
    try:
        result = EligibilityResult.model_validate(dict(raw))
    except ValidationError as error:
        first = error.errors()[0]
        path = "result"
        for part in first["loc"]:
            path += f"[{part}]" if isinstance(part, int) else f".{part}"
        raise InvalidInput(first["msg"], field=path) from None
    ids = [criterion.id for criterion in result.criteria]
    repeated = sorted({identifier for identifier in ids if ids.count(identifier) > 1})
    if repeated:
        raise InvalidInput(f"criteria repeated: {', '.join(repeated)}", field="result.criteria")
    expected = decide(result.criteria, {})
    if expected != result.decision:
        raise InvalidInput(
            f"the decision {result.decision!r} does not follow from the verdicts (they give {expected!r})",
            field="result.decision",
        )
    return result


def effective_verdicts(criteria: Sequence[CriterionResult], judgments: Mapping[str, str]) -> dict[str, str]:
    """Each criterion's verdict once the investigator's judgments replace ``needs_review``."""
    return {
        criterion.id: judgments.get(criterion.id, criterion.verdict)
        if criterion.verdict == "needs_review"
        else criterion.verdict
        for criterion in criteria
    }


def _deciding(criteria: Sequence[CriterionResult]) -> list[CriterionResult]:
    top = [criterion for criterion in criteria if TOP_LEVEL.match(criterion.id)]
    return top or list(criteria)


def decide(criteria: Sequence[CriterionResult], judgments: Mapping[str, str]) -> str:
    """eligible, ineligible or incomplete (DESIGN.md's rule over the top-level criteria)."""
    verdicts = effective_verdicts(criteria, judgments)
    deciding = _deciding(criteria)
    if screen_fail_reasons(criteria, judgments):
        return "ineligible"
    settled = all(
        verdicts[criterion.id] == ("met" if criterion.kind == "inclusion" else "not_met")
        for criterion in deciding
    )
    return "eligible" if settled else "incomplete"


def screen_fail_reasons(criteria: Sequence[CriterionResult], judgments: Mapping[str, str]) -> list[str]:
    """The criteria that exclude the patient: inclusions not met and exclusions met, in protocol order."""
    verdicts = effective_verdicts(criteria, judgments)
    return [
        criterion.id
        for criterion in _deciding(criteria)
        if verdicts[criterion.id] == ("not_met" if criterion.kind == "inclusion" else "met")
    ]


def outstanding(criteria: Sequence[CriterionResult], judgments: Mapping[str, str]) -> list[str]:
    """Top-level criteria still unknown or awaiting the investigator's judgment."""
    verdicts = effective_verdicts(criteria, judgments)
    return [
        criterion.id
        for criterion in _deciding(criteria)
        if verdicts[criterion.id] in ("unknown", "needs_review")
    ]
