"""Lymphoma response by the Lugano classification.

Cheson BD, Fisher RI, Barrington SF, et al. Recommendations for initial evaluation, staging,
and response assessment of Hodgkin and non-Hodgkin lymphoma: the Lugano classification.
J Clin Oncol 2014;32:3059–3068, Table 3 ("Revised criteria for response assessment").

PET-CT (Deauville five-point scale, highest score at any site):

- complete metabolic response (CMR): score 1, 2 or 3 with or without a residual mass, no new
  lesions, no FDG-avid disease in marrow;
- partial metabolic response (PMR): score 4 or 5 with uptake reduced from baseline (residual
  masses of any size), or marrow uptake still above normal marrow but reduced; no new lesions;
- no metabolic response (NMR): score 4 or 5 without a significant change from baseline;
- progressive metabolic disease (PMD): score 4 or 5 with increased uptake from baseline, and/or
  new FDG-avid foci consistent with lymphoma, or new or recurrent FDG-avid marrow foci.

CT (sum of the products of perpendicular diameters, SPD, of up to six target lesions):

- CR: every target node ≤ 1.5 cm in longest transverse diameter (LDi) and target extranodal
  lesions gone, non-measured lesions absent, spleen normal, marrow normal, no new lesions;
- PR: SPD ≥ 50% below baseline, no non-measured lesion or spleen progression, no new lesions;
- PD: a target lesion with LDi > 1.5 cm whose product (PPD) rose ≥ 50% from its nadir and whose
  LDi or short diameter (SDi) grew from nadir by ≥ 0.5 cm (nadir lesion ≤ 2 cm) or ≥ 1.0 cm
  (> 2 cm); or spleen or non-measured lesion progression; or new lesions; or new or recurrent
  marrow involvement;
- SD: none of the above.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from celltrial.analysis.response import Response
from celltrial.errors import InvalidInput

__all__ = [
    "CtAssessment",
    "LesionSize",
    "MarrowStatus",
    "MetabolicChange",
    "PetCtAssessment",
    "SiteStatus",
    "derive_ct_response",
    "derive_pet_ct_response",
]


class MetabolicChange(StrEnum):
    """FDG uptake at the residual sites compared with baseline."""

    REDUCED = "reduced"
    UNCHANGED = "unchanged"
    INCREASED = "increased"


class MarrowStatus(StrEnum):
    """Bone marrow, by PET (FDG uptake) or by CT-era morphology."""

    NORMAL = "normal"  # PET: no FDG-avid disease; morphology: normal
    RESIDUAL_REDUCED = "residual_reduced"  # PET: above normal marrow but reduced from baseline
    UNCHANGED = "unchanged"  # involved, no change from baseline
    NEW_OR_RECURRENT = "new_or_recurrent"


class SiteStatus(StrEnum):
    """Non-measured lesions or the spleen, as Lugano Table 3 grades them."""

    ABSENT_OR_NORMAL = "absent_or_normal"
    REGRESSED_OR_STABLE = "regressed_or_stable"
    PROGRESSED = "progressed"


@dataclass(frozen=True)
class PetCtAssessment:
    """Components of a PET-CT response form."""

    deauville_score: int
    uptake_change: MetabolicChange
    new_fdg_avid_lesions: bool
    marrow: MarrowStatus

    def __post_init__(self) -> None:
        if self.deauville_score not in (1, 2, 3, 4, 5):
            raise InvalidInput(f"must be 1–5, got {self.deauville_score}", field="deauville_score")


@dataclass(frozen=True)
class LesionSize:
    """Perpendicular diameters of one target lesion, in cm."""

    ldi_cm: float
    sdi_cm: float
    nodal: bool = True

    @property
    def product(self) -> float:
        """Product of the perpendicular diameters (cm²)."""
        return self.ldi_cm * self.sdi_cm


@dataclass(frozen=True)
class CtAssessment:
    """Components of a CT response form; target lesions in the same order as at baseline."""

    targets: tuple[LesionSize, ...]
    baseline_targets: tuple[LesionSize, ...]
    nadir_targets: tuple[LesionSize, ...]
    non_measured_lesions: SiteStatus
    spleen: SiteStatus
    new_lesions: bool
    marrow: MarrowStatus

    def __post_init__(self) -> None:
        if not 1 <= len(self.baseline_targets) <= 6:
            raise InvalidInput(
                f"1 to 6 target lesions, got {len(self.baseline_targets)}", field="baseline_targets"
            )
        for name in ("targets", "nadir_targets"):
            if len(getattr(self, name)) != len(self.baseline_targets):
                raise InvalidInput("must list the same target lesions as baseline", field=name)
        for name in ("targets", "baseline_targets", "nadir_targets"):
            for index, lesion in enumerate(getattr(self, name)):
                if lesion.ldi_cm < 0 or lesion.sdi_cm < 0 or lesion.sdi_cm > lesion.ldi_cm:
                    raise InvalidInput("diameters must satisfy 0 ≤ SDi ≤ LDi", field=f"{name}[{index}]")


def derive_pet_ct_response(assessment: PetCtAssessment) -> Response:
    """Lugano 2014 PET-CT response: CMR, PMR, NMR or PMD (Cheson 2014, Table 3)."""
    a = assessment
    high = a.deauville_score >= 4
    if a.new_fdg_avid_lesions or a.marrow is MarrowStatus.NEW_OR_RECURRENT:
        return Response.PMD
    if high and a.uptake_change is MetabolicChange.INCREASED:
        return Response.PMD
    if not high and a.marrow is MarrowStatus.NORMAL:
        return Response.CMR
    if (high and a.uptake_change is MetabolicChange.REDUCED) or (
        not high and a.marrow is MarrowStatus.RESIDUAL_REDUCED
    ):
        return Response.PMR
    return Response.NMR


_CM_TOLERANCE = 1e-9  # diameters are entered to 0.1 cm; a difference like 2.3 − 1.8 must count as 0.5


def _lesion_progressed(current: LesionSize, nadir: LesionSize) -> bool:
    growth_needed = (0.5 if nadir.ldi_cm <= 2.0 else 1.0) - _CM_TOLERANCE
    grew = (current.ldi_cm - nadir.ldi_cm >= growth_needed) or (
        current.sdi_cm - nadir.sdi_cm >= growth_needed
    )
    enlarged = current.product >= 1.5 * nadir.product - _CM_TOLERANCE
    return current.ldi_cm > 1.5 + _CM_TOLERANCE and enlarged and grew


def _spd(lesions: tuple[LesionSize, ...]) -> float:
    return sum(lesion.product for lesion in lesions)


def derive_ct_response(assessment: CtAssessment) -> Response:
    """Lugano 2014 CT-based response: CR, PR, SD or PD (Cheson 2014, Table 3)."""
    a = assessment
    if (
        a.new_lesions
        or a.marrow is MarrowStatus.NEW_OR_RECURRENT
        or a.spleen is SiteStatus.PROGRESSED
        or a.non_measured_lesions is SiteStatus.PROGRESSED
        or any(_lesion_progressed(now, nadir) for now, nadir in zip(a.targets, a.nadir_targets, strict=True))
    ):
        return Response.PD
    targets_resolved = all(
        (lesion.ldi_cm <= 1.5) if lesion.nodal else lesion.ldi_cm == 0 for lesion in a.targets
    )
    if (
        targets_resolved
        and a.non_measured_lesions is SiteStatus.ABSENT_OR_NORMAL
        and a.spleen is SiteStatus.ABSENT_OR_NORMAL
        and a.marrow is MarrowStatus.NORMAL
    ):
        return Response.CR
    baseline_spd = _spd(a.baseline_targets)
    if baseline_spd > 0 and _spd(a.targets) <= 0.5 * baseline_spd:
        return Response.PR
    return Response.SD
