"""Figures for the sponsor, the statisticians and the DSMB, drawn from the pure analysis results.

Every figure is drawn with matplotlib's object API (no pyplot, no global backend: safe in the web
app's worker threads). Each ``draw_*`` function returns the :class:`~matplotlib.figure.Figure`
(for the DSMB report's pages, or :func:`render` to SVG/PNG bytes for the web app); each
``*_figure`` function draws and writes ``<stem>.png`` (150 dpi) and ``<stem>.svg``.

- :func:`kaplan_meier_figure` — KM step curves with censoring marks and numbers at risk;
- :func:`expansion_figure` — CAR-T expansion and persistence on a log scale, per subject and median;
- :func:`swimmer_figure` — one lane per subject: time on study, responses, relapse, HSCT, death;
- :func:`consort_figure` — CONSORT 2010 flow diagram (Schulz et al., BMJ 2010;340:c332) of the
  single-arm trial: screened → enrolled → apheresed → manufactured → infused → evaluable.
"""

from __future__ import annotations

import io
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import FancyBboxPatch, Patch

from celltrial.analysis.survival import KaplanMeierSummary
from celltrial.errors import InvalidInput

__all__ = [
    "ConsortCounts",
    "FigureFiles",
    "SwimmerEvent",
    "SwimmerLane",
    "consort_figure",
    "draw_consort",
    "draw_expansion",
    "draw_kaplan_meier",
    "draw_swimmer",
    "expansion_figure",
    "kaplan_meier_figure",
    "render",
    "save",
    "swimmer_figure",
]

_COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")


@dataclass(frozen=True)
class FigureFiles:
    """The two files one figure was written to."""

    png: Path
    svg: Path


ImageFormat = Literal["png", "svg"]


def save(figure: Figure, stem: Path) -> FigureFiles:
    """Write ``figure`` to ``<stem>.png`` (150 dpi) and ``<stem>.svg``."""
    stem.parent.mkdir(parents=True, exist_ok=True)
    files = FigureFiles(png=stem.with_suffix(".png"), svg=stem.with_suffix(".svg"))
    figure.savefig(files.png, dpi=150, bbox_inches="tight")
    figure.savefig(files.svg, bbox_inches="tight")
    return files


def render(figure: Figure, image_format: ImageFormat, *, dpi: int = 150) -> bytes:
    """The figure as PNG or SVG bytes (``svg`` keeps the text as text, without a date stamp)."""
    if image_format not in ("png", "svg"):
        raise InvalidInput(f"a figure is drawn as png or svg, not {image_format!r}", field="format")
    buffer = io.BytesIO()
    metadata = {"Date": None} if image_format == "svg" else {}
    figure.savefig(buffer, format=image_format, dpi=dpi, bbox_inches="tight", metadata=metadata)
    return buffer.getvalue()


def kaplan_meier_figure(
    summaries: Mapping[str, KaplanMeierSummary],
    stem: Path,
    *,
    title: str,
    y_label: str = "Survival probability",
) -> FigureFiles:
    """Kaplan–Meier curves written as PNG and SVG (see :func:`draw_kaplan_meier`)."""
    return save(draw_kaplan_meier(summaries, title=title, y_label=y_label), stem)


