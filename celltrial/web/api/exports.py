"""Exports of the trial (data manager, sponsor): CDISC ODM and SDTM, FHIR, ClinicalTrials.gov.

Each run reads the study in the request's transaction, refuses unlocked data unless ``draft``,
and is recorded in the audit trail (action ``export``) in the same transaction, as the
``celltrial export`` commands do. The file comes back as the response body (SDTM as a zip of
its datasets, define.xml and conformance report).
"""

from __future__ import annotations

import io
import json
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response
from sqlalchemy.orm import Session

from celltrial.reporting.ctgov_results import current_record, write_results
from celltrial.reporting.fhir_export import write_fhir
from celltrial.reporting.odm import write_odm
from celltrial.reporting.sdtm import write_sdtm
from celltrial.reporting.trialdata import TrialData, load_trial_data, record_export
from celltrial.web.api.common import AUTHENTICATED
from celltrial.web.deps import ApiUser, DbSession
from celltrial.web.problems import problem_responses
from celltrial.web.routing import UnitOfWorkRoute

router = APIRouter(route_class=UnitOfWorkRoute, prefix="/exports", tags=["exports"])
Kind = Literal["odm", "sdtm", "fhir", "ctgov-results", "ctgov-record"]
_MEDIA = {
    "odm": ("application/xml", "odm.xml"),
    "sdtm": ("application/zip", "sdtm.zip"),
    "fhir": ("application/fhir+json", "bundle.json"),
    "ctgov-results": ("application/json", "results.json"),
    "ctgov-record": ("application/json", "record.json"),
}


def _zip(folder: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(folder).as_posix())
    return buffer.getvalue()


def _writers(session: Session) -> dict[str, Callable[[TrialData, Path], dict[str, Any]]]:
    def sdtm(data: TrialData, target: Path) -> dict[str, Any]:
        result = write_sdtm(data, target)
        return {"counts": result.records, "conformance_findings": len(result.findings)}

    def record(data: TrialData, target: Path) -> dict[str, Any]:
        target.write_text(
            json.dumps(current_record(data), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        return {}

    return {
        "odm": lambda data, target: {"counts": write_odm(session, data, target).counts},
        "sdtm": sdtm,
        "fhir": lambda data, target: {"counts": write_fhir(data, target)},
        "ctgov-results": lambda data, target: {"results": bool(write_results(data, target))},
        "ctgov-record": record,
    }


@router.post(
    "/{kind}",
    response_class=Response,
    responses=AUTHENTICATED
    | problem_responses(404, 409)
    | {200: {"description": "The exported file", "content": {media: {} for media, _ in _MEDIA.values()}}},
)
def export(
    session: DbSession,
    user: ApiUser,
    kind: Kind,
    draft: Annotated[bool, Query(description="Export data that are not locked yet (marked DRAFT)")] = False,
) -> Response:
    """Run one export and return its file; the run is recorded in the audit trail."""
    data = load_trial_data(session, by=user, draft=draft or kind == "ctgov-record")
    media, name = _MEDIA[kind]
    with tempfile.TemporaryDirectory(prefix="celltrial-export-") as folder:
        target = Path(folder) / ("sdtm" if kind == "sdtm" else name)
        summary = _writers(session)[kind](data, target)
        content = _zip(target) if kind == "sdtm" else target.read_bytes()
    record_export(session, by=user, data=data, kind=kind, target="api", summary=summary)
    prefix = "DRAFT-" if data.draft else ""
    disposition = f'attachment; filename="{data.nct_id}-{prefix}{name}"'
    return Response(content, media_type=media, headers={"Content-Disposition": disposition})
