"""Release of a CAR-T lot: its test results against the protocol's release specifications (pure).

The specifications are the trial's settings (``release_specifications`` in the protocol settings
file, each value marked ``protocol`` or ``assumption``); this module only says how a result is
compared with its specification, following:

* FDA, *Considerations for the Development of Chimeric Antigen Receptor (CAR) T Cell Products*,
  guidance for industry, January 2024 (CMC recommendations, product testing): release tests for
  sterility, mycoplasma, endotoxin, identity, purity, potency/transduction (CAR+ cells),
  viability and vector copy number; a lot that fails any is not released.
* FDA, *Content and Review of CMC Information for Human Somatic Cell Therapy INDs*, April 2008
  (product testing, viability): a minimum acceptable cell viability of 70% — viability, CAR+ % and CD3+ %
  (identity/purity) pass **at or above** their minimum.
* 21 CFR 610.12 and USP <71> Sterility Tests: the product passes when there is **no growth**.
* USP <63> Mycoplasma Tests / 21 CFR 610.30: the product passes when mycoplasma is **negative**.
* USP <85> Bacterial Endotoxins Test: endotoxin limit = K/M with K = 5 EU/kg for any route other
  than intrathecal and M the maximum dose per kg given within one hour; a product passes when its
  endotoxin does **not exceed** the limit. Here the dose is the volume to be infused (the lot's
  bags, the most a patient can receive) and the patient's weight:
  EU/kg = endotoxin (EU/mL) × volume (mL) / weight (kg), compared with the specification's
  maximum EU/kg, limit included. (The settings note writes "< 5 EU/kg"; USP's limit is a
  ceiling that a result equal to it does not exceed.)
* Vector copy number (copies per cell) passes **at or below** its maximum (FDA, *Chemistry,
  Manufacturing, and Control (CMC) Information for Human Gene Therapy INDs*, January 2020;
  "≤ 5 copies/cell" is the trial's assumption).

Comparisons at a limit use a relative tolerance of 1e-9, so a value that equals its limit but
carries binary rounding (5.000000000000001 EU/kg) is treated as equal to it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from celltrial.errors import InvalidInput
from celltrial.protocol.settings import ReleaseSpecifications

__all__ = [
    "MYCOPLASMA_RESULTS",
    "STERILITY_RESULTS",
    "DoseBasis",
    "ReleaseDecision",
    "ReleaseResults",
    "SpecificationCheck",
    "decide_release",
    "endotoxin_eu_per_kg",
]

STERILITY_RESULTS = frozenset({"no_growth", "growth"})
MYCOPLASMA_RESULTS = frozenset({"negative", "positive"})
_TOLERANCE = 1e-9


def _number(value: float, field: str, *, low: float = 0.0, high: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidInput(f"must be a number, got {value!r}", field=field)
    number = float(value)
    if number < low or (high is not None and number > high):
        bound = f"{low:g}-{high:g}" if high is not None else f"at least {low:g}"
        raise InvalidInput(f"{number:g} is out of range ({bound})", field=field)
    return number


def _category(value: str, allowed: frozenset[str], field: str) -> str:
    key = str(value).strip().lower().replace("-", "_").replace(" ", "_")
    if key not in allowed:
        raise InvalidInput(
            f"{value!r} is not a result (use one of: {', '.join(sorted(allowed))})", field=field
        )
    return key


@dataclass(frozen=True)
class ReleaseResults:
    """A lot's certificate-of-analysis results; each field is validated and named on error."""

    viability_percent: float
    car_positive_percent: float
    cd3_positive_percent: float
    sterility: str
    endotoxin_eu_per_ml: float
    mycoplasma: str
    vector_copy_number: float

    def __post_init__(self) -> None:
        for name in ("viability_percent", "car_positive_percent", "cd3_positive_percent"):
            _number(getattr(self, name), name, high=100.0)
        _number(self.endotoxin_eu_per_ml, "endotoxin_eu_per_ml")
        _number(self.vector_copy_number, "vector_copy_number", high=1000.0)
        object.__setattr__(self, "sterility", _category(self.sterility, STERILITY_RESULTS, "sterility"))
        object.__setattr__(self, "mycoplasma", _category(self.mycoplasma, MYCOPLASMA_RESULTS, "mycoplasma"))


