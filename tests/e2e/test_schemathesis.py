"""schemathesis against /openapi.json, authenticated: across at least 1,000 generated requests no
response is a 5xx and none breaks the schema the API publishes for it.

One test per operation, each running ``EXAMPLES_PER_OPERATION`` generated cases through the
app in process; each operation is called with the token of a role allowed to use it, so that
generated requests get past the permission check into the route and its service.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from e2e_world import World
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from pages import token_headers
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from celltrial.web.app import create_app
from celltrial.web.settings import WebSettings

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("schemathesis")]

MINIMUM_REQUESTS = 1_000
EXAMPLES_PER_OPERATION = 30
CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance, content_type_conformance]
ROLES = ("admin", "sponsor", "data_manager", "monitor", "investigator", "dsmb")
# Which role calls an operation: the first rule whose method and path prefix match.
ROLE_BY_OPERATION: list[tuple[str, str, str]] = [
    ("DELETE", "/api/v1/auth/tokens", "dsmb"),
    ("GET", "/api/v1/users", "admin"),
    ("POST", "/api/v1/users", "admin"),
    ("POST", "/api/v1/sites", "admin"),
    ("POST", "/api/v1/study", "sponsor"),
    ("", "/api/v1/locks", "data_manager"),
    ("POST", "/api/v1/exports", "data_manager"),
    ("POST", "/api/v1/queries/{query_id}/close", "monitor"),
    ("POST", "/api/v1/queries/{query_id}/reopen", "monitor"),
    ("GET", "/api/v1/audit", "monitor"),
    ("POST", "/api/v1/forms/{form_id}/verifications", "monitor"),
    ("POST", "/api/v1/forms/{form_id}/queries", "monitor"),
]


def _labels() -> list[str]:
    """Every operation of the published schema (read from an app that is never given a request)."""
    app = create_app("sqlite:///:memory:", WebSettings())
    return [
        result.ok().label
        for result in schemathesis.openapi.from_asgi("/openapi.json", app).get_all_operations()
    ]


OPERATIONS = _labels()
calls: dict[str, int] = {}


def _role(method: str, path: str) -> str:
    for rule_method, prefix, role in ROLE_BY_OPERATION:
        if (not rule_method or rule_method == method.upper()) and path.startswith(prefix):
            return role
    return "investigator"


def schema_and_tokens(world: World) -> tuple[Any, dict[str, str]]:
    """The app on ``world``'s database, its schema, and a bearer token per role."""
    app = create_app(world.url, WebSettings())
    with TestClient(app) as client:
        tokens = {role: token_headers(client, world.usernames[role])["Authorization"] for role in ROLES}
    return schemathesis.openapi.from_asgi("/openapi.json", app), tokens


def exercise(api: tuple[Any, dict[str, str]], label: str, examples: int, calls: dict[str, int]) -> None:
    """``examples`` generated requests to operation ``label`` with an allowed role's token, each
    checked against ``CHECKS``; ``calls`` counts them per operation."""
    schema, tokens = api
    operation = next(result.ok() for result in schema.get_all_operations() if result.ok().label == label)
    authorization = tokens[_role(operation.method, operation.path)]

    @given(case=operation.as_strategy())
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    def check(case: schemathesis.Case) -> None:
        calls[label] = calls.get(label, 0) + 1
        case.call_and_validate(headers={"Authorization": authorization}, checks=CHECKS)

    check()


@pytest.fixture(scope="module")
def api(world: World) -> tuple[Any, dict[str, str]]:
    return schema_and_tokens(world)


def test_the_schema_has_enough_operations_for_a_thousand_requests() -> None:
    assert len(OPERATIONS) * EXAMPLES_PER_OPERATION >= MINIMUM_REQUESTS


@pytest.mark.parametrize("label", OPERATIONS)
def test_every_generated_request_gets_an_answer_within_the_schema(
    api: tuple[Any, dict[str, str]], label: str
) -> None:
    exercise(api, label, EXAMPLES_PER_OPERATION, calls)


def test_at_least_a_thousand_requests_were_generated() -> None:
    """Runs after the module's generated tests (they share one worker): counts what they sent."""
    if len(calls) < len(OPERATIONS):
        pytest.fail(f"only {len(calls)} of {len(OPERATIONS)} operations ran before this count")
    print(f"schemathesis: {sum(calls.values())} generated requests over {len(calls)} operations")
    assert sum(calls.values()) >= MINIMUM_REQUESTS, calls
