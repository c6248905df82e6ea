"""Related trials: the score's parts, its order, its one-line reason."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from celltrial.errors import NotFound
from celltrial.registry.embedding import DIMENSION
from celltrial.registry.similarity import IndexedTrial, SimilarityIndex, Weights


def _vector(seed: int) -> np.ndarray:
    vector = np.random.default_rng(seed).normal(size=DIMENSION).astype(np.float32)
    return vector / np.linalg.norm(vector)


def _trial(nct_id: str, seed: int, **fields: object) -> IndexedTrial:
    values: dict[str, object] = {
        "nct_id": nct_id,
        "title": f"Trial {nct_id}",
        "overall_status": "RECRUITING",
        "phases": ("PHASE1",),
        "antigens": (),
        "diseases": (),
        "disease_families": (),
        "product_type": None,
        "platform": "CAR-T",
        "vector": _vector(seed),
        "settings": (),
    }
    values.update(fields)
    return IndexedTrial(**values)  # type: ignore[arg-type]


SEED = _trial(
    "NCT07008872",
    1,
    antigens=("CD7",),
    diseases=("T-cell lymphoma", "T-cell leukaemia"),
    disease_families=("T-cell malignancy",),
    product_type="autologous",
    settings=("relapsed/refractory",),
    overall_status="NOT_YET_RECRUITING",
    phases=("NA",),
)
SAME_TARGET = _trial(
    "NCT05716113",
    2,
    antigens=("CD7",),
    diseases=("T-ALL", "T-LBL"),
    disease_families=("T-cell malignancy",),
    product_type="autologous",
    settings=("relapsed/refractory",),
    overall_status="COMPLETED",
    phases=("EARLY_PHASE1",),
)
OTHER_TARGET = _trial("NCT00000003", 3, antigens=("BCMA",), diseases=("Multiple myeloma",))
SAME_WORDS = _trial("NCT00000004", 4, vector=SEED.vector)


def test_a_trial_with_the_same_antigen_and_disease_ranks_first() -> None:
    related = SimilarityIndex([SEED, SAME_TARGET, OTHER_TARGET]).related("NCT07008872", top=2)
    assert [r.nct_id for r in related] == ["NCT05716113", "NCT00000003"]
    assert related[0].score > related[1].score


def test_the_reason_names_what_the_trials_share() -> None:
    (best,) = SimilarityIndex([SEED, SAME_TARGET]).related("NCT07008872", top=1)
    assert best.reason == (
        "same target antigen CD7; T-cell leukaemia/T-cell lymphoma; relapsed/refractory; autologous CAR-T"
    )


def test_trials_that_share_nothing_structured_are_related_by_their_words() -> None:
    (best,) = SimilarityIndex([SEED, OTHER_TARGET, SAME_WORDS]).related("NCT07008872", top=1)
    assert best.nct_id == "NCT00000004"
    assert best.components["text"] == pytest.approx(1.0, abs=1e-4)


def test_the_score_is_the_weighted_mean_of_its_parts() -> None:
    index = SimilarityIndex([SEED, SAME_TARGET])
    (best,) = index.related("NCT07008872", top=1)
    weights = Weights().as_dict()
    expected = sum(weights[name] * value for name, value in best.components.items()) / sum(weights.values())
    assert best.score == pytest.approx(expected, abs=1e-3)


def test_neighbouring_phases_count_half_and_unknown_phases_nothing() -> None:
    early = _trial("NCT00000005", 5, phases=("EARLY_PHASE1",))
    first = _trial("NCT00000006", 6, phases=("PHASE1",))
    third = _trial("NCT00000007", 7, phases=("PHASE3",))
    index = SimilarityIndex([early, first, third, SEED])
    phase = index.components(index.position["NCT00000006"])["phase"]
    assert phase[index.position["NCT00000005"]] == 0.5
    assert phase[index.position["NCT00000007"]] == 0.0
    assert phase[index.position["NCT07008872"]] == 0.0


def test_an_unknown_trial_is_not_found() -> None:
    with pytest.raises(NotFound):
        SimilarityIndex([SEED]).related("NCT09999999")


def test_a_landscape_of_one_trial_has_no_related_trial() -> None:
    assert SimilarityIndex([SEED]).related("NCT07008872") == []


@settings(max_examples=30, deadline=None)
@given(
    st.lists(st.sampled_from(["CD19", "CD22", "BCMA", "CD7"]), min_size=0, max_size=3), st.integers(0, 1000)
)
def test_every_score_lies_between_0_and_1_and_the_list_is_best_first(antigens: list[str], seed: int) -> None:
    others = [_trial(f"NCT1000{i:04d}", seed + i, antigens=tuple(antigens[: i % 4])) for i in range(12)]
    related = SimilarityIndex([SEED, *others]).related("NCT07008872", top=12)
    scores = [r.score for r in related]
    assert all(0.0 <= s <= 1.0 for s in scores)
    assert scores == sorted(scores, reverse=True)
    assert "NCT07008872" not in {r.nct_id for r in related}