def draw_kaplan_meier(
    summaries: Mapping[str, KaplanMeierSummary],
    *,
    title: str,
    y_label: str = "Survival probability",
) -> Figure:
    """Kaplan–Meier curves (months) with censoring marks, CI bands and a numbers-at-risk table."""
    if not summaries:
        raise InvalidInput("no group to plot", field="summaries")
    figure = Figure(figsize=(7.5, 5.0 + 0.3 * len(summaries)))
    plot, risk = figure.subplots(2, 1, height_ratios=[5, 0.5 + 0.35 * len(summaries)], sharex=True)
    for index, (group, summary) in enumerate(summaries.items()):
        color = _COLORS[index % len(_COLORS)]
        months = [point.month for point in summary.curve]
        survival = [point.survival for point in summary.curve]
        if months[0] > 0:
            months, survival = [0.0, *months], [1.0, *survival]
        plot.step(months, survival, where="post", color=color, label=f"{group} (n={summary.n})")
        lower = [p.lower if p.lower is not None else p.survival for p in summary.curve]
        upper = [p.upper if p.upper is not None else p.survival for p in summary.curve]
        plot.fill_between(
            [p.month for p in summary.curve], lower, upper, step="post", color=color, alpha=0.12, linewidth=0
        )
        censored = [(p.month, p.survival) for p in summary.curve if p.censored]
        plot.plot([m for m, _ in censored], [s for _, s in censored], "|", color=color, markersize=9)
        for entry in summary.risk_table:
            risk.text(
                entry.month,
                len(summaries) - 1 - index,
                str(entry.at_risk),
                ha="center",
                va="center",
                fontsize=8,
                color=color,
            )
    plot.set_ylim(0, 1.02)
    plot.set_ylabel(y_label)
    plot.set_title(title)
    plot.legend(loc="upper right", frameon=False)
    plot.grid(alpha=0.3)
    risk.set_yticks(range(len(summaries)), list(reversed(list(summaries))), fontsize=8)
    risk.set_ylim(-0.6, len(summaries) - 0.4)
    risk.set_xlabel("Months (30.4375 days)")
    risk.set_title("Number at risk", fontsize=9, loc="left")
    risk.tick_params(left=False)
    for side in ("top", "right", "left"):
        risk.spines[side].set_visible(False)
    return figure


def expansion_figure(
    series: Mapping[str, tuple[Sequence[float], Sequence[float]]],
    stem: Path,
    *,
    lloq: float,
    y_label: str = "CAR transgene (copies/µg gDNA)",
    title: str = "CAR-T expansion and persistence",
) -> FigureFiles:
    """Expansion curves written as PNG and SVG (see :func:`draw_expansion`)."""
    return save(draw_expansion(series, lloq=lloq, y_label=y_label, title=title), stem)


def draw_expansion(
    series: Mapping[str, tuple[Sequence[float], Sequence[float]]],
    *,
    lloq: float,
    y_label: str = "CAR transgene (copies/µg gDNA)",
    title: str = "CAR-T expansion and persistence",
) -> Figure:
    """Per-subject kinetics on a log scale with the median at each nominal day.

    Values below the LLOQ are drawn at LLOQ/2 (open markers) under a dashed LLOQ line, so that
    a log axis can show them. The median is drawn on the nominal days on which at least half of
    the subjects were sampled (unscheduled days would otherwise show one subject as the median).
    """
    if not series:
        raise InvalidInput("no subject to plot", field="series")
    if lloq <= 0:
        raise InvalidInput(f"must be positive, got {lloq}", field="lloq")
    figure = Figure(figsize=(7.5, 5.0))
    axes = figure.subplots()
    by_day: dict[float, list[float]] = {}
    for days, values in series.values():
        shown = [value if value >= lloq else lloq / 2 for value in values]
        axes.plot(days, shown, color="#9aa5b1", linewidth=0.8, alpha=0.8)
        below = [(day, value) for day, value, raw in zip(days, shown, values, strict=True) if raw < lloq]
        axes.plot(
            [d for d, _ in below], [v for _, v in below], "o", mfc="none", color="#9aa5b1", markersize=3
        )
        for day, value in zip(days, shown, strict=True):
            by_day.setdefault(day, []).append(value)
    days_sorted = [day for day in sorted(by_day) if 2 * len(by_day[day]) >= len(series)]
    medians = [statistics.median(by_day[day]) for day in days_sorted]
    axes.plot(
        days_sorted,
        medians,
        color="#d62728",
        linewidth=2.2,
        marker="o",
        markersize=4,
        label=f"median (n={len(series)})",
    )
    axes.axhline(lloq, color="black", linestyle="--", linewidth=0.8, label=f"LLOQ {lloq:g}")
    axes.set_yscale("log")
    axes.set_xlabel("Days since CAR-T infusion")
    axes.set_ylabel(y_label)
    axes.set_title(title)
    axes.legend(frameon=False)
    axes.grid(alpha=0.3, which="both")
    return figure


