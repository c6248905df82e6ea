"""A subject's efficacy outcomes from their derived responses: the endpoints' per-subject inputs.

Best overall response, time to response and duration of response follow
:mod:`celltrial.analysis.response` (best response up to the first progression or relapse;
duration from the first objective response to progression, relapse or death, censored at the
last adequate assessment). Relapse is the first progression or relapse after a complete
remission (CR, CRi or CMR), as NCCN ALL and ELN 2017 define relapse from CR and Lugano 2014
(Cheson et al., J Clin Oncol 2014;32:3059) recurrence after a complete response. A consolidative
allogeneic HSCT after CAR-T is recorded with its day; it does not end a response, and the
sensitivity analysis censors the duration of response at it (``duration_censored_at_hsct``).
MRD-negative CR: a CR or CRi with flow MRD < 0.01% (10⁻⁴) at the same assessment, before any
progression.

Days count from the CAR-T infusion (day 0).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from celltrial.analysis.response import (
    CR_CRI_RESPONSES,
    DatedResponse,
    DurationOfResponse,
    Response,
    best_overall_response,
    duration_of_response,
    time_to_response,
)

__all__ = ["AssessedResponse", "SubjectEfficacy", "subject_efficacy"]

_PROGRESSION = frozenset({Response.PD, Response.PMD, Response.RELAPSE})


@dataclass(frozen=True)
class AssessedResponse:
    """One response assessment: study day, derived response, and whether flow MRD was negative."""

    day: int
    response: Response
    mrd_negative: bool | None = None
    visit: str | None = None


@dataclass(frozen=True)
class SubjectEfficacy:
    """Everything the efficacy endpoints need about one infused subject."""

    assessments: tuple[AssessedResponse, ...]
    best_overall_response: Response
    time_to_response_days: int | None
    duration: DurationOfResponse | None
    duration_censored_at_hsct: DurationOfResponse | None
    progression_day: int | None
    relapse_day: int | None
    hsct_day: int | None
    death_day: int | None
    mrd_negative_cr: bool

    @property
    def responded(self) -> bool:
        """An objective response (CR, CRi, MLFS, PR, CMR or PMR) at any assessment."""
        return self.time_to_response_days is not None

    @property
    def complete_remission(self) -> bool:
        """Best response CR, CRi or CMR."""
        return self.best_overall_response in CR_CRI_RESPONSES

    def response_at(self, visit: str) -> Response | None:
        """The response assessed at the visit ``visit`` (e.g. ``D28``), if there was one."""
        return next((a.response for a in self.assessments if a.visit == visit), None)

    def events(self) -> tuple[tuple[int, str], ...]:
        """(day, kind) of each response, allo-HSCT and death, as a swimmer plot marks them."""
        marks = [(a.day, str(a.response)) for a in self.assessments if a.response is not Response.NE]
        if self.hsct_day is not None:
            marks.append((self.hsct_day, "allo-HSCT"))
        if self.death_day is not None:
            marks.append((self.death_day, "death"))
        return tuple(sorted(marks))


def subject_efficacy(
    assessments: Sequence[AssessedResponse], *, hsct_day: int | None = None, death_day: int | None = None
) -> SubjectEfficacy:
    """The subject's efficacy outcomes from their assessments (any order) and HSCT and death days."""
    ordered = tuple(sorted(assessments, key=lambda a: a.day))
    dated = [DatedResponse(a.day, a.response) for a in ordered]
    progression = next((a.day for a in ordered if a.response in _PROGRESSION), None)
    relapse = None
    remission = False
    for a in ordered:
        if a.response in CR_CRI_RESPONSES:
            remission = True
        elif remission and a.response in _PROGRESSION:
            relapse = a.day
            break
    mrd_negative_cr = any(
        a.response in (Response.CR, Response.CRI) and a.mrd_negative is True
        for a in ordered
        if progression is None or a.day < progression
    )
    return SubjectEfficacy(
        assessments=ordered,
        best_overall_response=best_overall_response(dated),
        time_to_response_days=time_to_response(dated),
        duration=duration_of_response(dated, death_day=death_day, hsct_day=hsct_day),
        duration_censored_at_hsct=duration_of_response(
            dated, death_day=death_day, hsct_day=hsct_day, censor_at_hsct=True
        ),
        progression_day=progression,
        relapse_day=relapse,
        hsct_day=hsct_day,
        death_day=death_day,
        mrd_negative_cr=mrd_negative_cr,
    )
