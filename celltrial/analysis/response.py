"""Response assessment: acute leukemia, lymphoma (Lugano 2014), and response over time.

The overall response is derived from the components entered on the response form, never typed.

Acute leukemia — Döhner H et al., Diagnosis and management of AML in adults: 2017 ELN
recommendations, Blood 2017;129:424 ("Response criteria in AML" table) for myeloid leukemia,
and NCCN Guidelines Acute Lymphoblastic Leukemia (response criteria, "Response assessment")
for lymphoblastic leukemia (T-ALL/T-LBL with marrow disease). Shared: CR = marrow blasts < 5%,
no circulating blasts, no extramedullary disease, ANC ≥ 1.0×10⁹/L, platelets ≥ 100×10⁹/L;
CRi = CR except ANC < 1.0 or platelets < 100. Measurable residual disease by flow cytometry is
negative below 10⁻⁴ (< 0.01% of nucleated cells). Lineage-specific:

============  ===========================================  ===========================================
 category      myeloid (ELN 2017)                           lymphoblastic (NCCN ALL)
============  ===========================================  ===========================================
 CR / CRi      also no blasts with Auer rods                as above
 MLFS          marrow blasts < 5%, no Auer rods, no EMD,    not defined
               marrow evaluable (≥ 200 cells or ≥ 10%
               cellularity), no count recovery required
 PR            blood criteria of CR, marrow blasts 5–25%    not defined
               and ≥ 50% below pretreatment
 PD            marrow blasts > 50% above baseline (at       ≥ 25% increase in circulating or marrow
               least +15 points when baseline < 30%), or    blasts, or new extramedullary disease
               peripheral blasts > 50% above baseline to
               > 25×10⁹/L, or new extramedullary disease
 relapse       after CR/CRi: marrow blasts ≥ 5%,            after CR/CRi: marrow blasts > 5%,
               reappearing blood blasts, or EMD             reappearing blood blasts, or EMD
============  ===========================================  ===========================================

Otherwise no response (ELN 2017 "stable disease"; NCCN "refractory" at the landmark). A marrow
that cannot be assessed (aplastic or inadequate) is not evaluable. Not derived here: the ELN
persistence rule (> 70% blasts for 3 months) and NCCN's 4-week confirmation of CR, both of which
need the visit schedule.

Lymphoma — Cheson BD et al., Recommendations for initial evaluation, staging, and response
assessment of Hodgkin and non-Hodgkin lymphoma: the Lugano classification, J Clin Oncol
2014;32:3059, Table 3 (PET-CT with the Deauville 5-point scale; CT with SPD of up to six target
lesions): see :mod:`celltrial.analysis.lugano`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from celltrial.errors import InvalidInput

__all__ = [
    "CR_CRI_RESPONSES",
    "MRD_NEGATIVE_BELOW_PERCENT",
    "OBJECTIVE_RESPONSES",
    "DatedResponse",
    "DurationOfResponse",
    "LeukemiaAssessment",
    "LeukemiaLineage",
    "LeukemiaResponse",
    "Response",
    "best_overall_response",
    "derive_leukemia_response",
    "derive_leukemia_responses",
    "duration_of_response",
    "time_to_response",
]

MRD_NEGATIVE_BELOW_PERCENT = 0.01


class Response(StrEnum):
    """Every response category celltrial derives (leukemia and Lugano PET-CT / CT)."""

    CR = "CR"
    CRI = "CRi"
    MLFS = "MLFS"
    PR = "PR"
    NR = "NR"
    PD = "PD"
    RELAPSE = "relapse"
    CMR = "CMR"
    PMR = "PMR"
    NMR = "NMR"
    PMD = "PMD"
    SD = "SD"
    NE = "NE"


class LeukemiaLineage(StrEnum):
    """Which leukemia response criteria apply."""

    MYELOID = "myeloid"
    LYMPHOBLASTIC = "lymphoblastic"


@dataclass(frozen=True)
class LeukemiaAssessment:
    """Components of one leukemia response form (counts in 10⁹/L, blasts and MRD in %).

    ``marrow_blasts_percent`` is ``None`` when no marrow was examined; ``marrow_evaluable`` is
    false for an aplastic or inadequate sample (< 200 cells and < 10% cellularity). Baselines are
    the pretreatment (pre-lymphodepletion) values. ``mrd_percent`` is flow-cytometric MRD.
    """

    marrow_blasts_percent: float | None
    baseline_marrow_blasts_percent: float
    circulating_blasts: bool
    extramedullary_disease: bool
    new_extramedullary_disease: bool
    anc: float
    platelets: float
    marrow_evaluable: bool = True
    auer_rods: bool = False
    peripheral_blasts: float = 0.0
    baseline_peripheral_blasts: float = 0.0
    mrd_percent: float | None = None

    def __post_init__(self) -> None:
        for name in ("anc", "platelets", "peripheral_blasts", "baseline_peripheral_blasts"):
            if getattr(self, name) < 0:
                raise InvalidInput(f"must be ≥ 0, got {getattr(self, name)}", field=name)
        for name in ("marrow_blasts_percent", "baseline_marrow_blasts_percent", "mrd_percent"):
            value = getattr(self, name)
            if value is not None and not 0 <= value <= 100:
                raise InvalidInput(f"must be a percentage 0–100, got {value}", field=name)


@dataclass(frozen=True)
class LeukemiaResponse:
    """Derived leukemia response; ``mrd_negative`` is ``None`` when MRD was not measured."""

    response: Response
    mrd_negative: bool | None


def _relapsed(a: LeukemiaAssessment, lineage: LeukemiaLineage) -> bool:
    blasts = a.marrow_blasts_percent if a.marrow_evaluable else None
    marrow = blasts is not None and (blasts >= 5 if lineage is LeukemiaLineage.MYELOID else blasts > 5)
    return marrow or a.circulating_blasts or a.extramedullary_disease


def _progressed(a: LeukemiaAssessment, lineage: LeukemiaLineage) -> bool:
    if a.new_extramedullary_disease:
        return True
    blasts, baseline = a.marrow_blasts_percent, a.baseline_marrow_blasts_percent
    if lineage is LeukemiaLineage.LYMPHOBLASTIC:
        marrow = blasts is not None and baseline > 0 and blasts >= 1.25 * baseline
        blood = (
            a.baseline_peripheral_blasts > 0 and a.peripheral_blasts >= 1.25 * a.baseline_peripheral_blasts
        )
        return marrow or blood
    marrow = blasts is not None and blasts > 1.5 * baseline and (baseline >= 30 or blasts - baseline >= 15)
    blood = a.peripheral_blasts > 1.5 * a.baseline_peripheral_blasts and a.peripheral_blasts > 25
    return marrow or blood


def _remission(a: LeukemiaAssessment, lineage: LeukemiaLineage) -> Response | None:
    blasts = a.marrow_blasts_percent
    if blasts is None or blasts >= 5 or a.extramedullary_disease:
        return None
    myeloid = lineage is LeukemiaLineage.MYELOID
    if myeloid and a.auer_rods:
        return None
    if not a.circulating_blasts:
        return Response.CR if a.anc >= 1.0 and a.platelets >= 100 else Response.CRI
    return Response.MLFS if myeloid else None


def _partial(a: LeukemiaAssessment, lineage: LeukemiaLineage) -> bool:
    blasts = a.marrow_blasts_percent
    return (
        lineage is LeukemiaLineage.MYELOID
        and blasts is not None
        and 5 <= blasts <= 25
        and blasts <= 0.5 * a.baseline_marrow_blasts_percent
        and not a.circulating_blasts
        and not a.extramedullary_disease
        and a.anc >= 1.0
        and a.platelets >= 100
    )


def derive_leukemia_response(
    assessment: LeukemiaAssessment, lineage: LeukemiaLineage, *, in_remission_before: bool = False
) -> LeukemiaResponse:
    """Derive one assessment's response (ELN 2017 myeloid / NCCN ALL lymphoblastic).

    ``in_remission_before`` is true when an earlier assessment was CR or CRi; then a return of
    disease is a relapse. Precedence: not evaluable, relapse, progression, CR, CRi, MLFS, PR, NR.
    """
    a = assessment
    mrd_negative = None if a.mrd_percent is None else a.mrd_percent < MRD_NEGATIVE_BELOW_PERCENT
    if in_remission_before and _relapsed(a, lineage):
        return LeukemiaResponse(Response.RELAPSE, mrd_negative)
    if a.new_extramedullary_disease:
        return LeukemiaResponse(Response.PD, mrd_negative)
    if a.marrow_blasts_percent is not None and not a.marrow_evaluable:
        return LeukemiaResponse(Response.NE, mrd_negative)
    if a.marrow_blasts_percent is None and not (a.new_extramedullary_disease or a.circulating_blasts):
        return LeukemiaResponse(Response.NE, mrd_negative)
    if _progressed(a, lineage):
        return LeukemiaResponse(Response.PD, mrd_negative)
    remission = _remission(a, lineage)
    if remission is not None:
        return LeukemiaResponse(remission, mrd_negative)
    if _partial(a, lineage):
        return LeukemiaResponse(Response.PR, mrd_negative)
    if a.marrow_blasts_percent is None:
        return LeukemiaResponse(Response.NE, mrd_negative)
    return LeukemiaResponse(Response.NR, mrd_negative)


def derive_leukemia_responses(
    assessments: Sequence[LeukemiaAssessment], lineage: LeukemiaLineage
) -> list[LeukemiaResponse]:
    """Derive a subject's assessments in date order, tracking remission for relapse."""
    derived: list[LeukemiaResponse] = []
    in_remission = False
    for assessment in assessments:
        result = derive_leukemia_response(assessment, lineage, in_remission_before=in_remission)
        derived.append(result)
        if result.response in (Response.CR, Response.CRI):
            in_remission = True
        elif result.response is Response.RELAPSE:
            in_remission = False
    return derived


