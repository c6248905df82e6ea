"""The response CRF's overall response, derived from its components (never typed).

The form (``response``) holds the components a site reads from its sources; this module turns
them into the overall response with :mod:`celltrial.analysis.response` (acute leukemia: ELN 2017
for CD7-positive AML, NCCN ALL for lymphoblastic disease, Döhner et al., Blood 2017;129:424 and
NCCN Guidelines ALL) or :mod:`celltrial.analysis.lugano` (lymphoma: Cheson et al., J Clin Oncol
2014;32:3059, Table 3, PET-CT with the Deauville score when PET-CT was done, else CT with the
target lesions of the lesion form of the same date), and records which criteria were applied.

What comes from the subject's other forms:

- the lineage (myeloid when the screening diagnosis is CD7-positive AML) and the pretreatment
  marrow and peripheral blasts of the screening form (the baselines of ELN/NCCN progression);
- remission before this assessment (an earlier CR or CRi not followed by relapse), so that a
  return of disease is a relapse;
- the lesion forms: this date's (targets, non-target lesions, new lesions), the baseline (the
  last on or before the infusion, else the first) and each target's nadir (its smallest PPD
  at any earlier time point, baseline included).

Stored codes: the Lugano categories are stored as the response categories of Lugano Table 3
(complete, partial, no response/stable, progressive), and ``response_criteria`` says whether
they are metabolic (PET-CT) or CT-based; :func:`response_of` turns a stored pair back into a
:class:`~celltrial.analysis.response.Response` (CMR, PR, NMR...).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from celltrial.analysis.lesion_forms import LesionAssessment, read_lesion_form
from celltrial.analysis.lugano import (
    CtAssessment,
    MarrowStatus,
    MetabolicChange,
    PetCtAssessment,
    SiteStatus,
    derive_ct_response,
    derive_pet_ct_response,
)
from celltrial.analysis.response import (
    LeukemiaAssessment,
    LeukemiaLineage,
    Response,
    derive_leukemia_response,
)
from celltrial.errors import InvalidInput

__all__ = [
    "CRITERIA",
    "FORM_CODE",
    "derive_response_form",
    "response_of",
]

FormValues = Mapping[str, Any]
OtherForms = Mapping[str, Sequence[FormValues]]

CRITERIA = {
    "eln_2017": "ELN 2017 (Döhner et al., Blood 2017;129:424)",
    "nccn_all": "NCCN Guidelines ALL response criteria",
    "lugano_2014_pet_ct": "Lugano 2014, PET-CT (Deauville 5-point scale)",
    "lugano_2014_ct": "Lugano 2014, CT (sum of the products of the diameters)",
}
"""The criteria a derived response names (``response_criteria``), with their source."""

FORM_CODE = {
    Response.CR: "cr",
    Response.CMR: "cr",
    Response.CRI: "cri",
    Response.MLFS: "mlfs",
    Response.PR: "pr",
    Response.PMR: "pr",
    Response.SD: "sd",
    Response.NR: "sd",
    Response.NMR: "sd",
    Response.PD: "pd",
    Response.PMD: "pd",
    Response.RELAPSE: "relapse",
    Response.NE: "not_evaluable",
}
"""The response form's ``overall_response`` code of each derived response."""

_METABOLIC = {"cr": Response.CMR, "pr": Response.PMR, "sd": Response.NMR, "pd": Response.PMD}
_LEUKEMIA = {"sd": Response.NR}
_PLAIN = {
    "cr": Response.CR,
    "cri": Response.CRI,
    "mlfs": Response.MLFS,
    "pr": Response.PR,
    "sd": Response.SD,
    "pd": Response.PD,
    "relapse": Response.RELAPSE,
    "not_evaluable": Response.NE,
}


