"""Fuzzing every importer: only celltrial's own errors come out, and a failed import changes nothing.

Issue #13, "Bad input". Each importer gets valid documents broken a little by Hypothesis (values
replaced, deleted, wrapped, keys renamed, text sliced), so that cases reach past the first check:
the screening form and the FHIR Bundle (``celltrial.eligibility``, and through the API into the
database), CT.gov API v2 JSON (``celltrial.protocol`` library and the registry's reader), ODM XML
(``celltrial.reporting.odm_import``) and CSV for analyses (``celltrial analyze km|nca``).

A case passes when the importer returns or raises a :class:`~celltrial.errors.CelltrialError`;
anything else is a crash. Counts go to the stress report (``fuzz``); ``CELLTRIAL_STRESS=1`` runs
2,000 cases per importer instead of the small count of ``make test``.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from documents import example_bundle, example_form
from e2e_world import World
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from security_documents import mutated_json, mutated_text, mutated_xml, valid_odm
from sqlalchemy import create_engine, func, select
from stress_report import record_stress, stress_mode

from celltrial.cli import main
from celltrial.database import Base
from celltrial.eligibility import read_bundle, read_form
from celltrial.errors import CelltrialError
from celltrial.protocol.library import import_file, parse_document
from celltrial.registry.sources.discover import collect
from celltrial.reporting.csvinput import read_csv_table
from celltrial.reporting.odm_import import import_odm_forms

CASES = 2_000 if stress_mode() else 40
API_CASES = 500 if stress_mode() else 15
CLI_CASES = 1_000 if stress_mode() else 12
counts: dict[str, list[int]] = {}


def _case(name: str, run: Callable[[], Any]) -> bool:
    """Run one case; True when celltrial refused it with its own error. Anything else that is
    raised is a crash: counted, then raised again so that Hypothesis shrinks it."""
    tally = counts.setdefault(name, [0, 0])
    tally[0] += 1
    try:
        run()
    except CelltrialError:
        return True
    except Exception:
        tally[1] += 1
        raise
    return False


SCRATCH = Path(tempfile.gettempdir()) / f"celltrial-fuzz-{os.getpid()}"


@pytest.fixture(scope="module", autouse=True)
def report() -> Iterator[None]:
    yield
    shutil.rmtree(SCRATCH, ignore_errors=True)
    for name, (cases, crashes) in counts.items():
        record_stress("fuzz", name, cases, crashes, "Hypothesis, mutated valid documents")


def _scratch(name: str) -> Path:
    """An empty scratch folder of this name (emptied for each case)."""
    folder = SCRATCH / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


# --- screening form and FHIR Bundle -------------------------------------------------------------


@settings(max_examples=CASES)
@given(document=mutated_json(example_form()))
def test_a_broken_screening_form_is_read_or_refused_cleanly(document: Any) -> None:
    _case("screening form", lambda: read_form(document))


@settings(max_examples=CASES)
@given(document=mutated_json(example_bundle()))
def test_a_broken_fhir_bundle_is_read_or_refused_cleanly(document: Any) -> None:
    _case("FHIR Bundle", lambda: read_bundle(document))


@settings(max_examples=CLI_CASES)
@given(text=mutated_text(json.dumps(example_form(), indent=1)))
def test_a_screening_file_with_broken_text_is_refused_by_the_cli_in_one_line(text: str) -> None:
    path = _scratch("screen") / "patient.json"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    os.environ["CELLTRIAL_DEBUG"] = "1"
    try:
        _case("screening file (CLI)", lambda: _cli_ok(["screen", str(path), "--json"]))
    finally:
        del os.environ["CELLTRIAL_DEBUG"]


def _cli_ok(arguments: list[str]) -> None:
    """``celltrial ...`` exits 0 or 2 (celltrial's error); with CELLTRIAL_DEBUG set, a crash raises."""
    code = main(arguments)
    assert code in (0, 2), code


# --- the same documents through the API, into the database -------------------------------------


def _row_counts(url: str) -> dict[str, int]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return {
                name: int(connection.scalar(select(func.count()).select_from(table)) or 0)
                for name, table in Base.metadata.tables.items()
                if name not in {"api_token", "web_session"}
            }
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def screened_subject(client: TestClient, world: World, as_role: dict[str, dict[str, str]]) -> int:
    """A consented subject of site A in screening."""
    new = {"site_id": world.site_a, "date_of_birth": "2001-03-14", "sex": "female", "initials": "FZ"}
    subject = int(client.post("/api/v1/subjects", json=new, headers=as_role["coordinator"]).json()["id"])
    consent = {"icf_version": "1.0", "signed_at": "2025-01-02T08:00:00Z"}
    client.post(f"/api/v1/subjects/{subject}/consents", json=consent, headers=as_role["coordinator"])
    return subject


def test_a_refused_screening_through_the_api_leaves_the_database_as_it_was(
    client: TestClient, world: World, as_role: dict[str, dict[str, str]], screened_subject: int
) -> None:
    bases = st.sampled_from([example_form(), example_bundle()]).flatmap(mutated_json)
    headers = as_role["investigator"]
    refused = 0

    @settings(max_examples=API_CASES)
    @given(document=bases)
    def screen(document: Any) -> None:
        nonlocal refused
        before = _row_counts(world.url)
        body = json.dumps(document, allow_nan=True)
        path = f"/api/v1/subjects/{screened_subject}/screenings"

        def post() -> None:
            response = client.post(
                path, content=body, headers={**headers, "content-type": "application/json"}
            )
            assert response.status_code < 500, response.text
            if response.status_code >= 400:
                assert response.headers["content-type"] == "application/problem+json"
                assert _row_counts(world.url) == before, response.text
                raise CelltrialError("refused")

        refused += _case("screening via API (database)", post)

    screen()
    assert refused > 0


# --- CT.gov API v2 JSON ------------------------------------------------------------------------

CTGOV = (resources.files("celltrial.protocol") / "data" / "NCT07008872.json").read_text(encoding="utf-8")


@settings(max_examples=CASES)
@given(document=mutated_json(json.loads(CTGOV)))
def test_a_broken_ctgov_study_is_parsed_or_refused_cleanly(document: Any) -> None:
    _case("CT.gov JSON (protocol)", lambda: parse_document(json.dumps(document)))


@settings(max_examples=CASES // 2)
@given(text=mutated_text(CTGOV))
def test_a_broken_ctgov_file_is_refused_cleanly_and_the_library_keeps_what_it_had(text: str) -> None:
    home = _scratch("ctgov")
    path = home / "study.json"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    library = home / "protocols"
    os.environ["CELLTRIAL_HOME"] = str(home)
    try:
        if _case("CT.gov file (library import)", lambda: import_file(path)):
            assert not library.exists() or not any(library.iterdir())
    finally:
        del os.environ["CELLTRIAL_HOME"]


@settings(max_examples=CASES // 2)
@given(document=mutated_json(json.loads(CTGOV)))
def test_a_broken_ctgov_file_is_collected_or_refused_cleanly_by_the_registry(document: Any) -> None:
    path = _scratch("registry") / "study.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    _case("CT.gov JSON (registry)", lambda: collect(path))


def _corpus_head(rows: int = 4) -> str:
    text = (resources.files("celltrial.registry") / "data" / "corpus" / "trials.csv").read_text(
        encoding="utf-8"
    )
    return "".join(io.StringIO(text).readlines()[: rows + 1])


@settings(max_examples=CASES // 2)
@given(text=mutated_text(_corpus_head()))
def test_a_broken_corpus_csv_is_collected_or_refused_cleanly_by_the_registry(text: str) -> None:
    path = _scratch("corpus") / "trials.csv"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    _case("corpus CSV (registry)", lambda: collect(path))


# --- ODM XML ------------------------------------------------------------------------------------

ODM = valid_odm(forms=("vital_signs", "adverse_events"))


@settings(max_examples=CASES)
@given(text=mutated_xml(ODM) | mutated_text(ODM))
def test_a_broken_odm_file_is_imported_or_refused_and_writes_nothing_when_refused(text: str) -> None:
    folder = _scratch("odm")
    path = folder / "forms.xml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    out = folder / "forms"
    if _case("ODM XML", lambda: import_odm_forms(path, out)):
        assert not out.exists() or not any(out.iterdir())


# --- CSV for analyses ---------------------------------------------------------------------------

CELLS = st.one_of(
    st.sampled_from(
        ["", "0", "1", "12.5", "-3", "1e309", "nan", "inf", "BLQ", "blq", "yes", "no", "x", "S01-001"]
    ),
    st.text(max_size=6),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
)


@st.composite
def analysis_csv(draw: st.DrawFn, header: list[str]) -> str:
    """A CSV with (mostly) the expected header and random cells, rows of uneven length at times."""
    names = (
        draw(st.permutations(header))
        if draw(st.booleans())
        else draw(st.lists(st.sampled_from([*header, "", "extra"]), max_size=5))
    )
    rows = draw(st.lists(st.lists(CELLS, min_size=0, max_size=len(names) + 1), max_size=8))
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(names)
    writer.writerows(rows)
    return buffer.getvalue()


@settings(max_examples=CLI_CASES)
@given(text=analysis_csv(["days", "died", "arm"]))
def test_a_broken_survival_csv_is_analysed_or_refused_in_one_line(text: str) -> None:
    path = _scratch("km") / "survival.csv"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    os.environ["CELLTRIAL_DEBUG"] = "1"
    try:
        arguments = [
            "analyze",
            "km",
            str(path),
            "--time",
            "days",
            "--event",
            "died",
            "--group",
            "arm",
            "--json",
        ]
        _case("CSV Kaplan-Meier", lambda: _cli_ok(arguments))
    finally:
        del os.environ["CELLTRIAL_DEBUG"]


@settings(max_examples=CLI_CASES)
@given(text=analysis_csv(["subject", "day", "copies"]))
def test_a_broken_kinetics_csv_is_analysed_or_refused_in_one_line(text: str) -> None:
    path = _scratch("nca") / "kinetics.csv"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    os.environ["CELLTRIAL_DEBUG"] = "1"
    try:
        arguments = [
            "analyze",
            "nca",
            str(path),
            "--subject",
            "subject",
            "--time",
            "day",
            "--value",
            "copies",
        ]
        _case("CSV kinetics (NCA)", lambda: _cli_ok([*arguments, "--json"]))
    finally:
        del os.environ["CELLTRIAL_DEBUG"]


@settings(max_examples=CASES)
@given(data=st.binary(max_size=200))
def test_any_bytes_as_a_csv_are_read_or_refused_cleanly(data: bytes) -> None:
    path = _scratch("bytes") / "any.csv"
    path.write_bytes(data)

    def read() -> None:
        table = read_csv_table(path, ["a"])
        table.numbers("a")

    _case("CSV bytes", read)
