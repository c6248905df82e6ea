"""UCUM units through pint, with the conversion factors of clinical chemistry tables.

Young DS, Ann Intern Med 1987;106:114-129 (SI conversion table): haemoglobin g/dL x 10 = g/L;
creatinine mg/dL x 88.4 = µmol/L (molar mass 113.12 g/mol); bilirubin mg/dL x 17.1 = µmol/L
(molar mass 584.66 g/mol).
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from celltrial.clinical.units import conversion_factor, convert, is_known_unit, pint_unit
from celltrial.errors import UnsupportedUnit


@pytest.mark.parametrize(
    ("value", "source", "target", "analyte", "expected"),
    [
        pytest.param(7, "g/dL", "g/L", None, 70, id="hemoglobin 7 g/dL is 70 g/L"),
        pytest.param(1, "mg/dL", "umol/L", "creatinine", 88.4, id="creatinine 1 mg/dL is 88.4 umol/L"),
        pytest.param(88.4, "umol/L", "mg/dL", "creatinine", 1.0, id="creatinine 88.4 umol/L is 1 mg/dL"),
        pytest.param(1, "mg/dL", "umol/L", "total_bilirubin", 17.1, id="bilirubin 1 mg/dL is 17.1 umol/L"),
        pytest.param(17.1, "µmol/L", "mg/dL", "total_bilirubin", 1.0, id="bilirubin with a micro sign"),
        pytest.param(500, "[IU]/mL", "[IU]/L", None, 500_000, id="HBV DNA IU/mL to IU/L"),
        pytest.param(4.5, "10*9/L", "10*3/uL", None, 4.5, id="counts 10*9/L equal 10*3/uL"),
        pytest.param(95, "%", "1", None, 0.95, id="percent to a fraction"),
    ],
)
def test_clinical_conversions(
    value: float, source: str, target: str, analyte: str | None, expected: float
) -> None:
    assert convert(value, source, target, analyte) == pytest.approx(expected, rel=2e-3)


def test_the_creatinine_factor_follows_from_its_molar_mass() -> None:
    assert conversion_factor("mg/dL", "umol/L", "creatinine") == pytest.approx(10_000 / 113.12, rel=1e-12)


def test_mass_and_substance_do_not_convert_without_a_molar_mass() -> None:
    with pytest.raises(UnsupportedUnit, match="cannot convert 'mg/dL' to 'umol/L'"):
        conversion_factor("mg/dL", "umol/L")


@pytest.mark.parametrize("unit", ["mmol/L per day", "g per L", "bogus", "mg/dL)", "import os"])
def test_text_that_is_no_ucum_code_is_an_unknown_unit(unit: str) -> None:
    assert not is_known_unit(unit)
    with pytest.raises(UnsupportedUnit, match="unknown unit"):
        conversion_factor(unit, "g/L")


def test_ucum_annotations_are_dimensionless() -> None:
    assert pint_unit("{score}") == "dimensionless"
    assert conversion_factor("{cells}/uL", "10*6/L") == pytest.approx(1.0)


@given(st.floats(min_value=0.001, max_value=1e6), st.sampled_from(["creatinine", "total_bilirubin"]))
def test_converting_there_and_back_returns_the_value(value: float, analyte: str) -> None:
    there = convert(value, "mg/dL", "umol/L", analyte)
    assert convert(there, "umol/L", "mg/dL", analyte) == pytest.approx(value, rel=1e-12)