def response_of(code: str, criteria: str | None) -> Response:
    """The :class:`Response` a stored ``overall_response`` stands for under ``criteria``."""
    if criteria == "lugano_2014_pet_ct" and code in _METABOLIC:
        return _METABOLIC[code]
    if criteria in ("eln_2017", "nccn_all") and code in _LEUKEMIA:
        return _LEUKEMIA[code]
    if code not in _PLAIN:
        raise InvalidInput(f"unknown response code {code!r}", field="response.overall_response")
    return _PLAIN[code]


def _date(values: FormValues, name: str) -> str:
    return str(values.get(name) or "")[:10]


def _float(values: FormValues | None, name: str) -> float | None:
    value = None if values is None else values.get(name)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _latest(forms: Sequence[FormValues]) -> FormValues | None:
    return forms[-1] if forms else None


def _remission_before(day: str, others: OtherForms) -> bool:
    earlier = sorted(
        (form for form in others.get("response", ()) if "" < _date(form, "assessment_date") < day),
        key=lambda form: _date(form, "assessment_date"),
    )
    in_remission = False
    for form in earlier:
        code = form.get("overall_response")
        if code in ("cr", "cri"):
            in_remission = True
        elif code in ("relapse", "pd"):
            in_remission = False
    return in_remission


def _leukemia(values: FormValues, others: OtherForms) -> tuple[Response | None, str]:
    screening = _latest(others.get("screening", ()))
    myeloid = screening is not None and screening.get("diagnosis") == "cd7_positive_aml"
    lineage = LeukemiaLineage.MYELOID if myeloid else LeukemiaLineage.LYMPHOBLASTIC
    criteria = "eln_2017" if myeloid else "nccn_all"
    baseline = _float(screening, "marrow_blasts_percent")
    anc, platelets = _float(values, "anc"), _float(values, "platelets")
    if baseline is None or anc is None or platelets is None or values.get("circulating_blasts") is None:
        return None, criteria
    circulating = values.get("circulating_blasts") is True
    emd = values.get("extramedullary_disease") == "present"
    # Peripheral blasts are recorded as % of leukocytes; only the NCCN rule (a 25% rise) is a
    # ratio that a percentage can serve. ELN's "> 25x10^9/L" needs counts the form does not hold.
    lymphoblastic = lineage is LeukemiaLineage.LYMPHOBLASTIC
    peripheral = (_float(values, "peripheral_blasts_percent") or 0.0) if lymphoblastic else 0.0
    baseline_peripheral = (_float(screening, "peripheral_blasts_percent") or 0.0) if lymphoblastic else 0.0
    mrd = _float(values, "mrd_percent")
    if mrd is None and values.get("mrd_status") == "negative":
        mrd = 0.0
    assessment = LeukemiaAssessment(
        marrow_blasts_percent=_float(values, "marrow_blasts_percent"),
        baseline_marrow_blasts_percent=baseline,
        circulating_blasts=circulating,
        extramedullary_disease=emd,
        new_extramedullary_disease=emd and values.get("new_extramedullary_disease") is True,
        anc=anc,
        platelets=platelets,
        marrow_evaluable=values.get("marrow_adequate") is not False,
        auer_rods=values.get("auer_rods") is True,
        peripheral_blasts=peripheral if circulating else 0.0,
        baseline_peripheral_blasts=baseline_peripheral,
        mrd_percent=mrd,
    )
    remission = _remission_before(_date(values, "assessment_date"), others)
    return derive_leukemia_response(assessment, lineage, in_remission_before=remission).response, criteria


def _lesion_forms(others: OtherForms) -> list[LesionAssessment]:
    found = [read_lesion_form(form) for form in others.get("lesions", ())]
    return sorted((form for form in found if form is not None), key=lambda form: form.assessment_date)


def _baseline(lesions: list[LesionAssessment], others: OtherForms) -> LesionAssessment | None:
    infusion = _latest(others.get("infusion", ()))
    infused_on = _date(infusion, "infusion_datetime") if infusion else ""
    before = [form for form in lesions if infused_on and form.assessment_date[:10] <= infused_on]
    if before:
        return before[-1]
    return lesions[0] if lesions else None


