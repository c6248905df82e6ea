"""The safety stopping rule's operating characteristics as a figure for the protocol and the DSMB.

Two panels over the true event rate: the probability that the rule stops the trial, and the
expected number of evaluable subjects, with the rule's threshold marked. Drawn with matplotlib's
object API on the Agg canvas (no pyplot, no global backend), from
:func:`celltrial.analysis.stopping.operating_characteristics`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from celltrial.analysis.stopping import OperatingCharacteristic, SafetyStoppingRule
from celltrial.errors import InvalidInput

__all__ = ["operating_characteristics_figure"]


def operating_characteristics_figure(
    characteristics: Sequence[OperatingCharacteristic], rule: SafetyStoppingRule, path: Path
) -> Path:
    """Write the figure to ``path`` (PNG, or SVG/PDF by the suffix) and return it."""
    if not characteristics:
        raise InvalidInput("no operating characteristics to draw", field="true_rates")
    suffix = path.suffix.lower()
    if suffix not in {".png", ".svg", ".pdf"}:
        raise InvalidInput(
            f"the figure is written as .png, .svg or .pdf, not {suffix or 'no suffix'!r}", field="--plot"
        )
    rates = [100 * item.true_rate for item in characteristics]
    figure = Figure(figsize=(9, 3.8))
    FigureCanvasAgg(figure)
    stop_axes, size_axes = figure.subplots(1, 2)
    stop_axes.plot(
        rates, [100 * item.probability_of_stopping for item in characteristics], marker="o", color="#d62728"
    )
    stop_axes.set_ylabel("probability of stopping (%)")
    stop_axes.set_ylim(0, 100)
    size_axes.plot(
        rates, [item.expected_sample_size for item in characteristics], marker="o", color="#1f77b4"
    )
    size_axes.set_ylabel("expected evaluable subjects")
    size_axes.set_ylim(0, rule.max_subjects * 1.05)
    for axes in (stop_axes, size_axes):
        axes.axvline(100 * rule.rate_threshold, color="grey", linestyle="--", linewidth=1)
        axes.set_xlabel("true event rate (%)")
        axes.grid(alpha=0.3)
    figure.suptitle(
        f"Stop if P(rate > {rule.rate_threshold:.0%} | data) > {rule.posterior_cutoff:.0%}, "
        f"Beta({rule.prior_alpha:g}, {rule.prior_beta:g}) prior, looks from subject {rule.first_look_after} "
        f"to {rule.max_subjects}",
        fontsize=10,
    )
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=150)
    return path
