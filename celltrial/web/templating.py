"""Jinja2 templates of the pages: one environment, autoescaped, with the helpers every page uses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from importlib import resources
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from celltrial.study.permissions import Action, allowed
from celltrial.study.users.models import User
from celltrial.web.deps import Visitor
from celltrial.web.problems import Problem

__all__ = ["MENU", "MenuLink", "render", "render_problem", "templates"]

templates = Jinja2Templates(directory=str(resources.files("celltrial.web") / "templates"))
templates.env.autoescape = True


def _when(value: datetime | date | None) -> str:
    """An instant as ``2025-06-01 14:05 UTC``; a date as ``2025-06-01``; an em dash for nothing."""
    if value is None:
        return "—"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M UTC")
    return value.isoformat()


def _words(value: object) -> str:
    """An enum-ish value for people: ``NOT_YET_RECRUITING`` → ``Not yet recruiting``."""
    text = str(getattr(value, "value", value) or "")
    return text.replace("_", " ").capitalize()


_PHASES = {
    "NA": "Not applicable",
    "EARLY_PHASE1": "Early phase 1",
    "PHASE1": "Phase 1",
    "PHASE2": "Phase 2",
    "PHASE3": "Phase 3",
    "PHASE4": "Phase 4",
}


def _phase(value: object) -> str:
    """A CT.gov phase as the registry shows it: ``NA`` → ``Not applicable``, ``PHASE1`` → ``Phase 1``."""
    text = str(getattr(value, "value", value) or "")
    return _PHASES.get(text, _words(text))


@dataclass(frozen=True)
class MenuLink:
    """An entry of the main menu, shown to the roles allowed the action behind it."""

    href: str
    label: str
    actions: tuple[Action, ...]


MENU: tuple[MenuLink, ...] = (
    MenuLink("/subjects", "Subjects", (Action.SUBJECT_VIEW,)),
    MenuLink("/screening", "Screening", (Action.SCREENING_CREATE, Action.SUBJECT_VIEW)),
    MenuLink("/queries", "Queries", (Action.FORM_VIEW,)),
    MenuLink("/analyses", "Analyses", (Action.EFFICACY_VIEW,)),
    MenuLink("/admin/users", "Users", (Action.USER_MANAGE,)),
    MenuLink("/locks", "Data lock", (Action.DATA_LOCK, Action.DATA_UNLOCK)),
)
"""The main menu after the dashboard, each entry shown to the roles allowed its action."""


def _menu(user: User) -> list[MenuLink]:
    return [link for link in MENU if any(allowed(user, action) for action in link.actions)]


templates.env.filters["when"] = _when
templates.env.filters["words"] = _words
templates.env.filters["phase"] = _phase
templates.env.filters["number"] = lambda value: f"{value:g}" if isinstance(value, float) else value
templates.env.globals["menu"] = _menu


def render(
    request: Request,
    name: str,
    context: dict[str, Any] | None = None,
    *,
    visitor: Visitor | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """Render the template ``name`` with the visitor (for the menu and the CSRF token)."""
    values: dict[str, Any] = {
        "visitor": visitor,
        "user": visitor.user if visitor else None,
        "idle_minutes": round(request.app.state.settings.idle_timeout.total_seconds() / 60),
    }
    values.update(context or {})
    response = templates.TemplateResponse(request, name, values, status_code=status_code)
    assert isinstance(response, HTMLResponse)
    return response


def render_problem(request: Request, problem: Problem) -> HTMLResponse:
    """An error page (or, for an htmx request, the error as a fragment to show inline)."""
    fragment = bool(request.headers.get("hx-request"))
    response = render(
        request,
        "_problem.html" if fragment else "problem.html",
        {"problem": problem},
        status_code=problem.status,
    )
    if fragment:
        response.headers["HX-Retarget"] = "#problem"
        response.headers["HX-Reswap"] = "innerHTML"
    return response
