"""Operating characteristics of the design, by repeating the trial's outcomes many times (no database).

Each replicate enrols subjects one by one up to the cap; a subject is infused unless the
scenario's share of enrolled subjects who never are says otherwise; an infused subject has the
stopping-rule event (grade >= 3 CRS or ICANS, or a treatment-related death, in the DLT window)
with the true event rate and a CR/CRi with the true CR rate. The protocol's Bayesian stopping
rule (:mod:`celltrial.analysis.stopping`) is applied after each infused subject; when it says
stop, enrolment ends. At the end the CR/CRi rate of the infused subjects gets its exact 95 %
interval (Clopper-Pearson, :mod:`celltrial.analysis.proportions`), and the trial "succeeds" when
its lower bound exceeds the reference rate (protocol settings ``analysis.reference_cr_rate``).

For each pair of true rates of the scenario's grid: the probability that the rule stops the
trial, the expected numbers enrolled and infused, and the probability of success, each with its
Monte Carlo standard error.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy.stats import beta

from celltrial.analysis.stopping import SafetyStoppingRule, stopping_boundary
from celltrial.errors import InvalidInput
from celltrial.simulate.scenario import Scenario

__all__ = ["DesignPoint", "operating_characteristics"]

MAX_REPS = 1_000_000


@dataclass(frozen=True)
class DesignPoint:
    """The design's behaviour under one pair of true rates."""

    cr_rate: float
    event_rate: float
    probability_of_stopping: float
    expected_enrolled: float
    expected_infused: float
    probability_of_success: float
    stopping_standard_error: float
    success_standard_error: float

    def as_dict(self) -> dict[str, float]:
        return {name: round(value, 4) for name, value in asdict(self).items()}


def _boundary_array(rule: SafetyStoppingRule) -> np.ndarray:
    """Events that stop the trial after k evaluable subjects (k = 0..max); max + 1 when none can."""
    never = rule.max_subjects + 1
    table = np.full(rule.max_subjects + 1, never, dtype=np.int64)
    for evaluable, events in stopping_boundary(rule).items():
        if events is not None:
            table[evaluable] = events
    return table


def _lower_bounds(max_n: int, level: float) -> np.ndarray:
    """Clopper-Pearson lower bound for x successes of n (x, n = 0..max_n); 0 where x = 0 or n = 0."""
    x = np.arange(max_n + 1)[:, None]
    n = np.arange(max_n + 1)[None, :]
    valid = (x >= 1) & (x <= n)
    alpha = 1.0 - level
    with np.errstate(invalid="ignore"):
        lower = beta.ppf(alpha / 2, np.where(valid, x, 1), np.where(valid, n - x + 1, 1))
    return np.where(valid, lower, 0.0)


def _point(
    rng: np.random.Generator,
    *,
    reps: int,
    cr_rate: float,
    event_rate: float,
    not_infused: float,
    rule: SafetyStoppingRule,
    boundary: np.ndarray,
    lower: np.ndarray,
    reference: float,
) -> DesignPoint:
    cap = rule.max_subjects
    infused = rng.random((reps, cap)) >= not_infused
    events = (rng.random((reps, cap)) < event_rate) & infused
    remission = (rng.random((reps, cap)) < cr_rate) & infused
    evaluable = np.cumsum(infused, axis=1)
    seen = np.cumsum(events, axis=1)
    stops = infused & (seen >= boundary[evaluable])
    stopped = stops.any(axis=1)
    enrolled = np.where(stopped, stops.argmax(axis=1) + 1, cap)
    within = np.arange(cap)[None, :] < enrolled[:, None]
    n_infused = (infused & within).sum(axis=1)
    successes = (remission & within).sum(axis=1)
    success = lower[successes, n_infused] > reference
    p_stop, p_success = float(stopped.mean()), float(success.mean())
    return DesignPoint(
        cr_rate=cr_rate,
        event_rate=event_rate,
        probability_of_stopping=p_stop,
        expected_enrolled=float(enrolled.mean()),
        expected_infused=float(n_infused.mean()),
        probability_of_success=p_success,
        stopping_standard_error=float(np.sqrt(p_stop * (1 - p_stop) / reps)),
        success_standard_error=float(np.sqrt(p_success * (1 - p_success) / reps)),
    )


def operating_characteristics(
    scenario: Scenario,
    *,
    reps: int,
    seed: int,
    rule: SafetyStoppingRule,
    reference_rate: float,
    level: float = 0.95,
) -> list[DesignPoint]:
    """The design's operating characteristics over the scenario's grid of true rates."""
    if isinstance(reps, bool) or not isinstance(reps, int) or not 1 <= reps <= MAX_REPS:
        raise InvalidInput(f"the number of replicates must be 1 to {MAX_REPS}, not {reps!r}", field="reps")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise InvalidInput(f"the seed must be a whole number of at least 0, not {seed!r}", field="seed")
    if not 0.0 < reference_rate < 1.0:
        raise InvalidInput(
            f"the reference rate must lie in (0, 1), not {reference_rate}", field="reference_rate"
        )
    grid = scenario.design
    boundary = _boundary_array(rule)
    lower = _lower_bounds(rule.max_subjects, level)
    points = []
    for i, cr_rate in enumerate(grid.cr_rates.value):
        for j, event_rate in enumerate(grid.event_rates.value):
            rng = np.random.default_rng(np.random.SeedSequence([seed, i, j]))
            points.append(
                _point(
                    rng,
                    reps=reps,
                    cr_rate=cr_rate,
                    event_rate=event_rate,
                    not_infused=grid.not_infused_share.value,
                    rule=rule,
                    boundary=boundary,
                    lower=lower,
                    reference=reference_rate,
                )
            )
    return points
