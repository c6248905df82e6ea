"""CTCAE v5.0 lab grades at both sides of every threshold, checked against the criteria texts.

Each boundary case names the CTCAE text it comes from; ``test_every_cited_text_is_in_the_criteria``
checks that text is in the shipped admiral v5.0 file (SI, or US conventional units where the
case uses them), so the thresholds cannot drift from the published criteria.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from celltrial.clinical.ctcae import grade_lab, known_terms, term_text
from celltrial.errors import InvalidInput, UnsupportedUnit

DATA = Path(__file__).resolve().parents[3] / "celltrial" / "clinical" / "data"
SI = {row["TERM"]: row for row in json.loads((DATA / "admiral_ncictcaev5.json").read_text())}
US = {row["TERM"]: row for row in json.loads((DATA / "admiral_ncictcaev5_uscv.json").read_text())}

ANC = "Neutrophil count decreased"
PLT = "Platelet count decreased"
ALT = "Alanine aminotransferase increased"
AST = "Aspartate aminotransferase increased"
BILI = "Blood bilirubin increased"
CREAT = "Creatinine increased"
FIB = "Fibrinogen decreased"

# (term, grade, text in the CTCAE grade), each cited by the boundary cases below
CITED = [
    (ANC, 1, "<LLN - 1.5 x 10e9 /L"),
    (ANC, 2, "<1.5 - 1.0 x 10e9 /L"),
    (ANC, 3, "<1.0 - 0.5 x 10e9 /L"),
    (ANC, 4, "<0.5 x 10e9 /L"),
    (PLT, 2, "<75.0 - 50.0 x 10e9 /L"),
    (PLT, 3, "<50.0 - 25.0 x 10e9 /L"),
    (PLT, 4, "<25.0 x 10e9 /L"),
    ("Anemia", 1, "<LLN - 100 g/L"),
    ("Anemia", 2, "<100 - 80g/L"),
    ("Anemia", 3, "<8.0 g/dL"),
    ("Lymphocyte count decreased", 2, "<0.8 - 0.5 x 10e9 /L"),
    ("Lymphocyte count decreased", 3, "<0.5 - 0.2 x 10e9 /L"),
    ("Lymphocyte count decreased", 4, "<0.2 x 10e9 /L"),
    ("White blood cell decreased", 2, "<3.0 - 2.0 x 10e9 /L"),
    ("White blood cell decreased", 3, "<2.0 - 1.0 x 10e9 /L"),
    ("White blood cell decreased", 4, "<1.0 x 10e9 /L"),
    (ALT, 1, ">ULN - 3.0 x ULN if baseline was normal; 1.5 - 3.0 x baseline if baseline was abnormal"),
    (ALT, 2, ">3.0 - 5.0 x ULN if baseline was normal; >3.0 - 5.0 x baseline"),
    (ALT, 3, ">5.0 - 20.0 x ULN if baseline was normal; >5.0 - 20.0 x baseline"),
    (ALT, 4, ">20.0 x ULN if baseline was normal; >20.0 x baseline"),
    (AST, 2, ">3.0 - 5.0 x ULN if baseline was normal"),
    (BILI, 1, ">ULN - 1.5 x ULN if baseline was normal; > 1.0 - 1.5 x baseline if baseline was abnormal"),
    (BILI, 2, ">1.5 - 3.0 x ULN if baseline was normal; >1.5 - 3.0 x baseline"),
    (BILI, 3, ">3.0 - 10.0 x ULN"),
    (BILI, 4, ">10.0 x ULN"),
    (CREAT, 1, ">ULN - 1.5 x ULN"),
    (CREAT, 2, ">1.5 - 3.0 x baseline; >1.5 - 3.0 x ULN"),
    (CREAT, 3, ">3.0 baseline; >3.0 - 6.0 x ULN"),
    (CREAT, 4, ">6.0 x ULN"),
    (FIB, 1, "<1.0 - 0.75 x LLN; if abnormal, <25% decrease from baseline"),
    (FIB, 2, "<0.75 - 0.5 x LLN; if abnormal, 25 - <50% decrease from baseline"),
    (FIB, 3, "<0.5 - 0.25 x LLN; if abnormal, 50 - <75% decrease from baseline"),
    (FIB, 4, "<0.25 x LLN; if abnormal, 75% decrease from baseline; absolute value <50 mg/dL"),
    ("Hypokalemia", 3, "<3.0 - 2.5 mmol/L"),
    ("Hypokalemia", 4, "<2.5 mmol/L"),
    ("Hyponatremia", 2, "125-129 mmol/L and asymptomatic"),
    ("Hyponatremia", 4, "<120 mmol/L"),
    ("Hyperkalemia", 2, ">5.5 - 6.0 mmol/L"),
    ("Hypercalcemia", 2, ">11.5 - 12.5 mg/dL; >2.9 - 3.1 mmol/L"),
    ("Hypoalbuminemia", 3, "<20 g/L"),
    ("Hypertriglyceridemia", 1, "1.71 mmol/L - 3.42 mmol/L"),
    ("INR increased", 1, ">1.2 - 1.5"),
    ("Lipase increased", 2, ">1.5 - 2.0 x ULN; >2.0 - 5.0 x ULN and asymptomatic"),
    ("Hemoglobin increased", 2, "Increase in >2 - 4 g/dL above ULN"),
]


@pytest.mark.parametrize(("term", "grade", "text"), CITED, ids=[f"{t} grade {g}" for t, g, _ in CITED])
def test_every_cited_text_is_in_the_criteria(term: str, grade: int, text: str) -> None:
    assert text in SI[term][f"GRADE_{grade}"] or text in US.get(term, {}).get(f"GRADE_{grade}", "")


def case(case_id: str, term: str, value: float, unit: str, expected: int, **limits: float) -> Any:
    return pytest.param(term, value, unit, limits, expected, id=case_id)


BOUNDARIES = [
    case("ANC at LLN is grade 0", ANC, 2.0, "10^9/L", 0, lln=2.0),
    case("ANC just below LLN is grade 1", ANC, 1.99, "10^9/L", 1, lln=2.0),
    case("ANC 1.5 is grade 1", ANC, 1.5, "10^9/L", 1, lln=2.0),
    case("ANC 1.49 is grade 2", ANC, 1.49, "10^9/L", 2, lln=2.0),
    case("ANC 1.0 is grade 2", ANC, 1.0, "10^9/L", 2, lln=2.0),
    case("ANC 0.99 is grade 3", ANC, 0.99, "10^9/L", 3, lln=2.0),
    case("ANC 0.5 is grade 3", ANC, 0.5, "10^9/L", 3, lln=2.0),
    case("ANC 0.49 is grade 4", ANC, 0.49, "10^9/L", 4, lln=2.0),
    case("ANC 500/uL is grade 3", ANC, 500, "/uL", 3, lln=2000),
    case("ANC 499/mm3 is grade 4", ANC, 499, "/mm3", 4, lln=2000),
    case("platelets 75 is grade 1", PLT, 75, "10^9/L", 1, lln=150),
    case("platelets 74.9 is grade 2", PLT, 74.9, "10^9/L", 2, lln=150),
    case("platelets 50 is grade 2", PLT, 50, "10^9/L", 2, lln=150),
    case("platelets 49 is grade 3", PLT, 49, "10^9/L", 3, lln=150),
    case("platelets 25 is grade 3", PLT, 25, "10^9/L", 3, lln=150),
    case("platelets 24 is grade 4", PLT, 24, "10^9/L", 4, lln=150),
    case("platelets 24,000/uL is grade 4", PLT, 24_000, "/uL", 4, lln=150_000),
    case("platelets 25 x10^3/uL is grade 3", PLT, 25, "10^3/uL", 3, lln=150),
    case("Hb at LLN is grade 0", "Anemia", 120, "g/L", 0, lln=120),
    case("Hb just below LLN is grade 1", "Anemia", 119, "g/L", 1, lln=120),
    case("Hb 100 g/L is grade 1", "Anemia", 100, "g/L", 1, lln=120),
    case("Hb 99 g/L is grade 2", "Anemia", 99, "g/L", 2, lln=120),
    case("Hb 8.0 g/dL is grade 2", "Anemia", 8.0, "g/dL", 2, lln=12.0),
    case("Hb 7.9 g/dL is grade 3", "Anemia", 7.9, "g/dL", 3, lln=12.0),
    case("lymphocytes 0.8 is grade 1", "Lymphocyte count decreased", 0.8, "10^9/L", 1, lln=1.0),
    case("lymphocytes 0.79 is grade 2", "Lymphocyte count decreased", 0.79, "10^9/L", 2, lln=1.0),
    case("lymphocytes 0.5 is grade 2", "Lymphocyte count decreased", 0.5, "10^9/L", 2, lln=1.0),
    case("lymphocytes 0.49 is grade 3", "Lymphocyte count decreased", 0.49, "10^9/L", 3, lln=1.0),
    case("lymphocytes 0.2 is grade 3", "Lymphocyte count decreased", 0.2, "10^9/L", 3, lln=1.0),
    case("lymphocytes 0.19 is grade 4", "Lymphocyte count decreased", 0.19, "10^9/L", 4, lln=1.0),
    case("WBC 3.0 is grade 1", "White blood cell decreased", 3.0, "10^9/L", 1, lln=4.0),
    case("WBC 2.9 is grade 2", "White blood cell decreased", 2.9, "10^9/L", 2, lln=4.0),
    case("WBC 2.0 is grade 2", "White blood cell decreased", 2.0, "10^9/L", 2, lln=4.0),
    case("WBC 1.9 is grade 3", "White blood cell decreased", 1.9, "10^9/L", 3, lln=4.0),
    case("WBC 1.0 is grade 3", "White blood cell decreased", 1.0, "10^9/L", 3, lln=4.0),
    case("WBC 0.9 is grade 4", "White blood cell decreased", 0.9, "10^9/L", 4, lln=4.0),
    # ALT with a normal baseline: multiples of ULN 40
    case("ALT at ULN, normal baseline, is grade 0", ALT, 40, "U/L", 0, uln=40, baseline=20),
    case("ALT just above ULN is grade 1", ALT, 41, "U/L", 1, uln=40, baseline=20),
    case("ALT 3.0 x ULN is grade 1", ALT, 120, "U/L", 1, uln=40, baseline=20),
    case("ALT above 3.0 x ULN is grade 2", ALT, 121, "U/L", 2, uln=40, baseline=20),
    case("ALT 5.0 x ULN is grade 2", ALT, 200, "U/L", 2, uln=40, baseline=20),
    case("ALT above 5.0 x ULN is grade 3", ALT, 201, "U/L", 3, uln=40, baseline=20),
    case("ALT 20 x ULN is grade 3", ALT, 800, "U/L", 3, uln=40, baseline=20),
    case("ALT above 20 x ULN is grade 4", ALT, 801, "U/L", 4, uln=40, baseline=20),
    # ALT with an abnormal baseline of 80 (> ULN 40): multiples of baseline
    case("ALT below 1.5 x abnormal baseline is grade 0", ALT, 119, "U/L", 0, uln=40, baseline=80),
    case("ALT 1.5 x abnormal baseline is grade 1", ALT, 120, "U/L", 1, uln=40, baseline=80),
    case("ALT 3.0 x abnormal baseline is grade 1", ALT, 240, "U/L", 1, uln=40, baseline=80),
    case("ALT above 3.0 x abnormal baseline is grade 2", ALT, 241, "U/L", 2, uln=40, baseline=80),
    case("ALT above 5.0 x abnormal baseline is grade 3", ALT, 401, "U/L", 3, uln=40, baseline=80),
    case("ALT above 20 x abnormal baseline is grade 4", ALT, 1601, "U/L", 4, uln=40, baseline=80),
    case("ALT in ukat/L is converted", ALT, 2.05, "ukat/L", 2, uln=0.6, baseline=0.3),
    case("AST 3.0 x ULN is grade 1", AST, 105, "U/L", 1, uln=35, baseline=30),
    case("AST above 3.0 x ULN is grade 2", AST, 105.1, "U/L", 2, uln=35, baseline=30),
    # bilirubin, ULN 21 umol/L
    case("bilirubin 1.5 x ULN is grade 1", BILI, 31.5, "umol/L", 1, uln=21, baseline=10),
    case("bilirubin above 1.5 x ULN is grade 2", BILI, 31.6, "umol/L", 2, uln=21, baseline=10),
    case("bilirubin 3.0 x ULN is grade 2", BILI, 63, "umol/L", 2, uln=21, baseline=10),
    case("bilirubin above 3.0 x ULN is grade 3", BILI, 63.1, "umol/L", 3, uln=21, baseline=10),
    case("bilirubin 10 x ULN is grade 3", BILI, 210, "umol/L", 3, uln=21, baseline=10),
    case("bilirubin above 10 x ULN is grade 4", BILI, 211, "umol/L", 4, uln=21, baseline=10),
    case("bilirubin at abnormal baseline is grade 0", BILI, 30, "umol/L", 0, uln=21, baseline=30),
    case("bilirubin above abnormal baseline is grade 1", BILI, 31, "umol/L", 1, uln=21, baseline=30),
    case("bilirubin 1.5 x abnormal baseline is grade 1", BILI, 45, "umol/L", 1, uln=21, baseline=30),
    case("bilirubin above 1.5 x abnormal baseline is grade 2", BILI, 45.1, "umol/L", 2, uln=21, baseline=30),
    case("bilirubin in mg/dL", BILI, 1.81, "mg/dL", 2, uln=1.2, baseline=0.5),
    # creatinine, ULN 1.2 mg/dL
    case("creatinine at ULN is grade 0", CREAT, 1.2, "mg/dL", 0, uln=1.2),
    case("creatinine above ULN is grade 1", CREAT, 1.21, "mg/dL", 1, uln=1.2),
    case("creatinine 1.5 x ULN is grade 1", CREAT, 1.8, "mg/dL", 1, uln=1.2),
    case("creatinine above 1.5 x ULN is grade 2", CREAT, 1.81, "mg/dL", 2, uln=1.2),
    case("creatinine 3.0 x ULN is grade 2", CREAT, 3.6, "mg/dL", 2, uln=1.2),
    case("creatinine above 3.0 x ULN is grade 3", CREAT, 3.61, "mg/dL", 3, uln=1.2),
    case("creatinine 6.0 x ULN is grade 3", CREAT, 7.2, "mg/dL", 3, uln=1.2),
    case("creatinine above 6.0 x ULN is grade 4", CREAT, 7.21, "mg/dL", 4, uln=1.2),
    case("creatinine above 1.5 x baseline is grade 2", CREAT, 1.06, "mg/dL", 2, uln=1.2, baseline=0.7),
    case("creatinine 1.5 x baseline is grade 0 below ULN", CREAT, 1.05, "mg/dL", 0, uln=1.2, baseline=0.7),
    case("creatinine above 3.0 x baseline is grade 3", CREAT, 1.51, "mg/dL", 3, uln=1.2, baseline=0.5),
    case("creatinine in umol/L", CREAT, 160, "umol/L", 2, uln=100),
    # fibrinogen, LLN 2.0 g/L, normal baseline
    case("fibrinogen at LLN is grade 0", FIB, 2.0, "g/L", 0, lln=2.0, baseline=3.0),
    case("fibrinogen just below LLN is grade 1", FIB, 1.99, "g/L", 1, lln=2.0, baseline=3.0),
    case("fibrinogen 0.75 x LLN is grade 1", FIB, 1.5, "g/L", 1, lln=2.0, baseline=3.0),
    case("fibrinogen below 0.75 x LLN is grade 2", FIB, 1.49, "g/L", 2, lln=2.0, baseline=3.0),
    case("fibrinogen 0.5 x LLN is grade 2", FIB, 1.0, "g/L", 2, lln=2.0, baseline=3.0),
    case("fibrinogen below 0.5 x LLN is grade 3", FIB, 0.99, "g/L", 3, lln=2.0, baseline=3.0),
    case("fibrinogen 0.5 g/L is grade 3 (0.25 x LLN 2.0)", FIB, 0.5, "g/L", 3, lln=2.0, baseline=3.0),
    case("fibrinogen below 50 mg/dL is grade 4", FIB, 49, "mg/dL", 4, lln=200, baseline=300),
    case("fibrinogen below 0.25 x LLN is grade 4", FIB, 0.99, "g/L", 4, lln=4.0, baseline=5.0),
    # fibrinogen, abnormal baseline 1.6 g/L (< LLN 2.0): decrease from baseline
    case("fibrinogen at abnormal baseline is grade 0", FIB, 1.6, "g/L", 0, lln=2.0, baseline=1.6),
    case(
        "fibrinogen under 25% below abnormal baseline is grade 1", FIB, 1.21, "g/L", 1, lln=2.0, baseline=1.6
    ),
    case("fibrinogen 25% below abnormal baseline is grade 2", FIB, 1.2, "g/L", 2, lln=2.0, baseline=1.6),
    case("fibrinogen 50% below abnormal baseline is grade 3", FIB, 0.8, "g/L", 3, lln=2.0, baseline=1.6),
    case(
        "fibrinogen under 75% below abnormal baseline is grade 3", FIB, 0.76, "g/L", 3, lln=4.0, baseline=3.0
    ),
    case("fibrinogen 75% below abnormal baseline is grade 4", FIB, 0.75, "g/L", 4, lln=4.0, baseline=3.0),
    # electrolytes and others with simple thresholds
    case("potassium 3.0 is grade 1", "Hypokalemia", 3.0, "mmol/L", 1, lln=3.5),
    case("potassium 2.9 is grade 3", "Hypokalemia", 2.9, "mmol/L", 3, lln=3.5),
    case("potassium 2.5 is grade 3", "Hypokalemia", 2.5, "mmol/L", 3, lln=3.5),
    case("potassium 2.4 is grade 4", "Hypokalemia", 2.4, "mmol/L", 4, lln=3.5),
    case("sodium 130 is grade 1", "Hyponatremia", 130, "mmol/L", 1, lln=135),
    case("sodium 129 is grade 2", "Hyponatremia", 129, "mmol/L", 2, lln=135),
    case("sodium 120 is grade 3", "Hyponatremia", 120, "mmol/L", 3, lln=135),
    case("sodium 119 is grade 4", "Hyponatremia", 119, "mmol/L", 4, lln=135),
    case("potassium 5.5 is grade 1", "Hyperkalemia", 5.5, "mmol/L", 1, uln=5.1),
    case("potassium 5.6 is grade 2", "Hyperkalemia", 5.6, "mmol/L", 2, uln=5.1),
    case("calcium 2.9 mmol/L is grade 1", "Hypercalcemia", 2.9, "mmol/L", 1, uln=2.6),
    case("calcium 2.91 mmol/L is grade 2", "Hypercalcemia", 2.91, "mmol/L", 2, uln=2.6),
    case("calcium 11.5 mg/dL is grade 1", "Hypercalcemia", 11.5, "mg/dL", 1, uln=10.5),
    case("calcium 11.6 mg/dL is grade 2", "Hypercalcemia", 11.6, "mg/dL", 2, uln=10.5),
    case("albumin 20 g/L is grade 2", "Hypoalbuminemia", 20, "g/L", 2, lln=35),
    case("albumin 1.9 g/dL is grade 3", "Hypoalbuminemia", 1.9, "g/dL", 3, lln=3.5),
    case("triglycerides 1.70 mmol/L is grade 0", "Hypertriglyceridemia", 1.70, "mmol/L", 0),
    case("triglycerides 1.71 mmol/L is grade 1", "Hypertriglyceridemia", 1.71, "mmol/L", 1),
    case("INR 1.2 is grade 0", "INR increased", 1.2, "1", 0),
    case("INR 1.21 is grade 1", "INR increased", 1.21, "1", 1),
    case("lipase 2.0 x ULN is grade 2", "Lipase increased", 120, "U/L", 2, uln=60),
    case("lipase 5.0 x ULN is grade 2 without symptoms", "Lipase increased", 300, "U/L", 2, uln=60),
    case("lipase above 5.0 x ULN is grade 3 without symptoms", "Lipase increased", 301, "U/L", 3, uln=60),
    case("Hb 2.0 g/dL above ULN is grade 1", "Hemoglobin increased", 19.0, "g/dL", 1, uln=17.0),
    case("Hb over 2.0 g/dL above ULN is grade 2", "Hemoglobin increased", 19.1, "g/dL", 2, uln=17.0),
]


@pytest.mark.parametrize(("term", "value", "unit", "limits", "expected"), BOUNDARIES)
def test_each_threshold_grades_both_sides_of_its_boundary(
    term: str, value: float, unit: str, limits: dict[str, float], expected: int
) -> None:
    result = grade_lab(term, value, unit, **limits)
    assert result.grade == expected
    assert result.ctcae_version == "5.0"


def test_the_result_carries_the_version_the_criterion_and_the_ctcae_text() -> None:
    result = grade_lab("neutrophil_count_decreased", 0.4, "10^9/L", lln=1.8)
    assert (result.term, result.grade, result.ctcae_version) == (ANC, 4, "5.0")
    assert result.grade_text == "<500/mm3; <0.5 x 10e9 /L"
    assert result.criterion == "< 0.5 10^9/L"
    assert "CTCAE v5.0" in result.source


@pytest.mark.parametrize(
    ("alias", "term", "unit", "limits"),
    [
        ("ALT", ALT, "U/L", {"uln": 40, "baseline": 30}),
        ("hypofibrinogenemia", FIB, "g/L", {"lln": 2.0, "baseline": 3.0}),
        ("platelet-count-decreased", PLT, "10^9/L", {"lln": 150}),
        ("ANC", ANC, "10^9/L", {"lln": 2.0}),
    ],
)
def test_a_term_can_be_named_by_its_common_short_name(
    alias: str, term: str, unit: str, limits: dict[str, float]
) -> None:
    assert grade_lab(alias, 1.0, unit, **limits).term == term


def test_every_graded_term_is_a_term_of_the_criteria_file() -> None:
    assert set(known_terms()) <= set(SI)
    assert len(known_terms()) == 40
    assert term_text(PLT, 4) == SI[PLT]["GRADE_4"]


def test_a_grade_that_needs_symptoms_says_so() -> None:
    result = grade_lab("Hyponatremia", 127, "mmol/L", lln=135)
    assert result.grade == 2
    assert result.clinical_note is not None
    assert "symptomatic" in result.clinical_note


@pytest.mark.parametrize("unit", ["furlongs", "mg/", "kg"])
def test_an_unknown_or_unconvertible_unit_is_refused(unit: str) -> None:
    with pytest.raises(UnsupportedUnit) as raised:
        grade_lab(PLT, 30, unit, lln=150)
    assert raised.value.field == "unit"


def test_a_molar_haemoglobin_is_graded_by_the_ctcae_mmol_thresholds() -> None:
    assert grade_lab("Anemia", 4.8, "mmol/L", lln=7.4).grade == 3


def test_a_liver_term_without_baseline_is_refused_naming_baseline() -> None:
    with pytest.raises(InvalidInput) as raised:
        grade_lab(ALT, 130, "U/L", uln=40)
    assert raised.value.field == "baseline"


def test_a_ratio_term_without_uln_is_refused_naming_uln() -> None:
    with pytest.raises(InvalidInput) as raised:
        grade_lab("CPK increased", 1000, "U/L")
    assert raised.value.field == "uln"


def test_an_lln_term_without_lln_is_refused_naming_lln() -> None:
    with pytest.raises(InvalidInput) as raised:
        grade_lab(ANC, 1.7, "10^9/L")
    assert raised.value.field == "lln"


@pytest.mark.parametrize(
    ("term", "version", "field"), [("Dizziness", "5.0", "term"), (ANC, "6.0", "version")]
)
def test_an_unknown_term_or_version_is_refused(term: str, version: str, field: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        grade_lab(term, 1.0, "10^9/L", lln=2.0, version=version)
    assert raised.value.field == field


def test_a_negative_value_is_refused() -> None:
    with pytest.raises(InvalidInput) as raised:
        grade_lab(ANC, -1.0, "10^9/L", lln=2.0)
    assert raised.value.field == "value"


@given(value=st.floats(0.0, 10.0), drop=st.floats(0.0, 10.0), lln=st.floats(0.5, 5.0))
def test_a_lower_neutrophil_count_never_lowers_the_grade(value: float, drop: float, lln: float) -> None:
    higher = grade_lab(ANC, value, "10^9/L", lln=lln)
    lower = grade_lab(ANC, max(value - drop, 0.0), "10^9/L", lln=lln)
    assert lower.grade >= higher.grade


@given(
    value=st.floats(1.0, 2000.0),
    rise=st.floats(0.0, 2000.0),
    baseline=st.floats(5.0, 200.0),
)
def test_a_higher_alt_never_lowers_the_grade(value: float, rise: float, baseline: float) -> None:
    lower = grade_lab(ALT, value, "U/L", uln=40, baseline=baseline)
    higher = grade_lab(ALT, value + rise, "U/L", uln=40, baseline=baseline)
    assert higher.grade >= lower.grade


@given(
    value=st.floats(0.05, 20.0), rise=st.floats(0.0, 20.0), baseline=st.one_of(st.none(), st.floats(0.3, 3.0))
)
def test_a_higher_creatinine_never_lowers_the_grade(
    value: float, rise: float, baseline: float | None
) -> None:
    lower = grade_lab(CREAT, value, "mg/dL", uln=1.2, baseline=baseline)
    higher = grade_lab(CREAT, value + rise, "mg/dL", uln=1.2, baseline=baseline)
    assert higher.grade >= lower.grade
