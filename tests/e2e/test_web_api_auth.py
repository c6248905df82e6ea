"""The REST API's authentication, errors as problem+json, health and study summary."""

from __future__ import annotations

from e2e_world import PASSWORD, World
from fastapi.testclient import TestClient

PROBLEM = "application/problem+json"


def test_health_reports_the_database_connection_without_credentials(client: TestClient) -> None:
    response = client.get("/api/v1/health")
    assert response.status_code == 200
    assert response.json()["database"] == "ok"
    assert response.json()["migrations"] == "current"


def test_a_token_is_issued_for_the_right_password_and_identifies_its_user(
    client: TestClient, world: World
) -> None:
    response = client.post("/api/v1/auth/token", data={"username": world["monitor"], "password": PASSWORD})
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.json()["user"]["username"] == world["monitor"]
    assert "form.verify" in me.json()["permissions"]


def test_a_wrong_password_is_a_401_problem_naming_the_password(client: TestClient, world: World) -> None:
    response = client.post(
        "/api/v1/auth/token", data={"username": world["sponsor"], "password": "not it at all"}
    )
    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM
    assert response.headers["www-authenticate"] == "Bearer"
    problem = response.json()
    assert problem["status"] == 401
    assert problem["field"] == "password"
    assert problem["type"] == "/problems/not-authenticated"


def test_a_request_without_a_token_is_refused_with_a_problem(client: TestClient) -> None:
    response = client.get("/api/v1/study")
    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["field"] == "authorization"


def test_an_unknown_token_is_refused(client: TestClient) -> None:
    response = client.get("/api/v1/study", headers={"Authorization": "Bearer made-up-token"})
    assert response.status_code == 401
    assert "unknown, expired or revoked" in response.json()["detail"]


def test_a_revoked_token_no_longer_works(client: TestClient, world: World) -> None:
    token = client.post("/api/v1/auth/token", data={"username": world["dsmb"], "password": PASSWORD}).json()
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    mine = client.get("/api/v1/auth/tokens", headers=headers).json()
    newest = mine[0]["id"]
    assert client.delete(f"/api/v1/auth/tokens/{newest}", headers=headers).status_code == 200
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 401


def test_a_token_is_stored_only_as_its_hash(client: TestClient, world: World) -> None:
    from sqlalchemy import select

    from celltrial.database import make_engine
    from celltrial.study.sessions.models import ApiToken

    secret = client.post(
        "/api/v1/auth/token", data={"username": world["sponsor"], "password": PASSWORD}
    ).json()["access_token"]
    engine = make_engine(world.url)
    with engine.connect() as connection:
        stored = list(connection.execute(select(ApiToken.secret_hash)).scalars())
    engine.dispose()
    assert secret not in stored
    assert all(len(value) == 64 for value in stored)


def test_validation_errors_are_problems_naming_the_field(
    client: TestClient, as_role: dict[str, dict[str, str]]
) -> None:
    response = client.get("/api/v1/sites?limit=0", headers=as_role["admin"])
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["field"] == "limit"


def test_an_unknown_path_under_the_api_is_a_404_problem(client: TestClient) -> None:
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM


def test_the_study_summary_gives_status_and_enrolment_against_the_cap(
    client: TestClient, as_role: dict[str, dict[str, str]]
) -> None:
    summary = client.get("/api/v1/study", headers=as_role["dsmb"]).json()
    assert summary["nct_id"] == "NCT07008872"
    assert summary["enrolment_cap"] == 40
    assert summary["enrolled"] == 0


def test_a_site_role_lists_only_its_own_site(
    client: TestClient, as_role: dict[str, dict[str, str]], world: World
) -> None:
    own = client.get("/api/v1/sites", headers=as_role["coordinator_b"]).json()
    assert [site["id"] for site in own["items"]] == [world.site_b]
    every = client.get("/api/v1/sites", headers=as_role["monitor"]).json()
    assert every["total"] == 2


def test_only_the_administrator_manages_users(client: TestClient, as_role: dict[str, dict[str, str]]) -> None:
    for role, status in (("admin", 200), ("investigator", 403), ("data_manager", 403), ("sponsor", 403)):
        assert client.get("/api/v1/users", headers=as_role[role]).status_code == status, role


def test_the_administrator_adds_and_disables_a_user_who_then_cannot_sign_in(
    client: TestClient, as_role: dict[str, dict[str, str]], world: World
) -> None:
    new = {
        "username": "temp-monitor",
        "full_name": "Temporary Monitor",
        "role": "monitor",
        "password": PASSWORD,
    }
    assert client.post("/api/v1/users", json=new, headers=as_role["admin"]).status_code == 201
    assert (
        client.post("/api/v1/auth/token", data={"username": "temp-monitor", "password": PASSWORD}).status_code
        == 200
    )
    disabled = client.post(
        "/api/v1/users/temp-monitor/disable", json={"reason": "left the study"}, headers=as_role["admin"]
    )
    assert disabled.json()["disabled"] is True
    refused = client.post("/api/v1/auth/token", data={"username": "temp-monitor", "password": PASSWORD})
    assert refused.status_code == 401
    assert "disabled" in refused.json()["detail"]


def test_a_weak_password_is_refused_naming_the_password_field(
    client: TestClient, as_role: dict[str, dict[str, str]]
) -> None:
    new = {"username": "weak-user", "full_name": "Weak User", "role": "sponsor", "password": "short"}
    response = client.post("/api/v1/users", json=new, headers=as_role["admin"])
    assert response.status_code == 422
    assert response.json()["field"] == "password"


def test_every_response_carries_the_security_headers(client: TestClient) -> None:
    response = client.get("/api/v1/health")
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"


def test_the_type_of_a_problem_is_a_page_explaining_it(client: TestClient) -> None:
    problem = client.get("/api/v1/study").json()
    page = client.get(problem["type"])
    assert page.status_code == 200
    assert "Not authenticated" in page.text
    assert client.get("/problems/stale-version").status_code == 200
    assert client.get("/problems/no-such-kind").status_code == 404