#: Responses that count as an objective response: the ORR numerator, time to and duration of response.
OBJECTIVE_RESPONSES = frozenset(
    {Response.CR, Response.CRI, Response.MLFS, Response.PR, Response.CMR, Response.PMR}
)
#: Responses that count toward the CR/CRi rate (Lugano CMR is the lymphoma counterpart).
CR_CRI_RESPONSES = frozenset({Response.CR, Response.CRI, Response.CMR})
_ENDS_RESPONSE = frozenset({Response.PD, Response.PMD, Response.RELAPSE})
_RANK = {
    Response.CR: 0,
    Response.CMR: 0,
    Response.CRI: 1,
    Response.MLFS: 2,
    Response.PR: 3,
    Response.PMR: 3,
    Response.SD: 4,
    Response.NR: 4,
    Response.NMR: 4,
    Response.PD: 5,
    Response.PMD: 5,
    Response.RELAPSE: 5,
    Response.NE: 6,
}


@dataclass(frozen=True)
class DatedResponse:
    """A derived response at a study day (days since CAR-T infusion, day 0)."""

    day: int
    response: Response


@dataclass(frozen=True)
class DurationOfResponse:
    """Days from first response to the end of response (``event``) or to censoring."""

    days: int
    event: bool
    ended_by: str  # "progression", "relapse", "death", "allo-HSCT (censored)", "last assessment (censored)"


