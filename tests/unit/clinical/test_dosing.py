"""Dosing against hand-worked examples.

Cockcroft–Gault (Nephron 1976;16:31), CrCl = (140 − age) × W / (72 × SCr), × 0.85 for women:

* man, 40 y, 72 kg, SCr 1.0 mg/dL: 100 × 72 / 72 = 100.0 mL/min; a woman alike: 85.0 mL/min.
* man, 60 y, 80 kg, SCr 1.6 mg/dL: 80 × 80 / 115.2 = 55.56 mL/min.
* woman, 75 y, 50 kg, SCr 2.0 mg/dL: 65 × 50 / 144 = 22.57; × 0.85 = 19.18 mL/min.
* man, 40 y, 72 kg, SCr 88.4 µmol/L: 1 mg/dL = 10 mg/L ÷ 113.12 g/mol = 88.40 µmol/L, so
  88.4 µmol/L ≈ 1.000 mg/dL → 100.0 mL/min.

Lymphodepletion (fludarabine 30, cyclophosphamide 300 mg/m²/day, days −5 to −3):

* BSA 1.8 m², CrCl 100: Flu 30 × 1.8 = 54 mg/day (162 mg course); Cy 300 × 1.8 = 540 mg/day.
* BSA 1.8 m², CrCl 50 (30–70 band, −20%): Flu 54 × 0.8 = 43.2 mg/day; Cy unchanged 540 mg/day.
* BSA 2.3 m² capped at 2.0, CrCl 90: Flu 30 × 2.0 = 60 mg/day; Cy 300 × 2.0 = 600 mg/day.

CAR-T dose, bag of 5.0 × 10⁸ nucleated cells, 90% viable, 40% CAR+, 50 mL:
CAR+ viable = 5.0e8 × 0.9 × 0.4 = 1.8 × 10⁸ cells; 1.8e8 / 50 = 3.6 × 10⁶ cells/mL.

* 70 kg, target 1 × 10⁶/kg: 7.0e7 / 3.6e6 = 19.44 mL → 19.4 mL (rounded down to 0.1 mL)
  → 19.4 × 3.6e6 = 6.984 × 10⁷ cells = 0.9977 × 10⁶ cells/kg.
* 100 kg, target 2 × 10⁶/kg: 2.0e8 needed > 1.8e8 in the bag → the whole bag, 1.8 × 10⁶/kg, below target.
* 70 kg, whole bag asked for (50 mL): 1.8e8 / 70 = 2.571 × 10⁶/kg > maximum 2 × 10⁶/kg → refused.
"""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from celltrial.clinical.dosing import (
    FludarabineRenalAdjustment,
    LymphodepletionRegimen,
    ProductBag,
    cart_dose,
    creatinine_clearance,
    creatinine_mg_per_dl,
    lymphodepletion_doses,
)
from celltrial.errors import Conflict, InvalidInput, UnsupportedUnit


@pytest.mark.parametrize(
    ("age", "weight", "creatinine", "unit", "sex", "expected"),
    [
        pytest.param(40, 72, 1.0, "mg/dL", "male", 100.0, id="man-40y-72kg-1.0"),
        pytest.param(40, 72, 1.0, "mg/dL", "female", 85.0, id="woman-40y-72kg-1.0"),
        pytest.param(60, 80, 1.6, "mg/dL", "male", 55.56, id="man-60y-80kg-1.6"),
        pytest.param(75, 50, 2.0, "mg/dL", "female", 19.18, id="woman-75y-50kg-2.0"),
        pytest.param(40, 72, 88.4, "µmol/L", "male", 100.0, id="man-40y-72kg-88.4umol"),
        pytest.param(40, 72, 88.4, "umol/L", "male", 100.0, id="ascii-micro"),
    ],
)
def test_cockcroft_gault_matches_the_hand_worked_value(
    age: float, weight: float, creatinine: float, unit: str, sex: str, expected: float
) -> None:
    crcl = creatinine_clearance(
        age_years=age,
        weight_kg=weight,
        serum_creatinine=creatinine,
        creatinine_unit=unit,
        sex=sex,  # type: ignore[arg-type]
    )
    assert crcl == pytest.approx(expected, abs=0.01)


