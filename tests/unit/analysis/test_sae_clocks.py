"""SAE reporting clocks: 24 hours to the sponsor (protocol), SUSAR 7/15 calendar days (ICH E2A III.B).

Every expected deadline below is the clock's start plus the allowed time, worked by hand.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from celltrial.analysis.sae_clocks import (
    Clock,
    ClockKind,
    ClockRules,
    ClockStatus,
    FollowUpTimeline,
    SaeTimeline,
    overdue,
    sae_clocks,
)
from celltrial.errors import InvalidInput

AWARE = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)


def timeline(**changes: object) -> SaeTimeline:
    values: dict[str, object] = {
        "site_awareness_at": AWARE,
        "fatal_or_life_threatening": False,
        "suspected": False,
    }
    values.update(changes)
    return SaeTimeline.model_validate(values)


def only(kind: ClockKind, **changes: object) -> Clock:
    now = changes.pop("now", AWARE)
    assert isinstance(now, datetime)
    found = [clock for clock in sae_clocks(timeline(**changes), now=now) if clock.kind is kind]
    assert len(found) == 1
    return found[0]


def test_the_initial_report_is_due_24_hours_after_the_site_became_aware() -> None:
    clock = only(ClockKind.INITIAL_REPORT)
    assert clock.due_at == datetime(2025, 3, 11, 9, 0, tzinfo=UTC)


def test_an_unreported_sae_is_pending_23_hours_after_awareness() -> None:
    clock = only(ClockKind.INITIAL_REPORT, now=AWARE + timedelta(hours=23))
    assert clock.status is ClockStatus.PENDING


def test_an_unreported_sae_is_overdue_25_hours_after_awareness_by_one_hour() -> None:
    clock = only(ClockKind.INITIAL_REPORT, now=AWARE + timedelta(hours=25))
    assert clock.status is ClockStatus.OVERDUE
    assert clock.hours_overdue == 1.0


def test_a_report_after_20_hours_met_its_deadline_and_one_after_30_hours_was_late() -> None:
    on_time = only(ClockKind.INITIAL_REPORT, reported_to_sponsor_at=AWARE + timedelta(hours=20))
    late = only(
        ClockKind.INITIAL_REPORT,
        reported_to_sponsor_at=AWARE + timedelta(hours=30),
        now=AWARE + timedelta(days=3),
    )
    assert on_time.status is ClockStatus.MET
    assert late.status is ClockStatus.LATE


def test_a_fatal_suspected_unexpected_reaction_must_reach_the_regulators_7_days_after_the_sponsor_knew() -> (
    None
):
    received = AWARE + timedelta(hours=5)
    clock = only(
        ClockKind.SUSAR_REPORT,
        reported_to_sponsor_at=received,
        fatal_or_life_threatening=True,
        suspected=True,
        expected=False,
    )
    assert clock.started_at == received
    assert clock.due_at == datetime(2025, 3, 17, 14, 0, tzinfo=UTC)
    assert clock.provisional is False


def test_any_other_susar_must_reach_the_regulators_15_days_after_the_sponsor_knew() -> None:
    clock = only(ClockKind.SUSAR_REPORT, reported_to_sponsor_at=AWARE, suspected=True, expected=False)
    assert clock.due_at == datetime(2025, 3, 25, 9, 0, tzinfo=UTC)


def test_a_susar_not_submitted_16_days_on_is_overdue_by_24_hours() -> None:
    clock = only(
        ClockKind.SUSAR_REPORT,
        reported_to_sponsor_at=AWARE,
        suspected=True,
        expected=False,
        now=AWARE + timedelta(days=16),
    )
    assert clock.status is ClockStatus.OVERDUE
    assert clock.hours_overdue == 24.0


@pytest.mark.parametrize(
    ("suspected", "expected"),
    [(False, False), (True, True), (False, None)],
    ids=["not suspected", "expected", "unrelated"],
)
def test_an_expected_or_unrelated_sae_runs_no_susar_clock(suspected: bool, expected: bool | None) -> None:
    clocks = sae_clocks(
        timeline(reported_to_sponsor_at=AWARE, suspected=suspected, expected=expected), now=AWARE
    )
    assert [clock.kind for clock in clocks] == [ClockKind.INITIAL_REPORT]


def test_a_suspected_sae_not_yet_assessed_for_expectedness_runs_a_provisional_susar_clock() -> None:
    clock = only(ClockKind.SUSAR_REPORT, reported_to_sponsor_at=AWARE, suspected=True, expected=None)
    assert clock.provisional is True


def test_the_susar_clock_starts_only_when_the_sponsor_knows() -> None:
    clocks = sae_clocks(timeline(suspected=True, expected=False), now=AWARE)
    assert [clock.kind for clock in clocks] == [ClockKind.INITIAL_REPORT]


def test_each_follow_up_has_24_hours_from_its_receipt() -> None:
    received = AWARE + timedelta(days=2)
    clocks = sae_clocks(
        timeline(
            reported_to_sponsor_at=AWARE + timedelta(hours=2),
            follow_ups=[
                {"received_at": received, "reported_at": received + timedelta(hours=3)},
                {"received_at": received + timedelta(days=1)},
            ],
        ),
        now=received + timedelta(days=3),
    )
    follow_ups = [clock for clock in clocks if clock.kind is ClockKind.FOLLOW_UP_REPORT]
    assert [(c.follow_up, c.status) for c in follow_ups] == [(1, ClockStatus.MET), (2, ClockStatus.OVERDUE)]
    assert follow_ups[1].due_at == received + timedelta(days=1, hours=24)
    assert overdue(clocks) == (follow_ups[1],)


def test_the_protocol_can_set_other_deadlines() -> None:
    rules = ClockRules(report_to_sponsor_hours=48, susar_fatal_days=5, susar_other_days=10)
    clocks = sae_clocks(
        timeline(
            reported_to_sponsor_at=AWARE, suspected=True, expected=False, fatal_or_life_threatening=True
        ),
        now=AWARE,
        rules=rules,
    )
    assert [clock.due_at - clock.started_at for clock in clocks] == [timedelta(hours=48), timedelta(days=5)]


def test_a_time_without_time_zone_is_refused() -> None:
    with pytest.raises(InvalidInput, match="no time zone") as error:
        sae_clocks(timeline(site_awareness_at=datetime(2025, 3, 10, 9, 0)), now=AWARE)
    assert error.value.field == "site_awareness_at"


def test_a_report_to_the_sponsor_before_the_site_knew_is_refused() -> None:
    with pytest.raises(InvalidInput, match="before the site's awareness") as error:
        sae_clocks(timeline(reported_to_sponsor_at=AWARE - timedelta(hours=1)), now=AWARE)
    assert error.value.field == "reported_to_sponsor_at"


def test_a_susar_report_before_the_sponsor_received_the_sae_is_refused() -> None:
    with pytest.raises(InvalidInput, match="needs the site's report to the sponsor first"):
        sae_clocks(timeline(suspected=True, expected=False, susar_reported_at=AWARE), now=AWARE)


def test_a_follow_up_reported_before_it_was_received_is_refused() -> None:
    follow_up = FollowUpTimeline(received_at=AWARE + timedelta(days=1), reported_at=AWARE)
    with pytest.raises(InvalidInput) as error:
        sae_clocks(timeline(follow_ups=[follow_up]), now=AWARE)
    assert error.value.field == "follow_ups[1].reported_at"
