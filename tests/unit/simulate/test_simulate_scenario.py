"""The scenario file: every number cites its source, and a malformed scenario is refused with its path."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from pydantic import BaseModel

from celltrial.errors import InvalidInput
from celltrial.simulate.scenario import Cited, default_scenario, load_scenario, parse_scenario

DEFAULT = Path(__file__).resolve().parents[3] / "celltrial" / "simulate" / "data" / "default_scenario.yaml"


def _cited(value: object) -> list[Cited[object]]:
    if isinstance(value, Cited):
        return [value]
    if isinstance(value, BaseModel):
        return [found for name in type(value).model_fields for found in _cited(getattr(value, name))]
    if isinstance(value, list):
        return [found for item in value for found in _cited(item)]
    return []


def _edited(change: dict[str, object]) -> str:
    data = yaml.safe_load(DEFAULT.read_text(encoding="utf-8"))
    for path, value in change.items():
        target = data
        *parents, last = path.split(".")
        for part in parents:
            target = target[part]
        target[last] = value
    return yaml.safe_dump(data)


def test_every_number_of_the_default_scenario_names_its_source() -> None:
    values = _cited(default_scenario())
    assert len(values) > 40
    for value in values:
        assert value.source.strip(), value
        assert value.source.startswith(
            (
                "assumption",
                "Pan 2021",
                "Tan 2023",
                "Lu 2022",
                "Zhang 2023",
                "NCT05290155",
                "Registry",
                "protocol settings",
                "the ",
                "this scenario",
            )
        ), value.source


def test_the_published_anchors_are_the_defaults() -> None:
    scenario = default_scenario()
    assert scenario.efficacy.cr_cri_day28.value == pytest.approx(0.88)
    crs = scenario.toxicity.crs_max_grade.value
    assert 1 - crs["0"] == pytest.approx(0.92)
    assert crs["3"] + crs["4"] == pytest.approx(0.10)
    assert scenario.kinetics.tmax_day.value.median == 12
    assert scenario.study.start.value.isoformat() == "2025-06-01"


def test_grade_probabilities_that_do_not_add_up_to_one_are_refused_with_their_path() -> None:
    text = _edited({"toxicity.crs_max_grade.value": {"0": 0.5, "1": 0.2}})
    with pytest.raises(InvalidInput) as refused:
        parse_scenario(text, origin="mine.yaml")
    assert refused.value.field == "mine.yaml: toxicity.crs_max_grade"
    assert "add up to 0.7000" in refused.value.message


def test_an_unknown_criterion_in_the_screen_failure_rates_is_refused() -> None:
    text = _edited({"screening.failure_by_criterion.value": {"I1": 0.1, "I99": 0.1}})
    with pytest.raises(InvalidInput, match="I99"):
        parse_scenario(text)


def test_a_number_without_a_source_is_refused() -> None:
    text = _edited({"efficacy.cr_cri_day28": {"value": 0.9}})
    with pytest.raises(InvalidInput) as refused:
        parse_scenario(text, origin="s.yaml")
    assert refused.value.field == "s.yaml: efficacy.cr_cri_day28.source"


def test_a_missing_scenario_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput) as refused:
        load_scenario(tmp_path / "absent.yaml")
    assert refused.value.field == str(tmp_path / "absent.yaml")


def test_a_scenario_file_that_is_not_yaml_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("study: [unclosed", encoding="utf-8")
    with pytest.raises(InvalidInput, match="not YAML"):
        load_scenario(path)
