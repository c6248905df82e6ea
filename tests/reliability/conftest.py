"""Fixtures of the reliability tests: quick password hashing, the small and full sizes of a test.

The live server and the login helpers are the end-to-end tests' (``tests/e2e/live.py``: uvicorn
in a thread on a free loopback port; ``tests/e2e/pages.py``); their folder is put on the import
path here rather than copied.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from celltrial.study.users import passwords

REPOSITORY = Path(__file__).resolve().parents[2]
E2E = REPOSITORY / "tests" / "e2e"
if str(E2E) not in sys.path:
    sys.path.append(str(E2E))


@pytest.fixture(autouse=True, scope="module")
def quick_hashing() -> Iterator[None]:
    """argon2id with small parameters (logins of the live servers in this process stay fast)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(passwords, "_HASHER", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
        yield


@pytest.fixture(
    params=[pytest.param(False, id="small"), pytest.param(True, id="full", marks=pytest.mark.stress)]
)
def full_scale(request: pytest.FixtureRequest) -> bool:
    """The test's size: small in ``make test``; the issue's full counts under ``make test-stress``
    (the ``full`` variant carries the ``stress`` marker, which ``make test`` deselects)."""
    return bool(request.param)
