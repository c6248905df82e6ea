"""``celltrial protocol``: the CLI contract other tools rely on."""

from __future__ import annotations

import json

import pytest

from celltrial.cli import main


@pytest.fixture(autouse=True)
def private_library(tmp_path, monkeypatch):
    monkeypatch.setenv("CELLTRIAL_HOME", str(tmp_path / "home"))


def test_show_prints_a_readable_summary(capsys):
    assert main(["protocol", "show", "NCT07008872"]) == 0
    out = capsys.readouterr().out
    assert "NOT_YET_RECRUITING" in out
    assert "Results pending" in out
    assert "14 Years to 75 Years" in out


def test_show_json_prints_the_model(capsys):
    assert main(["protocol", "show", "NCT07008872", "--json"]) == 0
    model = json.loads(capsys.readouterr().out)
    assert model["protocol_section"]["design_module"]["enrollment_info"]["count"] == 40


def test_export_prints_the_api_v2_shape(capsys):
    assert main(["protocol", "export", "NCT07008872", "--format", "ctgov-json"]) == 0
    exported = json.loads(capsys.readouterr().out)
    assert set(exported) == {"protocolSection", "hasResults"}
    assert exported["protocolSection"]["identificationModule"]["orgStudyIdInfo"]["id"] == "XB-20240912-1"


def test_export_refuses_an_unknown_format(capsys):
    assert main(["protocol", "export", "NCT07008872", "--format", "xml"]) == 2
    assert "--format" in capsys.readouterr().err


def test_import_then_export_gives_back_the_same_json(shared_data, capsys):
    path = shared_data / "ctgov" / "NCT02210780_study.json"
    assert main(["protocol", "import", str(path)]) == 0
    capsys.readouterr()
    assert main(["protocol", "export", "NCT02210780"]) == 0
    assert json.loads(capsys.readouterr().out) == json.loads(path.read_text())


def test_list_shows_shipped_and_imported(shared_data, capsys):
    main(["protocol", "import", str(shared_data / "ctgov" / "NCT06388018_studies_page.json")])
    capsys.readouterr()
    assert main(["protocol", "list", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == [
        {"nct_id": "NCT06388018", "origin": "imported"},
        {"nct_id": "NCT07008872", "origin": "shipped"},
    ]


def test_bad_file_gives_one_line_and_exit_code_2(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text('{"protocolSection": {"statusModule": {"overallStatus": "RECRUITING"}}}')
    assert main(["protocol", "import", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "error: bad.json: protocolSection.identificationModule: Field required"


def test_a_missing_file_is_named(tmp_path, capsys):
    assert main(["protocol", "import", str(tmp_path / "none.json")]) == 2
    assert "none.json: no such file" in capsys.readouterr().err


def test_an_unknown_protocol_is_not_found(capsys):
    assert main(["protocol", "show", "NCT00000000"]) == 2
    assert "no protocol 'NCT00000000'" in capsys.readouterr().err
