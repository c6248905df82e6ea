"""``celltrial registry import|search|related|show`` as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from celltrial.cli import main


@pytest.fixture
def imported(
    database_url: str, corpus_slice: Path, seed_record: Path, capsys: pytest.CaptureFixture[str]
) -> str:
    assert main(["registry", "import", str(corpus_slice), "--db", database_url]) == 0
    assert main(["registry", "import", str(seed_record), "--db", database_url]) == 0
    capsys.readouterr()
    return database_url


def test_import_reports_what_it_read_and_changed(
    database_url: str, corpus_slice: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["registry", "import", str(corpus_slice), "--db", database_url, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["trials_created"] == report["trials_in_sources"] > 0
    assert main(["registry", "import", str(corpus_slice), "--db", database_url]) == 0
    out = capsys.readouterr().out
    assert "0 new, 0 updated" in out
    assert "site rows skipped" in out


def test_search_prints_ranked_nct_ids_with_titles_and_scores(
    imported: str, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["registry", "search", "CD7 CAR-T T-ALL", "--age", "16", "--db", imported, "--json"]
    assert main(argv) == 0
    found = json.loads(capsys.readouterr().out)
    first = found["results"][0]
    assert {"nct_id", "title", "score"} <= set(first)
    assert "NCT05716113" in {r["nct_id"] for r in found["results"]}
    assert found["total"] == len(found["results"])


def test_related_prints_the_contract_shape(imported: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["registry", "related", "NCT07008872", "--top", "5", "--db", imported, "--json"]) == 0
    related = json.loads(capsys.readouterr().out)
    assert related["nct_id"] == "NCT07008872"
    assert len(related["related"]) == 5
    assert {"nct_id", "title", "score", "reason"} <= set(related["related"][0])
    assert related["related"][0]["nct_id"] == "NCT05716113"
    assert related["related"][0]["reason"].startswith("same target antigen CD7")


def test_show_prints_the_trial_page_with_every_section(
    imported: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["registry", "show", "NCT07008872", "--db", imported]) == 0
    out = capsys.readouterr().out
    headings = ["STUDY RESULTS", "BASIC INFORMATION", "ELIGIBILITY CRITERIA", "MORE RELATED TRIALS"]
    assert all(heading in out for heading in headings)
    assert "Results pending" in out
    assert "NCT05716113" in out
    assert main(["registry", "show", "NCT07008872", "--db", imported, "--json"]) == 0
    page = json.loads(capsys.readouterr().out)
    assert page["operations_available"] is True


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        pytest.param(["registry", "show", "NCT09999999"], "no trial NCT09999999", id="unknown-trial"),
        pytest.param(["registry", "related", "12345"], "not an NCT id", id="bad-id"),
        pytest.param(["registry", "search", "CD7", "--status", "OPEN"], "--status", id="bad-status"),
        pytest.param(["registry", "search", "CD7", "--page-size", "1000"], "--page-size", id="bad-page-size"),
        pytest.param(["registry", "related", "NCT07008872", "--top", "0"], "top", id="bad-top"),
    ],
)
def test_bad_input_is_one_line_and_exit_code_2(
    imported: str, argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*argv, "--db", imported]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert len(err.strip().splitlines()) == 1


def test_importing_a_missing_path_names_it(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["registry", "import", str(tmp_path / "nothing.json"), "--db", database_url]) == 2
    assert "nothing.json" in capsys.readouterr().err
