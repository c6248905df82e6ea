"""Every Synthea FHIR R4 Bundle in ../shared/data/fhir evaluates without error, with readable evidence."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from celltrial.eligibility import evaluate, load_rules, read_bundle
from celltrial.protocol.library import load_settings

BUNDLES = "fhir/synthea_r4_pathling"


def bundle_paths(shared_data: Path) -> list[Path]:
    paths = sorted((shared_data / BUNDLES).glob("*.json"))
    assert len(paths) == 14
    return paths


def test_every_synthea_bundle_evaluates_every_criterion(shared_data: Path) -> None:
    rules, settings = load_rules("NCT07008872"), load_settings("NCT07008872")
    decisions = {}
    for path in bundle_paths(shared_data):
        facts = read_bundle(json.loads(path.read_text(encoding="utf-8")))
        result = evaluate(facts, rules, settings, date(2022, 10, 1))
        document = json.loads(json.dumps(result.to_json()))
        assert [c["id"] for c in document["criteria"]] == [c.id for c in rules.criteria], path.name
        assert all(c["reason"] for c in document["criteria"]), path.name
        assert facts.problems == (), path.name
        decisions[path.name.split("_")[0]] = result.decision
    # Synthea patients have no CD7+ leukaemia: nobody is eligible; the deceased 1943-born woman is too old.
    assert "eligible" not in decisions.values()
    assert decisions["Yang129"] == "ineligible"


@pytest.mark.parametrize("name", ["Chanell45", "Yang129"])
def test_synthea_creatinine_38483_4_is_read_with_its_date(shared_data: Path, name: str) -> None:
    [path] = [p for p in bundle_paths(shared_data) if p.name.startswith(name)]
    facts = read_bundle(json.loads(path.read_text(encoding="utf-8")))
    creatinine = facts.of("creatinine")
    assert creatinine
    assert {fact.unit for fact in creatinine} == {"mg/dL"}
    assert all(fact.date is not None and fact.source.startswith("Observation/") for fact in creatinine)


def test_a_synthea_stroke_is_read_as_cerebral_ischaemia(shared_data: Path) -> None:
    [path] = [p for p in bundle_paths(shared_data) if p.name.startswith("Harry448")]
    result = evaluate(
        read_bundle(json.loads(path.read_text(encoding="utf-8"))),
        load_rules("NCT07008872"),
        load_settings("NCT07008872"),
        date(2022, 10, 1),
    )
    parts = {part.id: part.verdict for part in result.criterion("E10").parts}
    assert parts["E10.ischemia"] == "met"
