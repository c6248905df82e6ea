"""Units of measure: one shared pint registry that reads UCUM unit codes.

Every domain converts through :func:`convert` (or :func:`conversion_factor`), never with a factor
written into a rule. Unit codes are UCUM (https://ucum.org/ucum): ``g/dL``, ``mg/dL``, ``umol/L``,
``U/L``, ``[IU]/mL``, ``%``, ``10*9/L``, ``{score}``. A UCUM code is rewritten into pint's syntax by
a few textual rules (``[IU]`` → ``IU``, ``10*9`` → ``1e9``, ``{annotation}`` → dimensionless,
``µ`` → ``u``) and then parsed by pint.

Mass and amount-of-substance concentrations convert through pint's ``chemistry`` context with the
analyte's molar mass (:data:`MOLAR_MASS_G_PER_MOL`):

* creatinine, C4H7N3O, 113.12 g/mol: 1 mg/dL = 10 000 / 113.12 = 88.40 µmol/L (clinical tables
  round the factor to 88.4; the often-quoted 88.42 corresponds to a molar mass of 113.10);
* bilirubin, C33H36N4O6, 584.66 g/mol: 1 mg/dL = 17.10 µmol/L.

Sources: Unified Code for Units of Measure (UCUM), Regenstrief Institute; molar masses from
PubChem (creatinine CID 588, bilirubin CID 5280352); SI conversion factors as tabulated in
Young DS, "Implementation of SI units for clinical laboratory data", Ann Intern Med
1987;106:114-129.

Factors are cached per (from, to, analyte): pint parses a unit once, then a conversion costs a
dictionary lookup and a multiplication. Offset units (temperatures) are not handled by the
factor path and raise :class:`~celltrial.errors.UnsupportedUnit`.
"""

from __future__ import annotations

import math
import re
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Any

from celltrial.errors import UnsupportedUnit

if TYPE_CHECKING:
    import pint

__all__ = [
    "MOLAR_MASS_G_PER_MOL",
    "conversion_factor",
    "convert",
    "is_known_unit",
    "pint_unit",
    "registry",
]

MOLAR_MASS_G_PER_MOL: dict[str, float] = {
    "creatinine": 113.12,
    "total_bilirubin": 584.66,
    "bilirubin": 584.66,
}


@cache
def registry() -> pint.UnitRegistry[float]:
    """The shared pint registry (built on first use: importing pint and building it takes a second)."""
    import pint

    units: pint.UnitRegistry[float] = pint.UnitRegistry(cache_folder=None)
    units.define("international_unit = [international_unit] = IU")
    return units


_ANNOTATION = re.compile(r"\{[^}]*\}")
_POWER_OF_TEN = re.compile(r"10\*(-?\d+)")
_UCUM_ATOMS = {"[IU]": "IU", "[iU]": "IU", "µ": "u", "μ": "u"}


def pint_unit(ucum: str) -> str:
    """Rewrite a UCUM unit code into pint's syntax (``10*9/L`` → ``1e9/L``, ``{cells}/uL`` → ``1/uL``)."""
    text = ucum.strip()
    for atom, replacement in _UCUM_ATOMS.items():
        text = text.replace(atom, replacement)
    text = _POWER_OF_TEN.sub(r"1e\1", text)
    text = _ANNOTATION.sub("1", text)
    if text in {"", "1"}:
        return "dimensionless"
    return text.replace("%", "percent")


@lru_cache(maxsize=1024)
def _parse(ucum: str) -> Any:
    if any(character.isspace() for character in ucum.strip()):
        return None  # a UCUM code has no spaces; pint would read "g per L" as a product
    try:
        parsed = registry().parse_expression(pint_unit(ucum))
    except Exception:  # pint's tokenizer raises many types on malformed unit text
        return None
    units = registry()
    if isinstance(parsed, (int, float)):
        return units.Quantity(float(parsed), "dimensionless")
    return parsed if isinstance(parsed, units.Quantity) else None


def is_known_unit(ucum: str) -> bool:
    """Whether celltrial can read this UCUM unit code."""
    return _parse(ucum) is not None


@lru_cache(maxsize=4096)
def conversion_factor(source: str, target: str, analyte: str | None = None) -> float:
    """The factor f such that ``value [source] * f = value [target]``.

    ``analyte`` (e.g. ``creatinine``) supplies the molar mass for mass ↔ substance conversions.
    Raises :class:`UnsupportedUnit` when either unit is unknown or the two do not convert.
    """
    source_unit, target_unit = _parse(source), _parse(target)
    if source_unit is None:
        raise UnsupportedUnit(f"unknown unit {source!r}", field="unit")
    if target_unit is None:
        raise UnsupportedUnit(f"unknown unit {target!r}", field="unit")
    import pint

    for given, parsed in ((source, source_unit), (target, target_unit)):
        if not math.isfinite(float(parsed.magnitude)) or float(parsed.magnitude) == 0:
            raise UnsupportedUnit(f"{given!r} is not a unit (its scale is {parsed.magnitude})", field="unit")
    quantity = source_unit
    try:
        if analyte in MOLAR_MASS_G_PER_MOL:
            molar_mass = registry().Quantity(MOLAR_MASS_G_PER_MOL[analyte], "g/mol")
            converted = quantity.to(target_unit.units, "chemistry", mw=molar_mass)
        else:
            converted = quantity.to(target_unit.units)
    except pint.errors.DimensionalityError:
        what = f" for {analyte}" if analyte else ""
        raise UnsupportedUnit(f"cannot convert {source!r} to {target!r}{what}", field="unit") from None
    except pint.errors.OffsetUnitCalculusError:
        raise UnsupportedUnit(f"{source!r} is an offset unit", field="unit") from None
    factor = float(converted.magnitude) / float(target_unit.magnitude)
    if not math.isfinite(factor) or factor == 0:
        raise UnsupportedUnit(f"cannot convert {source!r} to {target!r}: not a usable scale", field="unit")
    return factor


def convert(value: float, source: str, target: str, analyte: str | None = None) -> float:
    """Convert ``value`` from UCUM unit ``source`` to ``target`` (see :func:`conversion_factor`)."""
    if source == target:
        return value
    return value * conversion_factor(source, target, analyte)
