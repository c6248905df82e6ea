"""A subject's efficacy outcomes from their derived responses (days from infusion).

Relapse after CR/CRi (NCCN ALL, ELN 2017) or CMR (Lugano 2014); duration of response from the first
objective response to progression, relapse or death, censored at the last adequate assessment or,
in the sensitivity analysis, at a consolidative allogeneic HSCT.
"""

from __future__ import annotations

from celltrial.analysis.response import Response
from celltrial.analysis.subject_efficacy import AssessedResponse, subject_efficacy

CR, CRI, PR, NR, PD, RELAPSE, NE = (
    Response.CR,
    Response.CRI,
    Response.PR,
    Response.NR,
    Response.PD,
    Response.RELAPSE,
    Response.NE,
)


def course(*responses: tuple[int, Response]) -> list[AssessedResponse]:
    return [AssessedResponse(day, response) for day, response in responses]


def test_a_relapse_after_remission_ends_the_response_and_is_dated() -> None:
    outcome = subject_efficacy(course((28, CRI), (60, CR), (90, CR), (180, RELAPSE), (270, PD)))
    assert outcome.best_overall_response is CR
    assert (outcome.time_to_response_days, outcome.relapse_day, outcome.progression_day) == (28, 180, 180)
    assert outcome.duration is not None
    assert (outcome.duration.days, outcome.duration.event, outcome.duration.ended_by) == (
        152,
        True,
        "relapse",
    )
    assert outcome.complete_remission
    assert outcome.responded


def test_progression_without_a_prior_remission_is_not_a_relapse() -> None:
    outcome = subject_efficacy(course((28, PR), (90, PD)))
    assert (outcome.relapse_day, outcome.progression_day) == (None, 90)
    assert outcome.best_overall_response is PR
    assert not outcome.complete_remission


def test_a_consolidative_hsct_does_not_end_the_response_but_censors_the_sensitivity_analysis() -> None:
    outcome = subject_efficacy(course((28, CR), (90, CR), (180, CR)), hsct_day=75)
    assert outcome.duration is not None
    assert outcome.duration_censored_at_hsct is not None
    assert (outcome.duration.days, outcome.duration.event) == (152, False)
    assert (outcome.duration_censored_at_hsct.days, outcome.duration_censored_at_hsct.ended_by) == (
        47,
        "allo-HSCT (censored)",
    )
    assert (75, "allo-HSCT") in outcome.events()


def test_death_in_response_ends_it() -> None:
    outcome = subject_efficacy(course((28, CR), (60, CR)), death_day=100)
    assert outcome.duration is not None
    assert (outcome.duration.days, outcome.duration.event, outcome.duration.ended_by) == (72, True, "death")
    assert outcome.events()[-1] == (100, "death")


def test_a_non_responder_has_no_time_to_or_duration_of_response() -> None:
    outcome = subject_efficacy(course((28, NR), (60, NE)))
    assert (outcome.best_overall_response, outcome.time_to_response_days, outcome.duration) == (
        NR,
        None,
        None,
    )
    assert subject_efficacy([]).best_overall_response is NE


def test_an_mrd_negative_cr_counts_only_before_progression_and_the_visit_is_kept() -> None:
    negative = [AssessedResponse(28, CR, mrd_negative=True, visit="D28"), AssessedResponse(90, PD)]
    assert subject_efficacy(negative).mrd_negative_cr
    late = [AssessedResponse(28, PD), AssessedResponse(90, CR, mrd_negative=True)]
    assert not subject_efficacy(late).mrd_negative_cr
    assert subject_efficacy(negative).response_at("D28") is CR
    assert subject_efficacy(negative).response_at("M3") is None
