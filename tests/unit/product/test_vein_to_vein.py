"""Vein-to-vein time and its components from a chain's step times, and their summary."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from celltrial.product.custody_rules import CHAIN_ORDER, CustodyStep
from celltrial.product.vein_to_vein import VeinToVein, summarise, vein_to_vein

S = CustodyStep
START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
# Hand-worked chain: apheresis day 0, at manufacturing day 1, started day 2, released day 12,
# shipped day 14, at site day 15, infused day 20 (10:00 infusion: +2 h).
DAYS = {
    S.COLLECTED: 0,
    S.SHIPPED_TO_MANUFACTURING: 0.25,
    S.RECEIVED: 1,
    S.MANUFACTURING_STARTED: 2,
    S.QC_SAMPLED: 11,
    S.RELEASED: 12,
    S.CRYOPRESERVED: 12.5,
    S.SHIPPED_TO_SITE: 14,
    S.RECEIVED_AT_SITE: 15,
    S.STORED_LN2: 15.1,
    S.THAWED: 20,
    S.INFUSED: 20 + 2 / 24,
}
TIMES = {step: START + timedelta(days=day) for step, day in DAYS.items()}


def test_vein_to_vein_runs_from_apheresis_to_infusion() -> None:
    result = vein_to_vein(TIMES)
    assert result is not None
    assert result.total_days == pytest.approx(20 + 2 / 24)


def test_the_components_are_the_hand_worked_intervals_and_add_up_to_the_whole() -> None:
    result = vein_to_vein(TIMES)
    assert result is not None
    assert dict(result.components) == pytest.approx(
        {
            "to_manufacturing": 1.0,
            "awaiting_manufacturing": 1.0,
            "manufacturing_and_release": 10.0,
            "release_to_shipment": 2.0,
            "shipping_to_site": 1.0,
            "at_site_to_infusion": 5 + 2 / 24,
        }
    )
    assert sum(result.components.values()) == pytest.approx(result.total_days)


def test_a_chain_not_yet_infused_has_no_vein_to_vein_time() -> None:
    assert vein_to_vein({step: TIMES[step] for step in CHAIN_ORDER[:-1]}) is None


def test_an_infused_chain_missing_a_step_is_an_error_not_a_guess() -> None:
    broken = {step: time for step, time in TIMES.items() if step is not S.RECEIVED_AT_SITE}
    with pytest.raises(ValueError, match="received_at_site"):
        vein_to_vein(broken)


def _total(days: float) -> VeinToVein:
    return VeinToVein(days, {"to_manufacturing": days / 2, "awaiting_manufacturing": 0.0,
                             "manufacturing_and_release": days / 2, "release_to_shipment": 0.0,
                             "shipping_to_site": 0.0, "at_site_to_infusion": 0.0})  # fmt: skip


def test_the_summary_gives_median_quartiles_as_r_type_7_range_and_mean() -> None:
    """R: quantile(c(20, 24, 30), c(.25, .5, .75)) -> 22, 24, 27; mean 24.667."""
    summary = summarise([_total(30), _total(20), _total(24)])["vein_to_vein"]
    assert (summary.n, summary.median, summary.q1, summary.q3) == (3, 24, 22, 27)
    assert (summary.minimum, summary.maximum) == (20, 30)
    assert summary.mean == pytest.approx(24.6667, abs=1e-4)


def test_the_summary_covers_each_component() -> None:
    summary = summarise([_total(30), _total(20)])
    assert summary["manufacturing_and_release"].median == 12.5
    assert set(summary) == {
        "vein_to_vein",
        "to_manufacturing",
        "awaiting_manufacturing",
        "manufacturing_and_release",
        "release_to_shipment",
        "shipping_to_site",
        "at_site_to_infusion",
    }


def test_one_subject_is_its_own_median_and_quartiles_and_none_gives_no_numbers() -> None:
    one = summarise([_total(18)])["vein_to_vein"]
    assert (one.n, one.median, one.q1, one.q3) == (1, 18, 18, 18)
    empty = summarise([])["vein_to_vein"]
    assert (empty.n, empty.median, empty.mean) == (0, None, None)
