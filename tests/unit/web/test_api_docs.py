"""``/docs``: Swagger UI from this server only, under a Content-Security-Policy that allows nothing else."""

from __future__ import annotations

from collections.abc import Iterator
from html.parser import HTMLParser

import pytest
from fastapi.testclient import TestClient

from celltrial.web.app import create_app


class _References(HTMLParser):
    """Every URL a page loads (``src``, ``href``) and the text of its inline scripts."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.inline_scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls += [value for name, value in attrs if name in {"src", "href"} and value is not None]
        self._in_script = tag == "script" and not dict(attrs).get("src")

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline_scripts.append(data)

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with TestClient(create_app("sqlite://")) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def docs(client: TestClient) -> tuple[str, dict[str, str]]:
    answer = client.get("/docs")
    assert answer.status_code == 200
    return answer.text, dict(answer.headers)


def test_the_docs_page_loads_only_files_of_this_server(docs: tuple[str, dict[str, str]]) -> None:
    page = _References()
    page.feed(docs[0])
    assert page.urls
    for url in page.urls:
        assert url.startswith("data:") or (url.startswith("/") and not url.startswith("//")), url
    assert "cdn" not in docs[0].lower()


def test_every_file_the_docs_page_names_is_served(
    client: TestClient, docs: tuple[str, dict[str, str]]
) -> None:
    page = _References()
    page.feed(docs[0])
    served = [url for url in page.urls if url.startswith("/")]
    assert {"/static/swagger-ui-bundle.js", "/static/swagger-ui.css", "/static/swagger-docs.js"} <= set(
        served
    )
    for url in served:
        answer = client.get(url)
        assert answer.status_code == 200, url
        assert answer.content


def test_swagger_ui_is_started_by_a_file_not_an_inline_script(docs: tuple[str, dict[str, str]]) -> None:
    page = _References()
    page.feed(docs[0])
    assert page.inline_scripts == []
    assert 'data-openapi-url="/openapi.json"' in docs[0]


def test_the_docs_policy_allows_this_origin_only(docs: tuple[str, dict[str, str]]) -> None:
    policy = docs[1]["content-security-policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert "http" not in policy
    assert "frame-ancestors 'none'" in policy


def test_the_vendored_swagger_ui_ships_with_its_licence(client: TestClient) -> None:
    licence = client.get("/static/swagger-ui.LICENSE.txt")
    assert licence.status_code == 200
    assert "Apache License" in licence.text
    assert "Version 2.0" in licence.text