def test_creatinine_in_mg_per_litre_is_a_tenth_of_mg_per_dl() -> None:
    assert creatinine_mg_per_dl(10, "mg/L") == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("kwargs", "error", "field"),
    [
        pytest.param({"age_years": 12}, InvalidInput, "age_years", id="child"),
        pytest.param({"age_years": 150}, InvalidInput, "age_years", id="implausible-age"),
        pytest.param({"serum_creatinine": 0}, InvalidInput, "serum_creatinine", id="zero-creatinine"),
        pytest.param({"serum_creatinine": 88.4}, InvalidInput, "serum_creatinine", id="umol-typed-as-mg"),
        pytest.param({"creatinine_unit": "kg"}, UnsupportedUnit, "creatinine_unit", id="mass-unit"),
        pytest.param({"sex": "unknown"}, InvalidInput, "sex", id="sex"),
        pytest.param({"weight_kg": -1}, InvalidInput, "weight_kg", id="negative-weight"),
    ],
)
def test_cockcroft_gault_refuses_bad_input_naming_the_field(
    kwargs: dict[str, object], error: type[Exception], field: str
) -> None:
    arguments: dict[str, object] = {"age_years": 40, "weight_kg": 72, "serum_creatinine": 1.0, "sex": "male"}
    with pytest.raises(error) as raised:
        creatinine_clearance(**{**arguments, **kwargs})  # type: ignore[arg-type]
    assert getattr(raised.value, "field", None) == field


@pytest.mark.parametrize(
    ("bsa", "crcl", "regimen", "flu", "cy", "capped"),
    [
        pytest.param(1.8, 100, LymphodepletionRegimen(), 54.0, 540.0, False, id="normal-renal-function"),
        pytest.param(1.8, 50, LymphodepletionRegimen(), 43.2, 540.0, False, id="crcl-50-reduced-20pct"),
        pytest.param(1.8, 70, LymphodepletionRegimen(), 43.2, 540.0, False, id="crcl-70-still-reduced"),
        pytest.param(1.8, 30, LymphodepletionRegimen(), 43.2, 540.0, False, id="crcl-30-reduced"),
        pytest.param(2.3, 90, LymphodepletionRegimen(bsa_cap_m2=2.0), 60.0, 600.0, True, id="bsa-capped"),
        pytest.param(2.3, 90, LymphodepletionRegimen(), 69.0, 690.0, False, id="no-cap-unless-asked"),
        pytest.param(
            1.8,
            100,
            LymphodepletionRegimen(cyclophosphamide_mg_per_m2_per_day=500),
            54.0,
            900.0,
            False,
            id="cy-500",
        ),
    ],
)
def test_lymphodepletion_doses_match_the_hand_worked_value(
    bsa: float, crcl: float, regimen: LymphodepletionRegimen, flu: float, cy: float, capped: bool
) -> None:
    doses = lymphodepletion_doses(bsa_m2=bsa, crcl_ml_min=crcl, regimen=regimen)
    assert doses.fludarabine_mg_per_day == pytest.approx(flu)
    assert doses.cyclophosphamide_mg_per_day == pytest.approx(cy)
    assert doses.bsa_capped is capped
    assert doses.days == (-5, -4, -3)
    assert doses.fludarabine_total_mg == pytest.approx(3 * flu)
    assert doses.cyclophosphamide_total_mg == pytest.approx(3 * cy)


def test_fludarabine_is_withheld_below_30_ml_per_min_with_the_reason() -> None:
    with pytest.raises(Conflict, match=r"19\.2 mL/min is below 30 mL/min") as raised:
        lymphodepletion_doses(bsa_m2=1.5, crcl_ml_min=19.18)
    assert raised.value.field == "crcl_ml_min"


