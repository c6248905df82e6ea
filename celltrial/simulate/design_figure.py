"""The figure of the design's operating characteristics (matplotlib object API on the Agg canvas).

Left: probability that the safety rule stops the trial against the true event rate, with the
expected number of subjects enrolled. Right: probability of success (lower 95 % bound of the
CR/CRi rate above the reference) against the true CR/CRi rate, one line per true event rate.
"""

from __future__ import annotations

from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from celltrial.analysis.stopping import SafetyStoppingRule
from celltrial.errors import InvalidInput
from celltrial.simulate.design import DesignPoint

__all__ = ["render_design_figure"]


def render_design_figure(
    points: list[DesignPoint], path: Path, *, rule: SafetyStoppingRule, reference_rate: float
) -> None:
    """Write the two-panel figure to ``path`` (PNG)."""
    if path.suffix.lower() != ".png":
        raise InvalidInput("the figure is written as PNG: give a file name ending in .png", field="--plot")
    figure = Figure(figsize=(11, 4.5), dpi=110)
    FigureCanvasAgg(figure)
    stopping, success = figure.subplots(1, 2)
    by_event: dict[float, DesignPoint] = {}
    for point in points:
        by_event.setdefault(point.event_rate, point)
    rates = sorted(by_event)
    stopping.plot(rates, [by_event[r].probability_of_stopping for r in rates], marker="o", color="tab:red")
    stopping.axvline(rule.rate_threshold, linestyle="--", color="grey", linewidth=1)
    stopping.set(
        xlabel="true rate of the stopping-rule event", ylabel="P(the rule stops the trial)", ylim=(0, 1)
    )
    stopping.set_title("Safety stopping rule")
    enrolled = stopping.twinx()
    enrolled.plot(rates, [by_event[r].expected_enrolled for r in rates], marker="s", color="tab:blue")
    enrolled.set(ylabel="expected number enrolled", ylim=(0, rule.max_subjects + 2))
    for event_rate in rates:
        line = sorted((p for p in points if p.event_rate == event_rate), key=lambda p: p.cr_rate)
        success.plot(
            [p.cr_rate for p in line],
            [p.probability_of_success for p in line],
            marker="o",
            label=f"event rate {event_rate:.2f}",
        )
    success.axvline(reference_rate, linestyle="--", color="grey", linewidth=1)
    success.set(xlabel="true CR/CRi rate", ylabel="P(lower 95% bound > reference)", ylim=(0, 1))
    success.set_title(f"Efficacy against the reference rate {reference_rate:.2f}")
    success.legend(fontsize="small")
    figure.tight_layout()
    try:
        figure.savefig(path, format="png")
    except OSError as error:
        raise InvalidInput(f"cannot write the figure: {error}", field=str(path)) from None