def _in_order(responses: Sequence[DatedResponse]) -> list[DatedResponse]:
    return sorted(responses, key=lambda dated: dated.day)


def best_overall_response(responses: Sequence[DatedResponse]) -> Response:
    """Best response recorded from infusion up to and including the first progression or relapse.

    Order CR/CMR > CRi > MLFS > PR/PMR > SD/NR/NMR > PD/PMD/relapse > NE; no assessment gives NE.
    """
    best = Response.NE
    for dated in _in_order(responses):
        if _RANK[dated.response] < _RANK[best]:
            best = dated.response
        if dated.response in _ENDS_RESPONSE:
            break
    return best


def time_to_response(responses: Sequence[DatedResponse]) -> int | None:
    """Study day of the first objective response (CR, CRi, MLFS, PR, CMR, PMR), or ``None``."""
    return next((d.day for d in _in_order(responses) if d.response in OBJECTIVE_RESPONSES), None)


def duration_of_response(
    responses: Sequence[DatedResponse],
    *,
    death_day: int | None = None,
    hsct_day: int | None = None,
    censor_at_hsct: bool = False,
) -> DurationOfResponse | None:
    """Duration of response: first response to progression, relapse or death (the event).

    Without an event the duration is censored at the last adequate assessment (any response but
    NE). Consolidative allogeneic HSCT does not end a response; with ``censor_at_hsct`` (the
    sensitivity analysis) the duration is censored at the HSCT day instead. ``None`` for a
    subject who never responded.
    """
    ordered = _in_order(responses)
    start = time_to_response(ordered)
    if start is None:
        return None
    end_day, ended_by, event = None, "", True
    for dated in ordered:
        if dated.day > start and dated.response in _ENDS_RESPONSE:
            end_day = dated.day
            ended_by = "relapse" if dated.response is Response.RELAPSE else "progression"
            break
    if death_day is not None and death_day >= start and (end_day is None or death_day < end_day):
        end_day, ended_by = death_day, "death"
    if (
        censor_at_hsct
        and hsct_day is not None
        and hsct_day >= start
        and (end_day is None or hsct_day < end_day)
    ):
        return DurationOfResponse(days=hsct_day - start, event=False, ended_by="allo-HSCT (censored)")
    if end_day is None:
        last = max(d.day for d in ordered if d.response is not Response.NE and d.day >= start)
        return DurationOfResponse(days=last - start, event=False, ended_by="last assessment (censored)")
    return DurationOfResponse(days=end_day - start, event=event, ended_by=ended_by)
