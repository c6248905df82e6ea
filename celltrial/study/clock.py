"""The study clock: the instant the services record as "now".

Every time the study services store (audit entries, status changes, consents, signatures,
form saves, ``created_at`` defaults) comes from :func:`now`. It reads the real UTC clock unless
a caller sets another for the code it runs (:func:`clock_set_to`): the simulator sets it to the
simulated date-time of each task, so a simulated trial records simulated times, never the wall
clock of the machine that ran it.

The setting lives in a context variable: it holds for the calling thread (and the tasks it
spawns with its context), never for other threads, such as the web app's requests.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, date, datetime

from celltrial.errors import InvalidInput

__all__ = ["SimulatedClock", "clock_set_to", "now", "today"]

Clock = Callable[[], datetime]


def _real() -> datetime:
    return datetime.now(UTC)


_CLOCK: ContextVar[Clock] = ContextVar("celltrial_study_clock", default=_real)


def now() -> datetime:
    """The current instant of the study clock, aware, in UTC."""
    return _CLOCK.get()()


def today() -> date:
    """The current date of the study clock (UTC)."""
    return now().date()


class SimulatedClock:
    """A clock that stands at the instant it was last set to (aware, UTC)."""

    def __init__(self, at: datetime) -> None:
        self._at = _aware(at)

    def set(self, at: datetime) -> None:
        """Move the clock to ``at`` (forwards or backwards)."""
        self._at = _aware(at)

    def __call__(self) -> datetime:
        return self._at


def _aware(at: datetime) -> datetime:
    if not isinstance(at, datetime) or at.tzinfo is None:
        raise InvalidInput(f"the clock needs an aware date-time, not {at!r}", field="clock")
    return at.astimezone(UTC)


@contextmanager
def clock_set_to(clock: Clock) -> Iterator[Clock]:
    """Run the block with ``clock`` as the study clock; the previous clock comes back after it."""
    token = _CLOCK.set(clock)
    try:
        yield clock
    finally:
        _CLOCK.reset(token)
