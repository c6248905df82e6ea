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
                "--patients",
                "8",
                "--registry",
                str(shared_data / "ctgov" / "NCT02210780_study.json"),
            ]
        )
    capture.write_text(out.getvalue())
    assert code == 0, out.getvalue()
    logins = dict(re.findall(r"^  (\S+)\s+(\S+)\s+\S+\s+\S+$", out.getvalue(), re.MULTILINE))
    enrolled = re.search(r"^Enrolled\s+(\d+)$", out.getvalue(), re.MULTILINE)
    assert enrolled, out.getvalue()
    logins["enrolled"] = enrolled.group(1)
    return url, logins


def test_the_demo_prints_a_login_per_role_and_the_address(demo: tuple[str, dict[str, str]]) -> None:
    _url, logins = demo
    assert {
        "investigator",
        "coordinator",
        "lab",
        "datamanager",
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
        assert f'data-testid="enrolment">{logins["enrolled"]} / 40<' in page
        log_in(client, "investigator", logins["investigator"])
        subjects = client.get("/subjects").text
        assert 'href="/subjects/' in subjects
        assert client.get("/registry/NCT02210780").status_code == 200


def test_the_demo_refuses_a_database_that_is_not_a_sqlite_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--db", "postgresql://somewhere/db", "--no-serve"]) == 2
    assert "SQLite" in capsys.readouterr().err
