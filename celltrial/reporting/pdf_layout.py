"""Reportlab building blocks of celltrial's PDF reports: fonts, paragraph styles, tables.

Text is set in DejaVu Sans (shipped with matplotlib) so that ≥, µ and – print.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import matplotlib
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Flowable, Paragraph, Table, TableStyle

__all__ = ["BOLD", "FONT", "WIDTH", "escape", "register_fonts", "styles", "table"]

FONT, BOLD = "DejaVuSans", "DejaVuSans-Bold"
WIDTH = A4[0] - 36 * mm
"""The text width of an A4 page."""


def register_fonts() -> None:
    """Register DejaVu Sans with reportlab (once)."""
    if FONT in pdfmetrics.getRegisteredFontNames():
        return
    folder = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    pdfmetrics.registerFont(TTFont(FONT, str(folder / "DejaVuSans.ttf")))
    pdfmetrics.registerFont(TTFont(BOLD, str(folder / "DejaVuSans-Bold.ttf")))


def styles() -> dict[str, ParagraphStyle]:
    """The paragraph styles by name: body, small, title, subtitle, h1, h2, cell, term, draft."""
    body = ParagraphStyle("body", fontName=FONT, fontSize=9, leading=12, spaceAfter=4)
    return {
        "body": body,
        "small": ParagraphStyle("small", parent=body, fontSize=7.5, leading=9.5),
        "title": ParagraphStyle(
            "title", parent=body, fontName=BOLD, fontSize=20, leading=25, alignment=TA_CENTER, spaceAfter=10
        ),
        "subtitle": ParagraphStyle("subtitle", parent=body, fontSize=12, leading=16, alignment=TA_CENTER),
        "h1": ParagraphStyle("h1", parent=body, fontName=BOLD, fontSize=14, leading=18, spaceBefore=4),
        "h2": ParagraphStyle("h2", parent=body, fontName=BOLD, fontSize=10.5, leading=14, spaceBefore=8),
        "cell": ParagraphStyle("cell", parent=body, fontSize=7.5, leading=9, spaceAfter=0),
        "term": ParagraphStyle("term", parent=body, fontSize=7.5, leading=9, spaceAfter=0, leftIndent=4 * mm),
        "draft": ParagraphStyle(
            "draft", parent=body, fontName=BOLD, fontSize=12, textColor=colors.red, alignment=TA_CENTER
        ),
    }


def escape(text: object) -> str:
    """Text made safe for a reportlab Paragraph."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def table(
    rows: Sequence[Sequence[object]], widths: Sequence[float] | None = None, *, bold_rows: Iterable[int] = ()
) -> Table:
    """A table with a header row; cells are text (wrapped) or numbers (right-aligned)."""
    named = styles()
    cells = [
        [c if isinstance(c, Flowable) else Paragraph(escape(c), named["cell"]) for c in row] for row in rows
    ]
    built = Table(cells, colWidths=list(widths) if widths else None, repeatRows=1, hAlign="LEFT")
    commands: list[tuple[Any, ...]] = [
        ("FONTNAME", (0, 0), (-1, -1), FONT),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e3e8ee")),
        ("LINEBELOW", (0, 0), (-1, 0), 0.6, colors.black),
        ("LINEBELOW", (0, -1), (-1, -1), 0.6, colors.black),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 1.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
    ]
    commands += [("BACKGROUND", (0, row), (-1, row), colors.HexColor("#f4f6f8")) for row in bold_rows]
    built.setStyle(TableStyle(commands))
    return built
