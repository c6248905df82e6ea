"""The web tests' shared fixtures: argon2id at small parameters, the e2e world (sites A and B, a
user of every role) on a migrated SQLite database per module, the app's test client, and bearer
headers by role. The e2e and security conftests import them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from argon2 import PasswordHasher
from e2e_world import World, build_world
from fastapi.testclient import TestClient
from pages import token_headers

from celltrial.database import make_engine, session_factory, upgrade
from celltrial.study.users import passwords
from celltrial.web.app import create_app
from celltrial.web.settings import WebSettings

__all__ = ["as_role", "client", "quick_hashing", "world"]


@pytest.fixture(scope="module", autouse=True)
def quick_hashing() -> Iterator[None]:
    """argon2id (still argon2id) with small parameters for the whole module."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(passwords, "_HASHER", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
        yield


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, quick_hashing: None) -> World:
    """A fresh migrated SQLite database with sites A and B and a user of every role."""
    url = f"sqlite:///{tmp_path_factory.mktemp('web') / 'celltrial.db'}"
    engine = make_engine(url)
    try:
        upgrade(engine)
        return build_world(url, session_factory(engine))
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def client(world: World) -> Iterator[TestClient]:
    """A test client of the app on the module's database."""
    app = create_app(world.url, WebSettings())
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def as_role(client: TestClient, world: World) -> dict[str, dict[str, str]]:
    """Bearer headers by role name (and ``investigator_b``, ``coordinator_b``)."""
    return {who: token_headers(client, username) for who, username in world.usernames.items()}
