"""The screening form of a virtual patient: every fact the criteria read, with units and dates.

An eligible patient's values sit inside every threshold of the protocol; for each criterion the
patient fails, the facts are changed the way such a patient presents (a creatinine of 2.1 mg/dL
for I8, atrial fibrillation for E1...). The form is what the site would type into
``celltrial screen``: the real eligibility engine then decides, so a criterion the engine reads
differently from the simulator shows up as a screening the simulator did not expect.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import numpy as np

from celltrial.simulate.patients import VirtualPatient

__all__ = ["CONDITIONS", "screening_form", "screening_values"]

CONDITIONS = (
    "atrial_fibrillation",
    "myocardial_infarction",
    "pericardial_effusion",
    "heart_failure",
    "gvhd",
    "severe_pulmonary_dysfunction",
    "other_advanced_malignancy",
    "uncontrolled_infection",
    "severe_autoimmune_disease",
    "congenital_immunodeficiency",
    "hiv_infection",
    "syphilis",
    "severe_allergy_to_biologics",
    "uncontrolled_epilepsy",
    "cerebral_ischemia",
    "intracranial_hemorrhage",
    "dementia",
    "cerebellar_disease",
    "pregnancy",
    "breastfeeding",
)
_CONDITION_OF = {
    "E1": "atrial_fibrillation",
    "E2": "gvhd",
    "E3": "severe_pulmonary_dysfunction",
    "E4": "other_advanced_malignancy",
    "E5": "uncontrolled_infection",
    "E6": "severe_autoimmune_disease",
    "E9": "severe_allergy_to_biologics",
    "E10": "uncontrolled_epilepsy",
}
_ENGINE_DIAGNOSIS = {
    "t_cell_all": "t_cell_acute_lymphoblastic_leukemia",
    "t_lbl": "t_cell_lymphoma",
    "t_cell_lymphoma": "t_cell_lymphoma",
    "cd7_aml": "acute_myeloid_leukemia",
}


def _q(value: float, unit: str, day: date, **extra: float | str) -> dict[str, Any]:
    return {"value": round(float(value), 2), "unit": unit, "date": day.isoformat(), **extra}


def _v(value: object, day: date) -> dict[str, Any]:
    return {"value": value, "date": day.isoformat()}


def screening_values(patient: VirtualPatient, rng: np.random.Generator) -> dict[str, float]:
    """The patient's screening measurements (what the CRFs also record)."""
    values = {
        "hemoglobin": float(rng.uniform(78, 128)),
        "creatinine": float(rng.uniform(0.45, 1.05)),
        "total_bilirubin": float(rng.uniform(0.3, 1.1)),
        "alt": float(rng.uniform(12, 55)),
        "ast": float(rng.uniform(12, 50)),
        "spo2": float(rng.integers(94, 100)),
        "lvef": float(rng.integers(55, 70)),
        "lvsf": float(rng.integers(30, 42)),
        "ecog": float(rng.integers(0, 3)),
        "marrow_blasts": float(rng.uniform(6, 85)) if patient.leukaemia else float(rng.uniform(0, 4)),
        "blood_tumour_cells": float(rng.uniform(0, 0.9)),
        "wbc": float(rng.uniform(1.5, 9.0)),
        "platelets": float(rng.uniform(25, 180)),
    }
    failing = set(patient.failing)
    if "I3" in failing:
        values["blood_tumour_cells"] = float(rng.uniform(5, 30))
    if "I5" in failing:
        values["ecog"] = 3.0
    if "I7" in failing:
        values["hemoglobin"] = float(rng.uniform(52, 66))
    if "I8" in failing:
        which = int(rng.integers(0, 4))
        key, low, high = [
            ("creatinine", 1.9, 3.2),
            ("lvef", 35, 47),
            ("spo2", 84, 89),
            ("total_bilirubin", 2.0, 4.0),
        ][which]
        values[key] = (
            float(rng.uniform(low, high))
            if key != "spo2" and key != "lvef"
            else float(rng.integers(int(low), int(high)))
        )
    if "E7" in failing:
        values["alt"] = float(rng.uniform(60, 95))
    return values


