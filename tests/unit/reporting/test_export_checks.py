"""Checks run before an export is written: CT.gov data quality, FHIR references inside the Bundle."""

from __future__ import annotations

import copy
from typing import Any

from celltrial.reporting.ctgov_results import quality_problems
from celltrial.reporting.fhir_export import unresolved_references


def flow(started: str, completed: str, not_completed: str, reasons: list[str]) -> dict[str, Any]:
    def milestone(kind: str, value: str) -> dict[str, Any]:
        return {"type": kind, "achievements": [{"groupId": "FG000", "numSubjects": value}]}

    return {
        "periods": [
            {
                "title": "Overall Study",
                "milestones": [
                    milestone("STARTED", started),
                    milestone("COMPLETED", completed),
                    milestone("NOT COMPLETED", not_completed),
                ],
                "dropWithdraws": [
                    {"type": f"reason {i}", "reasons": [{"groupId": "FG000", "numSubjects": n}]}
                    for i, n in enumerate(reasons)
                ],
            }
        ]
    }


def categorical(title: str, counts: list[str], total: str) -> dict[str, Any]:
    return {
        "title": title,
        "paramType": "COUNT_OF_PARTICIPANTS",
        "classes": [
            {
                "categories": [
                    {"title": str(i), "measurements": [{"groupId": "BG000", "value": c}]}
                    for i, c in enumerate(counts)
                ]
            }
        ],
    }


def results() -> dict[str, Any]:
    return {
        "participantFlowModule": flow("3", "1", "2", ["1", "1"]),
        "baselineCharacteristicsModule": {
            "denoms": [{"units": "Participants", "counts": [{"groupId": "BG000", "value": "2"}]}],
            "measures": [categorical("Sex: Female, Male", ["1", "1"], "2")],
        },
        "outcomeMeasuresModule": {
            "outcomeMeasures": [
                {
                    "title": "ORR",
                    "timeFrame": "Day 28",
                    "denoms": [{"units": "Participants", "counts": [{"groupId": "OG000", "value": "2"}]}],
                    "classes": [{"categories": [{"measurements": [{"groupId": "OG000", "value": "1"}]}]}],
                }
            ]
        },
        "adverseEventsModule": {
            "seriousEvents": [],
            "otherEvents": [
                {
                    "term": "Nausea",
                    "stats": [{"groupId": "EG000", "numEvents": 2, "numAffected": 1, "numAtRisk": 2}],
                }
            ],
        },
    }


def test_results_whose_counts_add_up_have_no_problems() -> None:
    assert quality_problems(results()) == []


def test_a_participant_flow_that_does_not_add_up_is_reported_with_its_path() -> None:
    broken = results()
    broken["participantFlowModule"] = flow("3", "1", "1", ["2"])
    problems = quality_problems(broken)
    assert problems == [
        "participantFlowModule.periods[0]: STARTED 3 is not COMPLETED + NOT COMPLETED",
        "participantFlowModule.periods[0].dropWithdraws: reasons add up to 2, not 1",
    ]


def test_missing_counts_baseline_categories_off_total_and_impossible_adverse_event_counts_are_reported() -> (
    None
):
    broken = copy.deepcopy(results())
    broken["baselineCharacteristicsModule"]["measures"][0] = categorical("Sex: Female, Male", ["1", ""], "2")
    broken["outcomeMeasuresModule"]["outcomeMeasures"][0]["classes"][0]["categories"][0]["measurements"][0][
        "value"
    ] = "3"
    broken["adverseEventsModule"]["otherEvents"][0]["stats"][0]["numAffected"] = 5
    problems = quality_problems(broken)
    assert any("count '' is missing" in p for p in problems)
    assert any("categories add up to 1, not 2" in p for p in problems)
    assert any("3 participants out of 2" in p for p in problems)
    assert any("otherEvents[0] (Nausea): affected exceeds" in p for p in problems)


def test_a_reference_to_no_entry_of_the_bundle_is_found_wherever_it_sits() -> None:
    bundle = {
        "entry": [
            {"fullUrl": "urn:uuid:1", "resource": {"resourceType": "Patient"}},
            {
                "fullUrl": "urn:uuid:2",
                "resource": {
                    "resourceType": "ResearchSubject",
                    "individual": {"reference": "urn:uuid:1"},
                    "study": {"reference": "urn:uuid:9"},
                },
            },
            {
                "fullUrl": "urn:uuid:3",
                "resource": {"resourceType": "AdverseEvent", "study": [{"reference": "urn:uuid:8"}]},
            },
        ]
    }
    assert unresolved_references(bundle) == ["urn:uuid:9", "urn:uuid:8"]
