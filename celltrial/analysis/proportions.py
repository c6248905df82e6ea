"""Exact binomial confidence intervals and the response rates built on them.

The trial's efficacy rates (overall response rate, CR/CRi rate, MRD-negative CR rate) are
proportions of small denominators, reported with the exact Clopper–Pearson interval.

References
----------
Clopper CJ, Pearson ES. The use of confidence or fiducial limits illustrated in the case of the
binomial. Biometrika 1934;26:404–413.
Newcombe RG. Two-sided confidence intervals for the single proportion: comparison of seven
methods. Stat Med 1998;17:857–872 (method 5, "exact").
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from scipy.stats import beta

from celltrial.analysis.response import CR_CRI_RESPONSES, OBJECTIVE_RESPONSES
from celltrial.errors import InvalidInput

__all__ = [
    "CR_CRI_RESPONSES",
    "OBJECTIVE_RESPONSES",
    "ProportionEstimate",
    "clopper_pearson",
    "response_rate",
]


@dataclass(frozen=True)
class ProportionEstimate:
    """A proportion ``successes / n`` with its two-sided confidence interval."""

    successes: int
    n: int
    estimate: float
    lower: float
    upper: float
    level: float
    method: str = "clopper-pearson"

    def as_dict(self) -> dict[str, float | int | str]:
        """The JSON shape of ``celltrial analyze ci``."""
        return {
            "successes": self.successes,
            "n": self.n,
            "estimate": self.estimate,
            "lower": self.lower,
            "upper": self.upper,
            "level": self.level,
            "method": self.method,
        }


def clopper_pearson(successes: int, n: int, level: float = 0.95) -> ProportionEstimate:
    """Exact (Clopper–Pearson) two-sided interval for a binomial proportion.

    With ``alpha = 1 - level`` the limits are beta quantiles (Clopper & Pearson 1934):
    lower = Beta(alpha/2; x, n-x+1), upper = Beta(1-alpha/2; x+1, n-x). At the edges the interval
    is closed by definition: lower = 0 when x = 0 and upper = 1 when x = n, which gives the
    closed forms upper = 1 - (alpha/2)^(1/n) for x = 0 and lower = (alpha/2)^(1/n) for x = n.
    """
    if isinstance(successes, bool) or not isinstance(successes, int):
        raise InvalidInput(f"must be a whole number, got {successes!r}", field="successes")
    if isinstance(n, bool) or not isinstance(n, int):
        raise InvalidInput(f"must be a whole number, got {n!r}", field="n")
    if n < 1:
        raise InvalidInput(f"must be at least 1, got {n}", field="n")
    if not 0 <= successes <= n:
        raise InvalidInput(f"must be between 0 and n={n}, got {successes}", field="successes")
    if not 0.0 < level < 1.0:
        raise InvalidInput(f"must be strictly between 0 and 1, got {level}", field="level")
    alpha = 1.0 - level
    lower = 0.0 if successes == 0 else float(beta.ppf(alpha / 2, successes, n - successes + 1))
    upper = 1.0 if successes == n else float(beta.ppf(1 - alpha / 2, successes + 1, n - successes))
    return ProportionEstimate(
        successes=successes, n=n, estimate=successes / n, lower=lower, upper=upper, level=level
    )


def response_rate(
    responses: Iterable[str | None], counted: frozenset[str], level: float = 0.95
) -> ProportionEstimate:
    """Share of evaluable subjects whose response is in ``counted``, with its exact interval.

    Every subject in ``responses`` is in the denominator (a subject with no assessment, ``None``,
    counts as a non-responder, the usual intention-to-treat convention for single-arm CAR-T
    trials). Use :data:`OBJECTIVE_RESPONSES` for the ORR and :data:`CR_CRI_RESPONSES` for the
    CR/CRi rate.
    """
    observed = list(responses)
    if not observed:
        raise InvalidInput("no evaluable subjects: the denominator is 0", field="responses")
    successes = sum(1 for response in observed if response in counted)
    return clopper_pearson(successes, len(observed), level)