def _disease(patient: VirtualPatient, on: date, values: dict[str, float]) -> dict[str, Any]:
    failing = set(patient.failing)
    lines = patient.prior_lines if "I1" not in failing else 1
    facts: dict[str, Any] = {
        "diagnosis": _v(_ENGINE_DIAGNOSIS[patient.diagnosis], on),
        "disease_status": _v("relapsed" if patient.relapsed else "refractory", on),
        "prior_therapy_courses": _v(lines, on),
        "peripheral_blood_tumor_cells": _q(values["blood_tumour_cells"], "%", on),
        "peripheral_blood_tumor_cd4_cd8_negative": _v(False, on),
    }
    if patient.leukaemia:
        relapsed = patient.relapsed and "I1" not in failing
        facts |= {
            "prior_complete_remission": _v(relapsed, on),
            "induction_courses": _v(lines, on),
            "bone_marrow_blasts": _q(values["marrow_blasts"], "%", on),
            "peripheral_blood_blasts": _q(values["blood_tumour_cells"], "%", on),
            "extramedullary_disease": _v(False, on),
            "cd7_bone_marrow_flow": _v("negative" if "I2" in failing else "positive", on),
        }
        if "I2" in failing:
            facts["cd7_extramedullary_ihc"] = _v("negative", on)
    else:
        facts |= {
            "extramedullary_disease": _v(True, on),
            "cd7_extramedullary_ihc": _v("negative" if "I2" in failing else "positive", on),
        }
        if "I2" in failing:
            facts["cd7_bone_marrow_flow"] = _v("negative", on)
    return facts


def _conditions(patient: VirtualPatient, on: date) -> dict[str, Any]:
    present = {_CONDITION_OF[criterion] for criterion in patient.failing if criterion in _CONDITION_OF}
    onset = (on - timedelta(days=90)).isoformat()
    facts: dict[str, Any] = {}
    for name in CONDITIONS:
        if name in ("pregnancy", "breastfeeding") and patient.sex == "male":
            continue
        facts[name] = (
            {"present": True, "onset": onset, "status": "active"} if name in present else {"present": False}
        )
    return facts


def screening_form(patient: VirtualPatient, values: dict[str, float], *, judged_by: str) -> dict[str, Any]:
    """The ``celltrial-screening-form`` of the patient with ``values`` (screened on ``screened_on``)."""
    on = patient.screened_on
    labs, echo, disease = on - timedelta(days=2), on - timedelta(days=6), on - timedelta(days=4)
    failing = set(patient.failing)
    facts: dict[str, Any] = _disease(patient, disease, values) | {
        "ecog": _v(int(values["ecog"]), on),
        "hemoglobin": _q(values["hemoglobin"], "g/L", labs),
        "creatinine": _q(values["creatinine"], "mg/dL", labs, uln=1.1, uln_unit="mg/dL"),
        "total_bilirubin": _q(values["total_bilirubin"], "mg/dL", labs, uln=1.2, uln_unit="mg/dL"),
        "alt": _q(values["alt"], "U/L", labs, uln=40, uln_unit="U/L"),
        "ast": _q(values["ast"], "U/L", labs, uln=40, uln_unit="U/L"),
        "oxygen_saturation": _q(values["spo2"], "%", labs),
        "lvef": _q(values["lvef"], "%", echo),
        "lvsf": _q(values["lvsf"], "%", echo),
        "hbv_dna": _q(2400 if "E7" in failing else 0, "[IU]/mL", echo),
        "hcv_antibody": _v("negative", echo),
        "hcv_rna": _v("not_detected", echo),
        "hiv_test": _v("positive" if "E8" in failing else "negative", echo),
        "syphilis_test": _v("negative", echo),
        "informed_consent_signed": _v(True, patient.consent_on),
        **_conditions(patient, on),
    }
    if patient.sex == "female":
        facts["pregnancy_plan_within_12_months"] = _v(False, patient.consent_on)
        facts["pregnancy_test"] = _v("positive" if "E11" in failing else "negative", labs)
    at = on.isoformat()
    judgments = [
        {
            "criterion": "I4",
            "answer": "not_met" if "I4" in failing else "met",
            "by": judged_by,
            "at": at,
            "comment": "expected survival under 3 months"
            if "I4" in failing
            else "expected survival over 3 months",
        },
        {
            "criterion": "E1.qt",
            "answer": "not_met",
            "by": judged_by,
            "at": at,
            "comment": "QTc normal on ECG",
        },
        {
            "criterion": "E12",
            "answer": "met" if "E12" in failing else "not_met",
            "by": judged_by,
            "at": at,
            "comment": "unstable social situation would compromise follow-up"
            if "E12" in failing
            else "no other risk identified",
        },
    ]
    return {
        "form": "celltrial-screening-form",
        "version": 1,
        "patient": {
            "id": f"REF-{patient.number:03d}",
            "birth_date": patient.birth_date.isoformat(),
            "sex": patient.sex,
        },
        "screening_date": at,
        "facts": facts,
        "judgments": judgments,
    }
