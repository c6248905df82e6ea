"""The study, subject and query state machines: every allowed step and every refused one."""

from __future__ import annotations

import itertools

import pytest

from celltrial.errors import IllegalTransition, InvalidInput
from celltrial.protocol.status import (
    STUDY_TRANSITIONS,
    StudyStatus,
    check_study_transition,
    is_recruiting,
    parse_study_status,
)
from celltrial.study.queries.lifecycle import QueryAction, QueryStatus, next_query_status
from celltrial.study.subjects.status import SUBJECT_TRANSITIONS, SubjectStatus, check_subject_transition

STUDY_ALLOWED = [
    ("NOT_YET_RECRUITING", "RECRUITING"),
    ("NOT_YET_RECRUITING", "WITHDRAWN"),
    ("RECRUITING", "ACTIVE_NOT_RECRUITING"),
    ("RECRUITING", "SUSPENDED"),
    ("RECRUITING", "TERMINATED"),
    ("ACTIVE_NOT_RECRUITING", "RECRUITING"),
    ("ACTIVE_NOT_RECRUITING", "SUSPENDED"),
    ("ACTIVE_NOT_RECRUITING", "TERMINATED"),
    ("ACTIVE_NOT_RECRUITING", "COMPLETED"),
    ("SUSPENDED", "RECRUITING"),
    ("SUSPENDED", "ACTIVE_NOT_RECRUITING"),
    ("SUSPENDED", "TERMINATED"),
    ("SUSPENDED", "WITHDRAWN"),
]


@pytest.mark.parametrize(("current", "new"), STUDY_ALLOWED)
def test_the_study_status_may_take_each_step_the_registry_definitions_allow(current: str, new: str) -> None:
    check_study_transition(StudyStatus(current), StudyStatus(new), enrolled=0)


@pytest.mark.parametrize(
    ("current", "new"),
    [
        (a, b)
        for a, b in itertools.product(StudyStatus, StudyStatus)
        if (a.value, b.value) not in set(STUDY_ALLOWED)
    ],
)
def test_every_other_study_status_change_is_refused_naming_both_statuses(
    current: StudyStatus, new: StudyStatus
) -> None:
    with pytest.raises(IllegalTransition) as refused:
        check_study_transition(current, new, enrolled=0)
    assert f"from {current} to {new}" in refused.value.message
    assert refused.value.field == "status"


def test_completed_terminated_and_withdrawn_are_final() -> None:
    assert [status for status, nexts in STUDY_TRANSITIONS.items() if not nexts] == [
        StudyStatus.TERMINATED,
        StudyStatus.COMPLETED,
        StudyStatus.WITHDRAWN,
    ]


def test_a_study_with_an_enrolled_participant_cannot_be_withdrawn() -> None:
    with pytest.raises(IllegalTransition, match="1 participant"):
        check_study_transition(StudyStatus.SUSPENDED, StudyStatus.WITHDRAWN, enrolled=1)


def test_only_a_recruiting_study_enrols() -> None:
    assert [status for status in StudyStatus if is_recruiting(status)] == [StudyStatus.RECRUITING]


def test_a_study_status_is_read_in_any_case_and_an_unknown_one_is_refused() -> None:
    assert parse_study_status(" recruiting ") is StudyStatus.RECRUITING
    with pytest.raises(InvalidInput, match="unknown study status 'OPEN'"):
        parse_study_status("OPEN")


SUBJECT_ALLOWED = {
    ("screening", "screen_failed"),
    ("screening", "enrolled"),
    ("screening", "withdrawn"),
    ("screening", "died"),
    ("screen_failed", "screening"),
    ("enrolled", "apheresed"),
    ("apheresed", "infused"),
    ("infused", "in_follow_up"),
    ("in_follow_up", "completed"),
    ("lost_to_follow_up", "died"),
} | {
    (status, leave)
    for status in ("enrolled", "apheresed", "infused", "in_follow_up")
    for leave in ("withdrawn", "lost_to_follow_up", "died")
}


@pytest.mark.parametrize(("current", "new"), sorted(SUBJECT_ALLOWED))
def test_a_subject_may_move_along_the_trial_path(current: str, new: str) -> None:
    check_subject_transition(SubjectStatus(current), SubjectStatus(new))


@pytest.mark.parametrize(
    ("current", "new"),
    [
        (a, b)
        for a, b in itertools.product(SubjectStatus, SubjectStatus)
        if (a.value, b.value) not in SUBJECT_ALLOWED
    ],
)
def test_every_other_subject_status_change_is_refused_naming_both_states(
    current: SubjectStatus, new: SubjectStatus
) -> None:
    with pytest.raises(IllegalTransition) as refused:
        check_subject_transition(current, new)
    assert f"from {current} to {new}" in refused.value.message


def test_the_subject_transition_table_matches_the_documented_path() -> None:
    table = {(a.value, b.value) for a, nexts in SUBJECT_TRANSITIONS.items() for b in nexts}
    assert table == SUBJECT_ALLOWED


def test_a_subject_status_is_read_with_spaces_or_hyphens() -> None:
    assert SubjectStatus.parse("In follow-up") is SubjectStatus.IN_FOLLOW_UP
    assert SubjectStatus.parse("screen-failed") is SubjectStatus.SCREEN_FAILED
    with pytest.raises(InvalidInput, match="unknown subject status 'cured'"):
        SubjectStatus.parse("cured")


QUERY_STEPS = [
    ("open", "answer", "answered"),
    ("open", "close", "closed"),
    ("open", "resolve", "closed"),
    ("answered", "close", "closed"),
    ("answered", "reopen", "open"),
    ("answered", "resolve", "closed"),
    ("closed", "reopen", "open"),
]


@pytest.mark.parametrize(("current", "action", "after"), QUERY_STEPS)
def test_a_query_follows_open_answered_closed_and_may_be_reopened(
    current: str, action: str, after: str
) -> None:
    assert next_query_status(QueryStatus(current), QueryAction(action)) is QueryStatus(after)


@pytest.mark.parametrize(
    ("current", "action"),
    [
        (status, action)
        for status, action in itertools.product(QueryStatus, QueryAction)
        if (status.value, action.value) not in {(c, a) for c, a, _ in QUERY_STEPS}
    ],
)
def test_a_query_refuses_any_other_step(current: QueryStatus, action: QueryAction) -> None:
    with pytest.raises(IllegalTransition, match=f"a query that is {current}"):
        next_query_status(current, action)
