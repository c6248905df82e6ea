"""What the site writes on each CRF of a virtual patient, from their baseline and their course.

Pure: values follow the patient's state on the day (fever while CRS lasts, cytopenia after
lymphodepletion, marrow blasts by response), with small random variation from the journey's
stream. Field names and codes are those of the CRF data dictionaries.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

import numpy as np

from celltrial.clinical.bsa import body_surface_area
from celltrial.simulate.outcomes import TreatmentOutcome, car_copies, crs_grade_on
from celltrial.simulate.patients import VirtualPatient

__all__ = [
    "apheresis",
    "baseline_lesions",
    "demographics",
    "imaging_method",
    "infusion",
    "kinetics_sample",
    "labs",
    "lesion_values",
    "lymphodepletion",
    "lymphoma_response_on",
    "response_on",
    "response_values",
    "screening",
    "vital_signs",
]

_CRF_DIAGNOSIS = {
    "t_cell_all": "t_cell_all",
    "t_lbl": "t_cell_lymphoma",
    "t_cell_lymphoma": "t_cell_lymphoma",
    "cd7_aml": "cd7_positive_aml",
}


def _r(value: float, digits: int = 1) -> float:
    return round(float(value), digits)


def screening(patient: VirtualPatient, values: dict[str, float], on: date) -> dict[str, Any]:
    """The screening CRF (the computed eligibility itself is the screening record)."""
    form: dict[str, Any] = {
        "screening_date": on.isoformat(),
        "diagnosis": _CRF_DIAGNOSIS[patient.diagnosis],
        "disease_status": "relapsed" if patient.relapsed else "refractory",
        "cd7_method": ["flow_cytometry"] if patient.leukaemia else ["immunohistochemistry"],
        "cd7_positive": "I2" not in patient.failing,
        "peripheral_blasts_percent": _r(values["blood_tumour_cells"]),
        "marrow_blasts_percent": _r(values["marrow_blasts"]),
        "ecog": int(values["ecog"]),
        "prior_lines": patient.prior_lines,
        "eligibility_confirmed": patient.eligible,
    }
    if patient.sex == "female":
        form["childbearing_potential"] = patient.childbearing_potential
        if patient.childbearing_potential:
            form["pregnancy_test"] = "positive" if "E11" in patient.failing else "negative"
    return form


def demographics(patient: VirtualPatient) -> dict[str, Any]:
    return {
        "sex": patient.sex,
        "ethnicity": "not_hispanic_or_latino",
        "race": ["asian"],
        "height": patient.height_cm,
        "weight": patient.weight_kg,
    }


_REGIMENS = {
    True: (
        "VDLP induction",
        "Hyper-CVAD",
        "Nelarabine, cyclophosphamide, etoposide",
        "Venetoclax with decitabine",
    ),
    False: ("CHOP", "GDP", "Chidamide", "Pralatrexate"),
}


def prior_therapies(patient: VirtualPatient, rng: np.random.Generator) -> list[dict[str, Any]]:
    """One prior-therapy CRF entry per line (transplant included), oldest first, ending before referral."""
    count = min(patient.prior_lines, 4)
    months = sorted(int(m) for m in rng.integers(3, 36, size=count))[::-1]
    regimens = _REGIMENS[patient.leukaemia]
    entries = []
    for line, back in enumerate(months, start=1):
        start = patient.referred_on - timedelta(days=30 * back + 20)
        last = line == count
        transplant = patient.prior_hsct and line == count - 1
        entries.append(
            {
                "line_number": line,
                "therapy_type": "allogeneic_hsct" if transplant else "chemotherapy",
                "regimen": "Allogeneic HSCT" if transplant else regimens[(line - 1) % len(regimens)],
                "start_date": start.isoformat(),
                "end_date": (start + timedelta(days=60)).isoformat(),
                "cycles": 1 if transplant else int(rng.integers(1, 4)),
                "best_response": "pd" if last else "cr" if patient.relapsed and line == 1 else "pr",
                "outcome": "refractory" if last or not patient.relapsed else "relapsed",
            }
        )
    return entries


def medical_history(patient: VirtualPatient, diagnosed: date) -> dict[str, Any]:
    """The medical-history entry of the malignancy itself."""
    names = {
        "t_cell_all": "T-cell acute lymphoblastic leukaemia",
        "t_lbl": "T-lymphoblastic lymphoma",
        "t_cell_lymphoma": "Peripheral T-cell lymphoma",
        "cd7_aml": "CD7-positive acute myeloid leukaemia",
    }
    return {
        "condition": names[patient.diagnosis],
        "onset_date": diagnosed.isoformat(),
        "ongoing": True,
        "grade": 3,
    }


def vital_signs(rng: np.random.Generator, on: date, *, fever: bool = False) -> dict[str, Any]:
    systolic = int(rng.integers(100, 135))
    return {
        "assessment_date": on.isoformat(),
        "temperature": _r(rng.uniform(38.3, 39.6) if fever else rng.uniform(36.2, 37.3)),
        "heart_rate": int(rng.integers(95, 125) if fever else rng.integers(62, 95)),
        "systolic_bp": systolic,
        "diastolic_bp": int(rng.integers(55, min(systolic - 20, 90))),
        "respiratory_rate": int(rng.integers(14, 22)),
        "spo2": int(rng.integers(94, 100)),
    }


def labs(
    rng: np.random.Generator, on: date, *, phase: str, values: dict[str, float] | None = None
) -> dict[str, Any]:
    """Haematology and chemistry in a ``phase``: baseline, aplastic, recovering or recovered."""
    if phase == "aplastic":
        wbc, anc, platelets, hb = (
            rng.uniform(0.1, 0.9),
            rng.uniform(0.0, 0.3),
            rng.uniform(8, 40),
            rng.uniform(65, 90),
        )
    elif phase == "recovering":
        wbc, anc, platelets, hb = (
            rng.uniform(1.0, 3.0),
            rng.uniform(0.5, 1.4),
            rng.uniform(30, 90),
            rng.uniform(75, 105),
        )
    elif phase == "recovered":
        wbc, anc, platelets, hb = (
            rng.uniform(3.0, 7.5),
            rng.uniform(1.6, 4.5),
            rng.uniform(110, 260),
            rng.uniform(105, 140),
        )
    else:
        base = values or {}
        wbc = base.get("wbc", rng.uniform(1.5, 9.0))
        anc, platelets = wbc * rng.uniform(0.3, 0.6), base.get("platelets", rng.uniform(25, 180))
        hb = base.get("hemoglobin", rng.uniform(80, 125))
    alc = min(wbc * rng.uniform(0.1, 0.3), wbc - anc) if wbc > anc else 0.0
    base = values or {}
    return {
        "collection_date": on.isoformat(),
        "wbc": _r(wbc, 2),
        "anc": _r(min(anc, wbc), 2),
        "alc": _r(max(alc, 0.0), 2),
        "hemoglobin": _r(hb, 0),
        "platelets": _r(max(platelets, 1), 0),
        "creatinine": _r(base.get("creatinine", rng.uniform(0.5, 1.0)), 2),
        "total_bilirubin": _r(base.get("total_bilirubin", rng.uniform(0.3, 1.0)), 2),
        "alt": _r(base.get("alt", rng.uniform(12, 45)), 0),
        "ast": _r(base.get("ast", rng.uniform(12, 40)), 0),
        "ldh": _r(rng.uniform(150, 600), 0),
        "crp": _r(rng.uniform(1, 30), 1),
        "ferritin": _r(rng.uniform(300, 2500), 0),
    }


def apheresis(rng: np.random.Generator, on: date) -> dict[str, Any]:
    return {
        "collection_date": on.isoformat(),
        "wbc_pre": _r(rng.uniform(2.0, 8.0), 1),
        "alc_pre": _r(rng.uniform(0.4, 2.0), 2),
        "cd3_count_pre": _r(rng.uniform(200, 1500), 0),
        "volume_processed": _r(rng.uniform(8, 14), 1),
        "product_volume": _r(rng.uniform(150, 280), 0),
        "total_nucleated_cells": _r(rng.uniform(5, 25), 1),
        "cd3_percent": _r(rng.uniform(35, 75), 1),
        "complication": False,
    }


def lymphodepletion(patient: VirtualPatient, start: date, end: date) -> dict[str, Any]:
    return {
        "start_date": start.isoformat(),
        "end_date": end.isoformat(),
        "weight": patient.weight_kg,
        "height": patient.height_cm,
        "bsa": round(body_surface_area(patient.height_cm, patient.weight_kg), 2),
        "fludarabine_dose": 30,
        "fludarabine_days": 3,
        "cyclophosphamide_dose": 300,
        "cyclophosphamide_days": 3,
        "dose_modified": False,
    }


def infusion(patient: VirtualPatient, at: str, lot: str, dose_per_kg: float) -> dict[str, Any]:
    return {
        "infusion_datetime": at,
        "product_lot": lot,
        "bedside_identity_check": True,
        "weight": patient.weight_kg,
        "dose_per_kg": dose_per_kg,
        "total_car_positive_cells": round(dose_per_kg * patient.weight_kg),
        "premedication_given": True,
        "infusion_reaction": False,
    }


def kinetics_sample(
    rng: np.random.Generator, outcome: TreatmentOutcome, day: float, at: str, lloq: float
) -> dict[str, Any]:
    """A blood sample's CAR transgene copies: the course's curve with 25 % assay variation."""
    copies = car_copies(outcome, day) * float(np.exp(rng.normal(0.0, 0.25)))
    below = copies < lloq
    sample: dict[str, Any] = {"sample_datetime": at, "sample_type": "peripheral_blood", "below_lloq": below}
    if not below:
        sample["car_copies"] = round(min(copies, 9_999_999.0), 1)
    return sample


def response_on(outcome: TreatmentOutcome, day: int) -> str:
    """The overall response an assessment ``day`` days after infusion finds."""
    if outcome.relapse_day is not None and day >= outcome.relapse_day:
        return "pd"
    if outcome.response == "cri" and day >= 45:
        return "cr"
    if outcome.response == "pr" and day >= 80:
        return "pd"
    return outcome.response


def _leukaemia_components(
    found: str, outcome: TreatmentOutcome, baseline: Mapping[str, Any]
) -> dict[str, Any]:
    """Marrow, blood and extramedullary findings that ELN 2017 / NCCN read as ``found``."""
    marrow = float(baseline.get("marrow_blasts_percent") or 30.0)
    blood = float(baseline.get("peripheral_blasts_percent") or 0.0)
    values: dict[str, Any] = {"marrow_adequate": True, "extramedullary_disease": "absent"}
    if found in ("cr", "cri"):
        recovered = found == "cr"
        values |= {
            "marrow_blasts_percent": 0.5 if recovered else 1.0,
            "circulating_blasts": False,
            "anc": 1.8 if recovered else 0.8,
            "platelets": 130.0 if recovered else 60.0,
        }
    elif found == "pr":
        values |= {
            "marrow_blasts_percent": _r(min(25.0, max(5.0, marrow * 0.4))),
            "circulating_blasts": False,
        }
        values |= {"anc": 1.4, "platelets": 110.0}
    elif found == "sd":
        values |= {"marrow_blasts_percent": _r(marrow * 0.95), "anc": 0.9, "platelets": 45.0}
        values["circulating_blasts"] = blood > 0
        if blood > 0:
            values["peripheral_blasts_percent"] = _r(blood * 0.9)
    else:  # progression, or relapse after remission: the marrow fills again, blasts return to the blood
        values |= {"marrow_blasts_percent": _r(min(100.0, marrow * 1.6 + 15)), "anc": 0.6, "platelets": 30.0}
        values |= {"circulating_blasts": True, "peripheral_blasts_percent": _r(max(blood * 1.5, 5.0))}
        if marrow >= 66:  # too high to rise by the criteria's margin: new extramedullary disease instead
            values |= {"extramedullary_disease": "present", "new_extramedullary_disease": True}
    if found in ("cr", "cri") and outcome.mrd_negative:
        values["mrd_status"] = "negative"
    else:
        values["mrd_status"] = "positive"
        values["mrd_percent"] = 0.05 if found in ("cr", "cri") else values["marrow_blasts_percent"]
    return values


_PET = {
    "cr": {"deauville_score": 3, "uptake_change": "reduced"},
    "pr": {"deauville_score": 4, "uptake_change": "reduced"},
    "sd": {"deauville_score": 4, "uptake_change": "unchanged"},
    "pd": {"deauville_score": 5, "uptake_change": "increased"},
}
_PET_CT_UNTIL_DAY = 100
"""Lymphoma response by PET-CT up to month 3, then by CT (surveillance imaging)."""


def imaging_method(day: int) -> str:
    """``pet_ct`` for the early response assessments, ``ct`` afterwards."""
    return "pet_ct" if day <= _PET_CT_UNTIL_DAY else "ct"


def lymphoma_response_on(outcome: TreatmentOutcome, day: int) -> str:
    """The Lugano category an assessment ``day`` days after infusion finds (CRi counts as CR)."""
    return {"cr": "cr", "cri": "cr", "pr": "pr", "sd": "sd", "pd": "pd"}[response_on(outcome, day)]


def response_values(
    patient: VirtualPatient,
    outcome: TreatmentOutcome,
    day: int,
    on: date,
    *,
    baseline: Mapping[str, Any] | None = None,
    hsct_on: date | None = None,
) -> dict[str, Any]:
    """The response CRF's components (the overall response is computed by the forms service).

    Leukaemia: marrow, blood counts, extramedullary disease and flow MRD against the screening
    form's ``baseline``; lymphoma: the PET-CT or CT reading, with the lesions on the lesion form of
    the same date (:func:`lesion_values`). ``hsct_on``: a consolidative allo-HSCT since the last
    assessment.
    """
    found = response_on(outcome, day)
    values: dict[str, Any] = {"assessment_date": on.isoformat()}
    if hsct_on is not None:
        values |= {"consolidative_hsct": True, "hsct_date": hsct_on.isoformat()}
    if not patient.leukaemia:
        lugano = lymphoma_response_on(outcome, day)
        method = imaging_method(day)
        values |= {
            "disease_type": "lymphoma",
            "methods": [method],
            "marrow_involvement": "normal",
            "spleen": "progressed" if lugano == "pd" and method == "ct" else "absent_or_normal",
        }
        if method == "pet_ct":
            values |= _PET[lugano]
        return values
    values |= {"disease_type": "leukemia", "methods": ["bone_marrow_morphology", "bone_marrow_flow"]}
    return values | _leukaemia_components(found, outcome, baseline or {})


_LESION_SITES = (
    "Cervical lymph nodes, left",
    "Mediastinal lymph nodes",
    "Axillary lymph nodes, right",
    "Retroperitoneal lymph nodes",
    "Inguinal lymph nodes, left",
    "Mesenteric lymph nodes",
)


def baseline_lesions(rng: np.random.Generator) -> list[tuple[str, float, float]]:
    """One to four target lymph nodes (site, longest and perpendicular diameter in mm) at baseline."""
    count = int(rng.integers(1, 5))
    sites = [str(site) for site in rng.choice(_LESION_SITES, size=count, replace=False)]
    lesions = []
    for site in sites:
        longest = float(round(rng.uniform(22, 65)))
        lesions.append((site, longest, float(round(longest * rng.uniform(0.5, 0.9)))))
    return lesions


def lesion_values(
    lesions: list[tuple[str, float, float]], found: str | None, on: date, method: str
) -> dict[str, Any]:
    """The lesion CRF at baseline (``found`` None) or when the response is ``found`` (Lugano category).

    Nodes shrink to normal size (<= 15 mm) in CR, to 55% of each diameter in PR (SPD -70%), stay
    within 10% in SD; progression shows as new lesions.
    """
    values: dict[str, Any] = {"assessment_date": on.isoformat(), "method": method}
    for slot, (site, longest, perpendicular) in enumerate(lesions, start=1):
        if found == "cr":
            longest, perpendicular = min(longest, 12.0), min(perpendicular, 9.0)
        elif found == "pr":
            longest, perpendicular = round(longest * 0.55), round(perpendicular * 0.55)
        elif found == "sd":
            longest, perpendicular = round(longest * 0.92), round(perpendicular * 0.92)
        values |= {
            f"target_{slot}_site": site,
            f"target_{slot}_kind": "nodal",
            f"target_{slot}_ldiam": float(longest),
            f"target_{slot}_perpdiam": float(perpendicular),
        }
    values["non_target_status"] = "absent_or_normal" if found == "cr" else "regressed_or_stable"
    if found != "cr":
        values["non_target_sites"] = "Splenic hilar lymph nodes"
    values["new_lesions"] = found == "pd"
    if found == "pd":
        values["new_lesion_sites"] = "Para-aortic lymph nodes"
    return values


def daily_assessment(row: Any) -> dict[str, Any]:
    """The ``crs_icans_daily`` CRF of a graded safety assessment (the same inputs, the service's grades)."""
    values: dict[str, Any] = {
        "assessment_date": row.assessment_date.isoformat(),
        "temperature_max": float(row.temperature_c),
        "fever_masked": row.fever_masked,
        "hypotension": str(row.hypotension),
        "hypoxia": str(row.hypoxia),
        "crs_grade": row.crs_grade,
        "ice_performed": row.ice_score is not None,
        "consciousness": str(row.consciousness),
        "seizure": str(row.seizure),
        "motor_weakness": row.motor_weakness,
        "cerebral_edema": str(row.cerebral_edema),
        "icans_grade": row.icans_grade,
        "tocilizumab_given": row.tocilizumab_given,
        "corticosteroids_given": row.corticosteroids_given,
    }
    if row.ice_score is not None:
        values["ice_score"] = row.ice_score
    return values


def feverish(outcome: TreatmentOutcome | None, day: int) -> bool:
    return outcome is not None and crs_grade_on(outcome, day) > 0
