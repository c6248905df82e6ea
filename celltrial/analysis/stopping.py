"""Bayesian safety stopping rule and its exact operating characteristics.

The rule (a beta-binomial monitoring rule in the manner of Thall, Simon & Estey, Stat Med
1995;14:357–379): with a Beta(a, b) prior on the rate of the safety event (e.g. grade >= 3 CRS,
grade >= 3 ICANS or treatment-related death in the DLT window), after each evaluable subject
completes the window, stop enrolment when

    P(rate > threshold | x events in n evaluable subjects) > posterior cut-off,

where the posterior is Beta(a + x, b + n - x); the rule is applied from ``first_look_after``
evaluable subjects up to ``max_subjects``. The defaults are the protocol's settings (threshold
0.30, cut-off 0.80, Beta(1, 1), 40 subjects, first look after 3), taken as parameters so that a
protocol file can change them.

Operating characteristics are exact: the probability of stopping and the expected number of
evaluable subjects under a true rate come from a forward recursion over the binomial
distribution of events, one look per subject, removing the stopped paths at each look. Stopping
at the last subject counts as stopping (the rule declares the rate too high); the sample size of
a trial that never stops is ``max_subjects``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator
from scipy.stats import beta

from celltrial.errors import InvalidInput

__all__ = [
    "DEFAULT_TRUE_RATES",
    "OperatingCharacteristic",
    "SafetyStoppingRule",
    "StoppingDecision",
    "evaluate_stopping_rule",
    "operating_characteristics",
    "posterior_probability_above_threshold",
    "stopping_boundary",
]

DEFAULT_TRUE_RATES = (0.10, 0.15, 0.20, 0.25, 0.30, 0.35, 0.40, 0.45, 0.50)


class SafetyStoppingRule(BaseModel):
    """The parameters of the Bayesian safety stopping rule (protocol settings)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    rate_threshold: float = Field(default=0.30, gt=0.0, lt=1.0)
    posterior_cutoff: float = Field(default=0.80, gt=0.0, lt=1.0)
    prior_alpha: float = Field(default=1.0, gt=0.0)
    prior_beta: float = Field(default=1.0, gt=0.0)
    max_subjects: int = Field(default=40, ge=1, le=10_000)
    first_look_after: int = Field(default=3, ge=1)

    @model_validator(mode="after")
    def _first_look_within_trial(self) -> SafetyStoppingRule:
        if self.first_look_after > self.max_subjects:
            raise ValueError(
                f"first_look_after ({self.first_look_after}) exceeds max_subjects ({self.max_subjects})"
            )
        return self


class StoppingDecision(BaseModel):
    """The rule's verdict after ``evaluable`` subjects with ``events`` safety events."""

    model_config = ConfigDict(frozen=True)

    events: int
    evaluable: int
    posterior_probability: float = Field(description="P(rate > threshold | data)")
    rule_applies: bool = Field(description="false before the first look")
    stop: bool


class OperatingCharacteristic(BaseModel):
    """Exact behaviour of the rule under one true event rate."""

    model_config = ConfigDict(frozen=True)

    true_rate: float
    probability_of_stopping: float
    expected_sample_size: float


def posterior_probability_above_threshold(events: int, evaluable: int, rule: SafetyStoppingRule) -> float:
    """P(rate > threshold | events of evaluable) under the Beta(prior_alpha, prior_beta) prior."""
    _check_counts(events, evaluable)
    posterior = beta(rule.prior_alpha + events, rule.prior_beta + evaluable - events)
    return float(posterior.sf(rule.rate_threshold))


def evaluate_stopping_rule(
    events: int, evaluable: int, rule: SafetyStoppingRule | None = None
) -> StoppingDecision:
    """Apply the rule after ``evaluable`` subjects completed the DLT window."""
    rule = rule or SafetyStoppingRule()
    probability = posterior_probability_above_threshold(events, evaluable, rule)
    applies = evaluable >= rule.first_look_after
    return StoppingDecision(
        events=events,
        evaluable=evaluable,
        posterior_probability=probability,
        rule_applies=applies,
        stop=applies and probability > rule.posterior_cutoff,
    )


def stopping_boundary(rule: SafetyStoppingRule | None = None) -> dict[int, int | None]:
    """For each look n, the smallest number of events that stops the trial (None: none can)."""
    rule = rule or SafetyStoppingRule()
    boundary: dict[int, int | None] = {}
    for evaluable in range(rule.first_look_after, rule.max_subjects + 1):
        events = np.arange(evaluable + 1)
        probability = beta.sf(
            rule.rate_threshold, rule.prior_alpha + events, rule.prior_beta + evaluable - events
        )
        stopping = np.flatnonzero(probability > rule.posterior_cutoff)
        boundary[evaluable] = int(stopping[0]) if stopping.size else None
    return boundary


def operating_characteristics(
    rule: SafetyStoppingRule | None = None, true_rates: Sequence[float] = DEFAULT_TRUE_RATES
) -> tuple[OperatingCharacteristic, ...]:
    """Exact probability of stopping and expected sample size for each true event rate."""
    rule = rule or SafetyStoppingRule()
    boundary = stopping_boundary(rule)
    results = []
    for rate in true_rates:
        if not 0.0 <= rate <= 1.0:
            raise InvalidInput(f"a true rate must lie in [0, 1], got {rate}", field="true_rates")
        results.append(_exact_characteristic(rule, boundary, rate))
    return tuple(results)


def _exact_characteristic(
    rule: SafetyStoppingRule, boundary: dict[int, int | None], rate: float
) -> OperatingCharacteristic:
    # continuing[x]: probability of reaching the current look with x events and no stop so far
    continuing = np.zeros(rule.max_subjects + 1)
    continuing[0] = 1.0
    probability_of_stopping = 0.0
    expected_sample_size = 0.0
    for evaluable in range(1, rule.max_subjects + 1):
        shifted = np.zeros_like(continuing)
        shifted[1:] = continuing[:-1]
        continuing = continuing * (1.0 - rate) + shifted * rate
        stop_at = boundary.get(evaluable)
        if stop_at is not None:
            stopped_here = float(continuing[stop_at:].sum())
            continuing[stop_at:] = 0.0
            probability_of_stopping += stopped_here
            expected_sample_size += evaluable * stopped_here
    expected_sample_size += rule.max_subjects * float(continuing.sum())
    return OperatingCharacteristic(
        true_rate=rate,
        probability_of_stopping=probability_of_stopping,
        expected_sample_size=expected_sample_size,
    )


def _check_counts(events: int, evaluable: int) -> None:
    if evaluable < 0:
        raise InvalidInput(
            f"the number of evaluable subjects cannot be negative ({evaluable})", field="evaluable"
        )
    if not 0 <= events <= evaluable:
        raise InvalidInput(
            f"events ({events}) must lie between 0 and the number of evaluable subjects ({evaluable})",
            field="events",
        )
