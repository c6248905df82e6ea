"""Files named by a user: one reader, one set of messages naming the file (textfile, jsoninput)."""

from __future__ import annotations

from pathlib import Path

import pytest

from celltrial.cli import main
from celltrial.errors import InvalidInput
from celltrial.jsoninput import MAX_JSON_DEPTH, read_json_file
from celltrial.textfile import read_text


def test_a_text_file_is_read_as_utf8(tmp_path: Path) -> None:
    path = tmp_path / "scenario.yaml"
    path.write_text("name: Müller\n", encoding="utf-8")
    assert read_text(path) == "name: Müller\n"


@pytest.mark.parametrize(
    ("make", "message"),
    [
        pytest.param(lambda p: None, "no such file", id="missing"),
        pytest.param(lambda p: p.mkdir(), "cannot be read: [Errno 21] Is a directory", id="a directory"),
        pytest.param(lambda p: p.write_bytes(b"\xff\xfe{}"), "cannot be read: 'utf-8' codec", id="not UTF-8"),
    ],
)
def test_an_unreadable_file_is_named_with_what_is_wrong(tmp_path: Path, make: object, message: str) -> None:
    path = tmp_path / "input.json"
    make(path)  # type: ignore[operator]
    with pytest.raises(InvalidInput) as error:
        read_json_file(path)
    assert error.value.field == str(path)
    assert error.value.message.startswith(message)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param('{"a": 1,}', "not JSON: Expecting property name enclosed in double quotes at line 1"),
        pytest.param("", "not JSON: Expecting value at line 1 column 1"),
        pytest.param("[" * (MAX_JSON_DEPTH + 1), f"more than {MAX_JSON_DEPTH} levels deep"),
    ],
)
def test_a_file_that_is_not_json_says_where(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "input.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InvalidInput) as error:
        read_json_file(path)
    assert error.value.field == str(path)
    assert message in error.value.message


def test_a_json_file_is_parsed(tmp_path: Path) -> None:
    path = tmp_path / "input.json"
    path.write_text('{"grade": [1, 2.5, null]}', encoding="utf-8")
    assert read_json_file(path) == {"grade": [1, 2.5, None]}


@pytest.mark.parametrize(
    "arguments",
    [
        pytest.param(["grade", "crs", "{file}", "--json"], id="grade"),
        pytest.param(["screen", "{file}", "--json"], id="screen"),
        pytest.param(["protocol", "import", "{file}"], id="protocol import"),
    ],
)
def test_the_commands_name_a_missing_file_the_same_way(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], arguments: list[str]
) -> None:
    missing = tmp_path / "absent.json"
    assert main([a.replace("{file}", str(missing)) for a in arguments]) == 2
    err = capsys.readouterr().err
    assert f"{missing}: no such file" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param(None, "no such file", id="missing"),
        pytest.param(b"\xff\xfesecret\n", "cannot be read: 'utf-8' codec", id="not UTF-8"),
        pytest.param(b"", "is empty", id="empty"),
    ],
)
def test_a_password_file_that_cannot_serve_is_refused_naming_the_option(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes | None, message: str
) -> None:
    path = tmp_path / "password.txt"
    if content is not None:
        path.write_bytes(content)
    arguments = ["user", "add", "ana", "--name", "Ana", "--role", "monitor", "--password-file", str(path)]
    assert main([*arguments, "--db", f"sqlite:///{tmp_path / 'none.db'}"]) == 2
    err = capsys.readouterr().err
    assert f"--password-file: {path}" in err
    assert message in err
    assert "Traceback" not in err
