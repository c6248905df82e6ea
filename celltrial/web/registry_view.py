"""The registry as the portal shows it: a search from query parameters, a trial page for any NCT id.

The trial this server runs has a page even before the landscape is imported: it is built from
its shipped registry record, without related trials.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from celltrial.errors import InvalidInput, NotFound
from celltrial.protocol.library import list_protocols, load_study
from celltrial.registry import service as registry
from celltrial.registry.schemas import SearchPage, SearchQuery
from celltrial.registry.sources.ctgov import record_from_study
from celltrial.registry.trial_page import TrialPage, build_trial_page

__all__ = ["search", "search_query", "trial_page"]


def search_query(values: dict[str, Any]) -> SearchQuery:
    """A registry search from request values; a bad value is an InvalidInput naming its parameter."""
    chosen = {key: value for key, value in values.items() if value not in (None, "", [])}
    try:
        return SearchQuery.model_validate(chosen)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "query"
        raise InvalidInput(str(first["msg"]).removeprefix("Value error, "), field=where) from None


def search(session: Session, query: SearchQuery) -> SearchPage:
    """One page of the registry search."""
    return registry.search_trials(session=session, query=query)


def trial_page(session: Session, nct_id: str) -> TrialPage:
    """The trial's page from the registry; for a protocol celltrial ships, from its record if not imported."""
    key = registry.normalise_nct_id(nct_id)
    try:
        return registry.trial_page(session=session, nct_id=key)
    except NotFound:
        if key not in {known for known, _where in list_protocols()}:
            raise
    record = record_from_study(load_study(key))
    return build_trial_page(record, provenance={}, related=[], operations_available=True)
