"""The chain of custody of an autologous CAR-T product as a state machine (pure: no database, no clock).

One chain starts at one apheresis collection and moves through twelve steps, in this order
and each once::

    collected → shipped_to_manufacturing → received → manufacturing_started → qc_sampled →
    released → cryopreserved → shipped_to_site → received_at_site → stored_ln2 → thawed → infused

Each step is a hand-over signed by the person who handed the product over and the person who
received it, two different people (FACT-JACIE International Standards for Hematopoietic Cellular
Therapy, 8th ed., processing-facility standards on distribution, transportation and records:
the chain of custody names who released and who received the product at each transfer, with
date, time and conditions of transport; ISBT 128 ST-001 for the identifiers the steps carry).
Beyond the order, a step is refused when the product is not in a state that allows it:

* nothing follows a lot whose manufacturing failed (the chain ends; a new collection starts a
  new chain);
* ``qc_sampled`` needs the manufacturing lot ended (harvest);
* ``released`` needs final product bags and release results within specification, or the
  sponsor's documented approval of an exceptional release;
* ``thawed`` and ``infused`` name the bags, which must belong to the lot; each infused bag must
  have been thawed and must have passed the two-person bedside verification;
* collection, thaw and infusion need a subject who is enrolled (or apheresed) — not withdrawn,
  dead or lost to follow-up;
* a step may not be dated before the step it follows.

A shipment (``shipped_to_manufacturing``, ``shipped_to_site``) declares its allowed temperature
range; readings outside it are an excursion, flagged (not refused: the quality unit assesses it).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from celltrial.errors import IllegalTransition, InvalidInput

__all__ = [
    "CHAIN_ORDER",
    "RECEIPT_OF",
    "SHIPMENTS",
    "SUBJECT_STATUSES_FOR_TREATMENT",
    "ChainFacts",
    "CustodyStep",
    "LotOutcome",
    "ProposedEvent",
    "ReleaseStatus",
    "TemperatureRange",
    "TemperatureReading",
    "check_custody_event",
    "excursions",
    "expected_next",
]


class CustodyStep(StrEnum):
    """A step of the chain of custody, in chain order."""

    COLLECTED = "collected"
    SHIPPED_TO_MANUFACTURING = "shipped_to_manufacturing"
    RECEIVED = "received"
    MANUFACTURING_STARTED = "manufacturing_started"
    QC_SAMPLED = "qc_sampled"
    RELEASED = "released"
    CRYOPRESERVED = "cryopreserved"
    SHIPPED_TO_SITE = "shipped_to_site"
    RECEIVED_AT_SITE = "received_at_site"
    STORED_LN2 = "stored_ln2"
    THAWED = "thawed"
    INFUSED = "infused"

    @classmethod
    def parse(cls, value: str) -> CustodyStep:
        """The step named ``value`` (``shipped to site`` and ``shipped_to_site`` both work)."""
        key = str(value).strip().lower().replace("-", "_").replace(" ", "_")
        try:
            return cls(key)
        except ValueError:
            known = ", ".join(step.value for step in cls)
            raise InvalidInput(f"unknown custody step {value!r} (known: {known})", field="step") from None


class LotOutcome(StrEnum):
    """How manufacturing of a lot ended; ``failure`` counts in the CONSORT flow."""

    SUCCESS = "success"
    OUT_OF_SPECIFICATION = "out_of_specification"
    FAILURE = "failure"


class ReleaseStatus(StrEnum):
    """Where the lot stands against its release specifications."""

    UNTESTED = "untested"
    RELEASABLE = "releasable"
    NOT_RELEASABLE = "not_releasable"
    EXCEPTIONAL_APPROVED = "exceptional_approved"


CHAIN_ORDER: tuple[CustodyStep, ...] = tuple(CustodyStep)
"""Every step, in the only order a chain may take them."""

S = CustodyStep
SHIPMENTS: dict[CustodyStep, CustodyStep] = {
    S.SHIPPED_TO_MANUFACTURING: S.RECEIVED,
    S.SHIPPED_TO_SITE: S.RECEIVED_AT_SITE,
}
"""Each shipment and the receipt that ends it."""

RECEIPT_OF: dict[CustodyStep, CustodyStep] = {receipt: shipment for shipment, receipt in SHIPMENTS.items()}
"""Each receipt and the shipment it ends."""

SUBJECT_STATUSES_FOR_TREATMENT = frozenset({"enrolled", "apheresed"})
"""Subject statuses in which a collection, a thaw or an infusion may take place."""

_BAG_STEPS = frozenset({S.THAWED, S.INFUSED})
_SUBJECT_STEPS = frozenset({S.COLLECTED, S.THAWED, S.INFUSED})


@dataclass(frozen=True)
class TemperatureRange:
    """The allowed temperature of a shipment, in °C, limits included."""

    min_c: float
    max_c: float

    def __post_init__(self) -> None:
        for name in ("min_c", "max_c"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                raise InvalidInput(
                    f"must be a temperature in °C, got {value!r}", field=f"temperature_range.{name}"
                )
            if not -273.15 <= value <= 100:
                raise InvalidInput(
                    f"{value:g} °C is not a plausible temperature", field=f"temperature_range.{name}"
                )
        if self.min_c >= self.max_c:
            raise InvalidInput(
                f"the minimum {self.min_c:g} °C must be below the maximum {self.max_c:g} °C",
                field="temperature_range",
            )

    def holds(self, celsius: float) -> bool:
        return self.min_c <= celsius <= self.max_c

    def __str__(self) -> str:
        return f"{self.min_c:g} to {self.max_c:g} °C"


@dataclass(frozen=True)
class TemperatureReading:
    """One reading of the shipment's data logger."""

    at: datetime
    celsius: float

    def __post_init__(self) -> None:
        if not isinstance(self.at, datetime) or self.at.tzinfo is None:
            raise InvalidInput(
                f"a reading needs a time with a time zone, got {self.at!r}", field="readings.at"
            )
        value = self.celsius
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise InvalidInput(f"must be a temperature in °C, got {value!r}", field="readings.celsius")
        if not -273.15 <= value <= 100:
            raise InvalidInput(f"{value:g} °C is not a plausible temperature", field="readings.celsius")


