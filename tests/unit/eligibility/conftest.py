"""Screening helpers: the shipped eligible form as a baseline that each test changes one fact of."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from celltrial.eligibility import EligibilityResult, EligibilityRules, evaluate, load_rules, read_form
from celltrial.eligibility.examples import example_path
from celltrial.protocol.library import load_settings
from celltrial.protocol.settings import ProtocolSettings

SCREENING_DATE = date(2025, 7, 1)
Screen = Callable[..., EligibilityResult]


@pytest.fixture(scope="session")
def rules() -> EligibilityRules:
    return load_rules("NCT07008872")


@pytest.fixture(scope="session")
def settings() -> ProtocolSettings:
    return load_settings("NCT07008872")


@pytest.fixture
def eligible_form() -> dict[str, Any]:
    """The shipped eligible patient's screening form (a fresh copy per test)."""
    return copy.deepcopy(json.loads(example_path("eligible").read_text(encoding="utf-8")))


@pytest.fixture(params=["parsed", "json text"])
def screen(
    request: pytest.FixtureRequest,
    eligible_form: dict[str, Any],
    rules: EligibilityRules,
    settings: ProtocolSettings,
) -> Screen:
    """Screen the eligible patient with some facts replaced (None removes a fact).

    Each test runs twice: the form read as parsed JSON, and read from its JSON text.
    """

    def run(
        on: date = SCREENING_DATE, patient: dict[str, Any] | None = None, **facts: Any
    ) -> EligibilityResult:
        form = copy.deepcopy(eligible_form)
        if patient is not None:
            form["patient"].update(patient)
        for name, value in facts.items():
            if value is None:
                form["facts"].pop(name, None)
            else:
                form["facts"][name] = value
        screening = read_form(form if request.param == "parsed" else json.dumps(form))
        return evaluate(screening.facts, rules, settings, on, screening.judgments)

    return run
