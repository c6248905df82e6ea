"""Dosing: creatinine clearance, lymphodepletion (fludarabine + cyclophosphamide), CAR-T cell dose.

Sources:

* Cockcroft DW, Gault MH. Prediction of creatinine clearance from serum creatinine.
  Nephron 1976;16:31–41 — CrCl (mL/min) = (140 − age) × weight (kg) / (72 × serum creatinine
  (mg/dL)), × 0.85 for women. Derived in adults (men aged 18–92), so it is refused under 18.
  Creatinine in µmol/L is converted with pint and creatinine's molar mass 113.12 g/mol
  (1 mg/dL = 88.4 µmol/L).
* Fludarabine phosphate injection, US prescribing information, "Renal insufficiency": creatinine
  clearance 30 to 70 mL/min/1.73 m² → 20% dose reduction; severely impaired renal function
  (< 30) → not to be given. These are the default :class:`FludarabineRenalAdjustment`; the
  protocol may set others. Decision: the thresholds are applied to the Cockcroft–Gault value in
  mL/min as computed (not re-normalised to 1.73 m²), as CAR-T protocols usually write them.
* Lymphodepletion defaults (fludarabine 30 mg/m²/day, cyclophosphamide 300 mg/m²/day on days −5,
  −4, −3) are the trial's settings, marked as assumptions there; YESCARTA's US label uses
  fludarabine 30 and cyclophosphamide 500 mg/m²/day on the same days.
* CAR-T dose: CAR+ viable cells in the bag = total nucleated cells × viability × CAR+ fraction
  (CAR+ % taken as a share of viable cells); the volume to infuse delivers the target cells/kg,
  rounded *down* to the syringe increment so the target is never exceeded by rounding.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import pint

from celltrial.clinical.bsa import WEIGHT_KG_RANGE
from celltrial.errors import Conflict, InvalidInput, UnsupportedUnit

__all__ = [
    "CREATININE_MOLAR_MASS_G_PER_MOL",
    "CarTDose",
    "FludarabineRenalAdjustment",
    "LymphodepletionDoses",
    "LymphodepletionRegimen",
    "ProductBag",
    "cart_dose",
    "creatinine_clearance",
    "creatinine_mg_per_dl",
    "lymphodepletion_doses",
]

CREATININE_MOLAR_MASS_G_PER_MOL = 113.12
_units: pint.UnitRegistry[float] = pint.UnitRegistry()
_PLAUSIBLE_CREATININE_MG_PER_DL = (0.1, 25.0)


def _positive(value: float, field: str, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInput(f"must be a number ({what}), got {value!r}", field=field)
    number = float(value)
    if not math.isfinite(number) or number <= 0:
        raise InvalidInput(f"must be a positive number ({what}), got {value!r}", field=field)
    return number


def _percent(value: float, field: str) -> float:
    number = _positive(value, field, "%")
    if number > 100:
        raise InvalidInput(f"{number:g}% is above 100%", field=field)
    return number


def _weight(weight_kg: float) -> float:
    weight = _positive(weight_kg, "weight_kg", "kg")
    low, high = WEIGHT_KG_RANGE
    if not low <= weight <= high:
        raise InvalidInput(
            f"{weight:g} kg is outside the plausible range {low:g}-{high:g} kg", field="weight_kg"
        )
    return weight


def creatinine_mg_per_dl(value: float, unit: str) -> float:
    """Serum creatinine in mg/dL from a mass (mg/dL, mg/L) or molar (µmol/L) concentration."""
    amount = _positive(value, "serum_creatinine", unit)
    spelled = unit.strip().replace("µ", "u").replace("μ", "u")  # micro sign and Greek mu
    try:
        quantity = _units.Quantity(amount, spelled)
        if quantity.check("[substance] / [length] ** 3"):
            quantity = quantity * _units.Quantity(CREATININE_MOLAR_MASS_G_PER_MOL, "g/mol")
        converted = float(quantity.to("mg/dL").magnitude)
    except (pint.errors.PintError, AttributeError, TypeError, ValueError):
        raise UnsupportedUnit(
            f"cannot convert creatinine in {unit!r} to mg/dL; use mg/dL or umol/L", field="creatinine_unit"
        ) from None
    low, high = _PLAUSIBLE_CREATININE_MG_PER_DL
    if not low <= converted <= high:
        raise InvalidInput(
            f"{amount:g} {unit} ({converted:.2f} mg/dL) is outside the plausible range "
            f"{low:g}-{high:g} mg/dL",
            field="serum_creatinine",
        )
    return converted


def creatinine_clearance(
    *,
    age_years: float,
    weight_kg: float,
    serum_creatinine: float,
    sex: Literal["female", "male"],
    creatinine_unit: str = "mg/dL",
) -> float:
    """Creatinine clearance (mL/min) by Cockcroft & Gault, Nephron 1976;16:31."""
    age = _positive(age_years, "age_years", "years")
    if age < 18:
        raise InvalidInput(
            f"Cockcroft-Gault is an adult formula (derived at 18-92 years); age {age:g} needs a paediatric "
            "estimate",
            field="age_years",
        )
    if age > 120:
        raise InvalidInput(f"{age:g} years is not a plausible age", field="age_years")
    if sex not in ("female", "male"):
        raise InvalidInput(f"must be 'female' or 'male', got {sex!r}", field="sex")
    creatinine = creatinine_mg_per_dl(serum_creatinine, creatinine_unit)
    clearance = (140.0 - age) * _weight(weight_kg) / (72.0 * creatinine)
    return clearance * 0.85 if sex == "female" else clearance


@dataclass(frozen=True)
class FludarabineRenalAdjustment:
    """Fludarabine by creatinine clearance: withhold below one threshold, reduce up to another."""

    withhold_below_ml_min: float = 30.0
    reduce_at_or_below_ml_min: float = 70.0
    reduction_percent: float = 20.0

    def __post_init__(self) -> None:
        if not 0 <= self.withhold_below_ml_min <= self.reduce_at_or_below_ml_min:
            raise InvalidInput(
                f"withhold threshold {self.withhold_below_ml_min:g} must be between 0 and the reduction "
                f"threshold {self.reduce_at_or_below_ml_min:g} mL/min",
                field="renal.withhold_below_ml_min",
            )
        if not 0 <= self.reduction_percent < 100:
            raise InvalidInput(
                f"{self.reduction_percent:g}% must be at least 0 and below 100",
                field="renal.reduction_percent",
            )

    def dose_percent(self, crcl_ml_min: float) -> float:
        """Share of the full fludarabine dose (100, or 100 − reduction); withholding raises Conflict."""
        crcl = _positive(crcl_ml_min, "crcl_ml_min", "mL/min")
        if crcl < self.withhold_below_ml_min:
            raise Conflict(
                f"creatinine clearance {crcl:.1f} mL/min is below {self.withhold_below_ml_min:g} mL/min: "
                "fludarabine is not to be given; the investigator decides the regimen",
                field="crcl_ml_min",
            )
        if crcl <= self.reduce_at_or_below_ml_min:
            return 100.0 - self.reduction_percent
        return 100.0


@dataclass(frozen=True)
class LymphodepletionRegimen:
    """Lymphodepletion per the protocol settings (defaults: the trial's assumed Flu/Cy)."""

    fludarabine_mg_per_m2_per_day: float = 30.0
    cyclophosphamide_mg_per_m2_per_day: float = 300.0
    days: tuple[int, ...] = (-5, -4, -3)
    bsa_cap_m2: float | None = None
    renal: FludarabineRenalAdjustment = FludarabineRenalAdjustment()

    def __post_init__(self) -> None:
        _positive(self.fludarabine_mg_per_m2_per_day, "fludarabine_mg_per_m2_per_day", "mg/m²/day")
        _positive(self.cyclophosphamide_mg_per_m2_per_day, "cyclophosphamide_mg_per_m2_per_day", "mg/m²/day")
        if not self.days or any(day >= 0 for day in self.days) or len(set(self.days)) != len(self.days):
            raise InvalidInput(f"{self.days!r} must be distinct days before infusion (< 0)", field="days")
        if self.bsa_cap_m2 is not None:
            _positive(self.bsa_cap_m2, "bsa_cap_m2", "m²")


@dataclass(frozen=True)
class LymphodepletionDoses:
    """Daily and course doses for one patient."""

    bsa_m2: float
    dosing_bsa_m2: float
    bsa_capped: bool
    crcl_ml_min: float
    fludarabine_percent: float
    fludarabine_mg_per_day: float
    cyclophosphamide_mg_per_day: float
    days: tuple[int, ...]

    @property
    def fludarabine_total_mg(self) -> float:
        return self.fludarabine_mg_per_day * len(self.days)

    @property
    def cyclophosphamide_total_mg(self) -> float:
        return self.cyclophosphamide_mg_per_day * len(self.days)


def lymphodepletion_doses(
    *, bsa_m2: float, crcl_ml_min: float, regimen: LymphodepletionRegimen | None = None
) -> LymphodepletionDoses:
    """Fludarabine and cyclophosphamide mg/day from BSA (capped if the regimen caps it) and CrCl."""
    chosen = regimen or LymphodepletionRegimen()
    bsa = _positive(bsa_m2, "bsa_m2", "m²")
    capped = chosen.bsa_cap_m2 is not None and bsa > chosen.bsa_cap_m2
    dosing_bsa = chosen.bsa_cap_m2 if capped and chosen.bsa_cap_m2 is not None else bsa
    percent = chosen.renal.dose_percent(crcl_ml_min)
    return LymphodepletionDoses(
        bsa_m2=bsa,
        dosing_bsa_m2=dosing_bsa,
        bsa_capped=capped,
        crcl_ml_min=float(crcl_ml_min),
        fludarabine_percent=percent,
        fludarabine_mg_per_day=chosen.fludarabine_mg_per_m2_per_day * dosing_bsa * percent / 100.0,
        cyclophosphamide_mg_per_day=chosen.cyclophosphamide_mg_per_m2_per_day * dosing_bsa,
        days=chosen.days,
    )


@dataclass(frozen=True)
class ProductBag:
    """The final product bag as its certificate of analysis describes it."""

    total_nucleated_cells: float
    viability_percent: float
    car_positive_percent: float
    volume_ml: float

    def __post_init__(self) -> None:
        _positive(self.total_nucleated_cells, "total_nucleated_cells", "cells")
        _percent(self.viability_percent, "viability_percent")
        _percent(self.car_positive_percent, "car_positive_percent")
        _positive(self.volume_ml, "volume_ml", "mL")

    @property
    def car_positive_viable_cells(self) -> float:
        return self.total_nucleated_cells * self.viability_percent / 100.0 * self.car_positive_percent / 100.0

    @property
    def cells_per_ml(self) -> float:
        return self.car_positive_viable_cells / self.volume_ml


@dataclass(frozen=True)
class CarTDose:
    """The volume to draw from the bag and the CAR+ viable cells it delivers."""

    volume_ml: float
    cells_delivered: float
    cells_per_kg: float
    target_cells_per_kg: float
    whole_bag: bool
    below_target: bool


def cart_dose(
    *,
    weight_kg: float,
    bag: ProductBag,
    target_cells_per_kg: float,
    maximum_cells_per_kg: float,
    minimum_cells_per_kg: float | None = None,
    volume_increment_ml: float = 0.1,
    volume_ml: float | None = None,
) -> CarTDose:
    """Volume to infuse for the target CAR+ viable cells/kg; a dose above the maximum is refused.

    ``volume_ml`` asks for a given volume instead (e.g. the whole bag); the dose it delivers is
    checked against the same maximum (and minimum, when set).
    """
    weight = _weight(weight_kg)
    target = _positive(target_cells_per_kg, "target_cells_per_kg", "CAR+ viable cells/kg")
    maximum = _positive(maximum_cells_per_kg, "maximum_cells_per_kg", "CAR+ viable cells/kg")
    increment = _positive(volume_increment_ml, "volume_increment_ml", "mL")
    if target > maximum:
        raise InvalidInput(
            f"target {target:.3g} cells/kg is above the maximum {maximum:.3g} cells/kg",
            field="target_cells_per_kg",
        )
    if volume_ml is not None:
        volume = _positive(volume_ml, "volume_ml", "mL")
        if volume > bag.volume_ml:
            raise InvalidInput(
                f"{volume:g} mL is more than the bag holds ({bag.volume_ml:g} mL)", field="volume_ml"
            )
    else:
        needed = target * weight / bag.cells_per_ml
        if needed >= bag.volume_ml:
            volume = bag.volume_ml
        else:
            volume = round(math.floor(round(needed / increment, 9)) * increment, 9)
            if volume <= 0:
                raise InvalidInput(
                    f"the target needs {needed:.3g} mL, less than one {increment:g} mL increment; dilute or "
                    "choose a finer increment",
                    field="volume_increment_ml",
                )
    delivered = volume * bag.cells_per_ml
    per_kg = delivered / weight
    if per_kg > maximum * (1 + 1e-9):
        raise Conflict(
            f"{volume:g} mL delivers {delivered:.3g} CAR+ viable cells = {per_kg:.3g} cells/kg "
            f"for {weight:g} kg, above the maximum {maximum:.3g} cells/kg",
            field="volume_ml",
        )
    if minimum_cells_per_kg is not None and per_kg < minimum_cells_per_kg * (1 - 1e-9):
        raise Conflict(
            f"{volume:g} mL delivers {per_kg:.3g} CAR+ viable cells/kg for {weight:g} kg, below the minimum "
            f"{minimum_cells_per_kg:.3g} cells/kg",
            field="volume_ml",
        )
    whole_bag = math.isclose(volume, bag.volume_ml)
    return CarTDose(
        volume_ml=volume,
        cells_delivered=delivered,
        cells_per_kg=per_kg,
        target_cells_per_kg=target,
        whole_bag=whole_bag,
        below_target=per_kg < target * (1 - 1e-9) and whole_bag,
    )
