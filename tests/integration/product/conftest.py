"""Fixtures of the product integration tests: a migrated database with sites, users and enrolled subjects."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from argon2 import PasswordHasher
from product_world import Lab, build_lab
from sqlalchemy.orm import Session, sessionmaker

from celltrial.database import make_engine, session_factory
from celltrial.study.users import passwords


@pytest.fixture(autouse=True)
def quick_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2id with small parameters: the same algorithm, a fraction of the time."""
    monkeypatch.setattr(passwords, "_HASHER", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture
def sessions(database_url: str) -> Iterator[sessionmaker[Session]]:
    """Sessions on the test's freshly migrated database."""
    engine = make_engine(database_url)
    try:
        yield session_factory(engine)
    finally:
        engine.dispose()


@pytest.fixture
def lab(sessions: sessionmaker[Session]) -> Lab:
    """Sites S01 and S02, the product's people, and enrolled subjects."""
    return build_lab(sessions)
