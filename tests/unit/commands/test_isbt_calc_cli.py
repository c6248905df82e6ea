"""``celltrial isbt`` and ``celltrial calc`` from the command line."""

from __future__ import annotations

import json

import pytest

from celltrial.cli import main


def test_check_char_prints_H_for_the_red_book_din(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["isbt", "check-char", "G123498654321"]) == 0
    assert capsys.readouterr().out == "H\n"


@pytest.mark.parametrize(
    ("din", "problem"),
    [
        pytest.param("G12349865432", "has 12 characters", id="wrong-length"),
        pytest.param("g123498654321", "lowercase", id="lowercase"),
        pytest.param("G1234986543#1", "'#' at position 12", id="invalid-character"),
    ],
)
def test_a_bad_din_is_one_line_on_stderr_and_exit_code_2(
    capsys: pytest.CaptureFixture[str], din: str, problem: str
) -> None:
    assert main(["isbt", "check-char", din]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert problem in captured.err
    assert len(captured.err.strip().splitlines()) == 1
    assert "Traceback" not in captured.err


def test_din_prints_the_full_eye_readable_din(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["isbt", "din", "--facility", "A9999", "--year", "14", "--sequence", "123456"]) == 0
    assert capsys.readouterr().out == "A9999 14 123456 00 [N]\n"


def test_din_json_holds_every_form(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["isbt", "din", "--facility", "G1234", "--year", "98", "--sequence", "654321", "--flags", "77"]
    assert main([*argv, "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["keyboard_entry"] == "G123498654321H"
    assert printed["data_content"] == "=G12349865432177"
    assert printed["flags"] == "77"


def test_din_with_a_bad_facility_exits_2_naming_the_facility(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["isbt", "din", "--facility", "O1234", "--year", "26", "--sequence", "1"]) == 2
    assert "facility" in capsys.readouterr().err
