"""The lymphoma lesion CRF (``lesions``) read as Lugano 2014 target-lesion measurements.

Cheson BD et al., J Clin Oncol 2014;32:3059 (the Lugano classification), "Measured dominant
lesions" and Table 3: up to six target lesions (nodes or extranodal), each measured on CT in its
longest transverse diameter (LDi) and the longest diameter perpendicular to it (SDi); the
product of the perpendicular diameters (PPD) per lesion and their sum (SPD) for the
assessment. The form keeps the lesions in numbered slots (``target_1_*`` ... ``target_6_*``),
so slot *n* is the same lesion at every time point; the CRF records millimetres (mm, mm²),
:mod:`celltrial.analysis.lugano` works in centimetres.

Pure: the form's values as a mapping in, numbers out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from celltrial.analysis.lugano import LesionSize, SiteStatus
from celltrial.errors import InvalidInput

__all__ = [
    "MAX_TARGET_LESIONS",
    "LesionAssessment",
    "TargetLesion",
    "derive_lesion_form",
    "read_lesion_form",
]

MAX_TARGET_LESIONS = 6
"""Lugano 2014: up to six of the largest dominant nodes or extranodal lesions."""


@dataclass(frozen=True)
class TargetLesion:
    """One target lesion at one time point (diameters in mm)."""

    slot: int
    site: str
    nodal: bool
    ldiam_mm: float
    perpdiam_mm: float

    @property
    def ppd_mm2(self) -> float:
        """Product of the perpendicular diameters (mm²)."""
        return self.ldiam_mm * self.perpdiam_mm

    def size(self) -> LesionSize:
        """The lesion in the centimetres of :class:`~celltrial.analysis.lugano.LesionSize`."""
        return LesionSize(ldi_cm=self.ldiam_mm / 10, sdi_cm=self.perpdiam_mm / 10, nodal=self.nodal)


@dataclass(frozen=True)
class LesionAssessment:
    """One lesion form: its date, method, target lesions, non-target status and new lesions."""

    assessment_date: str
    method: str
    targets: tuple[TargetLesion, ...]
    non_target: SiteStatus
    non_target_sites: str | None
    new_lesions: bool
    new_lesion_sites: str | None

    @property
    def spd_mm2(self) -> float:
        """Sum of the products of the perpendicular diameters of the target lesions (mm²)."""
        return sum(target.ppd_mm2 for target in self.targets)


def _number(values: Mapping[str, Any], name: str) -> float | None:
    value = values.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInput(f"expected a number, got {value!r}", field=f"lesions.{name}")
    if value < 0:
        raise InvalidInput(f"a diameter is never negative, got {value}", field=f"lesions.{name}")
    return float(value)


def _targets(values: Mapping[str, Any]) -> tuple[TargetLesion, ...]:
    found = []
    for slot in range(1, MAX_TARGET_LESIONS + 1):
        site = values.get(f"target_{slot}_site")
        if not site:
            break
        ldiam = _number(values, f"target_{slot}_ldiam")
        perpdiam = _number(values, f"target_{slot}_perpdiam")
        if ldiam is None or perpdiam is None:
            continue
        nodal = values.get(f"target_{slot}_kind", "nodal") == "nodal"
        found.append(TargetLesion(slot, str(site), nodal, ldiam, perpdiam))
    return tuple(found)


def read_lesion_form(values: Mapping[str, Any]) -> LesionAssessment | None:
    """The lesion form as a :class:`LesionAssessment`; ``None`` until its date and method are entered."""
    if not values.get("assessment_date") or not values.get("method"):
        return None
    status = values.get("non_target_status") or SiteStatus.ABSENT_OR_NORMAL.value
    try:
        non_target = SiteStatus(str(status))
    except ValueError:
        raise InvalidInput(f"unknown status {status!r}", field="lesions.non_target_status") from None
    return LesionAssessment(
        assessment_date=str(values["assessment_date"]),
        method=str(values["method"]),
        targets=_targets(values),
        non_target=non_target,
        non_target_sites=values.get("non_target_sites"),
        new_lesions=values.get("new_lesions") is True,
        new_lesion_sites=values.get("new_lesion_sites"),
    )


def derive_lesion_form(
    values: Mapping[str, Any], _others: Mapping[str, Sequence[Mapping[str, Any]]]
) -> dict[str, Any]:
    """The lesion form's computed fields: each target's PPD (mm²) and the SPD (mm², Lugano 2014).

    A target whose two diameters are not both entered has no PPD and does not count in the SPD;
    with no measured target the SPD is empty.
    """
    computed: dict[str, Any] = {f"target_{slot}_ppd": None for slot in range(1, MAX_TARGET_LESIONS + 1)}
    targets = _targets(values)
    for target in targets:
        computed[f"target_{target.slot}_ppd"] = round(target.ppd_mm2, 2)
    computed["spd"] = round(sum(target.ppd_mm2 for target in targets), 2) if targets else None
    return computed
