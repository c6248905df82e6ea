"""Reading each kind of registry source: CT.gov API v2 JSON, the corpus CSV with sites, the sample."""

from __future__ import annotations

import csv
import json
from importlib import resources
from pathlib import Path

import pytest

from celltrial.errors import InvalidInput
from celltrial.protocol.library import parse_study
from celltrial.registry.sources.corpus import TRIAL_COLUMNS, read_corpus_csv, read_sample_file
from celltrial.registry.sources.ctgov import record_from_study
from celltrial.registry.sources.discover import collect

SHIPPED = resources.files("celltrial.protocol") / "data" / "NCT07008872.json"
HEADER = [*TRIAL_COLUMNS, "TargetCategory", "SnapshotDate"]


def _row(**values: str) -> dict[str, str]:
    row = dict.fromkeys(HEADER, "")
    row.update(
        NCTId="NCT07008872",
        BriefTitle="CD7 CAR-T",
        OverallStatus="NOT_YET_RECRUITING",
        Phase="NA",
        Conditions="CD7+ Lymphoma|CD7+ Acute Leukemia",
        Interventions="CD7 CART",
        EnrollmentCount="40.0",
        MinAge="14 Years",
        TargetCategory="CD7",
        SnapshotDate="2026-08-22",
    )
    row.update(values)
    return row


def _write_corpus(
    folder: Path, rows: list[dict[str, str]], sites: list[dict[str, str]] | None = None
) -> Path:
    path = folder / "trials.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=HEADER)
        writer.writeheader()
        writer.writerows(rows)
    if sites is not None:
        columns = ["NCTId", "BriefTitle", "OverallStatus", "Facility", "City", "State", "Zip", "Country"]
        columns += ["SiteStatus", "Latitude", "Longitude"]
        with (folder / "sites.csv").open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=columns)
            writer.writeheader()
            writer.writerows({c: s.get(c, "") for c in columns} for s in sites)
    return path


def test_the_shipped_record_reads_with_every_section_the_page_needs() -> None:
    record = record_from_study(parse_study(json.loads(SHIPPED.read_text("utf-8"))))
    assert record.nct_id == "NCT07008872"
    assert record.enrollment_count == 40
    assert record.phases == ["NA"]
    assert [(s.name, s.role) for s in record.sponsors] == [
        ("Qi deng", "lead"),
        ("Hebei Taihe Chunyu Biotechnology Co., Ltd", "collaborator"),
    ]
    assert record.responsible_party is not None
    assert record.responsible_party.title == "Chief Physician"
    assert record.identifiers[0].id == "XB-20240912-1"
    assert record.eligibility_criteria is not None
    assert record.eligibility_criteria.startswith("Inclusion Criteria:")
    assert record.has_results is False


def test_a_corpus_row_keeps_its_lists_numbers_and_third_party_labels(tmp_path: Path) -> None:
    records, _, _ = read_corpus_csv(_write_corpus(tmp_path, [_row()]))
    (source,) = records
    assert source.kind == "corpus_csv"
    assert source.snapshot_date == "2026-08-22"
    assert source.record.conditions == ["CD7+ Lymphoma", "CD7+ Acute Leukemia"]
    assert source.record.enrollment_count == 40
    assert source.record.third_party_labels[0].labels == {"TargetCategory": "CD7"}


def test_sites_attach_to_their_trial_and_the_others_are_counted(tmp_path: Path) -> None:
    folder = tmp_path / "corpus"
    folder.mkdir()
    _write_corpus(
        folder,
        [_row()],
        sites=[
            {"NCTId": "NCT07008872", "Facility": "Hospital A", "Country": "China", "Latitude": "38.0"},
            {"NCTId": "NCT00000002", "Facility": "Elsewhere", "Country": "France"},
        ],
    )
    collected = collect(folder)
    assert collected.site_rows_read == 2
    assert collected.site_rows_attached == 1
    assert collected.site_rows_without_trial == 1
    (source,) = collected.sources
    assert source.record.sites[0].facility == "Hospital A"
    assert source.record.sites[0].latitude == 38.0


@pytest.mark.parametrize(
    ("values", "where"),
    [
        pytest.param({"NCTId": "NCT123"}, "trials.csv row 2, column NCTId", id="nct-id"),
        pytest.param({"OverallStatus": "OPEN"}, "trials.csv row 2, column OverallStatus", id="status"),
        pytest.param({"Phase": "PHASE9"}, "trials.csv row 2, column Phase", id="phase"),
        pytest.param(
            {"EnrollmentCount": "forty"}, "trials.csv row 2, column EnrollmentCount", id="enrolment"
        ),
        pytest.param({"MinAge": "14"}, "trials.csv row 2, column MinAge", id="age"),
        pytest.param({"StartDate": "June 2025"}, "trials.csv row 2, column StartDate", id="date"),
        pytest.param({"BriefTitle": ""}, "trials.csv row 2, column BriefTitle", id="title"),
    ],
)
def test_a_bad_corpus_value_names_its_row_and_column(
    tmp_path: Path, values: dict[str, str], where: str
) -> None:
    with pytest.raises(InvalidInput) as raised:
        read_corpus_csv(_write_corpus(tmp_path, [_row(**values)]))
    assert raised.value.field == where