def excursions(readings: Iterable[TemperatureReading], allowed: TemperatureRange) -> list[TemperatureReading]:
    """The readings outside the allowed range (an empty list: no excursion)."""
    return [reading for reading in readings if not allowed.holds(reading.celsius)]


@dataclass(frozen=True)
class ChainFacts:
    """What the rules need to know about a chain before its next step."""

    last_step: CustodyStep | None = None
    last_at: datetime | None = None
    subject_status: str = "enrolled"
    lot_ended: bool = False
    lot_outcome: LotOutcome | None = None
    lot_failure_reason: str | None = None
    release_status: ReleaseStatus = ReleaseStatus.UNTESTED
    release_failures: tuple[str, ...] = ()
    bags: frozenset[str] = field(default_factory=frozenset)
    thawed_bags: frozenset[str] = field(default_factory=frozenset)
    verified_bags: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True)
class ProposedEvent:
    """A step someone wants to record: who handed over to whom, when, and which bags."""

    step: CustodyStep
    at: datetime
    handed_over_by: int
    received_by: int
    bags: tuple[str, ...] = ()
    temperature_range: TemperatureRange | None = None


def expected_next(last_step: CustodyStep | None) -> CustodyStep | None:
    """The only step that may follow ``last_step`` (None after ``infused``)."""
    if last_step is None:
        return CHAIN_ORDER[0]
    index = CHAIN_ORDER.index(last_step)
    return CHAIN_ORDER[index + 1] if index + 1 < len(CHAIN_ORDER) else None


def _check_order(facts: ChainFacts, event: ProposedEvent) -> None:
    step = event.step
    if facts.lot_outcome is LotOutcome.FAILURE:
        why = f" ({facts.lot_failure_reason})" if facts.lot_failure_reason else ""
        raise IllegalTransition(
            f"cannot record {step}: manufacturing of the lot failed{why}; this chain has ended and a new "
            "collection starts a new one",
            field="step",
        )
    wanted = expected_next(facts.last_step)
    if step == wanted:
        return
    if wanted is None:
        raise IllegalTransition(f"cannot record {step}: the product was already infused", field="step")
    if facts.last_step is not None and CHAIN_ORDER.index(step) <= CHAIN_ORDER.index(facts.last_step):
        raise IllegalTransition(
            f"cannot record {step}: it was already recorded "
            f"(the chain is at {facts.last_step}; next is {wanted})",
            field="step",
        )
    skipped = CHAIN_ORDER[CHAIN_ORDER.index(wanted) : CHAIN_ORDER.index(step)]
    missing = ", ".join(str(s) for s in skipped)
    at = f"the chain is at {facts.last_step}" if facts.last_step else "the chain has not started"
    raise IllegalTransition(
        f"cannot record {step} out of order: {at}; next is {wanted} (missing: {missing})", field="step"
    )


