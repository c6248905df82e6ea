"""Every threshold of NCT07008872's criteria at its boundary, taken from the registry text.

I5 "ECOG 0~2"; I7 "HGB at least ≥70g/L"; I8a "creatinine ≤1.5×ULN"; I8b "left ventricular ejection
fraction ≥50%"; I8c "Oxygen saturation >90%"; I8d "Total bilirubin ≤1.5×ULN; ALT and AST ≤2.5×ULN";
I1a "at least 2 courses"; I1b.i "blasts … (proportion >5%)"; I1b.ii "at least two courses of standard
induction therapy"; I3 "proportion of peripheral blood tumor cells must be ≤1%"; E1 "Myocardial
infarction within the past 12 months", "LVSF<30% or LVEF<50%", "NYHA III or IV"; E7 "HBV-DNA ≥ 500
IU/ml and abnormal liver function", "Positive for HCV Ab, HCV-RNA above the detection limit … and
abnormal liver function". Site ULNs come from the settings: creatinine 1.1 mg/dL, total bilirubin
1.2 mg/dL, ALT and AST 40 U/L.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from celltrial.eligibility import EligibilityResult

Screen = Callable[..., EligibilityResult]  # the `screen` fixture of conftest.py


def lab(value: float, unit: str, day: str = "2025-06-28", **extra: Any) -> dict[str, Any]:
    return {"value": value, "unit": unit, "date": day, **extra}


@pytest.mark.parametrize(
    ("facts", "criterion", "verdict"),
    [
        pytest.param({"hemoglobin": lab(70, "g/L")}, "I7", "met", id="I7 hemoglobin 70 g/L is met"),
        pytest.param({"hemoglobin": lab(69, "g/L")}, "I7", "not_met", id="I7 hemoglobin 69 g/L is not met"),
        pytest.param(
            {"hemoglobin": lab(69.9, "g/L")}, "I7", "not_met", id="I7 hemoglobin 69.9 g/L is not met"
        ),
        pytest.param({"hemoglobin": lab(7.0, "g/dL")}, "I7", "met", id="I7 hemoglobin 7.0 g/dL is met"),
        pytest.param(
            {"hemoglobin": lab(6.9, "g/dL")}, "I7", "not_met", id="I7 hemoglobin 6.9 g/dL is not met"
        ),
        pytest.param({"ecog": {"value": 0, "date": "2025-06-28"}}, "I5", "met", id="I5 ECOG 0 is met"),
        pytest.param({"ecog": {"value": 2, "date": "2025-06-28"}}, "I5", "met", id="I5 ECOG 2 is met"),
        pytest.param(
            {"ecog": {"value": 3, "date": "2025-06-28"}}, "I5", "not_met", id="I5 ECOG 3 is not met"
        ),
        pytest.param(
            {"creatinine": lab(1.65, "mg/dL")},
            "I8a",
            "met",
            id="I8a creatinine exactly 1.5x the site ULN is met",
        ),
        pytest.param(
            {"creatinine": lab(1.66, "mg/dL")},
            "I8a",
            "not_met",
            id="I8a creatinine above 1.5x ULN is not met",
        ),
        pytest.param(
            {"creatinine": lab(1.8, "mg/dL", uln=1.2, uln_unit="mg/dL")},
            "I8a",
            "met",
            id="I8a creatinine 1.8 with its own ULN 1.2 (1.5x exactly, despite floating point) is met",
        ),
        pytest.param({"lvef": lab(50, "%", "2025-06-18")}, "I8b", "met", id="I8b LVEF 50% is met"),
        pytest.param({"lvef": lab(49, "%", "2025-06-18")}, "I8b", "not_met", id="I8b LVEF 49% is not met"),
        pytest.param(
            {"oxygen_saturation": lab(90, "%")}, "I8c", "not_met", id="I8c SpO2 exactly 90% is not met (>90%)"
        ),
        pytest.param({"oxygen_saturation": lab(90.1, "%")}, "I8c", "met", id="I8c SpO2 90.1% is met"),
        pytest.param({"oxygen_saturation": lab(91, "%")}, "I8c", "met", id="I8c SpO2 91% is met"),
        pytest.param(
            {"total_bilirubin": lab(1.8, "mg/dL")}, "I8d", "met", id="I8d bilirubin exactly 1.5x ULN is met"
        ),
        pytest.param(
            {"total_bilirubin": lab(1.9, "mg/dL")},
            "I8d",
            "not_met",
            id="I8d bilirubin above 1.5x ULN is not met",
        ),
        pytest.param({"alt": lab(100, "U/L")}, "I8d", "met", id="I8d ALT exactly 2.5x its ULN 40 U/L is met"),
        pytest.param({"alt": lab(101, "U/L")}, "I8d", "not_met", id="I8d ALT above 2.5x ULN is not met"),
        pytest.param({"ast": lab(100, "U/L")}, "I8d", "met", id="I8d AST exactly 2.5x its ULN 40 U/L is met"),
        pytest.param({"ast": lab(101, "U/L")}, "I8d", "not_met", id="I8d AST above 2.5x ULN is not met"),
        pytest.param(
            {
                "prior_therapy_courses": {"value": 2, "date": "2025-06-20"},
                "diagnosis": {"value": "t_cell_lymphoma"},
            },
            "I1a",
            "met",
            id="I1a relapsed/refractory T-cell lymphoma after 2 courses is met",
        ),
        pytest.param(
            {
                "prior_therapy_courses": {"value": 1, "date": "2025-06-20"},
                "diagnosis": {"value": "t_cell_lymphoma"},
            },
            "I1a",
            "not_met",
            id="I1a after 1 course is not met",
        ),
        pytest.param(
            {"induction_courses": {"value": 1, "date": "2025-06-20"}},
            "I1b.ii",
            "not_met",
            id="I1b.ii one course of induction is not refractory",
        ),
        pytest.param(
            {
                "prior_complete_remission": {"value": True, "date": "2025-06-20"},
                "bone_marrow_blasts": lab(5, "%", "2025-06-20"),
            },
            "I1b.i",
            "not_met",
            id="I1b.i marrow blasts exactly 5% is not a relapse (>5%)",
        ),
        pytest.param(
            {
                "prior_complete_remission": {"value": True, "date": "2025-06-20"},
                "bone_marrow_blasts": lab(5.1, "%", "2025-06-20"),
            },
            "I1b.i",
            "met",
            id="I1b.i marrow blasts 5.1% after complete remission is a relapse",
        ),
        pytest.param(
            {"peripheral_blood_tumor_cells": lab(1, "%", "2025-06-20")},
            "I3",
            "met",
            id="I3 peripheral tumour cells exactly 1% is met",
        ),
        pytest.param(
            {"peripheral_blood_tumor_cells": lab(1.1, "%", "2025-06-20")},
            "I3",
            "not_met",
            id="I3 peripheral tumour cells 1.1% not CD4/CD8 negative is not met",
        ),
        pytest.param(
            {
                "peripheral_blood_tumor_cells": lab(30, "%", "2025-06-20"),
                "peripheral_blood_tumor_cd4_cd8_negative": {"value": True, "date": "2025-06-20"},
            },
            "I3",
            "met",
            id="I3 peripheral tumour cells 30% that are CD4 and CD8 negative is met",
        ),
        pytest.param(
            {"myocardial_infarction": {"present": True, "onset": "2024-08-01", "status": "resolved"}},
            "E1",
            "met",
            id="E1 myocardial infarction 11 months ago excludes",
        ),
        pytest.param(
            {"myocardial_infarction": {"present": True, "onset": "2024-07-01", "status": "resolved"}},
            "E1",
            "met",
            id="E1 myocardial infarction exactly 12 months ago excludes",
        ),
        pytest.param(
            {"myocardial_infarction": {"present": True, "onset": "2024-06-01", "status": "resolved"}},
            "E1",
            "not_met",
            id="E1 myocardial infarction 13 months ago does not exclude",
        ),
        pytest.param({"lvsf": lab(29, "%", "2025-06-18")}, "E1", "met", id="E1 LVSF 29% excludes"),
        pytest.param(
            {"lvsf": lab(30, "%", "2025-06-18")}, "E1", "not_met", id="E1 LVSF 30% does not exclude"
        ),
        pytest.param(
            {"heart_failure": {"present": True}, "nyha_class": {"value": 3}},
            "E1",
            "met",
            id="E1 heart failure NYHA III excludes",
        ),
        pytest.param(
            {"heart_failure": {"present": True}, "nyha_class": {"value": 2}},
            "E1",
            "not_met",
            id="E1 heart failure NYHA II does not exclude",
        ),
        pytest.param(
            {"hbv_dna": lab(500, "[IU]/mL", "2025-06-18")},
            "E7",
            "not_met",
            id="E7 HBV DNA 500 IU/mL with normal liver function is not active hepatitis",
        ),
        pytest.param(
            {"hbv_dna": lab(500, "[IU]/mL", "2025-06-18"), "alt": lab(41, "U/L")},
            "E7",
            "met",
            id="E7 HBV DNA 500 IU/mL with ALT above the ULN excludes",
        ),
        pytest.param(
            {"hbv_dna": lab(499, "[IU]/mL", "2025-06-18"), "alt": lab(80, "U/L")},
            "E7",
            "not_met",
            id="E7 HBV DNA 499 IU/mL does not exclude even with abnormal liver function",
        ),
        pytest.param(
            {"hbv_dna": lab(0.5, "[IU]/uL", "2025-06-18"), "ast": lab(41, "U/L")},
            "E7",
            "met",
            id="E7 HBV DNA 0.5 IU/uL (= 500 IU/mL) with AST above the ULN excludes",
        ),
        pytest.param(
            {
                "hcv_antibody": {"value": "positive", "date": "2025-06-18"},
                "hcv_rna": {"value": "detected", "date": "2025-06-18"},
                "total_bilirubin": lab(1.3, "mg/dL"),
            },
            "E7",
            "met",
            id="E7 HCV antibody positive, RNA detected and bilirubin above the ULN excludes",
        ),
        pytest.param(
            {
                "hcv_antibody": {"value": "positive", "date": "2025-06-18"},
                "hcv_rna": {"value": "not_detected", "date": "2025-06-18"},
                "total_bilirubin": lab(1.3, "mg/dL"),
            },
            "E7",
            "not_met",
            id="E7 HCV antibody positive without detectable RNA does not exclude",
        ),
    ],
)
def test_each_threshold_at_its_boundary(
    screen: Screen, facts: dict[str, Any], criterion: str, verdict: str
) -> None:
    assert screen(**facts).criterion(criterion).verdict == verdict


def test_a_failed_threshold_is_explained_with_the_value_date_and_limit(screen: Screen) -> None:
    result = screen(hemoglobin=lab(68, "g/L", "2025-07-01"))
    assert result.criterion("I7").reason == "Hemoglobin 68 g/L on 2025-07-01 is below 70 g/L"
    assert result.decision == "ineligible"


def test_the_applied_threshold_is_reported_in_the_value_unit(screen: Screen) -> None:
    threshold = screen(creatinine=lab(100, "umol/L")).criterion("I8a").threshold
    assert threshold is not None
    assert threshold.unit == "umol/L"
    assert threshold.value == pytest.approx(1.5 * 1.1 * 88.40, rel=1e-3)
    assert "site reference range" in threshold.basis


def test_the_same_liver_test_in_both_hepatitis_branches_is_reported_under_each_branch(screen: Screen) -> None:
    """E7 asks "ALT above the ULN" for hepatitis B and for hepatitis C: one answer, two rule ids."""
    rule = screen(alt=lab(41, "U/L")).criterion("E7").rule
    found: dict[str, Any] = {}

    def walk(part: Any) -> None:
        found[part.id] = part
        for child in part.parts:
            walk(child)

    walk(rule)
    hbv, hcv = found["E7.hbv.liver.alt"], found["E7.hcv.liver.alt"]
    assert (hbv.verdict, hcv.verdict) == ("met", "met")
    expected = "ALT 41 U/L on 2025-06-28 is above 40 U/L = ULN (ULN 40 U/L, site reference range)"
    assert hbv.reason == hcv.reason == expected
    assert found["E7.hbv.liver.ast"].verdict == found["E7.hcv.liver.ast"].verdict == "not_met"
