"""Who may read a subject's audit trail, and what identifying values they see in it."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker
from study_world import World, add_subjects

from celltrial.database import unit_of_work
from celltrial.errors import NotAllowed, NotFound
from celltrial.study.audit import service as audit
from celltrial.study.audit.service import REDACTED


@pytest.fixture
def subject(sessions: sessionmaker[Session], world: World) -> int:
    (subject_id,) = add_subjects(sessions, world, count=1)
    with unit_of_work(sessions) as session:
        for field, value in (("initials", "MKL"), ("date_of_birth", "1980-01-01"), ("sex", "female")):
            audit.record(
                session, actor="coordinator", action="create", entity="subject", entity_id=subject_id,
                field=field, new=value, subject_id=subject_id, site_id=world.s01.id,
            )  # fmt: skip
    return subject_id


def _seen(sessions: sessionmaker[Session], world: World, who: str, subject_id: int) -> dict[str, str | None]:
    with unit_of_work(sessions) as session:
        entries = audit.subject_history(session, subject_id=subject_id, by=world[who])
    return {e.field or "": e.new_value for e in entries}


def test_site_staff_and_monitors_see_identifying_values(
    sessions: sessionmaker[Session], world: World, subject: int
) -> None:
    for who in ("investigator", "monitor"):
        assert _seen(sessions, world, who, subject)["initials"] == '"MKL"'


def test_the_data_manager_sees_the_history_with_identifying_values_hidden(
    sessions: sessionmaker[Session], world: World, subject: int
) -> None:
    seen = _seen(sessions, world, "data_manager", subject)
    assert seen == {"initials": REDACTED, "date_of_birth": REDACTED, "sex": '"female"'}


def test_an_investigator_of_another_site_does_not_find_the_subject(
    sessions: sessionmaker[Session], world: World, subject: int
) -> None:
    with pytest.raises(NotFound):
        _seen(sessions, world, "investigator_s02", subject)


@pytest.mark.parametrize("who", ["coordinator", "sponsor", "dsmb", "admin"])
def test_roles_without_audit_access_are_refused(
    sessions: sessionmaker[Session], world: World, subject: int, who: str
) -> None:
    with pytest.raises(NotAllowed):
        _seen(sessions, world, who, subject)
