"""XML attacks on the ODM import are refused: entity expansion, external entities, external DTDs.

Issue #13, "Bad input": billion laughs, quadratic blow-up, XXE reading ``file:///etc/passwd``,
parameter entities, a DTD fetched from the network and XInclude; each refused with celltrial's
own error (a one-line message and exit code 2 from ``celltrial import odm``), the local file's
content never shows up anywhere, and nothing is written. Payloads follow the OWASP XML External
Entity Prevention Cheat Sheet.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from security_documents import valid_odm
from stress_report import record_stress

from celltrial.cli import main
from celltrial.errors import InvalidInput
from celltrial.reporting.odm_import import import_odm_forms, read_odm_forms

PASSWD = Path("/etc/passwd")
SECRET_MARK = "root:"
outcomes: list[bool] = []


def _laughs(levels: int = 10) -> tuple[str, str]:
    entities = ['<!ENTITY lol0 "lol">']
    entities += [f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, levels)]
    return "\n".join(entities), f"&lol{levels - 1};"


def _attack(doctype: str, reference: str) -> str:
    body = valid_odm(study_name="&ATTACK;").replace("&amp;ATTACK;", reference)
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{doctype}\n{body}'


_LAUGHS, _LAUGH = _laughs()
ATTACKS: dict[str, str] = {
    "billion laughs": _attack(f"<!DOCTYPE ODM [\n{_LAUGHS}\n]>", _LAUGH),
    "quadratic blow-up": _attack(f'<!DOCTYPE ODM [<!ENTITY a "{"x" * 50_000}">]>', "&a;" * 50_000),
    "external entity in text": _attack(f'<!DOCTYPE ODM [<!ENTITY xxe SYSTEM "file://{PASSWD}">]>', "&xxe;"),
    "external entity by relative path": _attack(
        '<!DOCTYPE ODM [<!ENTITY xxe SYSTEM "../../../../../../../../etc/passwd">]>', "&xxe;"
    ),
    "parameter entity": _attack(
        f'<!DOCTYPE ODM [<!ENTITY % p SYSTEM "file://{PASSWD}"> %p;]>', "NCT07008872"
    ),
    "external DTD over the network": _attack(
        '<!DOCTYPE ODM SYSTEM "http://127.0.0.1:9/odm.dtd">', "NCT07008872"
    ),
    "harmless-looking internal DTD": _attack('<!DOCTYPE ODM [<!ENTITY name "NCT07008872">]>', "&name;"),
    "XInclude of a local file": _attack(
        "",
        f'<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="file://{PASSWD}" parse="text"/>',
    ),
}


@pytest.fixture(scope="module", autouse=True)
def report() -> Iterator[None]:
    yield
    record_stress(
        "attack", "XML entity and XXE attacks on the ODM import", len(outcomes), outcomes.count(False)
    )


def test_the_unattacked_file_imports(tmp_path: Path) -> None:
    """The attacks below differ from a good file only by the attack (so a refusal is the attack's)."""
    path = tmp_path / "good.xml"
    path.write_text(_attack("", "NCT07008872"), encoding="utf-8")
    assert [form.code for form in read_odm_forms(path)] == ["vital_signs"]


@pytest.mark.parametrize("name", list(ATTACKS))
def test_the_odm_import_refuses_the_attack_and_writes_nothing(tmp_path: Path, name: str) -> None:
    path = tmp_path / "attack.xml"
    path.write_text(ATTACKS[name], encoding="utf-8")
    out = tmp_path / "forms"
    with pytest.raises(InvalidInput) as refused:
        import_odm_forms(path, out)
    outcomes.append(SECRET_MARK not in str(refused.value) and not out.exists())
    assert SECRET_MARK not in str(refused.value)
    assert refused.value.field is not None
    assert refused.value.field.startswith("attack.xml")
    assert not out.exists()


@pytest.mark.parametrize("name", ["billion laughs", "external entity in text", "parameter entity"])
def test_a_declared_entity_is_refused_by_name_not_by_accident(tmp_path: Path, name: str) -> None:
    path = tmp_path / "attack.xml"
    path.write_text(ATTACKS[name], encoding="utf-8")
    with pytest.raises(InvalidInput, match="DOCTYPE or entity declaration is not accepted"):
        read_odm_forms(path)


def test_an_attack_encoded_as_utf16_is_refused_too(tmp_path: Path) -> None:
    path = tmp_path / "attack16.xml"
    text = ATTACKS["external entity in text"].replace('encoding="UTF-8"', 'encoding="UTF-16"')
    path.write_bytes(text.encode("utf-16"))
    with pytest.raises(InvalidInput) as refused:
        read_odm_forms(path)
    outcomes.append(SECRET_MARK not in str(refused.value))
    assert SECRET_MARK not in str(refused.value)


@pytest.mark.parametrize("name", ["billion laughs", "external entity in text"])
def test_the_cli_answers_one_line_and_exit_code_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    path = tmp_path / "attack.xml"
    path.write_text(ATTACKS[name], encoding="utf-8")
    out = tmp_path / "forms"
    code = main(["import", "odm", str(path), "--out", str(out)])
    captured = capsys.readouterr()
    outcomes.append(code == 2 and SECRET_MARK not in captured.out + captured.err)
    assert code == 2
    assert len(captured.err.strip().splitlines()) == 1
    assert "Traceback" not in captured.err
    assert SECRET_MARK not in captured.out + captured.err
    assert not out.exists()
