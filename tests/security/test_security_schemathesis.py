"""schemathesis over the whole authenticated API, heavy version: at least 2,000 generated requests,
no 5xx, every response within the schema the API publishes (issue #13, "Bad input").

``make test`` runs ``tests/e2e/test_schemathesis.py`` (about 1,400 requests); this is the same
check, with its tables (which role calls which operation, which checks) imported, run under the
``stress`` marker with more examples per operation, all requests counted and reported.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from e2e_world import World
from stress_report import record_stress
from test_schemathesis import OPERATIONS, exercise, schema_and_tokens

pytestmark = [pytest.mark.stress, pytest.mark.xdist_group("schemathesis-stress")]

MINIMUM_REQUESTS = 2_000
EXAMPLES_PER_OPERATION = max(40, -(-MINIMUM_REQUESTS * 3 // 2 // len(OPERATIONS)))
calls: dict[str, int] = {}
failed: dict[str, str] = {}


@pytest.fixture(scope="module", autouse=True)
def report() -> Iterator[None]:
    yield
    record_stress(
        "fuzz",
        "schemathesis (authenticated API)",
        sum(calls.values()),
        len(failed),
        f"{len(calls)} operations, {EXAMPLES_PER_OPERATION} examples each; failing operations: "
        + (", ".join(sorted(failed)) or "none"),
    )


@pytest.fixture(scope="module")
def api(world: World) -> tuple[Any, dict[str, str]]:
    return schema_and_tokens(world)


def test_the_schema_has_enough_operations_for_two_thousand_requests() -> None:
    assert len(OPERATIONS) * EXAMPLES_PER_OPERATION >= MINIMUM_REQUESTS


@pytest.mark.parametrize("label", OPERATIONS)
def test_every_generated_request_gets_an_answer_within_the_schema(
    api: tuple[Any, dict[str, str]], label: str
) -> None:
    try:
        exercise(api, label, EXAMPLES_PER_OPERATION, calls)
    except Exception as error:
        failed[label] = type(error).__name__
        raise


def test_at_least_two_thousand_requests_were_generated() -> None:
    """Runs after the module's generated tests (they share one worker): counts what they sent."""
    if len(calls) < len(OPERATIONS):
        pytest.fail(f"only {len(calls)} of {len(OPERATIONS)} operations ran before this count")
    assert sum(calls.values()) >= MINIMUM_REQUESTS, calls
    assert not failed, failed
