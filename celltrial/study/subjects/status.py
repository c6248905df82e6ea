"""A subject's path through the trial, as a state machine.

::

    screening ──> enrolled ──> apheresed ──> infused ──> in_follow_up ──> completed
      │  ^           │             │            │             │
      v  │ re-screen └─────────────┴────────────┴─────────────┴──> withdrawn | lost_to_follow_up | died
    screen_failed                                     (screening may also end in withdrawn or died)

``completed``, ``withdrawn`` and ``died`` are final; a subject ``lost_to_follow_up`` can still
be reported ``died`` when the death becomes known (overall survival needs it). Pure: no database.
"""

from __future__ import annotations

from enum import StrEnum

from celltrial.errors import IllegalTransition, InvalidInput

__all__ = ["ENROLLED_STATUSES", "SUBJECT_TRANSITIONS", "SubjectStatus", "check_subject_transition"]


class SubjectStatus(StrEnum):
    """Where a subject stands in the trial."""

    SCREENING = "screening"
    SCREEN_FAILED = "screen_failed"
    ENROLLED = "enrolled"
    APHERESED = "apheresed"
    INFUSED = "infused"
    IN_FOLLOW_UP = "in_follow_up"
    COMPLETED = "completed"
    WITHDRAWN = "withdrawn"
    LOST_TO_FOLLOW_UP = "lost_to_follow_up"
    DIED = "died"

    @classmethod
    def parse(cls, value: str) -> SubjectStatus:
        """The status named ``value`` (``in follow-up`` and ``in_follow_up`` both work)."""
        key = value.strip().lower().replace("-", "_").replace(" ", "_")
        try:
            return cls(key)
        except ValueError:
            known = ", ".join(status.value for status in cls)
            raise InvalidInput(f"unknown subject status {value!r} (known: {known})", field="status") from None


S = SubjectStatus
_LEAVE = frozenset({S.WITHDRAWN, S.LOST_TO_FOLLOW_UP, S.DIED})
SUBJECT_TRANSITIONS: dict[SubjectStatus, frozenset[SubjectStatus]] = {
    S.SCREENING: frozenset({S.SCREEN_FAILED, S.ENROLLED, S.WITHDRAWN, S.DIED}),
    S.SCREEN_FAILED: frozenset({S.SCREENING}),
    S.ENROLLED: frozenset({S.APHERESED}) | _LEAVE,
    S.APHERESED: frozenset({S.INFUSED}) | _LEAVE,
    S.INFUSED: frozenset({S.IN_FOLLOW_UP}) | _LEAVE,
    S.IN_FOLLOW_UP: frozenset({S.COMPLETED}) | _LEAVE,
    S.COMPLETED: frozenset(),
    S.WITHDRAWN: frozenset(),
    S.LOST_TO_FOLLOW_UP: frozenset({S.DIED}),
    S.DIED: frozenset(),
}
"""Every allowed change of subject status."""

ENROLLED_STATUSES = frozenset(
    {S.ENROLLED, S.APHERESED, S.INFUSED, S.IN_FOLLOW_UP, S.COMPLETED, S.LOST_TO_FOLLOW_UP}
)
"""Statuses only an enrolled subject can have (withdrawn and died may follow screening too)."""


def check_subject_transition(current: SubjectStatus, new: SubjectStatus) -> None:
    """Refuse a change of subject status the trial's path does not allow, naming both states."""
    if new not in SUBJECT_TRANSITIONS[current]:
        allowed = ", ".join(sorted(SUBJECT_TRANSITIONS[current])) or "none (final status)"
        raise IllegalTransition(
            f"a subject cannot go from {current} to {new} (allowed from {current}: {allowed})",
            field="status",
        )