def test_renal_bands_are_protocol_parameters() -> None:
    renal = FludarabineRenalAdjustment(
        withhold_below_ml_min=40, reduce_at_or_below_ml_min=80, reduction_percent=25
    )
    doses = lymphodepletion_doses(bsa_m2=2.0, crcl_ml_min=75, regimen=LymphodepletionRegimen(renal=renal))
    assert doses.fludarabine_mg_per_day == pytest.approx(45.0)  # 30 × 2.0 × 0.75
    with pytest.raises(Conflict):
        lymphodepletion_doses(bsa_m2=2.0, crcl_ml_min=35, regimen=LymphodepletionRegimen(renal=renal))


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        pytest.param({"days": (-5, 0)}, "days", id="day-0"),
        pytest.param({"days": ()}, "days", id="no-days"),
        pytest.param({"fludarabine_mg_per_m2_per_day": 0}, "fludarabine_mg_per_m2_per_day", id="zero-flu"),
        pytest.param({"bsa_cap_m2": -2}, "bsa_cap_m2", id="negative-cap"),
    ],
)
def test_a_malformed_regimen_is_refused(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        LymphodepletionRegimen(**kwargs)  # type: ignore[arg-type]
    assert raised.value.field == field


BAG = ProductBag(total_nucleated_cells=5.0e8, viability_percent=90, car_positive_percent=40, volume_ml=50)


def test_bag_holds_the_hand_worked_car_positive_viable_cells() -> None:
    assert BAG.car_positive_viable_cells == pytest.approx(1.8e8)
    assert BAG.cells_per_ml == pytest.approx(3.6e6)


def test_cart_volume_is_rounded_down_to_the_increment_and_never_exceeds_the_target() -> None:
    dose = cart_dose(weight_kg=70, bag=BAG, target_cells_per_kg=1e6, maximum_cells_per_kg=2e6)
    assert dose.volume_ml == pytest.approx(19.4)
    assert dose.cells_delivered == pytest.approx(6.984e7)
    assert dose.cells_per_kg == pytest.approx(0.99771e6, rel=1e-4)
    assert not dose.whole_bag
    assert not dose.below_target


def test_a_bag_short_of_the_target_is_given_whole_and_flagged() -> None:
    dose = cart_dose(weight_kg=100, bag=BAG, target_cells_per_kg=2e6, maximum_cells_per_kg=2e6)
    assert dose.volume_ml == pytest.approx(50)
    assert dose.cells_per_kg == pytest.approx(1.8e6)
    assert dose.whole_bag
    assert dose.below_target


def test_a_dose_above_the_maximum_is_refused_naming_the_numbers() -> None:
    with pytest.raises(Conflict, match=r"2\.57e\+06 cells/kg for 70 kg, above the maximum 2e\+06"):
        cart_dose(weight_kg=70, bag=BAG, target_cells_per_kg=1e6, maximum_cells_per_kg=2e6, volume_ml=50)


def test_a_target_below_one_volume_increment_is_refused() -> None:
    with pytest.raises(InvalidInput, match=r"less than one 0\.1 mL increment") as raised:
        cart_dose(weight_kg=3, bag=BAG, target_cells_per_kg=1e5, maximum_cells_per_kg=2e6)  # 3e5 / 3.6e6 mL
    assert raised.value.field == "volume_increment_ml"


def test_a_dose_below_the_minimum_is_refused() -> None:
    with pytest.raises(Conflict, match="below the minimum"):
        cart_dose(
            weight_kg=100,
            bag=BAG,
            target_cells_per_kg=2e6,
            maximum_cells_per_kg=2e6,
            minimum_cells_per_kg=1.9e6,
        )


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        pytest.param({"target_cells_per_kg": 3e6}, "target_cells_per_kg", id="target-above-maximum"),
        pytest.param({"volume_ml": 60}, "volume_ml", id="more-than-the-bag"),
        pytest.param({"weight_kg": 0}, "weight_kg", id="zero-weight"),
    ],
)
def test_cart_dose_refuses_bad_input(kwargs: dict[str, object], field: str) -> None:
    arguments: dict[str, object] = {
        "weight_kg": 70,
        "bag": BAG,
        "target_cells_per_kg": 1e6,
        "maximum_cells_per_kg": 2e6,
    }
    with pytest.raises(InvalidInput) as raised:
        cart_dose(**{**arguments, **kwargs})  # type: ignore[arg-type]
    assert raised.value.field == field


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        pytest.param({"viability_percent": 101}, "viability_percent", id="viability-over-100"),
        pytest.param({"car_positive_percent": 0}, "car_positive_percent", id="no-car-cells"),
        pytest.param({"volume_ml": -5}, "volume_ml", id="negative-volume"),
    ],
)
def test_a_malformed_bag_is_refused(kwargs: dict[str, object], field: str) -> None:
    arguments: dict[str, object] = {
        "total_nucleated_cells": 5e8,
        "viability_percent": 90,
        "car_positive_percent": 40,
        "volume_ml": 50,
    }
    with pytest.raises(InvalidInput) as raised:
        ProductBag(**{**arguments, **kwargs})  # type: ignore[arg-type]
    assert raised.value.field == field


@given(
    weight=st.floats(3, 200),
    cells=st.floats(1e7, 1e10),
    viability=st.floats(50, 100),
    car=st.floats(5, 100),
    volume=st.floats(5, 250),
    target=st.floats(1e5, 5e6),
)
def test_the_computed_volume_never_delivers_more_than_the_target(
    weight: float, cells: float, viability: float, car: float, volume: float, target: float
) -> None:
    bag = ProductBag(cells, viability, car, volume)
    assume(target * weight / bag.cells_per_ml >= 0.1)  # at least one 0.1 mL increment
    dose = cart_dose(weight_kg=weight, bag=bag, target_cells_per_kg=target, maximum_cells_per_kg=target)
    assert dose.cells_per_kg <= target * (1 + 1e-9)
    assert dose.volume_ml <= bag.volume_ml
