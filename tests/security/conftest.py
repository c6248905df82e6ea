"""Fixtures of the security tests: the e2e world (sites A and B, a user of every role), the app, logins.

The e2e helpers (``e2e_world``, ``pages``, ``documents``) and the e2e role table are imported
from ``tests/e2e``; this folder puts that folder on ``sys.path`` so that these tests run on
their own too. Passwords are hashed with argon2id at small parameters, as in the e2e tests.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

E2E = Path(__file__).resolve().parents[1] / "e2e"
TESTS = Path(__file__).resolve().parents[1]
for folder in (E2E, TESTS):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

from web_fixtures import as_role, client, quick_hashing, world  # noqa: E402, F401  (fixtures)


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
