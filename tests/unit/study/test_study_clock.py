"""The study clock: real UTC time unless set; a setting holds for the caller's context only."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta, timezone

import pytest

from celltrial.errors import InvalidInput
from celltrial.study.clock import SimulatedClock, clock_set_to, now, today
from celltrial.study.types import utcnow

SIMULATED = datetime(2025, 6, 1, 8, 0, tzinfo=UTC)


def test_the_clock_reads_real_utc_time_by_default() -> None:
    before = datetime.now(UTC)
    read = now()
    assert read.tzinfo is not None
    assert before <= read <= datetime.now(UTC)


def test_a_set_clock_is_what_the_services_read_until_the_block_ends() -> None:
    clock = SimulatedClock(SIMULATED)
    with clock_set_to(clock):
        assert (now(), utcnow(), today()) == (SIMULATED, SIMULATED, SIMULATED.date())
        clock.set(SIMULATED + timedelta(days=3, hours=2))
        assert utcnow() == SIMULATED + timedelta(days=3, hours=2)
    assert now() - datetime.now(UTC) < timedelta(minutes=1)
    assert now().year != 2025 or now() > SIMULATED + timedelta(days=4)


def test_another_thread_keeps_the_real_clock() -> None:
    seen: list[datetime] = []
    with clock_set_to(SimulatedClock(SIMULATED)):
        worker = threading.Thread(target=lambda: seen.append(now()))
        worker.start()
        worker.join()
    assert seen[0] > SIMULATED + timedelta(days=30)


def test_a_simulated_clock_is_kept_in_utc_and_refuses_a_naive_time() -> None:
    shanghai = timezone(timedelta(hours=8))
    clock = SimulatedClock(datetime(2025, 6, 1, 16, 0, tzinfo=shanghai))
    assert clock() == SIMULATED
    assert clock().tzinfo == UTC
    with pytest.raises(InvalidInput) as refused:
        clock.set(datetime(2025, 6, 1, 8, 0))
    assert refused.value.field == "clock"
