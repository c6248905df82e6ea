"""Body surface area against hand-worked values.

Mosteller (N Engl J Med 1987;317:1098), BSA = √(H × W / 3600):

* 180 cm, 80 kg: 180 × 80 = 14 400; / 3600 = 4; √4 = 2.0000 m².
* 150 cm, 24 kg: 150 × 24 = 3600; / 3600 = 1; √1 = 1.0000 m².
* 160 cm, 90 kg: 160 × 90 = 14 400 → 2.0000 m².
* 170 cm, 70 kg: 11 900 / 3600 = 3.305 556; √ = 1.8181 m² (1.8181² = 3.3055).

Du Bois (Arch Intern Med 1916;17:863), BSA = 0.007184 × W^0.425 × H^0.725, by common logarithms:

* 170 cm, 70 kg: log 70 = 1.845 098 × 0.425 = 0.784 167; log 170 = 2.230 449 × 0.725 = 1.617 075;
  log 0.007184 = −2.143 634; sum 0.257 608; 10^0.257 608 = 1.8097 m².
* 180 cm, 80 kg: log 80 = 1.903 090 × 0.425 = 0.808 813; log 180 = 2.255 273 × 0.725 = 1.635 073;
  sum with −2.143 634 = 0.300 252; 10^0.300 252 = 1.9965 m².
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from celltrial.clinical.bsa import BsaFormula, body_surface_area, du_bois, mosteller
from celltrial.errors import InvalidInput


@pytest.mark.parametrize(
    ("height_cm", "weight_kg", "expected"),
    [
        pytest.param(180, 80, 2.0, id="180cm-80kg"),
        pytest.param(150, 24, 1.0, id="150cm-24kg"),
        pytest.param(160, 90, 2.0, id="160cm-90kg"),
        pytest.param(170, 70, 1.8181, id="170cm-70kg"),
    ],
)
def test_mosteller_matches_the_hand_worked_value(height_cm: float, weight_kg: float, expected: float) -> None:
    assert mosteller(height_cm, weight_kg) == pytest.approx(expected, abs=5e-5)


@pytest.mark.parametrize(
    ("height_cm", "weight_kg", "expected"),
    [
        pytest.param(170, 70, 1.8097, id="170cm-70kg"),
        pytest.param(180, 80, 1.9965, id="180cm-80kg"),
    ],
)
def test_du_bois_matches_the_hand_worked_value(height_cm: float, weight_kg: float, expected: float) -> None:
    assert du_bois(height_cm, weight_kg) == pytest.approx(expected, abs=1e-4)


def test_mosteller_is_the_default_formula() -> None:
    assert body_surface_area(180, 80) == pytest.approx(2.0)
    assert body_surface_area(180, 80, "dubois") == pytest.approx(1.9965, abs=1e-4)
    assert body_surface_area(180, 80, BsaFormula.MOSTELLER) == pytest.approx(2.0)


def test_an_unknown_formula_is_refused() -> None:
    with pytest.raises(InvalidInput, match="unknown BSA formula 'haycock'") as raised:
        body_surface_area(170, 70, "haycock")
    assert raised.value.field == "formula"


@pytest.mark.parametrize(
    ("height_cm", "weight_kg", "field", "problem"),
    [
        pytest.param(0, 70, "height_cm", "positive", id="zero-height"),
        pytest.param(170, -70, "weight_kg", "positive", id="negative-weight"),
        pytest.param(float("nan"), 70, "height_cm", "positive", id="nan-height"),
        pytest.param(1700, 70, "height_cm", "plausible range", id="height-in-mm"),
        pytest.param(1.7, 70, "height_cm", "plausible range", id="height-in-metres"),
        pytest.param(170, 70000, "weight_kg", "plausible range", id="weight-in-grams"),
        pytest.param(True, 70, "height_cm", "must be a number", id="boolean"),
    ],
)
def test_an_impossible_height_or_weight_is_refused(
    height_cm: float, weight_kg: float, field: str, problem: str
) -> None:
    for formula in BsaFormula:
        with pytest.raises(InvalidInput, match=problem) as raised:
            body_surface_area(height_cm, weight_kg, formula)
        assert raised.value.field == field


@given(height=st.floats(30, 272), weight=st.floats(0.5, 320), factor=st.floats(1.01, 2.0))
def test_bsa_grows_with_weight_in_both_formulas(height: float, weight: float, factor: float) -> None:
    heavier = weight * factor
    assert mosteller(height, heavier) > mosteller(height, weight)
    assert du_bois(height, heavier) > du_bois(height, weight)