def _ct_assessment(
    values: FormValues, now: LesionAssessment, baseline: LesionAssessment, earlier: list[LesionAssessment]
) -> CtAssessment:
    slots = [target.slot for target in baseline.targets]
    if [target.slot for target in now.targets] != slots:
        raise InvalidInput(
            f"the lesion form of {now.assessment_date} measures target lesions "
            f"{[target.slot for target in now.targets]}, "
            f"the baseline of {baseline.assessment_date} {slots}: measure the same target lesions",
            field="lesions.target_1_site",
        )
    nadir = []
    for index in range(len(slots)):
        sizes = [form.targets[index] for form in earlier if len(form.targets) == len(slots)]
        nadir.append(min(sizes, key=lambda target: target.ppd_mm2).size())
    return CtAssessment(
        targets=tuple(target.size() for target in now.targets),
        baseline_targets=tuple(target.size() for target in baseline.targets),
        nadir_targets=tuple(nadir),
        non_measured_lesions=now.non_target,
        spleen=SiteStatus(str(values.get("spleen") or SiteStatus.ABSENT_OR_NORMAL.value)),
        new_lesions=now.new_lesions,
        marrow=MarrowStatus(str(values["marrow_involvement"])),
    )


def _lymphoma(values: FormValues, others: OtherForms) -> tuple[Response | None, str | None, float | None]:
    methods = values.get("methods") or []
    pet = "pet_ct" in methods
    criteria = "lugano_2014_pet_ct" if pet else "lugano_2014_ct" if "ct" in methods else None
    lesions = _lesion_forms(others)
    day = _date(values, "assessment_date")
    now = next((form for form in lesions if form.assessment_date[:10] == day), None)
    baseline = _baseline(lesions, others)
    change = None
    if now is not None and baseline is not None and baseline is not now and baseline.spd_mm2 > 0:
        change = round(100 * (now.spd_mm2 - baseline.spd_mm2) / baseline.spd_mm2, 1)
    if criteria is None or now is None or values.get("marrow_involvement") is None:
        return None, criteria, change
    marrow = MarrowStatus(str(values["marrow_involvement"]))
    if pet:
        score, uptake = values.get("deauville_score"), values.get("uptake_change")
        if not isinstance(score, int) or uptake is None:
            return None, criteria, change
        pet_ct = PetCtAssessment(score, MetabolicChange(str(uptake)), now.new_lesions, marrow)
        return derive_pet_ct_response(pet_ct), criteria, change
    if baseline is None or baseline is now or not baseline.targets:
        return None, criteria, change
    earlier = [
        form for form in lesions if baseline.assessment_date <= form.assessment_date < now.assessment_date
    ]
    return derive_ct_response(_ct_assessment(values, now, baseline, earlier)), criteria, change


def derive_response_form(values: FormValues, others: OtherForms) -> dict[str, Any]:
    """The response form's computed fields from its components and the subject's ``others`` forms.

    ``others`` holds the subject's other saved forms by code (``screening``, ``infusion``,
    ``response``, ``lesions``). Returns ``overall_response`` (a form code, see
    :data:`FORM_CODE`), ``response_criteria`` (a key of :data:`CRITERIA`) and, for lymphoma,
    ``spd_change_percent`` (SPD change from baseline, %); a value is ``None`` while a component
    it needs is missing.
    """
    disease = values.get("disease_type")
    change, criteria = None, None
    response: Response | None = None
    if disease == "leukemia":
        response, criteria = _leukemia(values, others)
    elif disease == "lymphoma":
        response, criteria, change = _lymphoma(values, others)
    return {
        "overall_response": None if response is None else FORM_CODE[response],
        "response_criteria": criteria if response is not None else None,
        "spd_change_percent": change,
    }
