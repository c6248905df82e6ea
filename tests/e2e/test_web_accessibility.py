"""Every page's inputs have a label, every page has one h1, a main landmark and a skip link."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from documents import example_form
from e2e_world import World
from fastapi.testclient import TestClient
from pages import log_in


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.labels: set[str] = set()
        self.controls: list[dict[str, str | None]] = []
        self.h1 = 0
        self.main = 0
        self.skip = False
        self.in_label = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "label":
            self.in_label += 1
            if found.get("for"):
                self.labels.add(str(found["for"]))
        elif tag in {"input", "select", "textarea"} and found.get("type") not in {
            "hidden",
            "submit",
            "button",
        }:
            self.controls.append(found | {"wrapped": "yes" if self.in_label else None})
        elif tag == "h1":
            self.h1 += 1
        elif tag == "main":
            self.main += 1
        elif tag == "a" and found.get("href") == "#main":
            self.skip = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "label":
            self.in_label -= 1


def unlabelled(html: str) -> list[str]:
    page = _Page()
    page.feed(html)
    assert page.h1 == 1
    assert page.main == 1
    assert page.skip
    return [
        str(control.get("name") or control.get("id"))
        for control in page.controls
        if not (
            control.get("wrapped")
            or control.get("aria-label")
            or control.get("aria-labelledby")
            or (control.get("id") and control["id"] in page.labels)
        )
    ]


@pytest.fixture(scope="module")
def subject_and_form(client: TestClient, world: World) -> tuple[int, int]:
    from pages import token_headers

    coordinator = token_headers(client, world["coordinator"])
    investigator = token_headers(client, world["investigator"])
    form = example_form()
    new = {
        "site_id": world.site_a,
        "date_of_birth": form["patient"]["birth_date"],
        "sex": "female",
        "initials": "AX",
    }
    subject = client.post("/api/v1/subjects", json=new, headers=coordinator).json()["id"]
    client.post(
        f"/api/v1/subjects/{subject}/consents",
        json={"icf_version": "1.0", "signed_at": "2026-01-02T09:00:00Z"},
        headers=coordinator,
    )
    client.post(f"/api/v1/subjects/{subject}/screenings", json=form, headers=investigator)
    forms = client.get(f"/api/v1/subjects/{subject}/forms", headers=coordinator).json()
    return subject, forms[0]["id"]


@pytest.mark.parametrize(
    ("who", "path"),
    [
        (None, "/login"),
        (None, "/registry"),
        (None, "/registry/NCT07008872"),
        ("coordinator", "/"),
        ("coordinator", "/password"),
        ("coordinator", "/subjects"),
        ("coordinator", "/subjects/{subject}"),
        ("coordinator", "/subjects/{subject}/screening"),
        ("investigator", "/forms/{form}"),
        ("monitor", "/forms/{form}"),
        ("monitor", "/queries"),
        ("investigator", "/subjects/{subject}/audit"),
        ("admin", "/admin/users"),
        ("data_manager", "/locks"),
    ],
)
def test_every_input_of_the_page_has_a_label(
    client: TestClient, world: World, subject_and_form: tuple[int, int], who: str | None, path: str
) -> None:
    client.cookies.clear()
    if who:
        log_in(client, world[who])
    subject, form = subject_and_form
    response = client.get(path.format(subject=subject, form=form))
    assert response.status_code == 200, response.text
    assert unlabelled(response.text) == []
