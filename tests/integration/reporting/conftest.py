"""Fixtures of the export tests: the EDC world of ``tests/integration/study`` and a small trial in it."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy.orm import Session, sessionmaker

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "study"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from edc_world import Edc, edc_fixture  # noqa: F401
from reporting_world import Trial, build_trial
from study_world import World, build_world

from celltrial.database import make_engine, session_factory
from celltrial.study.users import passwords


@pytest.fixture(autouse=True)
def quick_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2id with small parameters: the same algorithm, a fraction of the time."""
    monkeypatch.setattr(passwords, "_HASHER", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture
def sessions(database_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(database_url)
    try:
        yield session_factory(engine)
    finally:
        engine.dispose()


@pytest.fixture
def world(sessions: sessionmaker[Session]) -> World:
    return build_world(sessions)


@pytest.fixture
def trial(edc: Edc) -> Trial:
    """The four-patient trial of ``reporting_world``, not yet locked."""
    return build_trial(edc)
