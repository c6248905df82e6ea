"""The Bayesian safety stopping rule: hand values, brute force and simulation.

Hand value: with a Beta(1, 1) prior and 3 events in 5 subjects the posterior is Beta(4, 3), and
P(p <= 0.3) = P(Binomial(6, 0.3) >= 4) = 15(0.3^4)(0.7^2) + 6(0.3^5)(0.7) + 0.3^6
= 0.059535 + 0.010206 + 0.000729 = 0.070470, so P(p > 0.3) = 0.929530.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy.stats import beta

from celltrial.analysis.stopping import (
    SafetyStoppingRule,
    evaluate_stopping_rule,
    operating_characteristics,
    posterior_probability_above_threshold,
    stopping_boundary,
)
from celltrial.errors import InvalidInput

PROTOCOL_RULE = SafetyStoppingRule()


def test_the_defaults_are_the_protocol_settings() -> None:
    assert PROTOCOL_RULE.rate_threshold == 0.30
    assert PROTOCOL_RULE.posterior_cutoff == 0.80
    assert (PROTOCOL_RULE.prior_alpha, PROTOCOL_RULE.prior_beta) == (1.0, 1.0)
    assert PROTOCOL_RULE.max_subjects == 40
    assert PROTOCOL_RULE.first_look_after == 3


def test_posterior_probability_for_3_events_in_5_matches_the_hand_value() -> None:
    assert posterior_probability_above_threshold(3, 5, PROTOCOL_RULE) == pytest.approx(0.929530, abs=1e-6)


def test_posterior_probability_with_no_data_is_the_prior_tail() -> None:
    # Beta(1, 1) is uniform: P(p > 0.3) = 0.7
    assert posterior_probability_above_threshold(0, 0, PROTOCOL_RULE) == pytest.approx(0.7, abs=1e-12)


def test_posterior_probability_for_0_events_in_4_is_0_7_to_the_fifth() -> None:
    # posterior Beta(1, 5): P(p > 0.3) = 0.7^5 = 0.16807
    assert posterior_probability_above_threshold(0, 4, PROTOCOL_RULE) == pytest.approx(0.16807, abs=1e-9)


def test_three_events_in_five_stops_the_trial() -> None:
    decision = evaluate_stopping_rule(3, 5)
    assert decision.rule_applies
    assert decision.stop


def test_the_rule_does_not_apply_before_the_first_look() -> None:
    decision = evaluate_stopping_rule(2, 2)
    assert decision.posterior_probability > 0.8
    assert not decision.rule_applies
    assert not decision.stop


def test_the_boundary_at_each_look_is_the_smallest_event_count_whose_posterior_exceeds_the_cutoff() -> None:
    boundary = stopping_boundary(PROTOCOL_RULE)
    assert set(boundary) == set(range(3, 41))
    for n, b in boundary.items():
        assert b is not None
        assert 1 - beta.cdf(0.3, 1 + b, 1 + n - b) > 0.8
        if b > 0:
            assert 1 - beta.cdf(0.3, b, 2 + n - b) <= 0.8


def test_the_boundary_at_the_first_look_is_2_of_3() -> None:
    # Beta(3, 2): P(p > 0.3) = 1 - (0.3^4 + 4 * 0.3^3 * 0.7) = 0.9163; Beta(2, 3): 0.6517
    assert stopping_boundary(PROTOCOL_RULE)[3] == 2


def _brute_force(rule: SafetyStoppingRule, rate: float) -> tuple[float, float]:
    """Enumerate every event sequence of max_subjects subjects and apply the rule subject by subject."""
    stop_probability = 0.0
    expected_n = 0.0
    for sequence in itertools.product((0, 1), repeat=rule.max_subjects):
        weight = math.prod(rate if event else 1 - rate for event in sequence)
        events = 0
        n_used = rule.max_subjects
        stopped = False
        for n, event in enumerate(sequence, start=1):
            events += event
            if (
                n >= rule.first_look_after
                and 1 - beta.cdf(rule.rate_threshold, rule.prior_alpha + events, rule.prior_beta + n - events)
                > rule.posterior_cutoff
            ):
                stopped, n_used = True, n
                break
        stop_probability += weight * stopped
        expected_n += weight * n_used
    return stop_probability, expected_n


@pytest.mark.parametrize("rate", [0.1, 0.3, 0.5])
def test_exact_operating_characteristics_match_brute_force_enumeration_of_every_sequence(rate: float) -> None:
    rule = SafetyStoppingRule(max_subjects=10, first_look_after=3, prior_alpha=0.5, prior_beta=1.5)
    (exact,) = operating_characteristics(rule, [rate])
    stop_probability, expected_n = _brute_force(rule, rate)
    assert exact.probability_of_stopping == pytest.approx(stop_probability, abs=1e-12)
    assert exact.expected_sample_size == pytest.approx(expected_n, abs=1e-10)


def test_exact_operating_characteristics_for_40_subjects_agree_with_a_seeded_simulation() -> None:
    """200,000 simulated trials per rate (seed 20261125), each subject a Bernoulli draw and the
    posterior looked up in a table of Beta tail probabilities computed here; tolerance 0.006 for
    the stopping probability (about 5 standard errors) and 0.15 subjects for the sample size."""
    rng = np.random.default_rng(20261125)
    n = np.arange(1, 41)
    x = np.arange(41)
    tail = beta.sf(0.3, 1 + x[None, :], 1 + n[:, None] - x[None, :])  # tail[n - 1, x]
    for oc in operating_characteristics(PROTOCOL_RULE, [0.1, 0.3, 0.5]):
        events = np.cumsum(rng.random((200_000, 40)) < oc.true_rate, axis=1)
        stops = (tail[n - 1, events] > 0.8) & (n >= 3)
        stopped = stops.any(axis=1)
        first_stop = np.where(stopped, stops.argmax(axis=1) + 1, 40)
        assert oc.probability_of_stopping == pytest.approx(stopped.mean(), abs=0.006)
        assert oc.expected_sample_size == pytest.approx(first_stop.mean(), abs=0.15)


def test_the_probability_of_stopping_rises_with_the_true_rate() -> None:
    table = operating_characteristics()
    assert [oc.true_rate for oc in table] == pytest.approx(
        [0.10, 0.15, 0.20, 0.25, 0.30, 0.35, 0.40, 0.45, 0.50]
    )
    stops = [oc.probability_of_stopping for oc in table]
    sizes = [oc.expected_sample_size for oc in table]
    assert stops == sorted(stops)
    assert sizes == sorted(sizes, reverse=True)
    assert all(3 <= size <= 40 for size in sizes)


def test_a_trial_with_a_certain_event_stops_at_the_first_look() -> None:
    (oc,) = operating_characteristics(PROTOCOL_RULE, [1.0])
    assert oc.probability_of_stopping == pytest.approx(1.0)
    assert oc.expected_sample_size == pytest.approx(3.0)


def test_a_trial_that_never_has_an_event_never_stops() -> None:
    (oc,) = operating_characteristics(PROTOCOL_RULE, [0.0])
    assert oc.probability_of_stopping == 0.0
    assert oc.expected_sample_size == 40.0


@pytest.mark.parametrize(
    ("events", "evaluable", "field"), [(4, 3, "events"), (-1, 3, "events"), (0, -1, "evaluable")]
)
def test_impossible_counts_are_refused(events: int, evaluable: int, field: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        evaluate_stopping_rule(events, evaluable)
    assert raised.value.field == field


def test_a_true_rate_outside_0_1_is_refused() -> None:
    with pytest.raises(InvalidInput):
        operating_characteristics(PROTOCOL_RULE, [1.2])
