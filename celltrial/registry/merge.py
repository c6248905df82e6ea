"""Merging the records of one NCT id from several sources, field by field.

For each field, the sources that give a value compete:

- free text and lists (summary, eligibility text, interventions, sites, ...): the richest value
  wins, i.e. the longest text or the list with the most content;
- single values (status, phase, dates, enrolment, design choices, ages, sex): the value of the
  most recently updated record wins;

and ties go to the richer kind of source (a CT.gov API v2 record, then the corpus sample, then
a corpus row), then to the origin's name, so the result never depends on import order.
Every field's winning source is kept in the provenance; third-party labels are kept from every
source, one set per origin.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel

from celltrial.errors import InvalidInput
from celltrial.registry.record import (
    MERGED_FIELDS,
    SOURCE_RICHNESS,
    SourcedRecord,
    ThirdPartyLabels,
    TrialRecord,
)

SINGLE_VALUE_FIELDS = frozenset(
    {
        "overall_status",
        "phases",
        "study_type",
        "enrollment_count",
        "enrollment_type",
        "start_date",
        "primary_completion_date",
        "completion_date",
        "first_posted_date",
        "last_update_date",
        "allocation",
        "intervention_model",
        "primary_purpose",
        "masking",
        "minimum_age",
        "maximum_age",
        "sex",
        "healthy_volunteers",
        "has_results",
        "std_ages",
    }
)


def _present(value: Any) -> bool:
    return value is not None and value != [] and value != ""


def _content(value: Any) -> int:
    if isinstance(value, str):
        return len(value)
    if isinstance(value, BaseModel):
        return len(value.model_dump_json(exclude_none=True))
    if isinstance(value, list):
        return sum(_content(item) + 1 for item in value)
    return len(json.dumps(value, default=str))


def source_label(source: SourcedRecord) -> str:
    """How provenance names a source: ``kind:origin``."""
    return f"{source.kind}:{source.origin}"


def merge(sources: Sequence[SourcedRecord]) -> tuple[TrialRecord, dict[str, str]]:
    """The merged record of one trial and, for each field that has a value, the source it came from."""
    if not sources:
        raise InvalidInput("nothing to merge", field="sources")
    nct_ids = {s.record.nct_id for s in sources}
    if len(nct_ids) != 1:
        raise InvalidInput(
            f"records of different trials cannot merge: {', '.join(sorted(nct_ids))}", field="nct_id"
        )

    def recency(source: SourcedRecord) -> str:
        return source.record.last_update_date or source.snapshot_date or ""

    values: dict[str, Any] = {"nct_id": next(iter(nct_ids))}
    provenance: dict[str, str] = {}
    for field in (*MERGED_FIELDS,):
        candidates = [s for s in sources if _present(getattr(s.record, field))]
        if not candidates:
            continue

        def rank(source: SourcedRecord, field: str = field) -> tuple[Any, ...]:
            value = getattr(source.record, field)
            richness = 0 if field in SINGLE_VALUE_FIELDS else _content(value)
            return (richness, recency(source), SOURCE_RICHNESS[source.kind], source.origin)

        winner = max(candidates, key=rank)
        values[field] = getattr(winner.record, field)
        provenance[field] = source_label(winner)

    labels: dict[str, ThirdPartyLabels] = {}
    for source in sorted(sources, key=lambda s: (s.kind, s.origin)):
        for entry in source.record.third_party_labels:
            labels[f"{entry.source}|{entry.origin}"] = entry
    values["third_party_labels"] = list(labels.values())
    if "brief_title" not in values:
        raise InvalidInput("no source gives a brief title", field=f"{values['nct_id']}.brief_title")
    return TrialRecord(**values), provenance
