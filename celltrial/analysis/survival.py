"""Time-to-event endpoints by Kaplan–Meier: median, landmark rates, numbers at risk, follow-up.

Estimation is lifelines' :class:`~lifelines.KaplanMeierFitter` (Kaplan & Meier, J Am Stat Assoc
1958;53:457). Pointwise confidence intervals use Greenwood's variance on the log(−log S) scale
(lifelines' "exponential Greenwood"; the same as R ``survfit(..., conf.type = "log-log")`` and the
SAS PROC LIFETEST default). The median's interval is the Brookmeyer–Crowley construction on those
bands (Brookmeyer & Crowley, Biometrics 1982;38:29): the times at which the lower and upper bands
first fall to 0.5. As in R ``quantile.survfit`` and SAS, a curve that sits exactly at 0.5 over an
interval gives the midpoint of that interval, and the band is undefined (ignored) where the
estimate is 0. A median or limit that is never reached is ``None`` ("not reached").

Time unit: every result is in **months**, with 1 month = 30.4375 days (365.25 / 12); inputs in
days are converted. Landmarks default to 6, 12 and 24 months.

Median follow-up is the median of the reverse Kaplan–Meier estimate, in which censoring is the
event and death or progression censors (Schemper & Smith, Control Clin Trials 1996;17:343).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import pandas as pd
from lifelines import KaplanMeierFitter

from celltrial.errors import InvalidInput

__all__ = [
    "DAYS_PER_MONTH",
    "DEFAULT_LANDMARKS_MONTHS",
    "CurvePoint",
    "KaplanMeierSummary",
    "LandmarkSurvival",
    "MedianEstimate",
    "RiskTableEntry",
    "TimeUnit",
    "kaplan_meier",
    "kaplan_meier_by_group",
    "median_follow_up",
    "to_months",
]

DAYS_PER_MONTH = 30.4375
DEFAULT_LANDMARKS_MONTHS: tuple[float, ...] = (6.0, 12.0, 24.0)


class TimeUnit(StrEnum):
    """Unit of the times handed in; results are always in months."""

    DAYS = "days"
    MONTHS = "months"


@dataclass(frozen=True)
class MedianEstimate:
    """A median time with its confidence limits; ``None`` means not reached."""

    median: float | None
    lower: float | None
    upper: float | None


@dataclass(frozen=True)
class LandmarkSurvival:
    """Kaplan–Meier survival at a fixed time; ``None`` when follow-up does not reach it."""

    month: float
    survival: float | None
    lower: float | None
    upper: float | None


@dataclass(frozen=True)
class RiskTableEntry:
    """Number of subjects still at risk (time ≥ ``month``), as printed under a KM plot."""

    month: float
    at_risk: int


@dataclass(frozen=True)
class CurvePoint:
    """One step of the Kaplan–Meier curve, at an event or censoring time."""

    month: float
    survival: float
    lower: float | None
    upper: float | None
    at_risk: int
    events: int
    censored: int


@dataclass(frozen=True)
class KaplanMeierSummary:
    """Everything the reports show about one Kaplan–Meier estimate."""

    n: int
    events: int
    level: float
    median: MedianEstimate
    landmarks: tuple[LandmarkSurvival, ...]
    risk_table: tuple[RiskTableEntry, ...]
    curve: tuple[CurvePoint, ...]
    median_follow_up: MedianEstimate
    time_unit: str = "months"

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready dictionary (``None`` for not reached / not estimable)."""
        return {
            "n": self.n,
            "events": self.events,
            "level": self.level,
            "time_unit": self.time_unit,
            "median": _median_dict(self.median),
            "median_follow_up": _median_dict(self.median_follow_up),
            "landmarks": [vars(landmark) for landmark in self.landmarks],
            "risk_table": [vars(entry) for entry in self.risk_table],
            "curve": [vars(point) for point in self.curve],
        }


