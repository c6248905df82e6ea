"""Body surface area (BSA) in m² from height and weight.

Sources:

* Mosteller RD. Simplified calculation of body-surface area. N Engl J Med 1987;317:1098 —
  BSA (m²) = √(height (cm) × weight (kg) / 3600). celltrial's default.
* Du Bois D, Du Bois EF. A formula to estimate the approximate surface area if height and weight
  be known. Arch Intern Med 1916;17:863–871 — A (cm²) = W^0.425 × H^0.725 × 71.84 with W in kg
  and H in cm, i.e. BSA (m²) = 0.007184 × W^0.425 × H^0.725.

Heights and weights outside what a living patient can have (height 30–272 cm, weight 0.5–650 kg,
the extremes of recorded human size) are refused as typing errors rather than computed.
"""

from __future__ import annotations

import math
from enum import StrEnum

from celltrial.errors import InvalidInput

__all__ = [
    "BSA_SOURCES",
    "HEIGHT_CM_RANGE",
    "WEIGHT_KG_RANGE",
    "BsaFormula",
    "body_surface_area",
    "du_bois",
    "mosteller",
]

HEIGHT_CM_RANGE = (30.0, 272.0)
WEIGHT_KG_RANGE = (0.5, 650.0)


class BsaFormula(StrEnum):
    MOSTELLER = "mosteller"
    DUBOIS = "dubois"


BSA_SOURCES = {
    BsaFormula.MOSTELLER: "Mosteller RD, N Engl J Med 1987;317:1098",
    BsaFormula.DUBOIS: "Du Bois D, Du Bois EF, Arch Intern Med 1916;17:863",
}


def _checked(value: float, name: str, unit: str, plausible: tuple[float, float]) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInput(f"must be a number in {unit}, got {value!r}", field=name)
    number = float(value)
    if not math.isfinite(number) or number <= 0:
        raise InvalidInput(f"must be a positive number of {unit}, got {value!r}", field=name)
    low, high = plausible
    if not low <= number <= high:
        raise InvalidInput(
            f"{number:g} {unit} is outside the plausible range {low:g}-{high:g} {unit}; check the entry",
            field=name,
        )
    return number


def mosteller(height_cm: float, weight_kg: float) -> float:
    """BSA (m²) by Mosteller 1987: √(height cm × weight kg / 3600)."""
    height = _checked(height_cm, "height_cm", "cm", HEIGHT_CM_RANGE)
    weight = _checked(weight_kg, "weight_kg", "kg", WEIGHT_KG_RANGE)
    return math.sqrt(height * weight / 3600.0)


def du_bois(height_cm: float, weight_kg: float) -> float:
    """BSA (m²) by Du Bois & Du Bois 1916: 0.007184 × weight^0.425 × height^0.725."""
    height = _checked(height_cm, "height_cm", "cm", HEIGHT_CM_RANGE)
    weight = _checked(weight_kg, "weight_kg", "kg", WEIGHT_KG_RANGE)
    return 0.007184 * math.pow(weight, 0.425) * math.pow(height, 0.725)


def body_surface_area(
    height_cm: float, weight_kg: float, formula: BsaFormula | str = BsaFormula.MOSTELLER
) -> float:
    """BSA (m²) by the chosen formula (Mosteller unless the protocol says Du Bois)."""
    try:
        chosen = BsaFormula(formula)
    except ValueError:
        known = ", ".join(member.value for member in BsaFormula)
        raise InvalidInput(f"unknown BSA formula {formula!r}; known: {known}", field="formula") from None
    if chosen is BsaFormula.DUBOIS:
        return du_bois(height_cm, weight_kg)
    return mosteller(height_cm, weight_kg)
