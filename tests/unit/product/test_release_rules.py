"""Release decision: each specification of the trial's settings at its boundary, and bad results refused."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from celltrial.errors import InvalidInput
from celltrial.product.release_rules import (
    DoseBasis,
    ReleaseResults,
    decide_release,
    endotoxin_eu_per_kg,
)
from celltrial.protocol.library import load_settings
from celltrial.protocol.settings import ReleaseSpecifications

SPECS = load_settings("NCT07008872").release_specifications
DOSE = DoseBasis(volume_ml=70.0, weight_kg=70.0)  # 1 mL/kg: EU/kg equals EU/mL
GOOD = ReleaseResults(
    viability_percent=92.0,
    car_positive_percent=45.0,
    cd3_positive_percent=97.0,
    sterility="no_growth",
    endotoxin_eu_per_ml=0.5,
    mycoplasma="negative",
    vector_copy_number=2.1,
)


def _failed_tests(results: ReleaseResults, dose: DoseBasis = DOSE) -> list[str]:
    return [check.test for check in decide_release(results, SPECS, dose).failures]


def test_the_settings_hold_the_issues_specifications() -> None:
    assert SPECS.viability_percent_min.value == 70
    assert SPECS.car_positive_percent_min.value == 10
    assert SPECS.cd3_positive_percent_min.value == 80
    assert SPECS.sterility.value == "no_growth"
    assert SPECS.endotoxin_eu_per_kg_max.value == 5
    assert SPECS.mycoplasma.value == "negative"
    assert SPECS.vector_copy_number_max.value == 5


def test_a_lot_within_every_specification_is_releasable() -> None:
    decision = decide_release(GOOD, SPECS, DOSE)
    assert decision.releasable
    assert decision.failures == ()
    assert [check.test for check in decision.checks] == [
        "viability",
        "CAR+ cells",
        "identity/purity (CD3+)",
        "sterility",
        "endotoxin",
        "mycoplasma",
        "vector copy number",
    ]


BOUNDARIES = [
    # (case, field, value, releasable)
    ("viability at the 70% minimum passes", "viability_percent", 70.0, True),
    ("viability just below 70% fails", "viability_percent", 69.9, False),
    ("CAR+ at the 10% minimum passes", "car_positive_percent", 10.0, True),
    ("CAR+ just below 10% fails", "car_positive_percent", 9.99, False),
    ("CD3+ at the 80% minimum passes", "cd3_positive_percent", 80.0, True),
    ("CD3+ just below 80% fails", "cd3_positive_percent", 79.9, False),
    ("sterility with no growth passes", "sterility", "no_growth", True),
    ("sterility with growth fails", "sterility", "growth", False),
    ("mycoplasma negative passes", "mycoplasma", "negative", True),
    ("mycoplasma positive fails", "mycoplasma", "positive", False),
    ("vector copy number at the maximum of 5 passes", "vector_copy_number", 5.0, True),
    ("vector copy number just above 5 fails", "vector_copy_number", 5.01, False),
    ("endotoxin at 5 EU/kg (the USP K) passes", "endotoxin_eu_per_ml", 5.0, True),
    ("endotoxin just above 5 EU/kg fails", "endotoxin_eu_per_ml", 5.01, False),
]


@pytest.mark.parametrize(
    ("field", "value", "releasable"), [b[1:] for b in BOUNDARIES], ids=[b[0] for b in BOUNDARIES]
)
def test_each_specification_at_its_boundary(field: str, value: object, releasable: bool) -> None:
    decision = decide_release(replace(GOOD, **{field: value}), SPECS, DOSE)
    assert decision.releasable is releasable
    assert len(decision.failures) == (0 if releasable else 1)


def test_the_endotoxin_limit_follows_the_usp_k_over_m_worked_example() -> None:
    """USP <85> K/M: K = 5 EU/kg, M = 1.40 mL/kg gives a limit of 5 / 1.40 = 3.57 EU/mL.

    A bag of 98 mL for a 70 kg patient is M = 1.40 mL/kg; 3.57 EU/mL is within the limit and
    3.58 EU/mL is above it.
    """
    dose = DoseBasis(volume_ml=98.0, weight_kg=70.0)
    assert endotoxin_eu_per_kg(3.57, dose) == pytest.approx(4.998)
    assert _failed_tests(replace(GOOD, endotoxin_eu_per_ml=3.57), dose) == []
    assert _failed_tests(replace(GOOD, endotoxin_eu_per_ml=3.58), dose) == ["endotoxin"]


def test_the_endotoxin_dose_scales_with_the_volume_and_the_weight() -> None:
    small_child = DoseBasis(volume_ml=70.0, weight_kg=35.0)
    assert endotoxin_eu_per_kg(2.5, small_child) == pytest.approx(5.0)
    assert _failed_tests(replace(GOOD, endotoxin_eu_per_ml=2.6), small_child) == ["endotoxin"]
    assert _failed_tests(replace(GOOD, endotoxin_eu_per_ml=2.6), DOSE) == []


def test_a_result_equal_to_its_limit_but_for_binary_rounding_is_at_the_limit() -> None:
    dose = DoseBasis(volume_ml=333.33333333333337, weight_kg=10.0)
    assert endotoxin_eu_per_kg(0.15, dose) > 5.0  # 5.000000000000001
    assert _failed_tests(replace(GOOD, endotoxin_eu_per_ml=0.15), dose) == []


def test_several_failures_are_all_named_with_their_specification() -> None:
    bad = replace(GOOD, viability_percent=62.0, sterility="growth", vector_copy_number=7.5)
    decision = decide_release(bad, SPECS, DOSE)
    assert not decision.releasable
    assert [str(check) for check in decision.failures] == [
        "viability 62% (specification >= 70%): OUT OF SPECIFICATION",
        "sterility growth (specification no_growth): OUT OF SPECIFICATION",
        "vector copy number 7.5 copies/cell (specification <= 5 copies/cell): OUT OF SPECIFICATION",
    ]


def test_each_check_says_whether_its_specification_is_an_assumption() -> None:
    decision = decide_release(GOOD, SPECS, DOSE)
    assert {check.source for check in decision.checks} == {"assumption"}


def test_the_specifications_are_the_settings_not_constants() -> None:
    stricter = ReleaseSpecifications.model_validate(
        {**SPECS.model_dump(), "viability_percent_min": {"value": 80, "source": "protocol"}}
    )
    decision = decide_release(replace(GOOD, viability_percent=75.0), stricter, DOSE)
    assert [(c.test, c.source) for c in decision.failures] == [("viability", "protocol")]


def test_categorical_results_are_read_in_their_usual_spellings() -> None:
    results = replace(GOOD, sterility="No growth", mycoplasma="NEGATIVE")
    assert results.sterility == "no_growth"
    assert results.mycoplasma == "negative"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("viability_percent", 101.0, "out of range"),
        ("car_positive_percent", -1.0, "out of range"),
        ("cd3_positive_percent", float("nan"), "must be a number"),
        ("endotoxin_eu_per_ml", True, "must be a number"),
        ("vector_copy_number", "3", "must be a number"),
        ("sterility", "contaminated", "is not a result"),
        ("mycoplasma", "pending", "is not a result"),
    ],
)
def test_a_malformed_result_is_refused_naming_its_field(field: str, value: object, message: str) -> None:
    with pytest.raises(InvalidInput, match=message) as refused:
        replace(GOOD, **{field: value})
    assert refused.value.field == field


@pytest.mark.parametrize(("volume", "weight", "field"), [(0.0, 70.0, "volume_ml"), (50.0, 1.0, "weight_kg")])
def test_an_implausible_dose_basis_is_refused(volume: float, weight: float, field: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        DoseBasis(volume_ml=volume, weight_kg=weight)
    assert refused.value.field == field


percent = st.floats(min_value=0, max_value=100, allow_nan=False)


@given(percent, percent)
def test_a_higher_viability_never_makes_a_releasable_lot_unreleasable(low: float, high: float) -> None:
    low, high = sorted((low, high))
    if decide_release(replace(GOOD, viability_percent=low), SPECS, DOSE).releasable:
        assert decide_release(replace(GOOD, viability_percent=high), SPECS, DOSE).releasable


@given(
    st.floats(min_value=0, max_value=50, allow_nan=False),
    st.floats(min_value=0, max_value=50, allow_nan=False),
)
def test_less_endotoxin_never_makes_a_releasable_lot_unreleasable(low: float, high: float) -> None:
    low, high = sorted((low, high))
    if decide_release(replace(GOOD, endotoxin_eu_per_ml=high), SPECS, DOSE).releasable:
        assert decide_release(replace(GOOD, endotoxin_eu_per_ml=low), SPECS, DOSE).releasable
