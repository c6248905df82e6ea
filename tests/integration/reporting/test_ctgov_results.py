"""ClinicalTrials.gov results and record of the trial built through the services, against its story."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from reporting_world import Trial

from celltrial.reporting.ctgov_results import current_record, quality_problems, write_results
from celltrial.reporting.trialdata import load_trial_data


def results(trial: Trial, tmp_path: Path) -> dict[str, Any]:
    trial.locked()
    document = trial.edc.run(
        lambda s: write_results(load_trial_data(s, by=trial.edc["sponsor"]), tmp_path / "r.json")
    )
    return document["resultsSection"]  # type: ignore[no-any-return]


def milestones(section: dict[str, Any]) -> dict[str, str]:
    period = section["participantFlowModule"]["periods"][0]
    return {m["type"]: m["achievements"][0]["numSubjects"] for m in period["milestones"]}


def test_the_participant_flow_counts_enrolled_infused_and_the_reasons_for_not_completing(
    trial: Trial, tmp_path: Path
) -> None:
    section = results(trial, tmp_path)
    assert milestones(section) == {
        "STARTED": "3",
        "Received CAR-T infusion": "2",
        "COMPLETED": "0",
        "NOT COMPLETED": "3",
    }
    reasons = {
        d["type"]: d["reasons"][0]["numSubjects"]
        for d in section["participantFlowModule"]["periods"][0]["dropWithdraws"]
    }
    assert reasons == {
        "Death": "1",
        "In follow-up at data cut-off": "1",
        "Not infused, still in the study": "1",
    }
    assert quality_problems(section) == []


def test_adverse_events_list_every_serious_event_the_common_others_and_all_cause_mortality(
    trial: Trial, tmp_path: Path
) -> None:
    events = results(trial, tmp_path)["adverseEventsModule"]
    group = events["eventGroups"][0]
    assert (group["deathsNumAffected"], group["deathsNumAtRisk"]) == (1, 2)
    assert (group["seriousNumAffected"], group["otherNumAffected"]) == (2, 1)
    assert events["frequencyThreshold"] == "5"
    assert sorted(e["term"] for e in events["seriousEvents"]) == [
        "Febrile neutropenia",
        "Immune effector cell-associated neurotoxicity syndrome",
    ]
    assert [(e["term"], e["stats"][0]["numAffected"]) for e in events["otherEvents"]] == [
        ("Cytokine release syndrome", 1)
    ]
    assert {e["sourceVocabulary"] for e in events["seriousEvents"]} == {"CTCAE (5.0)"}


def test_outcome_measures_count_the_stopping_rule_events_and_the_day_28_response(
    trial: Trial, tmp_path: Path
) -> None:
    measures = results(trial, tmp_path)["outcomeMeasuresModule"]["outcomeMeasures"]
    values = {
        m["title"]: (
            m["classes"][0]["categories"][0]["measurements"][0]["value"],
            m["denoms"][0]["counts"][0]["value"],
        )
        for m in measures
    }
    assert values["Participants With a Stopping-Rule Safety Event"] == ("1", "2")
    assert values["Overall Response Rate at Day 28"] == ("1", "2")
    assert values["CR/CRi Rate at Day 28"] == ("1", "2")
    assert values["Overall Response Rate at Day 90"] == ("0", "2")
    assert measures[0]["type"] == "PRIMARY"


def test_the_registry_record_carries_the_current_status_and_estimated_enrolment_while_recruiting(
    trial: Trial,
) -> None:
    record = trial.edc.run(lambda s: current_record(load_trial_data(s, by=trial.edc["sponsor"], draft=True)))
    assert record["protocolSection"]["statusModule"]["overallStatus"] == "RECRUITING"
    assert record["protocolSection"]["designModule"]["enrollmentInfo"] == {"count": 40, "type": "ESTIMATED"}
