"""Routes do their database work in one call: the bearer-token check, the route, the commit."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from celltrial.errors import NotAuthenticated
from celltrial.web import app as app_module
from celltrial.web import deps
from celltrial.web.app import create_app
from celltrial.web.routing import (
    InRouteCall,
    UnitOfWorkRoute,
    _PathFilteredRouter,
    committing,
    filter_by_path,
)


def _api_routes(routes: list[Any]) -> Iterator[APIRoute]:
    for route in routes:
        included = getattr(route, "original_router", None)  # FastAPI keeps an included router whole
        if included is not None:
            yield from _api_routes(included.routes)
        elif isinstance(route, APIRoute):
            yield route


def _calls(dependant: Dependant) -> Iterator[Any]:
    for sub in dependant.dependencies:
        yield sub.call
        yield from _calls(sub)


def test_every_route_that_takes_a_bearer_token_checks_it_in_its_own_call() -> None:
    routes = list(_api_routes(create_app("sqlite://").routes))
    with_token = [route for route in routes if deps._api_user in set(_calls(route.dependant))]
    assert len(with_token) > 20
    assert [route.path for route in with_token if not isinstance(route, UnitOfWorkRoute)] == []


class _CountingSession(Session):
    commits = 0

    def commit(self) -> None:
        self.commits += 1


class _Lookup(InRouteCall):
    def __init__(self, session: Session, answer: str) -> None:
        self.session = session
        self.answer = answer
        self.resolved_in: list[str] = []

    def resolve(self) -> str:
        self.resolved_in.append("route call")
        return self.answer


@pytest.fixture
def session() -> Iterator[_CountingSession]:
    engine = create_engine("sqlite://")
    with _CountingSession(engine) as opened:
        yield opened
    engine.dispose()


def test_the_route_receives_the_worked_out_value_and_commits_the_session_once(
    session: _CountingSession,
) -> None:
    seen: dict[str, Any] = {}

    def route(user: str, db: Session) -> str:
        seen.update(user=user, commits_before=session.commits)
        return "answer"

    lookup = _Lookup(session, "coordinator")
    assert committing(route)(user=lookup, db=session) == "answer"
    assert seen == {"user": "coordinator", "commits_before": 0}
    assert lookup.resolved_in == ["route call"]
    assert session.commits == 1


def test_a_route_without_a_session_argument_commits_the_session_of_its_lookup(
    session: _CountingSession,
) -> None:
    assert committing(lambda user: user.upper())(user=_Lookup(session, "monitor")) == "MONITOR"
    assert session.commits == 1


def test_a_failed_lookup_stops_the_route_and_commits_nothing(session: _CountingSession) -> None:
    class Refused(_Lookup):
        def resolve(self) -> str:
            raise NotAuthenticated("the bearer token is unknown", field="authorization")

    called: list[str] = []
    with pytest.raises(NotAuthenticated):
        committing(lambda user: called.append(user))(user=Refused(session, ""))
    assert called == []
    assert session.commits == 0


def _statuses(app: FastAPI) -> dict[tuple[str, str], int]:
    """The status of a request without credentials for every API path with each method and one
    it does not take, plus paths no route has (found 401, not found 404, wrong method 405...)."""
    client = TestClient(app, follow_redirects=False)
    asked = [("GET", "/api/v1/no-such-thing"), ("GET", "/api/v1/forms/1/"), ("DELETE", "/api/v1/forms")]
    for route in _api_routes(app.routes):
        path = "/api/v1" + re.sub(r"\{[^}]+\}", "1", route.path)
        asked += [(method, path) for method in sorted(route.methods or ())] + [("PATCH", path)]
    return {(method, path): client.request(method, path).status_code for method, path in asked}


def test_routers_filtered_by_path_route_every_request_as_without_the_filter(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    filtered = create_app("sqlite://")
    assert any(isinstance(route, _PathFilteredRouter) for route in filtered.router.routes)
    monkeypatch.setattr(app_module, "filter_by_path", lambda router: None)
    unfiltered = create_app("sqlite://")
    assert not any(isinstance(route, _PathFilteredRouter) for route in unfiltered.router.routes)
    expected = _statuses(unfiltered)
    assert {401, 404, 405} <= set(expected.values())
    assert _statuses(filtered) == expected


def test_a_route_added_after_the_filter_is_found() -> None:
    app = FastAPI()
    router = APIRouter()
    router.add_api_route("/first", lambda: "first")
    app.include_router(router, prefix="/api/v1")
    filter_by_path(app.router)
    client = TestClient(app)
    assert client.get("/api/v1/later").status_code == 404
    router.add_api_route("/later", lambda: "later")
    assert client.get("/api/v1/later").json() == "later"
    assert client.get("/api/v1/first").json() == "first"
