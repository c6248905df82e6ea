"""The study's overall status and the changes a sponsor may make to it.

The statuses are ClinicalTrials.gov's overall recruitment statuses (Data API v2,
``OverallStatus``), with the registry's own definitions:

- ``NOT_YET_RECRUITING``: the study has not started recruiting participants.
- ``RECRUITING``: the study is recruiting participants.
- ``ACTIVE_NOT_RECRUITING``: participants are being treated or examined; no new ones are recruited.
- ``SUSPENDED``: the study has stopped early but may start again.
- ``TERMINATED``: the study has stopped early and will not start again.
- ``COMPLETED``: the study has ended normally.
- ``WITHDRAWN``: the study stopped early, before enrolling its first participant.

Pure: no database, no clock. The study service (``celltrial.study.trial``) stores the status and
calls :func:`check_study_transition` before every change.
"""

from __future__ import annotations

from enum import StrEnum

from celltrial.errors import IllegalTransition, InvalidInput

__all__ = [
    "STUDY_TRANSITIONS",
    "StudyStatus",
    "check_study_transition",
    "is_recruiting",
    "parse_study_status",
]


class StudyStatus(StrEnum):
    """Overall recruitment status of a study (ClinicalTrials.gov API v2 values)."""

    NOT_YET_RECRUITING = "NOT_YET_RECRUITING"
    RECRUITING = "RECRUITING"
    ACTIVE_NOT_RECRUITING = "ACTIVE_NOT_RECRUITING"
    SUSPENDED = "SUSPENDED"
    TERMINATED = "TERMINATED"
    COMPLETED = "COMPLETED"
    WITHDRAWN = "WITHDRAWN"


S = StudyStatus
STUDY_TRANSITIONS: dict[StudyStatus, frozenset[StudyStatus]] = {
    S.NOT_YET_RECRUITING: frozenset({S.RECRUITING, S.WITHDRAWN}),
    S.RECRUITING: frozenset({S.ACTIVE_NOT_RECRUITING, S.SUSPENDED, S.TERMINATED}),
    S.ACTIVE_NOT_RECRUITING: frozenset({S.RECRUITING, S.SUSPENDED, S.TERMINATED, S.COMPLETED}),
    S.SUSPENDED: frozenset({S.RECRUITING, S.ACTIVE_NOT_RECRUITING, S.TERMINATED, S.WITHDRAWN}),
    S.TERMINATED: frozenset(),
    S.COMPLETED: frozenset(),
    S.WITHDRAWN: frozenset(),
}
"""Every allowed change of overall status; COMPLETED, TERMINATED and WITHDRAWN are final."""


def parse_study_status(value: str) -> StudyStatus:
    """The status named ``value``; an unknown name is refused with the list of known ones."""
    try:
        return StudyStatus(value.strip().upper())
    except ValueError:
        known = ", ".join(status.value for status in StudyStatus)
        raise InvalidInput(f"unknown study status {value!r} (known: {known})", field="status") from None


def check_study_transition(current: StudyStatus, new: StudyStatus, *, enrolled: int) -> None:
    """Refuse a change of overall status the registry's definitions do not allow.

    ``enrolled`` is the number of participants ever enrolled: a study can be WITHDRAWN only
    before its first participant is enrolled.
    """
    if new not in STUDY_TRANSITIONS[current]:
        allowed = ", ".join(sorted(STUDY_TRANSITIONS[current])) or "none (final status)"
        raise IllegalTransition(
            f"the study status cannot change from {current} to {new} (allowed from {current}: {allowed})",
            field="status",
        )
    if new is StudyStatus.WITHDRAWN and enrolled > 0:
        raise IllegalTransition(
            f"the study status cannot change from {current} to {new}: {enrolled} participant(s) "
            "are already enrolled (use TERMINATED)",
            field="status",
        )


def is_recruiting(status: StudyStatus) -> bool:
    """Whether new participants may be enrolled."""
    return status is StudyStatus.RECRUITING