def _check_time(facts: ChainFacts, event: ProposedEvent) -> None:
    if not isinstance(event.at, datetime) or event.at.tzinfo is None:
        raise InvalidInput(
            f"the time of {event.step} needs a time zone, got {event.at!r}", field="occurred_at"
        )
    if facts.last_at is not None and event.at < facts.last_at:
        raise IllegalTransition(
            f"{event.step} at {event.at.isoformat()} is dated before the previous step {facts.last_step} "
            f"at {facts.last_at.isoformat()}",
            field="occurred_at",
        )


def _check_people(event: ProposedEvent) -> None:
    if event.handed_over_by == event.received_by:
        raise InvalidInput(
            f"{event.step} must be signed by two different people: the one who handed the product over "
            "and the one who received it",
            field="received_by",
        )


def _check_bags(facts: ChainFacts, event: ProposedEvent) -> None:
    step, bags = event.step, event.bags
    if step not in _BAG_STEPS:
        if bags:
            raise InvalidInput(f"{step} does not name bags; only thawed and infused do", field="bags")
        return
    if not bags:
        raise InvalidInput(f"{step} must name the bag(s) by DIN", field="bags")
    if len(set(bags)) != len(bags):
        raise InvalidInput(f"{step} names a bag twice: {', '.join(bags)}", field="bags")
    foreign = [din for din in bags if din not in facts.bags]
    if foreign:
        raise IllegalTransition(
            f"cannot record {step}: bag(s) {', '.join(foreign)} do not belong to this chain's lot",
            field="bags",
        )
    if step is S.INFUSED:
        not_thawed = [din for din in bags if din not in facts.thawed_bags]
        if not_thawed:
            raise IllegalTransition(
                f"cannot record infused: bag(s) {', '.join(not_thawed)} were not thawed", field="bags"
            )
        unverified = [din for din in bags if din not in facts.verified_bags]
        if unverified:
            raise IllegalTransition(
                f"cannot record infused: bag(s) {', '.join(unverified)} have not passed the two-person "
                "bedside verification against the chain of identity",
                field="bags",
            )


def _check_state(facts: ChainFacts, event: ProposedEvent) -> None:
    step = event.step
    if step in _SUBJECT_STEPS and facts.subject_status not in SUBJECT_STATUSES_FOR_TREATMENT:
        raise IllegalTransition(
            f"cannot record {step}: the subject is {facts.subject_status} (needs enrolled or apheresed)",
            field="subject",
        )
    if step in SHIPMENTS and event.temperature_range is None:
        raise InvalidInput(
            f"{step} must state the shipment's allowed temperature range", field="temperature_range"
        )
    if step is S.QC_SAMPLED and not facts.lot_ended:
        raise IllegalTransition(
            "cannot record qc_sampled: the end of manufacturing (harvest) of the lot is not recorded",
            field="step",
        )
    if step is S.RELEASED:
        if not facts.bags:
            raise IllegalTransition("cannot record released: the lot has no final product bags", field="step")
        status = facts.release_status
        if status is ReleaseStatus.UNTESTED:
            raise IllegalTransition(
                "cannot record released: no release test results are recorded", field="step"
            )
        if status is ReleaseStatus.NOT_RELEASABLE:
            failures = "; ".join(facts.release_failures) or "a result is out of specification"
            raise IllegalTransition(
                f"cannot record released: out of specification ({failures}); an exceptional release needs "
                "the sponsor's documented approval",
                field="step",
            )


def check_custody_event(facts: ChainFacts, event: ProposedEvent) -> None:
    """Refuse ``event`` unless it is the chain's next step and the product's state allows it.

    Raises :class:`~celltrial.errors.IllegalTransition` naming the reason (out of order, already
    recorded, lot failed, not releasable, bag not verified...) or
    :class:`~celltrial.errors.InvalidInput` for a malformed event (one person signing both sides,
    a shipment without its temperature range, bags on a step that takes none).
    """
    _check_people(event)
    _check_order(facts, event)
    _check_time(facts, event)
    _check_bags(facts, event)
    _check_state(facts, event)
