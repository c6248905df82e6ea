"""``celltrial demo --no-serve``: a fresh database with the demo trial, logins that work."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pages import log_in

from celltrial.cli import main
from celltrial.web.app import create_app
from celltrial.web.settings import WebSettings


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> tuple[str, dict[str, str]]:
    folder = tmp_path_factory.mktemp("demo")
    url = f"sqlite:///{folder / 'demo.db'}"
    capture = folder / "out.txt"
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(
            [
                "demo",
                "--db",
                url,
                "--no-serve",
                "--registry",
                str(shared_data / "ctgov" / "NCT02210780_study.json"),
            ]
        )
    capture.write_text(out.getvalue())
    assert code == 0, out.getvalue()
    logins = dict(re.findall(r"^  (\S+)\s+(\S+)\s+\S+\s+\S+$", out.getvalue(), re.MULTILINE))
    return url, logins


def test_the_demo_prints_a_login_per_role_and_the_address(demo: tuple[str, dict[str, str]]) -> None:
    _url, logins = demo
    assert {
        "investigator",
        "coordinator",
        "cell-lab",
        "data-manager",
        "monitor",
        "sponsor",
        "dsmb",
        "admin",
    } <= set(logins)


def test_the_demo_trial_can_be_worked_with_the_printed_logins(demo: tuple[str, dict[str, str]]) -> None:
    url, logins = demo
    with TestClient(create_app(url, WebSettings())) as client:
        log_in(client, "monitor", logins["monitor"])
        page = client.get("/").text
        assert 'data-testid="enrolment">3 / 40<' in page
        assert "Cytokine release syndrome" in page
        assert re.search(r'data-testid="open-queries"><a href="/queries\?status=open">[1-9]', page)
        log_in(client, "investigator", logins["investigator"])
        subjects = client.get("/subjects").text
        assert subjects.count('href="/subjects/') == 4  # site A's four patients
        assert client.get("/registry/NCT02210780").status_code == 200


def test_the_demo_refuses_a_database_that_is_not_a_sqlite_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--db", "postgresql://somewhere/db", "--no-serve"]) == 2
    assert "SQLite" in capsys.readouterr().err
