"""Electronic signatures: password re-checked, printed name, UTC time, meaning, bound to content."""

from __future__ import annotations

from datetime import UTC

import pytest
from sqlalchemy.orm import Session, sessionmaker
from study_world import PASSWORD, World

from celltrial.database import unit_of_work
from celltrial.errors import InvalidInput, NotAllowed, NotFound
from celltrial.study.signatures import service as signatures
from celltrial.study.users import service as users

FORM = {"pulse": 88, "temperature_c": 38.4, "assessed_on": "2025-11-20"}


def _sign(
    sessions: sessionmaker[Session], world: World, who: str = "investigator", password: str = PASSWORD
) -> int:
    with unit_of_work(sessions) as session:
        signature = signatures.sign(
            session,
            user=world[who],
            password=password,
            entity="form",
            entity_id=17,
            content=FORM,
            meaning="authored",
            subject_id=3,
            site_id=world.s01.id,
        )
        return signature.id


def test_a_signature_shows_printed_name_utc_time_and_meaning(
    sessions: sessionmaker[Session], world: World
) -> None:
    _sign(sessions, world)
    with unit_of_work(sessions) as session:
        (status,) = signatures.signature_status(session, entity="form", entity_id=17, content=FORM)
    assert status.valid
    assert status.signature.printed_name == "Dr Investigator Person"
    assert status.signature.signed_at.tzinfo == UTC
    assert status.signature.meaning == "authored"
    assert "Dr Investigator Person (investigator)" in str(status)
    assert str(status).endswith("UTC, authored")


def test_changing_the_signed_content_invalidates_the_signature_visibly(
    sessions: sessionmaker[Session], world: World
) -> None:
    _sign(sessions, world)
    changed = {**FORM, "pulse": 90}
    with unit_of_work(sessions) as session:
        (status,) = signatures.signature_status(session, entity="form", entity_id=17, content=changed)
    assert not status.valid
    assert status.state == "invalidated"
    assert "INVALIDATED" in str(status)


def test_the_content_hash_ignores_key_order(sessions: sessionmaker[Session], world: World) -> None:
    _sign(sessions, world)
    reordered = dict(reversed(list(FORM.items())))
    with unit_of_work(sessions) as session:
        (status,) = signatures.signature_status(session, entity="form", entity_id=17, content=reordered)
    assert status.valid


def test_signing_with_a_wrong_password_is_refused_and_counted(
    sessions: sessionmaker[Session], world: World
) -> None:
    with pytest.raises(NotAllowed, match="signature refused"):
        _sign(sessions, world, password="not my password")
    with unit_of_work(sessions) as session:
        assert users.get_by_username_or_raise(session, username="investigator").failed_logins == 1
        assert signatures.signatures_of(session, entity="form", entity_id=17) == []


def test_a_coordinator_may_not_sign_a_form(sessions: sessionmaker[Session], world: World) -> None:
    with pytest.raises(NotAllowed):
        _sign(sessions, world, who="coordinator")


def test_an_investigator_of_another_site_does_not_see_the_form(
    sessions: sessionmaker[Session], world: World
) -> None:
    with pytest.raises(NotFound):
        _sign(sessions, world, who="investigator_s02")


def test_an_unknown_meaning_is_refused(sessions: sessionmaker[Session], world: World) -> None:
    with pytest.raises(InvalidInput) as refused, unit_of_work(sessions) as session:
        signatures.sign(
            session,
            user=world["investigator"],
            password=PASSWORD,
            entity="form",
            entity_id=1,
            content=FORM,
            meaning="witnessed",  # type: ignore[arg-type]
            site_id=world.s01.id,
        )
    assert refused.value.field == "meaning"