@dataclass(frozen=True)
class SwimmerEvent:
    """Something that happened to a subject on a study day (response, relapse, allo-HSCT, death)."""

    day: float
    kind: str


@dataclass(frozen=True)
class SwimmerLane:
    """One subject's lane: days on study, whether follow-up continues, and the events on it."""

    subject: str
    days_on_study: float
    ongoing: bool
    events: tuple[SwimmerEvent, ...] = field(default_factory=tuple)
    group: str = ""


_SWIMMER_MARKERS = {
    "CR": ("*", "#2ca02c"),
    "CRi": ("*", "#98df8a"),
    "CMR": ("*", "#2ca02c"),
    "MLFS": ("D", "#17becf"),
    "PR": ("^", "#1f77b4"),
    "PMR": ("^", "#1f77b4"),
    "PD": ("v", "#ff7f0e"),
    "PMD": ("v", "#ff7f0e"),
    "relapse": ("X", "#d62728"),
    "allo-HSCT": ("s", "#9467bd"),
    "death": ("x", "black"),
}


def swimmer_figure(lanes: Sequence[SwimmerLane], stem: Path, *, title: str = "Time on study") -> FigureFiles:
    """The swimmer plot written as PNG and SVG (see :func:`draw_swimmer`)."""
    return save(draw_swimmer(lanes, title=title), stem)


def draw_swimmer(lanes: Sequence[SwimmerLane], *, title: str = "Time on study") -> Figure:
    """Swimmer plot: one bar per subject (longest first), event markers, arrow when ongoing."""
    if not lanes:
        raise InvalidInput("no subject to plot", field="lanes")
    ordered = sorted(lanes, key=lambda lane: lane.days_on_study)
    figure = Figure(figsize=(8.0, 1.5 + 0.28 * len(ordered)))
    axes = figure.subplots()
    groups = sorted({lane.group for lane in ordered})
    for row, lane in enumerate(ordered):
        color = _COLORS[groups.index(lane.group) % len(_COLORS)]
        axes.barh(row, lane.days_on_study, height=0.6, color=color, alpha=0.35)
        if lane.ongoing:
            axes.annotate(
                "",
                xy=(lane.days_on_study * 1.04 + 1, row),
                xytext=(lane.days_on_study, row),
                arrowprops={"arrowstyle": "->", "color": color},
            )
        for event in lane.events:
            marker, marker_color = _SWIMMER_MARKERS.get(event.kind, ("o", "grey"))
            axes.plot(event.day, row, marker, color=marker_color, markersize=7, label=event.kind)
    handles, labels = axes.get_legend_handles_labels()
    unique: dict[str, Artist] = dict(zip(labels, handles, strict=True))
    for index, group in enumerate(groups):
        if group:
            unique[group] = Patch(facecolor=_COLORS[index % len(_COLORS)], alpha=0.35)
    axes.legend(unique.values(), unique.keys(), loc="lower right", frameon=False, fontsize=8)
    axes.set_yticks(range(len(ordered)), [lane.subject for lane in ordered], fontsize=7)
    axes.set_xlabel("Days since CAR-T infusion (arrow: follow-up continues)")
    axes.set_title(title)
    axes.grid(axis="x", alpha=0.3)
    return figure