def test_a_missing_column_is_named(tmp_path: Path) -> None:
    path = tmp_path / "trials.csv"
    path.write_text("NCTId,BriefTitle\nNCT07008872,x\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match="missing column"):
        read_corpus_csv(path)


def test_a_sample_record_gives_arms_interventions_and_eligibility(tmp_path: Path) -> None:
    sample = {
        "snapshot_date": "2026-04-24",
        "trials": [
            {
                "NCTId": "NCT06245915",
                "BriefTitle": "AB-2100 in ccRCC",
                "OverallStatus": "ACTIVE_NOT_RECRUITING",
                "Phase": "PHASE1|PHASE2",
                "Interventions": "AB-2100|Fludarabine",
                "InterventionDescription": "AB-2100: autologous T cell therapy\n\nFludarabine: Given IV",
                "ArmGroupDescriptions": "AB-2100 · EXPERIMENTAL · Single dose on day 0.\n\nMay repeat once.",
                "EligibilityCriteria": "Inclusion Criteria:\n\n* Clear-cell RCC",
                "CollaboratorNames": "Partner One; Partner Two",
                "ResponsiblePartyType": "SPONSOR",
                "StudyType": "INTERVENTIONAL",
                "_pipeline": {"TargetCategory": "Other_or_unknown"},
            }
        ],
    }
    path = tmp_path / "sample_v1.json"
    path.write_text(json.dumps(sample), encoding="utf-8")
    (source,) = read_sample_file(path)
    record = source.record
    assert source.kind == "corpus_sample"
    assert record.phases == ["PHASE1", "PHASE2"]
    assert [(i.name, i.description) for i in record.interventions] == [
        ("AB-2100", "autologous T cell therapy"),
        ("Fludarabine", "Given IV"),
    ]
    (arm,) = record.arm_groups
    assert (arm.label, arm.type) == ("AB-2100", "EXPERIMENTAL")
    assert arm.description == "Single dose on day 0.\n\nMay repeat once."
    assert [s.name for s in record.sponsors if s.role == "collaborator"] == ["Partner One", "Partner Two"]
    assert record.eligibility_criteria == "Inclusion Criteria:\n\n* Clear-cell RCC"


def test_a_bad_sample_value_names_its_json_path(tmp_path: Path) -> None:
    path = tmp_path / "sample_v1.json"
    path.write_text(json.dumps({"trials": [{"NCTId": "NCT06245915", "BriefTitle": "x", "StudyType": "X"}]}))
    with pytest.raises(InvalidInput) as raised:
        read_sample_file(path)
    assert raised.value.field == "sample_v1.json: trials[0].StudyType"


def test_a_folder_without_sources_is_refused(tmp_path: Path) -> None:
    (tmp_path / "notes.json").write_text("{}", encoding="utf-8")
    with pytest.raises(InvalidInput, match="no registry source"):
        collect(tmp_path)


def test_a_named_file_that_is_not_a_source_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "metadata.json"
    path.write_text('{"n_trials": 3}', encoding="utf-8")
    with pytest.raises(InvalidInput, match="not a registry source"):
        collect(path)


def test_an_invalid_ctgov_record_names_the_file_and_json_path(tmp_path: Path) -> None:
    data = json.loads(SHIPPED.read_text("utf-8"))
    data["protocolSection"]["statusModule"]["overallStatus"] = "OPEN"
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(InvalidInput) as raised:
        collect(path)
    assert raised.value.field is not None
    assert raised.value.field.startswith("broken.json: protocolSection.statusModule.overallStatus")


def test_a_file_that_is_not_json_is_skipped_in_a_folder_and_refused_when_named(tmp_path: Path) -> None:
    folder = tmp_path / "sources"
    folder.mkdir()
    _write_corpus(folder, [_row()])
    broken = folder / "export.json"
    broken.write_text('{"studies": [', encoding="utf-8")
    collected = collect(folder)
    assert [s.record.nct_id for s in collected.sources] == ["NCT07008872"]
    ((skipped, reason),) = collected.skipped_files
    assert skipped == str(broken)
    assert reason.startswith("not JSON: Expecting value at line 1 column 14")
    with pytest.raises(InvalidInput, match="not JSON: Expecting value") as raised:
        collect(broken)
    assert raised.value.field == str(broken)
