"""``celltrial registry import``: read sources, merge per NCT id, embed, store.

Three phases, so the database is locked only for the last, short one:

1. read every source under the path and the stored sources of the same trials (read-only);
2. merge each trial's sources, extract its features, and embed the texts that changed
   (stored vectors are reused when the text's hash is unchanged; the shipped cache seeds known texts);
3. write everything in one transaction: trials, sources, sites, embeddings, the import's counts.

Re-importing the same files changes nothing (every count lands in ``unchanged``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from celltrial.database import unit_of_work
from celltrial.registry.features import embedding_text, extract_features
from celltrial.registry.merge import merge
from celltrial.registry.models import (
    RegistryEmbedding,
    RegistryImport,
    RegistrySite,
    RegistryTrial,
    RegistryTrialSource,
)
from celltrial.registry.record import SourcedRecord, TrialRecord
from celltrial.registry.sources.discover import collect
from celltrial.registry.vectors import Encoder, ModelEncoder, read_cache, text_sha256, to_bytes

Progress = Callable[[str, int, int], None]
"""``progress(stage, done, total)``: called as work advances (the CLI draws a bar)."""

_CHUNK = 500
_AGE = re.compile(r"^(\d+) (Year|Month|Week|Day|Hour|Minute)s?$")
_YEARS_PER_UNIT = {
    "Year": 1.0,
    "Month": 1 / 12,
    "Week": 7 / 365.25,
    "Day": 1 / 365.25,
    "Hour": 1 / (24 * 365.25),
    "Minute": 1 / (24 * 60 * 365.25),
}


class ImportReport(BaseModel):
    """What one import read and what it changed."""

    path: str
    files: list[str]
    skipped_files: list[dict[str, str]]
    source_records: dict[str, int]
    trials_in_sources: int
    trials_created: int
    trials_updated: int
    trials_unchanged: int
    site_rows_read: int
    site_rows_attached: int
    site_rows_without_trial: int
    sites_stored: int
    embeddings_computed: int
    embeddings_from_cache: int
    embeddings_reused: int
    seconds: float


def age_in_years(age: str | None) -> float | None:
    """``'14 Years'`` -> 14.0, ``'6 Months'`` -> 0.5; ``None`` when the record sets no limit."""
    if age is None:
        return None
    match = _AGE.match(age)
    if match is None:
        return None
    return int(match[1]) * _YEARS_PER_UNIT[match[2]]


def _sha(source: SourcedRecord) -> str:
    return hashlib.sha256(source.model_dump_json().encode("utf-8")).hexdigest()


def _columns(record: TrialRecord, provenance: dict[str, str], features: dict[str, Any]) -> dict[str, Any]:
    start_year = int(record.start_date[:4]) if record.start_date else None
    return {
        "brief_title": record.brief_title,
        "official_title": record.official_title,
        "overall_status": record.overall_status,
        "phases": "".join(f"|{p}" for p in record.phases) + ("|" if record.phases else ""),
        "study_type": record.study_type,
        "conditions_text": "; ".join(record.conditions),
        "interventions_text": "; ".join(
            " ".join(filter(None, [i.name, *i.other_names, i.description])) for i in record.interventions
        ),
        "brief_summary": record.brief_summary,
        "eligibility_text": record.eligibility_criteria,
        "sex": record.sex,
        "healthy_volunteers": record.healthy_volunteers,
        "min_age_years": age_in_years(record.minimum_age),
        "max_age_years": age_in_years(record.maximum_age),
        "countries": "".join(f"|{c}" for c in record.countries) + ("|" if record.countries else ""),
        "start_date": record.start_date,
        "start_year": start_year,
        "last_update_date": record.last_update_date,
        "enrollment_count": record.enrollment_count,
        "lead_sponsor": record.lead_sponsor,
        "record": record.model_dump(mode="json"),
        "provenance": provenance,
        "features": features,
    }


def import_path(
    path: Path,
    *,
    factory: sessionmaker[Session],
    encoder: Encoder | None = None,
    progress: Progress | None = None,
    now: dt.datetime | None = None,
    use_shipped_cache: bool = True,
) -> ImportReport:
    """Import every registry source under ``path``; all or nothing."""
    began = time.perf_counter()
    report = progress or (lambda _stage, _done, _total: None)
    collected = collect(path)
    incoming: dict[str, dict[tuple[str, str], SourcedRecord]] = {}
    for source in collected.sources:
        incoming.setdefault(source.record.nct_id, {})[(source.kind, source.origin)] = source
    nct_ids = sorted(incoming)

    stored_sources: dict[str, dict[tuple[str, str], tuple[str, SourcedRecord]]] = {}
    stored_hashes: dict[str, str] = {}
    stored_columns: dict[str, dict[str, Any]] = {}
    with unit_of_work(factory) as session:
        for start in range(0, len(nct_ids), _CHUNK):
            chunk = nct_ids[start : start + _CHUNK]
            for row in session.scalars(
                select(RegistryTrialSource).where(RegistryTrialSource.nct_id.in_(chunk))
            ):
                stored = SourcedRecord.model_validate(row.payload)
                stored_sources.setdefault(row.nct_id, {})[(row.kind, row.origin)] = (
                    row.content_sha256,
                    stored,
                )
            for emb in session.execute(
                select(RegistryEmbedding.nct_id, RegistryEmbedding.text_sha256).where(
                    RegistryEmbedding.nct_id.in_(chunk)
                )
            ):
                stored_hashes[emb.nct_id] = emb.text_sha256
            for trial in session.scalars(select(RegistryTrial).where(RegistryTrial.nct_id.in_(chunk))):
                stored_columns[trial.nct_id] = {"record": trial.record, "provenance": trial.provenance}

    plans: list[dict[str, Any]] = []
    for done, nct_id in enumerate(nct_ids, start=1):
        sources = {key: value for key, (_sha_, value) in stored_sources.get(nct_id, {}).items()}
        changed_sources = []
        for key, source in incoming[nct_id].items():
            sha = _sha(source)
            if stored_sources.get(nct_id, {}).get(key, ("",))[0] != sha:
                changed_sources.append((source, sha))
            sources[key] = source
        record, provenance = merge(list(sources.values()))
        features = extract_features(record).as_dict()
        columns = _columns(record, provenance, features)
        existing = stored_columns.get(nct_id)
        status = (
            "created"
            if existing is None
            else "unchanged"
            if existing == {"record": columns["record"], "provenance": provenance} and not changed_sources
            else "updated"
        )
        text = embedding_text(record)
        plans.append(
            {
                "nct_id": nct_id,
                "status": status,
                "columns": columns,
                "sites": record.sites,
                "changed_sources": changed_sources,
                "text": text,
                "text_sha": text_sha256(text),
            }
        )
        if done % 100 == 0 or done == len(nct_ids):
            report("merging", done, len(nct_ids))

    vectors, counts = _embed(plans, stored_hashes, encoder or ModelEncoder(), report, use_shipped_cache)

    stamp = now or dt.datetime.now(dt.UTC)
    with unit_of_work(factory) as session:
        _write(session, plans, vectors, (encoder or ModelEncoder()).name, stamp, report)
        sites_stored = sum(len(p["sites"]) for p in plans)
        result = ImportReport(
            path=str(path),
            files=collected.files,
            skipped_files=[{"file": f, "reason": r} for f, r in collected.skipped_files],
            source_records={
                kind: sum(1 for s in collected.sources if s.kind == kind)
                for kind in sorted({s.kind for s in collected.sources})
            },
            trials_in_sources=len(nct_ids),
            trials_created=sum(1 for p in plans if p["status"] == "created"),
            trials_updated=sum(1 for p in plans if p["status"] == "updated"),
            trials_unchanged=sum(1 for p in plans if p["status"] == "unchanged"),
            site_rows_read=collected.site_rows_read,
            site_rows_attached=collected.site_rows_attached,
            site_rows_without_trial=collected.site_rows_without_trial,
            sites_stored=sites_stored,
            embeddings_computed=counts["computed"],
            embeddings_from_cache=counts["cache"],
            embeddings_reused=counts["reused"],
            seconds=round(time.perf_counter() - began, 2),
        )
        session.add(RegistryImport(started_at=stamp, path=str(path), counts=result.model_dump(mode="json")))
    return result


def _embed(
    plans: Sequence[dict[str, Any]],
    stored_hashes: dict[str, str],
    encoder: Encoder,
    report: Progress,
    use_shipped_cache: bool,
) -> tuple[dict[str, Any], dict[str, int]]:
    counts = {"computed": 0, "cache": 0, "reused": 0}
    needed = [p for p in plans if stored_hashes.get(p["nct_id"]) != p["text_sha"]]
    counts["reused"] = len(plans) - len(needed)
    cache = read_cache() if use_shipped_cache and needed else {}
    vectors: dict[str, Any] = {}
    to_compute = []
    for plan in needed:
        cached = cache.get(plan["text_sha"])
        if cached is not None:
            vectors[plan["nct_id"]] = cached
            counts["cache"] += 1
        else:
            to_compute.append(plan)
    batch = 64
    for start in range(0, len(to_compute), batch):
        chunk = to_compute[start : start + batch]
        rows = encoder.encode([p["text"] for p in chunk])
        for plan, row in zip(chunk, rows, strict=True):
            vectors[plan["nct_id"]] = row
        report("embedding", min(start + batch, len(to_compute)), len(to_compute))
    counts["computed"] = len(to_compute)
    return vectors, counts


def _chunks(items: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def _write(
    session: Session,
    plans: Sequence[dict[str, Any]],
    vectors: dict[str, Any],
    model: str,
    stamp: dt.datetime,
    report: Progress,
) -> None:
    """Write the changes in bulk statements (inserts, updates by key, deletes by key)."""
    created = [p for p in plans if p["status"] == "created"]
    updated = [p for p in plans if p["status"] == "updated"]
    for chunk in _chunks(created):
        session.execute(
            insert(RegistryTrial),
            [{"nct_id": p["nct_id"], "updated_at": stamp, **p["columns"]} for p in chunk],
        )
    for chunk in _chunks(updated):
        session.execute(
            update(RegistryTrial),
            [{"nct_id": p["nct_id"], "updated_at": stamp, **p["columns"]} for p in chunk],
        )
    report("writing", 1, 4)

    changed = [(p["nct_id"], source, sha) for p in plans for source, sha in p["changed_sources"]]
    existed = {p["nct_id"] for p in plans if p["status"] != "created"}
    for nct_id, source, _sha in changed:
        if nct_id in existed:
            session.execute(
                delete(RegistryTrialSource).where(
                    RegistryTrialSource.nct_id == nct_id,
                    RegistryTrialSource.kind == source.kind,
                    RegistryTrialSource.origin == source.origin,
                )
            )
    for chunk in _chunks(changed):
        session.execute(
            insert(RegistryTrialSource),
            [
                {
                    "nct_id": nct_id,
                    "kind": source.kind,
                    "origin": source.origin,
                    "snapshot_date": source.snapshot_date,
                    "content_sha256": sha,
                    "payload": source.model_dump(mode="json"),
                }
                for nct_id, source, sha in chunk
            ],
        )
    report("writing", 2, 4)

    rewritten = [*created, *updated]
    for chunk in _chunks([p["nct_id"] for p in updated]):
        session.execute(delete(RegistrySite).where(RegistrySite.nct_id.in_(chunk)))
    site_rows = [
        {"nct_id": p["nct_id"], "position": i, **site.model_dump()}
        for p in rewritten
        for i, site in enumerate(p["sites"])
    ]
    for chunk in _chunks(site_rows):
        session.execute(insert(RegistrySite), list(chunk))
    report("writing", 3, 4)

    embedded = [p for p in plans if p["nct_id"] in vectors]
    for chunk in _chunks([p["nct_id"] for p in embedded]):
        session.execute(delete(RegistryEmbedding).where(RegistryEmbedding.nct_id.in_(chunk)))
    for chunk in _chunks(embedded):
        session.execute(
            insert(RegistryEmbedding),
            [
                {
                    "nct_id": p["nct_id"],
                    "model": model,
                    "text_sha256": p["text_sha"],
                    "vector": to_bytes(vectors[p["nct_id"]]),
                }
                for p in chunk
            ],
        )
    report("writing", 4, 4)
