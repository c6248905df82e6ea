"""Oversized requests and uploads are refused with 413; deeply nested JSON with 400 naming the problem.

Issue #13, "Bad input": the limits hold before any route parses the body, for the API (problem+json),
the login form and the screening upload page (an error page), whether the client announces the
size or streams it without a ``Content-Length``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from documents import example_bundle, example_form
from e2e_world import World
from fastapi.testclient import TestClient
from pages import log_in
from stress_report import record_stress

from celltrial.cli import main
from celltrial.web.limits import MAX_BODY_BYTES, MAX_JSON_DEPTH, json_depth_exceeds

TOO_BIG = MAX_BODY_BYTES + 1
outcomes: list[bool] = []


def _nested(depth: int) -> bytes:
    return b'{"form": "celltrial-screening-form", "facts": ' + b"[" * depth + b"]" * depth + b"}"


def _record(refused: bool) -> None:
    outcomes.append(refused)


@pytest.fixture(scope="module", autouse=True)
def report() -> Iterator[None]:
    yield
    record_stress(
        "attack",
        "oversized and deeply nested requests",
        len(outcomes),
        outcomes.count(False),
        f"limit {MAX_BODY_BYTES:,} bytes, JSON depth {MAX_JSON_DEPTH}",
    )


def test_an_api_body_over_the_limit_is_a_413_problem(
    client: TestClient, as_role: dict[str, dict[str, str]]
) -> None:
    body = json.dumps({"form": "celltrial-screening-form", "patient": {"note": "x" * TOO_BIG}})
    response = client.post(
        "/api/v1/eligibility/evaluate",
        content=body,
        headers={**as_role["investigator"], "content-type": "application/json"},
    )
    _record(response.status_code == 413)
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["title"] == "Content too large"
    assert problem["field"] == "body"
    assert response.headers["x-content-type-options"] == "nosniff"


def test_a_body_streamed_without_a_length_is_cut_off_at_the_limit(
    client: TestClient, as_role: dict[str, dict[str, str]]
) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"form": "celltrial-screening-form", "patient": {"note": "'
        for _ in range(TOO_BIG // 1_000_000 + 1):
            yield b"y" * 1_000_000
        yield b'"}}'

    response = client.post(
        "/api/v1/eligibility/evaluate",
        content=chunks(),
        headers={**as_role["investigator"], "content-type": "application/json"},
    )
    _record(response.status_code == 413)
    assert "content-length" not in {name.lower() for name in response.request.headers}
    assert response.status_code == 413


def test_an_announced_length_over_the_limit_is_refused_before_the_body_is_read(client: TestClient) -> None:
    response = client.post(
        "/api/v1/auth/token",
        content=b"username=a&password=b",
        headers={"content-type": "application/x-www-form-urlencoded", "content-length": str(TOO_BIG)},
    )
    _record(response.status_code == 413)
    assert response.status_code == 413


def test_an_oversized_login_form_gets_the_error_page(client: TestClient) -> None:
    client.cookies.clear()
    response = client.post(
        "/login",
        data={"username": "x" * TOO_BIG, "password": "y", "csrf_token": "z"},
        headers={"accept": "text/html"},
    )
    _record(response.status_code == 413)
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("text/html")
    assert "Content too large" in response.text


def test_an_oversized_screening_upload_is_refused_and_nothing_is_screened(
    client: TestClient, world: World, as_role: dict[str, dict[str, str]]
) -> None:
    new = {"site_id": world.site_a, "date_of_birth": "1990-01-01", "sex": "male", "initials": "UP"}
    subject = client.post("/api/v1/subjects", json=new, headers=as_role["coordinator"]).json()["id"]
    csrf = log_in(client, world["investigator"])
    bundle = example_bundle()
    bundle["padding"] = "z" * TOO_BIG
    response = client.post(
        f"/subjects/{subject}/screening/upload",
        data={"csrf_token": csrf},
        files={"document": ("bundle.json", json.dumps(bundle).encode(), "application/json")},
    )
    _record(response.status_code == 413)
    assert response.status_code == 413
    screening = client.get(f"/api/v1/subjects/{subject}/screening", headers=as_role["investigator"])
    assert screening.status_code == 404


def test_a_screening_bundle_of_normal_size_and_depth_passes_the_limits(
    client: TestClient, world: World, as_role: dict[str, dict[str, str]]
) -> None:
    response = client.post(
        "/api/v1/eligibility/evaluate", json=example_bundle(), headers=as_role["investigator"]
    )
    assert response.status_code == 200, response.text
    assert response.json()["decision"] in {"eligible", "ineligible", "incomplete"}


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH, 1_000, 100_000])
def test_json_nested_deeper_than_the_limit_is_a_400_problem_saying_so(
    client: TestClient, as_role: dict[str, dict[str, str]], depth: int
) -> None:
    response = client.post(
        "/api/v1/eligibility/evaluate",
        content=_nested(depth),
        headers={**as_role["investigator"], "content-type": "application/json"},
    )
    _record(response.status_code == 400)
    assert response.status_code == 400
    problem = response.json()
    assert problem["type"] == "/problems/json-too-deep"
    assert "nests" in problem["detail"]
    assert problem["field"] == "body"


def test_deep_json_is_refused_on_every_json_endpoint_even_without_a_token(client: TestClient) -> None:
    for path in ("/api/v1/subjects", "/api/v1/study/status", "/api/v1/forms/1/queries"):
        response = client.post(path, content=_nested(5_000), headers={"content-type": "application/json"})
        _record(response.status_code == 400)
        assert response.status_code == 400, path


@pytest.mark.parametrize(
    ("body", "limit", "deeper"),
    [
        (b"[]", 1, False),
        (b"[[]]", 1, True),
        (b'{"a": "[[[[[[[["}', 1, False),
        (b'{"a": "\\"[[[["}', 1, False),
        (b'[{"a": [1, {"b": []}]}]', 5, False),
        (b'[{"a": [1, {"b": []}]}]', 4, True),
        (b"[]" * 1000, 1, False),
    ],
)
def test_the_depth_counts_nesting_not_brackets_inside_strings(body: bytes, limit: int, deeper: bool) -> None:
    assert json_depth_exceeds(body, limit) is deeper


def test_the_shipped_example_documents_are_far_from_the_depth_limit() -> None:
    for document in (example_form(), example_bundle()):
        assert not json_depth_exceeds(json.dumps(document).encode(), MAX_JSON_DEPTH // 4)


DEEP = '{"resourceType": "Bundle", "entry": ' + "[" * 50_000 + "]" * 50_000 + "}"


@pytest.mark.parametrize(
    "command",
    [
        ["screen", "{file}", "--json"],
        ["grade", "crs", "{file}", "--json"],
        ["protocol", "import", "{file}"],
        ["registry", "import", "{file}", "--db", "sqlite:///{folder}/registry.db"],
        ["prescreen", "--fhir", "{folder}", "--json"],
    ],
    ids=["screen", "grade crs", "protocol import", "registry import", "prescreen FHIR folder"],
)
def test_a_deeply_nested_json_file_is_refused_by_the_cli_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    monkeypatch.setenv("CELLTRIAL_HOME", str(tmp_path))
    monkeypatch.setenv("CELLTRIAL_DEBUG", "1")
    path = tmp_path / "deep.json"
    path.write_text(DEEP, encoding="utf-8")
    if command[0] == "registry":
        assert main(["db", "upgrade", "--db", f"sqlite:///{tmp_path}/registry.db"]) == 0
    capsys.readouterr()
    code = main([part.format(file=path, folder=tmp_path) for part in command])
    error = capsys.readouterr().err
    _record(code == 2)
    assert code == 2, error
    assert "levels deep" in error
    assert len(error.strip().splitlines()) == 1


def test_a_deeply_nested_upload_is_refused_on_the_screening_page(
    client: TestClient, world: World, as_role: dict[str, dict[str, str]]
) -> None:
    new = {"site_id": world.site_a, "date_of_birth": "1990-01-01", "sex": "male", "initials": "DP"}
    subject = client.post("/api/v1/subjects", json=new, headers=as_role["coordinator"]).json()["id"]
    csrf = log_in(client, world["investigator"])
    response = client.post(
        f"/subjects/{subject}/screening/upload",
        data={"csrf_token": csrf},
        files={"document": ("deep.json", DEEP.encode(), "application/json")},
    )
    _record(response.status_code == 422)
    assert response.status_code == 422
    assert "levels deep" in response.text
