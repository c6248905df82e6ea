"""Non-compartmental analysis (NCA) of CAR-T cellular kinetics.

Input is one subject's peripheral-blood series over days since infusion: CAR transgene copies
(qPCR, copies/µg genomic DNA) or CAR+ cells (flow, cells/µL). Output: Cmax, Tmax, AUC from day 0
to day 28, Clast/Tlast and persistence.

Rules (Gabrielsson J, Weiner D. Pharmacokinetic and Pharmacodynamic Data Analysis, 5th ed. 2016,
ch. 2 "non-compartmental analysis"; Phoenix WinNonlin User's Guide, "AUC calculation methods";
PKNCA, Denney et al., "Half-life and AUC interpolation" vignette):

- Cmax is the highest quantifiable value, Tmax the first time it is observed.
- Below the limit of quantification (BLQ, value < ``lloq``; without ``lloq`` a value of 0):
  set to 0 at or before Tmax, excluded after Tmax. A subject with no quantifiable value has
  Cmax/Tmax/Clast/Tlast ``None`` and an AUC of 0.
- AUC by the linear-up/log-down trapezoidal rule (default): the linear trapezoid
  (C1 + C2)/2 · Δt where the value rises or stays level or either value is 0, and the log
  trapezoid (C1 − C2) · Δt / ln(C1/C2) where it falls. The linear trapezoid everywhere is an
  option. Integration starts at the first sample (no extrapolation back to day 0). When a sample
  lies beyond the window end (day 28), the value at day 28 is interpolated with the same rule
  (log-linear on a falling segment); otherwise the AUC stops at the last sample in the window
  and ``auc_end_day`` says where.
- Clast/Tlast are the last quantifiable value and its time; persistence is Tlast, the last day
  on which CAR-T cells were above the limit of quantification.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from celltrial.errors import InvalidInput

__all__ = ["AUC_END_DAY", "AucMethod", "KineticParameters", "noncompartmental"]

AUC_END_DAY = 28.0


class AucMethod(StrEnum):
    """Trapezoidal rule for the AUC."""

    LINEAR_UP_LOG_DOWN = "linear-up/log-down"
    LINEAR = "linear"


@dataclass(frozen=True)
class KineticParameters:
    """NCA parameters of one subject; times in days since infusion."""

    cmax: float | None
    tmax: float | None
    auc: float
    auc_end_day: float | None
    clast: float | None
    tlast: float | None
    persistence_day: float | None
    samples: int
    blq_samples: int
    method: AucMethod

    def as_dict(self) -> dict[str, object]:
        """The JSON shape of ``celltrial analyze nca`` (``auc_0_28`` is the AUC to day 28)."""
        return {
            "cmax": self.cmax,
            "tmax": self.tmax,
            "auc_0_28": self.auc,
            "auc_end_day": self.auc_end_day,
            "clast": self.clast,
            "tlast": self.tlast,
            "persistence_day": self.persistence_day,
            "samples": self.samples,
            "blq_samples": self.blq_samples,
            "method": str(self.method),
        }


def _segment_auc(t1: float, c1: float, t2: float, c2: float, method: AucMethod) -> float:
    if method is AucMethod.LINEAR_UP_LOG_DOWN and c2 < c1 and c2 > 0:
        return (c1 - c2) * (t2 - t1) / math.log(c1 / c2)
    return (c1 + c2) / 2 * (t2 - t1)


def _interpolate(t1: float, c1: float, t2: float, c2: float, at: float, method: AucMethod) -> float:
    fraction = (at - t1) / (t2 - t1)
    if method is AucMethod.LINEAR_UP_LOG_DOWN and c2 < c1 and c2 > 0:
        return math.exp(math.log(c1) + fraction * (math.log(c2) - math.log(c1)))
    return c1 + fraction * (c2 - c1)


def _validated(
    days: Sequence[float], values: Sequence[float], lloq: float | None
) -> list[tuple[float, float]]:
    if len(days) != len(values):
        raise InvalidInput(f"{len(days)} times but {len(values)} values", field="values")
    if lloq is not None and not (math.isfinite(lloq) and lloq > 0):
        raise InvalidInput(f"must be a positive number, got {lloq!r}", field="lloq")
    for index, (day, value) in enumerate(zip(days, values, strict=True)):
        if not math.isfinite(day) or day < 0:
            raise InvalidInput(
                f"time must be a finite number of days ≥ 0, got {day!r}", field=f"times[{index}]"
            )
        if not math.isfinite(value) or value < 0:
            raise InvalidInput(f"value must be a finite number ≥ 0, got {value!r}", field=f"values[{index}]")
    series = sorted(zip(days, values, strict=True))
    for (day, _), (next_day, _) in itertools.pairwise(series):
        if day == next_day:
            raise InvalidInput(f"two samples on day {day:g}", field="times")
    return [(float(day), float(value)) for day, value in series]


def _auc(points: list[tuple[float, float]], end_day: float, method: AucMethod) -> tuple[float, float | None]:
    if not points or points[0][0] > end_day:
        return 0.0, None
    auc, reached = 0.0, points[0][0]
    for (t1, c1), (t2, c2) in itertools.pairwise(points):
        if t1 >= end_day:
            break
        if t2 > end_day:
            c_end = _interpolate(t1, c1, t2, c2, end_day, method)
            return auc + _segment_auc(t1, c1, end_day, c_end, method), end_day
        auc += _segment_auc(t1, c1, t2, c2, method)
        reached = t2
    return auc, reached


def noncompartmental(
    days: Sequence[float],
    values: Sequence[float],
    *,
    lloq: float | None = None,
    method: AucMethod = AucMethod.LINEAR_UP_LOG_DOWN,
    auc_end_day: float = AUC_END_DAY,
) -> KineticParameters:
    """Cmax, Tmax, AUC(0–``auc_end_day``), Clast, Tlast and persistence of one subject's series."""
    series = _validated(days, values, lloq)
    if not series:
        raise InvalidInput("no samples", field="times")

    def quantifiable(value: float) -> bool:
        return value >= lloq if lloq is not None else value > 0

    measured = [(day, value) for day, value in series if quantifiable(value)]
    blq = len(series) - len(measured)
    if not measured:
        return KineticParameters(None, None, 0.0, None, None, None, None, len(series), blq, method)
    cmax = max(value for _, value in measured)
    tmax = next(day for day, value in measured if value == cmax)
    tlast, clast = measured[-1]
    used = [
        (day, value if quantifiable(value) else 0.0)
        for day, value in series
        if quantifiable(value) or day <= tmax
    ]
    auc, reached = _auc(used, auc_end_day, method)
    return KineticParameters(
        cmax=cmax,
        tmax=tmax,
        auc=auc,
        auc_end_day=reached,
        clast=clast,
        tlast=tlast,
        persistence_day=tlast,
        samples=len(series),
        blq_samples=blq,
        method=method,
    )