@dataclass(frozen=True)
class ConsortCounts:
    """Counts at each step of the single-arm trial; each step's losses are the difference.

    ``screen_failures`` counts the screen-failed patients by reason, each patient once;
    ``not_enrolled_other`` the other patients screened but not enrolled (still in screening,
    eligible but not enrolled, withdrew before enrolment). Together they add up to
    screened − enrolled.
    """

    screened: int
    screen_failures: Mapping[str, int]
    enrolled: int
    apheresed: int
    manufactured: int
    infused: int
    evaluable: int
    not_enrolled_other: Mapping[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        steps = [
            ("enrolled", self.enrolled, self.screened),
            ("apheresed", self.apheresed, self.enrolled),
            ("manufactured", self.manufactured, self.apheresed),
            ("infused", self.infused, self.manufactured),
            ("evaluable", self.evaluable, self.infused),
        ]
        for name, count, previous in steps:
            if not 0 <= count <= previous:
                raise InvalidInput(f"{count} is more than the {previous} of the step before", field=name)
        failed = sum(self.screen_failures.values()) + sum(self.not_enrolled_other.values())
        expected = self.screened - self.enrolled
        if failed != expected:
            raise InvalidInput(
                f"screen failures and other patients not enrolled add up to {failed}, "
                f"not screened − enrolled ({expected})",
                field="screen_failures",
            )


def _box(axes: Axes, x: float, y: float, text: str, width: float = 0.36) -> None:
    lines = text.count("\n") + 1
    height = 0.035 + 0.028 * lines
    axes.add_patch(
        FancyBboxPatch(
            (x - width / 2, y - height / 2),
            width,
            height,
            boxstyle="round,pad=0.005",
            facecolor="white",
            edgecolor="black",
            linewidth=0.9,
        )
    )
    axes.text(x, y, text, ha="center", va="center", fontsize=8)


def consort_figure(counts: ConsortCounts, stem: Path, *, title: str = "CONSORT flow diagram") -> FigureFiles:
    """The CONSORT flow written as PNG and SVG (see :func:`draw_consort`)."""
    return save(draw_consort(counts, title=title), stem)


def draw_consort(counts: ConsortCounts, *, title: str = "CONSORT flow diagram") -> Figure:
    """CONSORT flow: the main column of counts, with each step's losses boxed to the right."""
    failed = sum(counts.screen_failures.values())
    lines = [f"Not enrolled n = {counts.screened - counts.enrolled}", f"Screen failures n = {failed}"]
    reasons = [f"{reason}: {n}" for reason, n in sorted(counts.screen_failures.items())]
    lines += [", ".join(reasons[start : start + 4]) for start in range(0, len(reasons), 4)]
    lines += [f"{reason}: {n}" for reason, n in counts.not_enrolled_other.items() if n]
    steps = [
        (f"Screened\nn = {counts.screened}", "\n".join(lines)),
        (f"Enrolled\nn = {counts.enrolled}", f"Not apheresed n = {counts.enrolled - counts.apheresed}"),
        (
            f"Apheresed\nn = {counts.apheresed}",
            f"Not manufactured n = {counts.apheresed - counts.manufactured}",
        ),
        (
            f"Manufactured\nn = {counts.manufactured}",
            f"Not infused n = {counts.manufactured - counts.infused}",
        ),
        (f"Infused\nn = {counts.infused}", f"Not evaluable n = {counts.infused - counts.evaluable}"),
        (f"Evaluable for response\nn = {counts.evaluable}", ""),
    ]
    figure = Figure(figsize=(7.5, 8.5))
    axes = figure.subplots()
    axes.set_xlim(0, 1)
    axes.set_ylim(0, 1)
    axes.axis("off")
    axes.set_title(title)
    step_height = 0.94 / len(steps)
    for index, (main, side) in enumerate(steps):
        y = 0.95 - index * step_height - step_height / 2 + 0.04
        _box(axes, 0.27, y, main)
        if index + 1 < len(steps):
            axes.annotate(
                "",
                xy=(0.27, y - step_height + 0.06),
                xytext=(0.27, y - 0.05),
                arrowprops={"arrowstyle": "-|>", "color": "black"},
            )
        if side:
            side_y = y - step_height / 2
            axes.annotate("", xy=(0.52, side_y), xytext=(0.27, side_y), arrowprops={"arrowstyle": "-|>"})
            _box(axes, 0.74, side_y, side, width=0.42)
    return figure
