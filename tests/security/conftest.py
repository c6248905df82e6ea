"""Fixtures of the security tests: the e2e world (sites A and B, a user of every role), the app, logins.

The e2e helpers (``e2e_world``, ``pages``, ``documents``) and the e2e role table are imported
from ``tests/e2e``; this folder puts that folder on ``sys.path`` so that these tests run on
their own too. Passwords are hashed with argon2id at small parameters, as in the e2e tests.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

E2E = Path(__file__).resolve().parents[1] / "e2e"
TESTS = Path(__file__).resolve().parents[1]
for folder in (E2E, TESTS):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

from argon2 import PasswordHasher  # noqa: E402
from e2e_world import World, build_world  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402
from pages import token_headers  # noqa: E402

from celltrial.database import make_engine, session_factory, upgrade  # noqa: E402
from celltrial.study.users import passwords  # noqa: E402
from celltrial.web.app import create_app  # noqa: E402
from celltrial.web.settings import WebSettings  # noqa: E402


@pytest.fixture(scope="module", autouse=True)
def quick_hashing() -> Iterator[None]:
    """argon2id (still argon2id) with small parameters for the whole module."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(passwords, "_HASHER", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
        yield


def new_world(directory: Path) -> World:
    """A migrated SQLite database in ``directory`` with the e2e world in it."""
    url = f"sqlite:///{directory / 'celltrial.db'}"
    engine = make_engine(url)
    try:
        upgrade(engine)
        return build_world(url, session_factory(engine))
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, quick_hashing: None) -> World:
    """A fresh database with sites A and B and a user of every role."""
    return new_world(tmp_path_factory.mktemp("security"))


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


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Every security test runs at two scales: as part of ``make test`` and, under the ``stress``
    marker, in ``make test-stress`` (where ``CELLTRIAL_STRESS=1`` asks for the full counts), so
    that the stress report has this folder's fuzz and attack figures."""
    if "security_scale" in metafunc.fixturenames and metafunc.definition.get_closest_marker("stress") is None:
        metafunc.parametrize(
            "security_scale", [pytest.param("make-test"), pytest.param("stress", marks=pytest.mark.stress)]
        )


@pytest.fixture(autouse=True)
def security_scale(request: pytest.FixtureRequest) -> str:
    """The scale a test runs at (see :func:`pytest_generate_tests`)."""
    return str(getattr(request, "param", "stress"))