def _median_dict(median: MedianEstimate) -> dict[str, float | None]:
    return {"median": median.median, "lower": median.lower, "upper": median.upper}


def to_months(times: Sequence[float], unit: TimeUnit) -> list[float]:
    """Convert times to months (1 month = 30.4375 days)."""
    if unit is TimeUnit.MONTHS:
        return [float(time) for time in times]
    return [float(time) / DAYS_PER_MONTH for time in times]


MAX_FOLLOW_UP_MONTHS = 1_500.0
"""125 years: a longer time is a data error (a date typed as a day count, a unit mix-up)."""


def _validated(times: Sequence[float], events: Sequence[bool]) -> tuple[np.ndarray, np.ndarray]:
    if len(times) != len(events):
        raise InvalidInput(f"{len(times)} times but {len(events)} event flags", field="events")
    if not times:
        raise InvalidInput("no subjects to estimate from", field="times")
    for index, time in enumerate(times):
        if not math.isfinite(time) or time < 0:
            raise InvalidInput(f"time must be a finite number ≥ 0, got {time!r}", field=f"times[{index}]")
        if time > MAX_FOLLOW_UP_MONTHS:
            raise InvalidInput(
                f"a follow-up of {time:g} months is longer than a lifetime "
                f"(at most {MAX_FOLLOW_UP_MONTHS:g})",
                field=f"times[{index}]",
            )
    return np.asarray(times, dtype=float), np.asarray(events, dtype=bool)


def _fit(durations: np.ndarray, observed: np.ndarray, level: float) -> KaplanMeierFitter:
    if not 0.0 < level < 1.0:
        raise InvalidInput(f"must be strictly between 0 and 1, got {level}", field="level")
    return KaplanMeierFitter(alpha=1.0 - level).fit(durations, event_observed=observed)


_TOLERANCE = 1e-8


def _first_time_at_or_below_half(months: np.ndarray, values: np.ndarray) -> float | None:
    """R's ``quantile.survfit`` rule for the 50th percentile of a step curve (NaN steps ignored)."""
    defined = ~np.isnan(values)
    months, values = months[defined], values[defined]
    crossed = np.flatnonzero(values <= 0.5 + _TOLERANCE)
    if crossed.size == 0:
        return None
    first = int(crossed[0])
    if abs(values[first] - 0.5) < _TOLERANCE:
        lower_later = np.flatnonzero(values < values[first] - _TOLERANCE)
        if lower_later.size:
            return float((months[first] + months[int(lower_later[0])]) / 2)
    return float(months[first])


def _median(fitter: KaplanMeierFitter) -> MedianEstimate:
    months = fitter.survival_function_.index.to_numpy(dtype=float)
    survival = fitter.survival_function_.iloc[:, 0].to_numpy(dtype=float)
    band = fitter.confidence_interval_.to_numpy(dtype=float).copy()
    band[survival <= 0.0] = np.nan
    return MedianEstimate(
        median=_first_time_at_or_below_half(months, survival),
        lower=_first_time_at_or_below_half(months, band[:, 0]),
        upper=_first_time_at_or_below_half(months, band[:, 1]),
    )


def _band_at(band: pd.DataFrame, month: float) -> tuple[float | None, float | None]:
    row = band.loc[band.index <= month].iloc[-1]
    lower, upper = float(row.iloc[0]), float(row.iloc[1])
    if lower == upper == 0.0:  # Greenwood's variance is undefined once the estimate reaches 0
        return None, None
    return lower, upper


def _landmark(fitter: KaplanMeierFitter, durations: np.ndarray, month: float) -> LandmarkSurvival:
    if month > float(durations.max()):
        return LandmarkSurvival(month=month, survival=None, lower=None, upper=None)
    survival = float(fitter.survival_function_at_times([month]).iloc[0])
    lower, upper = _band_at(fitter.confidence_interval_, month)
    return LandmarkSurvival(month=month, survival=survival, lower=lower, upper=upper)


