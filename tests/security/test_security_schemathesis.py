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
import schemathesis
from e2e_world import World
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from pages import token_headers
from stress_report import record_stress
from test_schemathesis import CHECKS, OPERATIONS, ROLES, _role

from celltrial.web.app import create_app
from celltrial.web.settings import WebSettings

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
    """The app on the module's database, its schema, and a bearer token per role."""
    app = create_app(world.url, WebSettings())
    with TestClient(app) as client:
        tokens = {role: token_headers(client, world.usernames[role])["Authorization"] for role in ROLES}
    return schemathesis.openapi.from_asgi("/openapi.json", app), tokens


def test_the_schema_has_enough_operations_for_two_thousand_requests() -> None:
    assert len(OPERATIONS) * EXAMPLES_PER_OPERATION >= MINIMUM_REQUESTS


@pytest.mark.parametrize("label", OPERATIONS)
def test_every_generated_request_gets_an_answer_within_the_schema(
    api: tuple[Any, dict[str, str]], label: str
) -> None:
    schema, tokens = api
    operation = next(result.ok() for result in schema.get_all_operations() if result.ok().label == label)
    authorization = tokens[_role(operation.method, operation.path)]

    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    def check(case: schemathesis.Case) -> None:
        calls[label] = calls.get(label, 0) + 1
        try:
            case.call_and_validate(headers={"Authorization": authorization}, checks=CHECKS)
        except Exception as error:
            failed[label] = type(error).__name__
            raise

    check()


def test_at_least_two_thousand_requests_were_generated() -> None:
    """Runs after the module's generated tests (they share one worker): counts what they sent."""
    if len(calls) < len(OPERATIONS):
        pytest.fail(f"only {len(calls)} of {len(OPERATIONS)} operations ran before this count")
    assert sum(calls.values()) >= MINIMUM_REQUESTS, calls
    assert not failed, failed
