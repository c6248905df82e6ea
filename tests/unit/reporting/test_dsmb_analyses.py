"""DSMB endpoints from subjects' courses: denominators, HSCT censoring, kinetics summary, lanes.

The expected values are counted by hand from the courses below; intervals come from
:func:`clopper_pearson`, which is itself checked against published values elsewhere.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from celltrial.analysis.episodes import DailyGrades
from celltrial.analysis.nca import AucMethod, KineticParameters, noncompartmental
from celltrial.analysis.proportions import clopper_pearson
from celltrial.analysis.response import Response
from celltrial.analysis.subject_efficacy import AssessedResponse, subject_efficacy
from celltrial.reporting.dsmb_analyses import (
    kinetics_summary,
    response_rates,
    survival_by_prior_hsct,
    survival_endpoints,
)
from celltrial.reporting.dsmb_data import ResponseAssessment, SubjectCourse
from celltrial.reporting.dsmb_figures import swimmer_lanes

CUTOFF = date(2026, 1, 31)


def _course(
    label: str,
    infused: date,
    responses: tuple[tuple[int, Response, bool | None], ...] = (),
    *,
    disease: str = "leukemia",
    death_day: int | None = None,
    hsct_day: int | None = None,
    last_alive_day: int = 100,
    ended: bool = False,
) -> SubjectCourse:
    outcome = subject_efficacy(
        [AssessedResponse(day, response, mrd) for day, response, mrd in responses],
        hsct_day=hsct_day,
        death_day=death_day,
    )
    return SubjectCourse(
        subject_id=ord(label[0]),
        label=label,
        disease=disease,
        prior_hsct=False,
        infusion_date=infused,
        responses=tuple(ResponseAssessment(day, day, response, mrd) for day, response, mrd in responses),
        death_day=death_day,
        death_cause="disease progression" if death_day is not None else None,
        hsct_day=hsct_day,
        last_alive_day=death_day if death_day is not None else last_alive_day,
        follow_up_ended=ended or death_day is not None,
        kinetics=(),
        safety_days=(DailyGrades(day=infused, crs_grade=1, icans_grade=0),),
        efficacy=outcome,
    )


COURSES = (
    # CR with negative MRD at day 28 and month 3
    _course("A", date(2025, 9, 1), ((28, Response.CR, True), (90, Response.CR, True))),
    # CRi with positive MRD at day 28; relapse at month 3
    _course("B", date(2025, 9, 10), ((28, Response.CRI, False), (90, Response.RELAPSE, False))),
    # lymphoma partial metabolic response at day 28, then allo-HSCT on day 60, alive
    _course("C", date(2025, 10, 1), ((28, Response.PMR, None),), disease="lymphoma", hsct_day=60),
    # died on day 20, before the day-28 assessment
    _course("D", date(2025, 10, 5), death_day=20),
    # infused 20 days before the cut-off: not yet in any denominator
    _course("E", date(2026, 1, 11), last_alive_day=20),
)


def _rates() -> dict[str, tuple[int, int]]:
    rows = response_rates(COURSES, cutoff=CUTOFF, timepoints=(28, 90))
    return {row.endpoint: (row.estimate.successes, row.estimate.n) for row in rows if row.estimate}


def test_response_rates_count_every_subject_who_reached_the_time_point_and_deaths_as_failures() -> None:
    assert _rates() == {
        "ORR at day 28": (3, 4),
        "CR/CRi at day 28": (2, 4),
        "ORR at month 3": (1, 4),
        "CR/CRi at month 3": (1, 4),
        "MRD-negative CR/CRi at day 28": (1, 3),
    }


def test_a_rate_carries_the_exact_interval_of_its_counts() -> None:
    row = response_rates(COURSES, cutoff=CUTOFF, timepoints=(28,))[1]
    assert row.estimate == clopper_pearson(2, 4)
    assert row.population.endswith("(n = 4)")


def test_a_time_point_nobody_reached_has_no_estimate() -> None:
    rows = response_rates(COURSES[-1:], cutoff=CUTOFF, timepoints=(28,))
    assert [row.estimate for row in rows] == [None, None, None]


def _endpoint(key: str, *, censor_at_hsct: bool) -> tuple[int, int]:
    endpoints = survival_endpoints(COURSES, censor_at_hsct=censor_at_hsct, landmarks=(6, 12))
    summary = next(e for e in endpoints if e.key == key).summary
    assert summary is not None
    return summary.n, summary.events


def test_overall_survival_counts_deaths_and_censors_the_living() -> None:
    assert _endpoint("os", censor_at_hsct=True) == (5, 1)


def test_event_free_survival_counts_relapse_and_death() -> None:
    assert _endpoint("efs", censor_at_hsct=True) == (5, 2)
    assert _endpoint("efs_sensitivity", censor_at_hsct=True) == (5, 2)


def test_progression_free_survival_is_the_lymphoma_subjects_event_free_survival() -> None:
    assert _endpoint("pfs", censor_at_hsct=True) == (1, 0)


def test_leukaemia_free_survival_runs_from_the_first_remission_to_relapse_or_death() -> None:
    """A: CR on day 28, still in CR on day 90 (censored); B: CRi on day 28, relapse on day 90."""
    assert _endpoint("lfs", censor_at_hsct=True) == (2, 1)
    endpoints = survival_endpoints(COURSES, censor_at_hsct=True, landmarks=(6,))
    summary = next(e for e in endpoints if e.key == "lfs").summary
    assert summary is not None
    relapse = next(point for point in summary.curve if point.events)
    # both at risk 62 days after their remission: B relapses, A is censored that day
    assert (round(relapse.month * 30.4375), relapse.at_risk, relapse.survival) == (62, 2, 0.5)


def test_duration_of_response_is_estimated_over_the_responders_only() -> None:
    assert _endpoint("dor", censor_at_hsct=True) == (3, 1)


def test_hsct_before_a_relapse_censors_event_free_survival_in_the_primary_analysis_only() -> None:
    relapsed_after_hsct = _course(
        "F", date(2025, 9, 1), ((28, Response.CR, True), (150, Response.RELAPSE, False)), hsct_day=70
    )
    endpoints = survival_endpoints((relapsed_after_hsct,), censor_at_hsct=True, landmarks=(6,))
    events = {e.key: e.summary.events for e in endpoints if e.summary is not None}
    assert events == {"os": 0, "efs": 0, "efs_sensitivity": 1, "lfs": 0, "dor": 0}


def test_the_kinetics_summary_gives_median_range_and_geometric_mean_of_cmax() -> None:
    parameters = {
        "A": noncompartmental([0, 7, 14, 28], [0, 1000, 10000, 100], lloq=50),
        "B": noncompartmental([0, 7, 14, 28], [0, 100, 1000, 60], lloq=50),
        "C": KineticParameters(None, None, 0.0, None, None, None, None, 3, 3, AucMethod.LINEAR_UP_LOG_DOWN),
    }
    cmax, tmax, auc, tlast = kinetics_summary(parameters)
    assert (cmax.n, cmax.median, cmax.minimum, cmax.maximum) == (2, 5500.0, 1000.0, 10000.0)
    assert cmax.geometric_mean == pytest.approx(3162.2777, rel=1e-6)
    assert (tmax.median, tlast.maximum) == (14.0, 28.0)
    assert auc.n == 2


def test_swimmer_lanes_mark_the_first_response_relapse_hsct_and_death() -> None:
    lanes = {lane.subject: lane for lane in swimmer_lanes(COURSES)}
    assert [(e.day, e.kind) for e in lanes["B"].events] == [(28, "CRi"), (90, "relapse")]
    assert [(e.day, e.kind) for e in lanes["C"].events] == [(28, "PMR"), (60, "allo-HSCT")]
    assert [(e.day, e.kind) for e in lanes["D"].events] == [(20, "death")]
    assert lanes["A"].ongoing
    assert not lanes["D"].ongoing


def test_overall_survival_by_prior_hsct_splits_the_subjects_by_their_history() -> None:
    courses = (replace(COURSES[0], prior_hsct=True), *COURSES[1:])
    groups = survival_by_prior_hsct(courses, landmarks=(6,))
    counts = {group: (summary.n, summary.events) for group, summary in groups.items()}
    assert counts == {"prior allo-HSCT": (1, 0), "no prior allo-HSCT": (4, 1)}
