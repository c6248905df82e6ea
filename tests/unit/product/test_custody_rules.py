"""The custody state machine: every step allowed in order, every other one refused with its reason."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from celltrial.errors import IllegalTransition, InvalidInput
from celltrial.product.custody_rules import (
    CHAIN_ORDER,
    ChainFacts,
    CustodyStep,
    LotOutcome,
    ProposedEvent,
    ReleaseStatus,
    TemperatureRange,
    TemperatureReading,
    check_custody_event,
    excursions,
    expected_next,
)

S = CustodyStep
BAG = "G123426000123"
T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
COLD_CHAIN = TemperatureRange(2.0, 8.0)
READY = ChainFacts(
    lot_ended=True,
    lot_outcome=LotOutcome.SUCCESS,
    release_status=ReleaseStatus.RELEASABLE,
    bags=frozenset({BAG}),
    thawed_bags=frozenset({BAG}),
    verified_bags=frozenset({BAG}),
)
"""A chain whose product state allows every step; only the order decides."""


def _event(step: CustodyStep, at: datetime = T0, **changes: object) -> ProposedEvent:
    event = ProposedEvent(
        step=step,
        at=at,
        handed_over_by=1,
        received_by=2,
        bags=(BAG,) if step in (S.THAWED, S.INFUSED) else (),
        temperature_range=COLD_CHAIN if step in (S.SHIPPED_TO_MANUFACTURING, S.SHIPPED_TO_SITE) else None,
    )
    return replace(event, **changes)  # type: ignore[arg-type]


def _at(last: CustodyStep | None, facts: ChainFacts = READY) -> ChainFacts:
    return replace(facts, last_step=last, last_at=None if last is None else T0 - timedelta(hours=1))


ALLOWED = [(None, S.COLLECTED), *itertools.pairwise(CHAIN_ORDER)]


def test_the_chain_has_the_twelve_steps_of_the_issue_in_order() -> None:
    assert [step.value for step in CHAIN_ORDER] == [
        "collected",
        "shipped_to_manufacturing",
        "received",
        "manufacturing_started",
        "qc_sampled",
        "released",
        "cryopreserved",
        "shipped_to_site",
        "received_at_site",
        "stored_ln2",
        "thawed",
        "infused",
    ]


@pytest.mark.parametrize(("last", "step"), ALLOWED, ids=[f"{a}->{b}" for a, b in ALLOWED])
def test_each_step_may_follow_the_one_before_it(last: CustodyStep | None, step: CustodyStep) -> None:
    check_custody_event(_at(last), _event(step))
    assert expected_next(last) is step


REFUSED = [
    (last, step) for last in (None, *CHAIN_ORDER) for step in CHAIN_ORDER if (last, step) not in set(ALLOWED)
]


@pytest.mark.parametrize(("last", "step"), REFUSED, ids=[f"{a}->{b}" for a, b in REFUSED])
def test_every_other_step_is_refused_as_out_of_order_with_the_reason(
    last: CustodyStep | None, step: CustodyStep
) -> None:
    with pytest.raises(IllegalTransition) as refused:
        check_custody_event(_at(last), _event(step))
    message = refused.value.message
    assert message.startswith(f"cannot record {step}")
    if last is S.INFUSED:
        assert "already infused" in message
    elif last is not None and CHAIN_ORDER.index(step) <= CHAIN_ORDER.index(last):
        assert "already recorded" in message
        assert f"next is {expected_next(last)}" in message
    else:
        assert "out of order" in message
        assert f"next is {expected_next(last)}" in message
    assert refused.value.field == "step"


def test_an_out_of_order_step_names_the_steps_that_are_missing() -> None:
    with pytest.raises(IllegalTransition, match=r"missing: received, manufacturing_started"):
        check_custody_event(_at(S.SHIPPED_TO_MANUFACTURING), _event(S.QC_SAMPLED))


def test_nothing_follows_infusion() -> None:
    assert expected_next(S.INFUSED) is None


def test_one_person_cannot_sign_both_sides_of_a_hand_over() -> None:
    with pytest.raises(InvalidInput, match="two different people") as refused:
        check_custody_event(_at(S.COLLECTED), _event(S.SHIPPED_TO_MANUFACTURING, received_by=1))
    assert refused.value.field == "received_by"


def test_a_step_dated_before_the_previous_step_is_refused() -> None:
    earlier = T0 - timedelta(hours=2)
    with pytest.raises(IllegalTransition, match="dated before the previous step collected") as refused:
        check_custody_event(_at(S.COLLECTED), _event(S.SHIPPED_TO_MANUFACTURING, at=earlier))
    assert refused.value.field == "occurred_at"


def test_a_step_at_the_same_time_as_the_previous_one_is_allowed() -> None:
    facts = replace(_at(S.COLLECTED), last_at=T0)
    check_custody_event(facts, _event(S.SHIPPED_TO_MANUFACTURING, at=T0))


def test_a_step_without_a_time_zone_is_refused() -> None:
    with pytest.raises(InvalidInput, match="time zone"):
        check_custody_event(_at(S.COLLECTED), _event(S.SHIPPED_TO_MANUFACTURING, at=datetime(2026, 3, 2, 9)))


@pytest.mark.parametrize("step", CHAIN_ORDER[4:], ids=str)
def test_after_a_manufacturing_failure_every_step_is_refused_and_the_chain_ends(step: CustodyStep) -> None:
    failed = replace(READY, lot_outcome=LotOutcome.FAILURE, lot_failure_reason="insufficient expansion")
    with pytest.raises(
        IllegalTransition, match=r"manufacturing of the lot failed \(insufficient expansion\)"
    ):
        check_custody_event(_at(S.MANUFACTURING_STARTED, failed), _event(step))


def test_qc_sampling_needs_the_end_of_manufacturing() -> None:
    running = replace(READY, lot_ended=False)
    with pytest.raises(IllegalTransition, match="end of manufacturing"):
        check_custody_event(_at(S.MANUFACTURING_STARTED, running), _event(S.QC_SAMPLED))


def test_release_needs_release_results() -> None:
    untested = replace(READY, release_status=ReleaseStatus.UNTESTED)
    with pytest.raises(IllegalTransition, match="no release test results"):
        check_custody_event(_at(S.QC_SAMPLED, untested), _event(S.RELEASED))


def test_a_lot_out_of_specification_is_not_released_and_the_failures_are_named() -> None:
    failing = replace(
        READY, release_status=ReleaseStatus.NOT_RELEASABLE, release_failures=("viability 65% (>= 70%)",)
    )
    with pytest.raises(IllegalTransition) as refused:
        check_custody_event(_at(S.QC_SAMPLED, failing), _event(S.RELEASED))
    assert "out of specification (viability 65% (>= 70%))" in refused.value.message
    assert "sponsor's documented approval" in refused.value.message


def test_a_lot_out_of_specification_with_the_sponsors_approval_may_be_released() -> None:
    approved = replace(READY, release_status=ReleaseStatus.EXCEPTIONAL_APPROVED)
    check_custody_event(_at(S.QC_SAMPLED, approved), _event(S.RELEASED))


def test_release_needs_final_product_bags() -> None:
    with pytest.raises(IllegalTransition, match="no final product bags"):
        check_custody_event(_at(S.QC_SAMPLED, replace(READY, bags=frozenset())), _event(S.RELEASED))


@pytest.mark.parametrize("step", [S.SHIPPED_TO_MANUFACTURING, S.SHIPPED_TO_SITE], ids=str)
def test_a_shipment_must_state_its_allowed_temperature_range(step: CustodyStep) -> None:
    last = CHAIN_ORDER[CHAIN_ORDER.index(step) - 1]
    with pytest.raises(InvalidInput, match="allowed temperature range"):
        check_custody_event(_at(last), _event(step, temperature_range=None))


@pytest.mark.parametrize("step", [S.THAWED, S.INFUSED], ids=str)
def test_thaw_and_infusion_must_name_their_bags(step: CustodyStep) -> None:
    last = CHAIN_ORDER[CHAIN_ORDER.index(step) - 1]
    with pytest.raises(InvalidInput, match="must name the bag"):
        check_custody_event(_at(last), _event(step, bags=()))


def test_a_bag_named_twice_is_refused() -> None:
    with pytest.raises(InvalidInput, match="names a bag twice"):
        check_custody_event(_at(S.STORED_LN2), _event(S.THAWED, bags=(BAG, BAG)))


def test_a_bag_of_another_lot_cannot_be_thawed() -> None:
    with pytest.raises(IllegalTransition, match="do not belong to this chain's lot"):
        check_custody_event(_at(S.STORED_LN2), _event(S.THAWED, bags=("G123426000999",)))


def test_a_step_other_than_thaw_or_infusion_takes_no_bags() -> None:
    with pytest.raises(InvalidInput, match="does not name bags"):
        check_custody_event(_at(S.RECEIVED_AT_SITE), _event(S.STORED_LN2, bags=(BAG,)))


def test_a_bag_that_was_not_thawed_cannot_be_infused() -> None:
    frozen = replace(READY, thawed_bags=frozenset())
    with pytest.raises(IllegalTransition, match="were not thawed"):
        check_custody_event(_at(S.THAWED, frozen), _event(S.INFUSED))


def test_a_bag_without_a_passed_bedside_verification_cannot_be_infused() -> None:
    unverified = replace(READY, verified_bags=frozenset())
    with pytest.raises(IllegalTransition, match="two-person bedside verification"):
        check_custody_event(_at(S.THAWED, unverified), _event(S.INFUSED))


@pytest.mark.parametrize("status", ["withdrawn", "died", "lost_to_follow_up", "screening", "infused"])
@pytest.mark.parametrize("step", [S.COLLECTED, S.THAWED, S.INFUSED], ids=str)
def test_collection_thaw_and_infusion_need_an_enrolled_subject(step: CustodyStep, status: str) -> None:
    last = None if step is S.COLLECTED else CHAIN_ORDER[CHAIN_ORDER.index(step) - 1]
    with pytest.raises(IllegalTransition, match=f"the subject is {status}") as refused:
        check_custody_event(_at(last, replace(READY, subject_status=status)), _event(step))
    assert refused.value.field == "subject"


def test_a_shipment_may_still_move_for_a_subject_who_withdrew() -> None:
    withdrawn = replace(READY, subject_status="withdrawn")
    check_custody_event(_at(S.CRYOPRESERVED, withdrawn), _event(S.SHIPPED_TO_SITE))


def test_custody_steps_are_read_from_their_names() -> None:
    assert CustodyStep.parse("Shipped to site") is S.SHIPPED_TO_SITE
    assert CustodyStep.parse("stored-ln2") is S.STORED_LN2
    with pytest.raises(InvalidInput, match="unknown custody step 'frozen'"):
        CustodyStep.parse("frozen")


def test_readings_at_the_limits_of_the_range_are_within_it_and_beyond_are_excursions() -> None:
    readings = [
        TemperatureReading(T0 + timedelta(minutes=i), c) for i, c in enumerate((2.0, 5.0, 8.0, 8.1, 1.9))
    ]
    assert [r.celsius for r in excursions(readings, COLD_CHAIN)] == [8.1, 1.9]


def test_a_cryoshipper_range_flags_a_warm_reading() -> None:
    dry_shipper = TemperatureRange(-196.0, -150.0)
    readings = [TemperatureReading(T0, -180.0), TemperatureReading(T0 + timedelta(hours=5), -140.0)]
    assert [r.celsius for r in excursions(readings, dry_shipper)] == [-140.0]


@pytest.mark.parametrize(
    ("low", "high", "message"),
    [
        (8.0, 2.0, "must be below the maximum"),
        (5.0, 5.0, "must be below the maximum"),
        (-300.0, 8.0, "plausible"),
    ],
)
def test_a_temperature_range_must_be_a_plausible_interval(low: float, high: float, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        TemperatureRange(low, high)


def test_a_reading_needs_a_time_zone_and_a_number() -> None:
    with pytest.raises(InvalidInput, match="time zone"):
        TemperatureReading(datetime(2026, 3, 2), 4.0)
    with pytest.raises(InvalidInput, match="temperature"):
        TemperatureReading(T0, float("nan"))


@given(st.lists(st.sampled_from(CHAIN_ORDER), max_size=40))
def test_whatever_is_proposed_the_accepted_steps_are_always_the_chain_in_order(
    proposals: list[CustodyStep],
) -> None:
    facts = _at(None)
    accepted: list[CustodyStep] = []
    for index, step in enumerate(proposals):
        at = T0 + timedelta(hours=index)
        try:
            check_custody_event(facts, _event(step, at=at))
        except IllegalTransition:
            continue
        accepted.append(step)
        facts = replace(facts, last_step=step, last_at=at)
    assert accepted == list(CHAIN_ORDER[: len(accepted)])
