"""CT.gov API v2 JSON in and out: examples round-trip, bad input names its JSON path."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from celltrial.errors import InvalidInput
from celltrial.protocol.library import import_file, list_protocols, load_study, parse_document, read_file

EXAMPLES = ["NCT02210780_study.json", "NCT06388018_studies_page.json"]


@pytest.fixture(autouse=True)
def private_library(tmp_path, monkeypatch):
    monkeypatch.setenv("CELLTRIAL_HOME", str(tmp_path / "home"))


@pytest.mark.parametrize("name", EXAMPLES)
def test_each_registry_example_round_trips_to_the_same_json(shared_data, name):
    path = shared_data / "ctgov" / name
    raw = json.loads(path.read_text())
    originals = raw.get("studies", [raw])
    studies = read_file(path)
    assert [study.to_ctgov_json() for study in studies] == originals


def test_the_shipped_record_round_trips():
    path = Path(__file__).resolve().parents[3] / "celltrial" / "protocol" / "data" / "NCT07008872.json"
    assert load_study("NCT07008872").to_ctgov_json() == json.loads(path.read_text())


def test_every_field_name_of_the_model_exists_in_the_api_data_model(shared_data):
    from celltrial.protocol import ctgov

    metadata = json.loads((shared_data / "ctgov" / "ctgov_v2_studies_metadata.json").read_text())
    api_paths: set[str] = set()

    def walk(nodes, prefix):
        for node in nodes:
            path = f"{prefix}.{node['name']}" if prefix else node["name"]
            api_paths.add(path)
            walk(node.get("children", []), path)

    walk(metadata, "")

    def model_paths(model, prefix):
        for name, field in model.model_fields.items():
            path = f"{prefix}.{field.alias or name}" if prefix else (field.alias or name)
            yield path
            annotation = field.annotation
            for candidate in getattr(annotation, "__args__", (annotation,)):
                inner = (
                    getattr(candidate, "__args__", (candidate,))[0]
                    if hasattr(candidate, "__origin__")
                    else candidate
                )
                if isinstance(inner, type) and issubclass(inner, ctgov.CtgovModel):
                    yield from model_paths(inner, path)

    missing = [path for path in model_paths(ctgov.Study, "") if path not in api_paths]
    assert missing == []


def test_unknown_fields_are_kept_not_dropped():
    text = json.dumps(
        {
            "protocolSection": {
                "identificationModule": {"nctId": "NCT00000001", "briefTitle": "t", "futureField": {"a": 1}},
                "statusModule": {"overallStatus": "RECRUITING"},
            },
            "somethingNew": [1, 2],
        }
    )
    study = parse_document(text)[0]
    assert study.to_ctgov_json() == json.loads(text)


@pytest.mark.parametrize(
    ("document", "field", "words"),
    [
        ("not json", "$", "not JSON"),
        ('{"hasResults": false}', "$", "missing 'protocolSection'"),
        ("[1, 2]", "$", "must be a JSON object"),
        (
            '{"protocolSection": {"identificationModule": {"nctId": "NCT00000001", "briefTitle": "t"},'
            ' "statusModule": {"overallStatus": "OPEN"}}}',
            "protocolSection.statusModule.overallStatus",
            "unknown value 'OPEN'",
        ),
        (
            '{"protocolSection": {"identificationModule": {"nctId": "NCT00000001", "briefTitle": "t"},'
            ' "statusModule": {"overallStatus": "RECRUITING", "startDateStruct": {"date": "2025-02-30"}}}}',
            "protocolSection.statusModule.startDateStruct.date",
            "not a calendar date",
        ),
        (
            '{"protocolSection": {"identificationModule": {"nctId": "NCT1", "briefTitle": "t"},'
            ' "statusModule": {"overallStatus": "RECRUITING"}}}',
            "protocolSection.identificationModule.nctId",
            "pattern",
        ),
        ('{"studies": []}', "studies", "non-empty"),
        (
            '{"studies": [{"protocolSection": {"identificationModule":'
            ' {"nctId": "NCT00000001", "briefTitle": "t"}, "statusModule": {"overallStatus": "RECRUITING"},'
            ' "eligibilityModule": {"minimumAge": "14 Yrs"}}}]}',
            "studies[0].protocolSection.eligibilityModule.minimumAge",
            "not an age",
        ),
    ],
)
def test_bad_input_names_the_json_path_and_the_problem(document, field, words):
    with pytest.raises(InvalidInput) as caught:
        parse_document(document)
    assert caught.value.field == field
    assert words in caught.value.message


def test_a_page_with_one_bad_study_stores_nothing(tmp_path, shared_data):
    page = json.loads((shared_data / "ctgov" / "NCT06388018_studies_page.json").read_text())
    broken = json.loads(json.dumps(page["studies"][0]))
    broken["protocolSection"]["identificationModule"]["nctId"] = "NCT00000002"
    broken["protocolSection"]["designModule"]["phases"] = ["PHASE9"]
    page["studies"].append(broken)
    path = tmp_path / "page.json"
    path.write_text(json.dumps(page))
    with pytest.raises(InvalidInput) as caught:
        import_file(path)
    assert caught.value.field == "page.json: studies[1].protocolSection.designModule.phases[0]"
    assert [nct for nct, _ in list_protocols()] == ["NCT07008872"]


def test_an_imported_study_is_listed_and_loadable(shared_data):
    import_file(shared_data / "ctgov" / "NCT02210780_study.json")
    assert ("NCT02210780", "imported") in list_protocols()
    assert load_study("NCT02210780").enrollment_target == 194
