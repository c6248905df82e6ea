"""The figures of the DSMB report and the analyses pages, drawn from :class:`TrialAnalyses`.

:data:`FIGURES` names each figure (the web routes serve ``/analyses/figures/<name>.svg|png``);
:func:`draw` draws one, or raises :class:`~celltrial.errors.NotFound` for an unknown name and
:class:`~celltrial.errors.InvalidInput` when the trial has no data for it yet (e.g. no subject
infused).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from matplotlib.figure import Figure

from celltrial.errors import InvalidInput, NotFound
from celltrial.reporting.dsmb_analyses import TrialAnalyses
from celltrial.reporting.dsmb_data import SubjectCourse
from celltrial.reporting.figures import (
    SwimmerEvent,
    SwimmerLane,
    draw_consort,
    draw_expansion,
    draw_kaplan_meier,
    draw_swimmer,
)
from celltrial.reporting.safety_figures import (
    SafetyDay,
    SafetyTimelineLane,
    draw_crs_icans_timeline,
    draw_operating_characteristics,
)

__all__ = ["FIGURES", "FigureSpec", "available", "draw", "swimmer_lanes", "timeline_lanes"]


def swimmer_lanes(courses: tuple[SubjectCourse, ...]) -> list[SwimmerLane]:
    """One lane per infused subject: first response, relapse or progression, allo-HSCT, death."""
    lanes = []
    for course in courses:
        events: list[SwimmerEvent] = []
        first = next((r for r in course.responses if r.response.value in _RESPONDED), None)
        if first is not None:
            events.append(SwimmerEvent(first.day, first.response.value))
        ended = next((r for r in course.responses if r.response.value in _ENDS), None)
        if ended is not None:
            events.append(SwimmerEvent(ended.day, "relapse" if ended.response.value == "relapse" else "PD"))
        if course.hsct_day is not None:
            events.append(SwimmerEvent(course.hsct_day, "allo-HSCT"))
        if course.death_day is not None:
            events.append(SwimmerEvent(course.death_day, "death"))
        lanes.append(
            SwimmerLane(
                subject=course.label,
                days_on_study=max(course.last_alive_day, 1),
                ongoing=not course.follow_up_ended,
                events=tuple(events),
                group=course.disease,
            )
        )
    return lanes


_RESPONDED = frozenset({"CR", "CRi", "CMR", "MLFS", "PR", "PMR"})
_ENDS = frozenset({"PD", "PMD", "relapse"})


def timeline_lanes(analyses: TrialAnalyses) -> list[SafetyTimelineLane]:
    """Each infused subject's daily CRS/ICANS grades, days 0–28."""
    lanes = []
    for course in analyses.courses:
        days = tuple(
            SafetyDay(
                day=(grades.day - course.infusion_date).days,
                crs_grade=grades.crs_grade,
                icans_grade=grades.icans_grade,
                tocilizumab=grades.tocilizumab_given,
                corticosteroids=grades.corticosteroids_given,
            )
            for grades in course.safety_days
        )
        lanes.append(SafetyTimelineLane(course.label, days))
    return lanes


def _infused(analyses: TrialAnalyses) -> None:
    if not analyses.courses:
        raise InvalidInput("no subject has been infused by the data cut-off", field="cutoff")


def _km(key: str) -> Callable[[TrialAnalyses], Figure]:
    def draw_endpoint(analyses: TrialAnalyses) -> Figure:
        endpoint = analyses.endpoint(key)
        if endpoint.summary is None:
            raise InvalidInput(f"no subject to estimate {endpoint.name.lower()} from", field="cutoff")
        label = "responders" if key == "dor" else "infused"
        return draw_kaplan_meier(
            {label: endpoint.summary},
            title=endpoint.name,
            y_label="Probability in response"
            if key == "dor"
            else "Probability event-free"
            if key.startswith("efs")
            else "Survival probability",
        )

    return draw_endpoint


def _os_by_disease(analyses: TrialAnalyses) -> Figure:
    if not analyses.survival_by_disease:
        raise InvalidInput("no subject to estimate overall survival from", field="cutoff")
    return draw_kaplan_meier(analyses.survival_by_disease, title="Overall survival by disease")


def _swimmer(analyses: TrialAnalyses) -> Figure:
    _infused(analyses)
    return draw_swimmer(swimmer_lanes(analyses.courses), title="Time on study after infusion")


def _expansion(analyses: TrialAnalyses) -> Figure:
    series = {
        course.label: ([s.day for s in course.kinetics], [s.copies for s in course.kinetics])
        for course in analyses.courses
        if course.kinetics
    }
    if not series:
        raise InvalidInput("no kinetics sample by the data cut-off", field="cutoff")
    return draw_expansion(series, lloq=analyses.lloq)


def _timeline(analyses: TrialAnalyses) -> Figure:
    _infused(analyses)
    return draw_crs_icans_timeline(timeline_lanes(analyses))


def _operating(analyses: TrialAnalyses) -> Figure:
    return draw_operating_characteristics(analyses.operating_characteristics, analyses.stopping.rule)


@dataclass(frozen=True)
class FigureSpec:
    """A named figure: its title and how it is drawn."""

    title: str
    drawer: Callable[[TrialAnalyses], Figure]


FIGURES: Mapping[str, FigureSpec] = {
    "consort": FigureSpec("CONSORT flow diagram", lambda analyses: draw_consort(analyses.consort)),
    "crs-icans": FigureSpec("CRS and ICANS timeline, days 0–28", _timeline),
    "stopping-rule": FigureSpec("Stopping rule: operating characteristics", _operating),
    "swimmer": FigureSpec("Swimmer plot", _swimmer),
    "os": FigureSpec("Overall survival", _km("os")),
    "efs": FigureSpec("Event-free survival", _km("efs")),
    "dor": FigureSpec("Duration of response", _km("dor")),
    "os-by-disease": FigureSpec("Overall survival by disease", _os_by_disease),
    "expansion": FigureSpec("CAR-T expansion and persistence", _expansion),
}
"""Every figure by the name its web route uses."""


def draw(analyses: TrialAnalyses, name: str) -> Figure:
    """Draw the figure ``name`` of ``analyses``."""
    spec = FIGURES.get(name)
    if spec is None:
        raise NotFound(f"no figure {name!r}", field="figure")
    return spec.drawer(analyses)


def available(analyses: TrialAnalyses) -> tuple[str, ...]:
    """The names of the figures ``analyses`` has data for (the others would be refused)."""
    infused = bool(analyses.courses)
    has = {
        "consort": True,
        "stopping-rule": True,
        "crs-icans": infused,
        "swimmer": infused,
        "expansion": any(course.kinetics for course in analyses.courses),
    }
    for key in ("os", "efs", "dor"):
        has[key] = analyses.endpoint(key).summary is not None
    has["os-by-disease"] = bool(analyses.survival_by_disease)
    return tuple(name for name in FIGURES if has[name])