@dataclass(frozen=True)
class DoseBasis:
    """What the endotoxin limit is computed on: the volume infused and the patient's weight."""

    volume_ml: float
    weight_kg: float

    def __post_init__(self) -> None:
        if _number(self.volume_ml, "volume_ml") <= 0:
            raise InvalidInput("the dose volume must be above 0 mL", field="volume_ml")
        if not 2.0 <= _number(self.weight_kg, "weight_kg") <= 350.0:
            raise InvalidInput(
                f"{self.weight_kg:g} kg is not a plausible weight (2-350 kg)", field="weight_kg"
            )


def endotoxin_eu_per_kg(eu_per_ml: float, dose: DoseBasis) -> float:
    """Endotoxin the patient receives per kg of body weight (USP <85>: compared with K = 5 EU/kg)."""
    return _number(eu_per_ml, "endotoxin_eu_per_ml") * dose.volume_ml / dose.weight_kg


@dataclass(frozen=True)
class SpecificationCheck:
    """One test: its result, its specification, whether it passed, and where the specification comes from."""

    test: str
    result: str
    specification: str
    passed: bool
    source: str

    def __str__(self) -> str:
        verdict = "within specification" if self.passed else "OUT OF SPECIFICATION"
        return f"{self.test} {self.result} (specification {self.specification}): {verdict}"


@dataclass(frozen=True)
class ReleaseDecision:
    """Every check of a lot; releasable only when every one passed."""

    checks: tuple[SpecificationCheck, ...]
    endotoxin_eu_per_kg: float

    @property
    def releasable(self) -> bool:
        return all(check.passed for check in self.checks)

    @property
    def failures(self) -> tuple[SpecificationCheck, ...]:
        return tuple(check for check in self.checks if not check.passed)


def _at_least(value: float, minimum: float) -> bool:
    return value >= minimum or math.isclose(value, minimum, rel_tol=_TOLERANCE)


def _at_most(value: float, maximum: float) -> bool:
    return value <= maximum or math.isclose(value, maximum, rel_tol=_TOLERANCE)


def decide_release(
    results: ReleaseResults, specifications: ReleaseSpecifications, dose: DoseBasis
) -> ReleaseDecision:
    """Compare every result with its specification (sources in the module docstring)."""
    spec = specifications
    eu_per_kg = endotoxin_eu_per_kg(results.endotoxin_eu_per_ml, dose)
    checks = (
        SpecificationCheck(
            "viability",
            f"{results.viability_percent:g}%",
            f">= {spec.viability_percent_min.value:g}%",
            _at_least(results.viability_percent, spec.viability_percent_min.value),
            spec.viability_percent_min.source,
        ),
        SpecificationCheck(
            "CAR+ cells",
            f"{results.car_positive_percent:g}%",
            f">= {spec.car_positive_percent_min.value:g}%",
            _at_least(results.car_positive_percent, spec.car_positive_percent_min.value),
            spec.car_positive_percent_min.source,
        ),
        SpecificationCheck(
            "identity/purity (CD3+)",
            f"{results.cd3_positive_percent:g}%",
            f">= {spec.cd3_positive_percent_min.value:g}%",
            _at_least(results.cd3_positive_percent, spec.cd3_positive_percent_min.value),
            spec.cd3_positive_percent_min.source,
        ),
        SpecificationCheck(
            "sterility",
            results.sterility,
            spec.sterility.value,
            results.sterility == spec.sterility.value,
            spec.sterility.source,
        ),
        SpecificationCheck(
            "endotoxin",
            f"{eu_per_kg:.3g} EU/kg ({results.endotoxin_eu_per_ml:g} EU/mL x {dose.volume_ml:g} mL / "
            f"{dose.weight_kg:g} kg)",
            f"<= {spec.endotoxin_eu_per_kg_max.value:g} EU/kg",
            _at_most(eu_per_kg, spec.endotoxin_eu_per_kg_max.value),
            spec.endotoxin_eu_per_kg_max.source,
        ),
        SpecificationCheck(
            "mycoplasma",
            results.mycoplasma,
            spec.mycoplasma.value,
            results.mycoplasma == spec.mycoplasma.value,
            spec.mycoplasma.source,
        ),
        SpecificationCheck(
            "vector copy number",
            f"{results.vector_copy_number:g} copies/cell",
            f"<= {spec.vector_copy_number_max.value:g} copies/cell",
            _at_most(results.vector_copy_number, spec.vector_copy_number_max.value),
            spec.vector_copy_number_max.source,
        ),
    )
    return ReleaseDecision(checks, eu_per_kg)
