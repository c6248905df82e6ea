"""The registry's services: what the CLI, the API (``/api/v1/registry/...``) and the pages call.

Keyword-only functions, one unit of work (session) passed in; every result is a pydantic model
ready for JSON. ``get_trial`` returns ``None`` for an unknown trial, ``get_trial_or_raise``
raises :class:`~celltrial.errors.NotFound`. The similarity index is built from the database
once and kept in memory until an import changes the registry.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from celltrial.errors import InvalidInput, NotFound
from celltrial.registry.importer import ImportReport, Progress, import_path
from celltrial.registry.models import RegistryEmbedding, RegistryImport, RegistrySite, RegistryTrial
from celltrial.registry.record import TrialRecord
from celltrial.registry.schemas import RelatedTrials, SearchPage, SearchQuery, TrialDetail
from celltrial.registry.search import search
from celltrial.registry.similarity import IndexedTrial, SimilarityIndex
from celltrial.registry.trial_page import TrialPage, build_trial_page
from celltrial.registry.vectors import Encoder, from_bytes

_NCT = re.compile(r"^NCT\d{8}$")
_INDEXES: dict[str, tuple[tuple[int, int, int], SimilarityIndex]] = {}
_LOCK = threading.Lock()


def normalise_nct_id(nct_id: str) -> str:
    """``nct07008872`` -> ``NCT07008872``; anything else that is not an NCT id is refused."""
    value = nct_id.strip().upper()
    if not _NCT.match(value):
        raise InvalidInput(f"'{nct_id}' is not an NCT id (NCT and 8 digits)", field="nct_id")
    return value


def import_registry(
    *,
    factory: sessionmaker[Session],
    path: Path,
    encoder: Encoder | None = None,
    progress: Progress | None = None,
    use_shipped_cache: bool = True,
) -> ImportReport:
    """Import every registry source under ``path`` (see :mod:`celltrial.registry.importer`)."""
    return import_path(
        path, factory=factory, encoder=encoder, progress=progress, use_shipped_cache=use_shipped_cache
    )


def search_trials(*, session: Session, query: SearchQuery) -> SearchPage:
    """A page of trials matching the text and filters."""
    return search(session, query)


def get_trial(*, session: Session, nct_id: str) -> TrialDetail | None:
    trial = session.get(RegistryTrial, normalise_nct_id(nct_id))
    if trial is None:
        return None
    return TrialDetail(
        nct_id=trial.nct_id,
        record=TrialRecord.model_validate(trial.record),
        provenance=trial.provenance,
        features=trial.features,
        updated_at=trial.updated_at,
    )


def get_trial_or_raise(*, session: Session, nct_id: str) -> TrialDetail:
    detail = get_trial(session=session, nct_id=nct_id)
    if detail is None:
        raise NotFound(f"no trial {normalise_nct_id(nct_id)} in the registry", field="nct_id")
    return detail


def related_trials(*, session: Session, nct_id: str, top: int = 10) -> RelatedTrials:
    """The ``top`` trials most like ``nct_id``, each with a score and a one-line reason."""
    if not 1 <= top <= 100:
        raise InvalidInput(f"must be between 1 and 100, not {top}", field="top")
    key = normalise_nct_id(nct_id)
    index = similarity_index(session=session)
    if key not in index.position:
        raise NotFound(f"no trial {key} in the registry", field="nct_id")
    return RelatedTrials(nct_id=key, related=index.related(key, top=top))


def trial_page(*, session: Session, nct_id: str, related_count: int = 10) -> TrialPage:
    """Everything the trial's page shows, section by section."""
    from celltrial.protocol.library import list_protocols

    detail = get_trial_or_raise(session=session, nct_id=nct_id)
    related = related_trials(session=session, nct_id=detail.nct_id, top=related_count).related
    run_here = {known for known, _where in list_protocols()}
    return build_trial_page(
        detail.record,
        provenance=detail.provenance,
        related=related,
        operations_available=detail.nct_id in run_here,
    )


def registry_counts(*, session: Session) -> dict[str, int]:
    """How many trials, sites, embeddings and imports the registry holds."""
    return {
        "trials": session.scalar(select(func.count()).select_from(RegistryTrial)) or 0,
        "sites": session.scalar(select(func.count()).select_from(RegistrySite)) or 0,
        "embeddings": session.scalar(select(func.count()).select_from(RegistryEmbedding)) or 0,
        "imports": session.scalar(select(func.count()).select_from(RegistryImport)) or 0,
    }


def similarity_index(*, session: Session) -> SimilarityIndex:
    """The in-memory index of this database, rebuilt when an import has changed the registry."""
    signature = (
        session.scalar(select(func.count()).select_from(RegistryTrial)) or 0,
        session.scalar(select(func.max(RegistryImport.id))) or 0,
        session.scalar(select(func.count()).select_from(RegistryEmbedding)) or 0,
    )
    bind = session.get_bind()
    key = f"{bind.engine.url!r}"
    with _LOCK:
        cached = _INDEXES.get(key)
        if cached is not None and cached[0] == signature:
            return cached[1]
    index = _build_index(session)
    with _LOCK:
        _INDEXES[key] = (signature, index)
    return index


def _build_index(session: Session) -> SimilarityIndex:
    vectors = {row.nct_id: from_bytes(row.vector) for row in session.scalars(select(RegistryEmbedding))}
    rows = session.execute(
        select(
            RegistryTrial.nct_id,
            RegistryTrial.brief_title,
            RegistryTrial.overall_status,
            RegistryTrial.phases,
            RegistryTrial.features,
        ).order_by(RegistryTrial.nct_id)
    )
    trials = []
    for row in rows:
        features = row.features or {}
        vector = vectors.get(row.nct_id)
        trials.append(
            IndexedTrial(
                nct_id=row.nct_id,
                title=row.brief_title,
                overall_status=row.overall_status,
                phases=tuple(p for p in row.phases.split("|") if p),
                antigens=tuple(features.get("antigens", [])),
                diseases=tuple(features.get("diseases", [])),
                disease_families=tuple(features.get("disease_families", [])),
                product_type=features.get("product_type"),
                platform=features.get("platform"),
                settings=tuple(features.get("settings", [])),
                vector=None if vector is None else np.asarray(vector, dtype=np.float32),
            )
        )
    return SimilarityIndex(trials)


def export_embeddings(*, session: Session, path: Path) -> int:
    """Write every stored embedding to a cache file (keyed by its text's hash); return how many."""
    from celltrial.registry.vectors import write_cache

    rows = list(session.scalars(select(RegistryEmbedding).order_by(RegistryEmbedding.nct_id)))
    if not rows:
        raise NotFound("the registry holds no embedding to export", field="registry")
    unique = {row.text_sha256: from_bytes(row.vector) for row in rows}
    write_cache(path, list(unique), np.stack(list(unique.values())))
    return len(unique)
