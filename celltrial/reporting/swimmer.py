"""The swimmer plot's lanes from the trial's per-subject efficacy.

:func:`swimmer_lanes` turns each infused subject's efficacy (:func:`celltrial.reporting.trialdata.efficacy`:
responses derived by the response forms, allo-HSCT, death) into a lane of
:func:`celltrial.reporting.figures.swimmer_figure`, reading only the
:class:`~celltrial.reporting.trialdata.TrialData` snapshot.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from celltrial.analysis.subject_efficacy import SubjectEfficacy
from celltrial.reporting.trialdata import SubjectRecord, TrialData, efficacy

if TYPE_CHECKING:  # matplotlib loads with the figures, not with the data
    from celltrial.reporting.figures import SwimmerLane

__all__ = ["swimmer_lanes"]

_FOLLOW_UP_ENDED = frozenset({"died", "withdrawn", "lost_to_follow_up", "completed"})
_LEUKAEMIA = frozenset({"t_cell_all", "cd7_positive_aml"})


def _last_known(data: TrialData, subject: SubjectRecord, outcome: SubjectEfficacy) -> int:
    assert subject.infusion_date is not None
    days = [
        (visit.actual_date - subject.infusion_date).days
        for visit in data.visits
        if visit.subject_id == subject.id and visit.actual_date is not None
    ]
    days += [a.day for a in outcome.assessments]
    if outcome.death_day is not None:
        days.append(outcome.death_day)
    return max([0, *days])


def swimmer_lanes(data: TrialData) -> list[SwimmerLane]:
    """One swimmer-plot lane per infused subject: days from infusion to the last contact or death.

    Events are each assessment's response, the allo-HSCT and death; the lane continues (arrow)
    while the subject is still followed; lanes are grouped by disease (screening diagnosis).
    """
    from celltrial.reporting.figures import SwimmerEvent, SwimmerLane

    outcomes = efficacy(data)
    lanes = []
    for subject in data.subjects:
        outcome = outcomes.get(subject.id)
        if outcome is None:
            continue
        screening = data.latest_form("screening", subject.id)
        diagnosis = str(screening.data.get("diagnosis")) if screening else ""
        lanes.append(
            SwimmerLane(
                subject=subject.label,
                days_on_study=float(_last_known(data, subject, outcome)),
                ongoing=subject.status not in _FOLLOW_UP_ENDED,
                events=tuple(SwimmerEvent(float(day), kind) for day, kind in outcome.events()),
                group="leukaemia" if diagnosis in _LEUKAEMIA else "lymphoma",
            )
        )
    return lanes
