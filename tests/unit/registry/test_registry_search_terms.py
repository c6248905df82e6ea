"""Turning search text into full-text queries, and checking search options."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from celltrial.registry.schemas import SearchQuery
from celltrial.registry.search import fts5_query, postgres_query_text, query_terms


def test_hyphenated_and_slashed_words_become_phrases() -> None:
    terms = query_terms("CD7 CAR-T T-ALL/T-LBL")
    assert terms == [["cd7"], ["car", "t"], ["t", "all", "t", "lbl"]]
    assert fts5_query(terms) == '"cd7" "car t" "t all t lbl"'
    assert postgres_query_text(terms) == "cd7 car-t t-all-t-lbl"


def test_punctuation_alone_gives_no_term() -> None:
    assert query_terms('+++ "" -') == []


@given(st.text(max_size=200))
def test_any_text_gives_a_query_without_quotes_inside_a_phrase(text: str) -> None:
    query = fts5_query(query_terms(text))
    assert query.count('"') % 2 == 0
    for phrase in query.split('" "'):
        assert '"' not in phrase.strip('"')


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param({"status": ["OPEN"]}, id="status"),
        pytest.param({"phase": ["PHASE9"]}, id="phase"),
        pytest.param({"study_type": "TRIAL"}, id="study-type"),
        pytest.param({"age": -1}, id="age"),
        pytest.param({"sex": "ALL"}, id="sex-of-a-patient"),
        pytest.param({"page_size": 1000}, id="page-size"),
        pytest.param({"sort": "random"}, id="sort"),
    ],
)
def test_a_bad_search_option_is_refused(fields: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        SearchQuery.model_validate(fields)
