"""The analyses pages: CONSORT, efficacy with exact CIs, Kaplan–Meier curves, swimmer plot,
kinetics, the CRS/ICANS timeline, the stopping rule, and the DSMB report as a PDF.

Shown to the roles that may see both safety and efficacy data (sponsor, DSMB member, data
manager). The analyses of a data cut-off are computed once per database state and kept, with
their figures and the PDF, in a small in-process cache: every change to study data goes through
a service that appends to the audit trail, so the newest audit entry (DSMB reports handed out
aside) names the state (:func:`celltrial.reporting.dsmb_analyses.data_version`). The
permission is checked on every request, before anything cached is served.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import date
from typing import TypeVar

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from celltrial.errors import InvalidInput, NotFound
from celltrial.reporting.dsmb_analyses import AESI_LABELS, TrialAnalyses, collect, data_version
from celltrial.reporting.dsmb_figures import FIGURES, available, draw
from celltrial.reporting.dsmb_report import DsmbReport, record_dsmb_report, render_dsmb_report
from celltrial.reporting.figures import render as render_figure
from celltrial.study.permissions import Action, require
from celltrial.study.users.models import User
from celltrial.web.deps import DbSession, Viewer
from celltrial.web.routing import UnitOfWorkRoute
from celltrial.web.templating import render

router = APIRouter(route_class=UnitOfWorkRoute)

_MEDIA = {"svg": "image/svg+xml", "png": "image/png"}
T = TypeVar("T")


class _Cache:
    """A small least-recently-used cache, safe across the server's worker threads."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[tuple[object, ...], object] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_make(self, key: tuple[object, ...], make: Callable[[], T]) -> T:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]  # type: ignore[return-value]
        with _drawing:  # matplotlib and reportlab draw one thing at a time
            value = make()
        with self._lock:
            self._items[key] = value
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return value


_drawing = threading.RLock()
_analyses = _Cache(4)
_figures = _Cache(64)
_reports = _Cache(4)


def _allowed(user: User) -> None:
    require(user, Action.SAFETY_VIEW)
    require(user, Action.EFFICACY_VIEW)


def _cutoff(text: str | None) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"expected a date YYYY-MM-DD, got {text!r}", field="cutoff") from None


def _key(session: Session, cutoff: date | None) -> tuple[object, ...]:
    url = session.get_bind().engine.url.render_as_string(hide_password=True)
    return (url, data_version(session), cutoff)


def _analysed(
    session: Session, user: User, cutoff_text: str | None
) -> tuple[tuple[object, ...], TrialAnalyses]:
    _allowed(user)
    cutoff = _cutoff(cutoff_text)
    key = _key(session, cutoff)
    return key, _analyses.get_or_make(key, lambda: collect(session, by=user, cutoff=cutoff))


@router.get("/analyses")
def analyses_page(
    request: Request, session: DbSession, visitor: Viewer, cutoff: str | None = None
) -> Response:
    """The trial's analyses at a data cut-off (default: the latest data)."""
    _, analyses = _analysed(session, visitor.user, cutoff)
    query = f"?cutoff={analyses.cutoff.isoformat()}"
    return render(
        request,
        "analyses.html",
        {
            "a": analyses,
            "query": query,
            "figures": FIGURES,
            "available": available(analyses),
            "aesi_labels": AESI_LABELS,
            "os": analyses.endpoint("os").summary,
        },
        visitor=visitor,
    )


@router.get("/analyses/figures/{name}.{image_format}")
def analyses_figure(
    session: DbSession, visitor: Viewer, name: str, image_format: str, cutoff: str | None = None
) -> Response:
    """One figure of the analyses as SVG or PNG."""
    if name not in FIGURES:
        raise NotFound(f"no figure {name!r} (known: {', '.join(FIGURES)})", field="figure")
    if image_format not in _MEDIA:
        raise NotFound(f"figures are served as .svg or .png, not .{image_format}", field="format")
    key, analyses = _analysed(session, visitor.user, cutoff)
    content = _figures.get_or_make(
        (*key, name, image_format),
        lambda: render_figure(draw(analyses, name), "svg" if image_format == "svg" else "png"),
    )
    return Response(
        content, media_type=_MEDIA[image_format], headers={"Cache-Control": "private, max-age=60"}
    )


@router.get("/analyses/dsmb-report.pdf")
def dsmb_report(session: DbSession, visitor: Viewer, cutoff: str | None = None) -> Response:
    """The DSMB report (PDF) at the data cut-off; each download is recorded in the audit trail."""
    key, analyses = _analysed(session, visitor.user, cutoff)
    report: DsmbReport = _reports.get_or_make(key, lambda: render_dsmb_report(analyses))
    record_dsmb_report(session, by=visitor.user, analyses=analyses, target="web", pages=report.pages)
    draft = "-DRAFT" if analyses.draft else ""
    name = f"{analyses.nct_id}-DSMB-report-{analyses.cutoff.isoformat()}{draft}.pdf"
    return Response(
        report.pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )
