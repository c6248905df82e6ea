"""Vein-to-vein time: from apheresis to infusion, and the intervals it is made of (pure).

Vein-to-vein time is the time from leukapheresis (``collected``) to infusion (``infused``) of
the product made from that collection ("the time from leukapheresis to patient infusion",
"Don't keep me waiting: estimating the impact of reduced vein-to-vein time", Blood Adv
2024;8(13):3519); its sub-intervals are transport, manufacturing and quality release (EHA 2023
systematic review of vein-to-vein time of axi-cel, tisa-cel and liso-cel, PMC10431072). Here it
is split at the chain-of-custody steps into six consecutive intervals whose sum is the whole::

    to_manufacturing            collected           → received (at manufacturing)
    awaiting_manufacturing      received            → manufacturing_started
    manufacturing_and_release   manufacturing_started → released
    release_to_shipment         released            → shipped_to_site
    shipping_to_site            shipped_to_site     → received_at_site
    at_site_to_infusion         received_at_site    → infused

Times are in days (hours / 24). Summaries give n, median, quartiles (inclusive method: the
quartiles of the observed values, as R's ``quantile(type = 7)``), minimum, maximum and mean.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from celltrial.product.custody_rules import CustodyStep

__all__ = ["COMPONENTS", "DaysSummary", "VeinToVein", "summarise", "vein_to_vein"]

S = CustodyStep
COMPONENTS: tuple[tuple[str, CustodyStep, CustodyStep], ...] = (
    ("to_manufacturing", S.COLLECTED, S.RECEIVED),
    ("awaiting_manufacturing", S.RECEIVED, S.MANUFACTURING_STARTED),
    ("manufacturing_and_release", S.MANUFACTURING_STARTED, S.RELEASED),
    ("release_to_shipment", S.RELEASED, S.SHIPPED_TO_SITE),
    ("shipping_to_site", S.SHIPPED_TO_SITE, S.RECEIVED_AT_SITE),
    ("at_site_to_infusion", S.RECEIVED_AT_SITE, S.INFUSED),
)
"""Each component's name and the steps that start and end it."""

_SECONDS_PER_DAY = 86_400.0


def _days(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / _SECONDS_PER_DAY


@dataclass(frozen=True)
class VeinToVein:
    """One chain's vein-to-vein time and its components, in days."""

    total_days: float
    components: Mapping[str, float]


def vein_to_vein(times: Mapping[CustodyStep, datetime]) -> VeinToVein | None:
    """The chain's vein-to-vein time from its step times; None until it has been infused."""
    if S.INFUSED not in times:
        return None
    missing = [str(step) for _, start, end in COMPONENTS for step in (start, end) if step not in times]
    if missing:
        raise ValueError(f"an infused chain lacks the step(s) {', '.join(sorted(set(missing)))}")
    components = {name: _days(times[start], times[end]) for name, start, end in COMPONENTS}
    return VeinToVein(_days(times[S.COLLECTED], times[S.INFUSED]), components)


@dataclass(frozen=True)
class DaysSummary:
    """Summary of a set of durations in days."""

    n: int
    median: float | None
    q1: float | None
    q3: float | None
    minimum: float | None
    maximum: float | None
    mean: float | None


def _summary(values: Sequence[float]) -> DaysSummary:
    if not values:
        return DaysSummary(0, None, None, None, None, None, None)
    ordered = sorted(values)
    if len(ordered) == 1:
        q1 = q3 = ordered[0]
    else:
        q1, _, q3 = statistics.quantiles(ordered, n=4, method="inclusive")
    return DaysSummary(
        n=len(ordered),
        median=statistics.median(ordered),
        q1=q1,
        q3=q3,
        minimum=ordered[0],
        maximum=ordered[-1],
        mean=statistics.fmean(ordered),
    )


def summarise(chains: Sequence[VeinToVein]) -> dict[str, DaysSummary]:
    """Summaries of the total (``vein_to_vein``) and of each component over infused chains."""
    summaries = {"vein_to_vein": _summary([chain.total_days for chain in chains])}
    for name, _, _ in COMPONENTS:
        summaries[name] = _summary([chain.components[name] for chain in chains])
    return summaries
