"""Searching the registry: full-text relevance, filters, counts, sorting, pages.

Free text is matched against titles, conditions, interventions, summaries and eligibility
text; every word must occur (stemmed: "leukemias" finds "leukemia"), and a hyphenated or
slashed word is a phrase ("CAR-T", "T-ALL"). Relevance weighs a match in the title most, then
conditions and interventions, then the summary, then eligibility text:

- SQLite: FTS5 ``bm25`` with column weights 10, 4, 4, 1, 0.3;
- PostgreSQL: ``ts_rank_cd`` over the weighted ``search_vector`` (A title, B conditions and
  interventions, C summary, D eligibility).

Filters: status and phase (any of several), study type, condition and intervention (text
within), a patient's age (the trial's age limits include it; a limit the record does not set
does not exclude), a patient's sex (trials for all or for that sex; a trial whose record does
not state it is kept), accepting healthy volunteers, country, start year range.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable
from typing import Any

from sqlalchemy import Float, Select, and_, cast, func, literal_column, null, or_, select, text
from sqlalchemy.orm import Session

from celltrial.errors import InvalidInput
from celltrial.registry.models import RegistryTrial
from celltrial.registry.schemas import SearchHit, SearchPage, SearchQuery

_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def query_terms(text_query: str) -> list[list[str]]:
    """The words of a search: each whitespace-separated term as the list of its word parts."""
    terms = []
    for term in text_query.split():
        parts = [p.lower() for p in _WORD.findall(term)]
        if parts:
            terms.append(parts)
    return terms


def fts5_query(terms: list[list[str]]) -> str:
    """An FTS5 MATCH expression: every term must occur, a term of several parts as a phrase."""
    return " ".join('"' + " ".join(parts) + '"' for parts in terms)


def postgres_query_text(terms: list[list[str]]) -> str:
    """The search words for ``plainto_tsquery`` (hyphens kept, so 'car-t' matches as one word)."""
    return " ".join("-".join(parts) for parts in terms)


def _text_rank(session: Session, terms: list[list[str]]) -> Any:
    """A subquery of (key, score) for the trials that match the words."""
    if session.get_bind().dialect.name == "postgresql":
        tsquery = func.plainto_tsquery("english", postgres_query_text(terms))
        vector: Any = literal_column("registry_trial.search_vector")
        return (
            select(RegistryTrial.nct_id.label("key"), func.ts_rank_cd(vector, tsquery).label("score"))
            .where(vector.op("@@")(tsquery))
            .subquery("matched")
        )
    fts = (
        text(
            "SELECT registry_trial.nct_id AS key, "
            "-bm25(registry_trial_fts, 10.0, 4.0, 4.0, 1.0, 0.3) AS score "
            "FROM registry_trial_fts JOIN registry_trial ON registry_trial.rowid = registry_trial_fts.rowid "
            "WHERE registry_trial_fts MATCH :match"
        )
        .bindparams(match=fts5_query(terms))
        .columns(key=literal_column("key").type, score=Float)
    )
    return fts.subquery("matched")


def _filters(query: SearchQuery) -> list[Any]:
    trial = RegistryTrial
    conditions: list[Any] = []
    if query.status:
        conditions.append(trial.overall_status.in_(query.status))
    if query.phase:
        conditions.append(or_(*(trial.phases.like(f"%|{p}|%") for p in query.phase)))
    if query.study_type:
        conditions.append(trial.study_type == query.study_type)
    if query.condition:
        conditions.append(trial.conditions_text.ilike(f"%{_escape(query.condition)}%", escape="\\"))
    if query.intervention:
        conditions.append(trial.interventions_text.ilike(f"%{_escape(query.intervention)}%", escape="\\"))
    if query.age is not None:
        conditions.append(or_(trial.min_age_years.is_(None), trial.min_age_years <= query.age + 1e-9))
        conditions.append(or_(trial.max_age_years.is_(None), trial.max_age_years >= query.age - 1e-9))
    if query.sex:
        conditions.append(or_(trial.sex.is_(None), trial.sex.in_(["ALL", query.sex])))
    if query.healthy_volunteers is not None:
        conditions.append(trial.healthy_volunteers.is_(query.healthy_volunteers))
    if query.country:
        conditions.append(trial.countries.ilike(f"%|{_escape(query.country)}|%", escape="\\"))
    if query.start_year_from is not None:
        conditions.append(trial.start_year >= query.start_year_from)
    if query.start_year_to is not None:
        conditions.append(trial.start_year <= query.start_year_to)
    return conditions


def _escape(value: str) -> str:
    return value.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search(session: Session, query: SearchQuery) -> SearchPage:
    """One page of trials matching ``query``, with the total and counts by status and phase."""
    if query.start_year_from and query.start_year_to and query.start_year_from > query.start_year_to:
        raise InvalidInput("the first start year is after the last", field="start_year_from")
    trial = RegistryTrial
    has_text = bool(query.text and query.text.strip())
    base: Select[Any] = select(trial.nct_id, cast(null(), Float).label("score"))
    if has_text:
        terms = query_terms(query.text or "")
        if not terms:
            raise InvalidInput(f"'{query.text}' has no word to search for", field="text")
        matched = _text_rank(session, terms)
        base = select(trial.nct_id, matched.c.score.label("score")).join(
            matched, matched.c.key == trial.nct_id
        )
    conditions = _filters(query)
    if conditions:
        base = base.where(and_(*conditions))
    # one pass over the matches (full text is evaluated once); counting and ordering at most a
    # few thousand light rows is then done here, and only the page's trials are loaded
    matches = session.execute(
        base.add_columns(
            trial.overall_status,
            trial.phases,
            trial.start_date,
            trial.last_update_date,
            trial.enrollment_count,
        )
    ).all()
    counts = {
        "status": dict(Counter(row.overall_status or "not stated" for row in matches)),
        "phase": dict(Counter(row.phases.strip("|").replace("|", "/") or "not stated" for row in matches)),
    }
    ordered = sorted(matches, key=_sort_key(query, has_text=has_text))
    start = (query.page - 1) * query.page_size
    page = ordered[start : start + query.page_size]
    loaded = {
        t.nct_id: t for t in session.scalars(select(trial).where(trial.nct_id.in_([r.nct_id for r in page])))
    }
    results = [
        SearchHit(
            **summary_fields(loaded[row.nct_id]),
            score=None if row.score is None else round(float(row.score), 4),
        )
        for row in page
    ]
    return SearchPage(
        query=query,
        total=len(matches),
        page=query.page,
        page_size=query.page_size,
        pages=max(1, math.ceil(len(matches) / query.page_size)),
        results=results,
        counts=counts,
    )


def _sort_key(query: SearchQuery, *, has_text: bool) -> Callable[[Any], tuple[Any, ...]]:
    """Best first; a trial without the sorted value comes last; ties by NCT id."""

    def descending_text(value: str | None) -> tuple[bool, tuple[int, ...]]:
        return (not value, tuple(-ord(c) for c in value or ""))

    if query.sort == "relevance" and has_text:
        return lambda row: (-(row.score or 0.0), row.nct_id)
    if query.sort in ("relevance", "start_date"):
        return lambda row: (descending_text(row.start_date), row.nct_id)
    if query.sort == "last_update":
        return lambda row: (descending_text(row.last_update_date), row.nct_id)
    if query.sort == "enrollment":
        return lambda row: (row.enrollment_count is None, -(row.enrollment_count or 0), row.nct_id)
    return lambda row: (row.nct_id,)


def summary_fields(trial: RegistryTrial) -> dict[str, Any]:
    """The :class:`~celltrial.registry.schemas.TrialSummary` fields of a stored trial."""
    record = trial.record
    return {
        "nct_id": trial.nct_id,
        "title": trial.brief_title,
        "overall_status": trial.overall_status,
        "phases": list(record.get("phases") or []),
        "study_type": trial.study_type,
        "conditions": list(record.get("conditions") or []),
        "start_date": trial.start_date,
        "enrollment_count": trial.enrollment_count,
        "lead_sponsor": trial.lead_sponsor,
        "countries": list(record.get("countries") or []),
    }


__all__ = ["fts5_query", "postgres_query_text", "query_terms", "search", "summary_fields"]
