"""Safety figures for the protocol and the DSMB, drawn with matplotlib's object API (no pyplot).

- :func:`operating_characteristics_figure` — the safety stopping rule's operating characteristics:
  two panels over the true event rate, the probability that the rule stops the trial and the
  expected number of evaluable subjects, with the rule's threshold marked (from
  :func:`celltrial.analysis.stopping.operating_characteristics`);
- :func:`draw_crs_icans_timeline` / :func:`crs_icans_timeline_figure` — per infused subject,
  days 0–28 after infusion: the daily ASTCT grade of CRS and of ICANS (Lee et al., Biol Blood
  Marrow Transplant 2019;25:625) as coloured bars, with the days tocilizumab or corticosteroids
  were given marked.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from celltrial.analysis.stopping import OperatingCharacteristic, SafetyStoppingRule
from celltrial.errors import InvalidInput
from celltrial.reporting.figures import FigureFiles, save

__all__ = [
    "GRADE_COLOURS",
    "SafetyDay",
    "SafetyTimelineLane",
    "crs_icans_timeline_figure",
    "draw_crs_icans_timeline",
    "draw_operating_characteristics",
    "operating_characteristics_figure",
]


def operating_characteristics_figure(
    characteristics: Sequence[OperatingCharacteristic], rule: SafetyStoppingRule, path: Path
) -> Path:
    """Write the figure to ``path`` (PNG, or SVG/PDF by the suffix) and return it."""
    suffix = path.suffix.lower()
    if suffix not in {".png", ".svg", ".pdf"}:
        raise InvalidInput(
            f"the figure is written as .png, .svg or .pdf, not {suffix or 'no suffix'!r}", field="--plot"
        )
    figure = draw_operating_characteristics(characteristics, rule)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=150)
    return path


def draw_operating_characteristics(
    characteristics: Sequence[OperatingCharacteristic], rule: SafetyStoppingRule
) -> Figure:
    """P(stop) and the expected number of evaluable subjects over the true event rate."""
    if not characteristics:
        raise InvalidInput("no operating characteristics to draw", field="true_rates")
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
    return figure


@dataclass(frozen=True)
class SafetyDay:
    """One day's CRS/ICANS assessment of a subject (day 0 is the infusion)."""

    day: int
    crs_grade: int
    icans_grade: int
    tocilizumab: bool = False
    corticosteroids: bool = False


@dataclass(frozen=True)
class SafetyTimelineLane:
    """A subject's daily assessments after the infusion."""

    subject: str
    days: tuple[SafetyDay, ...]


GRADE_COLOURS = {
    0: "#e8ecef",
    1: "#fdd835",
    2: "#fb8c00",
    3: "#e53935",
    4: "#8e0000",
    5: "#000000",
}
"""Fill of a day's bar by ASTCT grade (0: assessed, no CRS/ICANS)."""

TIMELINE_LAST_DAY = 28


def crs_icans_timeline_figure(
    lanes: Sequence[SafetyTimelineLane], stem: Path, *, title: str = "CRS and ICANS, days 0–28"
) -> FigureFiles:
    """The timeline written as PNG and SVG (see :func:`draw_crs_icans_timeline`)."""
    return save(draw_crs_icans_timeline(lanes, title=title), stem)


def draw_crs_icans_timeline(
    lanes: Sequence[SafetyTimelineLane], *, title: str = "CRS and ICANS, days 0–28"
) -> Figure:
    """One row per subject: CRS grade (upper bar) and ICANS grade (lower bar) each day 0–28.

    A day without an assessment is left blank; tocilizumab (▼ above the row) and corticosteroids
    (◆ below it) are marked on the days they were given. Subjects are ordered by their highest
    CRS grade, then ICANS grade, highest at the top.
    """
    if not lanes:
        raise InvalidInput("no subject to plot", field="lanes")
    for lane in lanes:
        for day in lane.days:
            for name, grade in (("crs_grade", day.crs_grade), ("icans_grade", day.icans_grade)):
                if grade not in GRADE_COLOURS:
                    raise InvalidInput(f"grade {grade} of {lane.subject} is not 0-5", field=name)
    ordered = sorted(
        lanes,
        key=lambda lane: (
            max((d.crs_grade for d in lane.days), default=0),
            max((d.icans_grade for d in lane.days), default=0),
            lane.subject,
        ),
    )
    figure = Figure(figsize=(8.0, 1.6 + 0.32 * len(ordered)))
    axes = figure.subplots()
    for row, lane in enumerate(ordered):
        shown = [day for day in lane.days if 0 <= day.day <= TIMELINE_LAST_DAY]
        for offset, grades in ((0.18, [d.crs_grade for d in shown]), (-0.18, [d.icans_grade for d in shown])):
            axes.broken_barh(
                [(day.day - 0.45, 0.9) for day in shown],
                (row + offset - 0.17, 0.34),
                facecolors=[GRADE_COLOURS[grade] for grade in grades],
                edgecolors="none",
            )
        toci = [day.day for day in shown if day.tocilizumab]
        steroids = [day.day for day in shown if day.corticosteroids]
        if toci:
            axes.plot(toci, [row + 0.44] * len(toci), "v", color="#1565c0", markersize=4)
        if steroids:
            axes.plot(steroids, [row - 0.44] * len(steroids), "D", color="#6a1b9a", markersize=3)
    axes.set_yticks(range(len(ordered)), [lane.subject for lane in ordered], fontsize=7)
    axes.set_ylim(-0.7, len(ordered) - 0.3)
    axes.set_xlim(-0.7, TIMELINE_LAST_DAY + 0.7)
    axes.set_xticks(range(0, TIMELINE_LAST_DAY + 1, 7))
    axes.set_xlabel("Days since CAR-T infusion (upper bar CRS, lower bar ICANS)")
    axes.set_title(title)
    axes.grid(axis="x", alpha=0.3)
    handles: list[Patch | Line2D] = [
        Patch(facecolor=GRADE_COLOURS[grade], label=f"grade {grade}" if grade else "assessed, none")
        for grade in GRADE_COLOURS
    ]
    handles.append(Line2D([], [], marker="v", color="#1565c0", linestyle="none", label="tocilizumab"))
    handles.append(Line2D([], [], marker="D", color="#6a1b9a", linestyle="none", label="corticosteroids"))
    axes.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize=7)
    return figure