def _curve(fitter: KaplanMeierFitter) -> tuple[CurvePoint, ...]:
    table = fitter.event_table
    survival = fitter.survival_function_.iloc[:, 0]
    points = []
    for month, row in table.iterrows():
        lower, upper = _band_at(fitter.confidence_interval_, float(month))
        points.append(
            CurvePoint(
                month=float(month),
                survival=float(survival.loc[month]),
                lower=lower,
                upper=upper,
                at_risk=int(row["at_risk"]),
                events=int(row["observed"]),
                censored=int(row["censored"]),
            )
        )
    return tuple(points)


def _default_risk_months(durations: np.ndarray) -> tuple[float, ...]:
    step = 3.0 if durations.max() <= 36 else 6.0
    return tuple(float(month) for month in np.arange(0.0, float(durations.max()) + step, step))


def median_follow_up(
    times: Sequence[float],
    events: Sequence[bool],
    *,
    time_unit: TimeUnit = TimeUnit.MONTHS,
    level: float = 0.95,
) -> MedianEstimate:
    """Median follow-up in months by reverse Kaplan–Meier (Schemper & Smith 1996)."""
    durations, observed = _validated(to_months(times, time_unit), events)
    return _median(_fit(durations, ~observed, level))


def kaplan_meier(
    times: Sequence[float],
    events: Sequence[bool],
    *,
    time_unit: TimeUnit = TimeUnit.MONTHS,
    level: float = 0.95,
    landmarks_months: Sequence[float] = DEFAULT_LANDMARKS_MONTHS,
    risk_table_months: Sequence[float] | None = None,
) -> KaplanMeierSummary:
    """Kaplan–Meier estimate of one group: median (95% CI), landmark rates, risk table, curve.

    ``events[i]`` is true for an event (death, relapse, progression) and false for censoring.
    """
    durations, observed = _validated(to_months(times, time_unit), events)
    fitter = _fit(durations, observed, level)
    risk_months = (
        tuple(float(m) for m in risk_table_months)
        if risk_table_months is not None
        else _default_risk_months(durations)
    )
    return KaplanMeierSummary(
        n=int(durations.size),
        events=int(observed.sum()),
        level=level,
        median=_median(fitter),
        landmarks=tuple(_landmark(fitter, durations, float(month)) for month in landmarks_months),
        risk_table=tuple(
            RiskTableEntry(month=month, at_risk=int((durations >= month).sum())) for month in risk_months
        ),
        curve=_curve(fitter),
        median_follow_up=_median(_fit(durations, ~observed, level)),
    )


def kaplan_meier_by_group(
    times: Sequence[float],
    events: Sequence[bool],
    groups: Sequence[str],
    *,
    time_unit: TimeUnit = TimeUnit.MONTHS,
    level: float = 0.95,
    landmarks_months: Sequence[float] = DEFAULT_LANDMARKS_MONTHS,
    risk_table_months: Sequence[float] | None = None,
) -> dict[str, KaplanMeierSummary]:
    """One :func:`kaplan_meier` per group (e.g. lymphoma vs leukemia), in sorted group order.

    Without ``risk_table_months`` every group's risk table uses the same months (those of the
    longest follow-up), so the rows line up under a plot.
    """
    if len(groups) != len(times):
        raise InvalidInput(f"{len(times)} times but {len(groups)} group labels", field="groups")
    if risk_table_months is None and times:
        durations, _ = _validated(to_months(times, time_unit), events)
        risk_table_months = _default_risk_months(durations)
    summaries: dict[str, KaplanMeierSummary] = {}
    for group in sorted(set(groups)):
        members = [index for index, label in enumerate(groups) if label == group]
        summaries[group] = kaplan_meier(
            [times[index] for index in members],
            [events[index] for index in members],
            time_unit=time_unit,
            level=level,
            landmarks_months=landmarks_months,
            risk_table_months=risk_table_months,
        )
    return summaries
