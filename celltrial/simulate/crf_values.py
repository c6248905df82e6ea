"""What the site writes on each CRF of a virtual patient, from their baseline and their course.

Pure: values follow the patient's state on the day (fever while CRS lasts, cytopenia after
lymphodepletion, marrow blasts by response), with small random variation from the journey's
stream. Field names and codes are those of the CRF data dictionaries.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import numpy as np

from celltrial.clinical.bsa import body_surface_area
from celltrial.simulate.outcomes import TreatmentOutcome, car_copies, crs_grade_on
from celltrial.simulate.patients import VirtualPatient

__all__ = [
    "apheresis",
    "demographics",
    "infusion",
    "kinetics_sample",
    "labs",
    "lymphodepletion",
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


def response_values(patient: VirtualPatient, outcome: TreatmentOutcome, day: int, on: date) -> dict[str, Any]:
    """The response CRF: leukaemia with marrow blasts and flow MRD, lymphoma by PET-CT."""
    found = response_on(outcome, day)
    if not patient.leukaemia:
        lymphoma = {"cr": "cr", "cri": "cr", "pr": "pr", "sd": "sd", "pd": "pd"}[found]
        return {
            "assessment_date": on.isoformat(),
            "disease_type": "lymphoma",
            "methods": ["pet_ct"],
            "overall_response": lymphoma,
            "extramedullary_disease": "absent" if lymphoma == "cr" else "present",
        }
    blasts = {"cr": 0.5, "cri": 1.0, "pr": 12.0, "sd": 35.0, "pd": 55.0}[found]
    values: dict[str, Any] = {
        "assessment_date": on.isoformat(),
        "disease_type": "leukemia",
        "methods": ["bone_marrow_morphology", "bone_marrow_flow"],
        "overall_response": found,
        "marrow_blasts_percent": blasts,
        "extramedullary_disease": "absent",
    }
    if found in ("cr", "cri") and outcome.mrd_negative:
        values["mrd_status"] = "negative"
    else:
        values["mrd_status"] = "positive"
        values["mrd_percent"] = 0.05 if found in ("cr", "cri") else blasts
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
