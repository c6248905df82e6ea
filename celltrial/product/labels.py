"""PDF bag labels for the apheresis collection and the final CAR-T product.

One label per page, 100 mm × 100 mm (the ISBT 128 base-label size). It carries, readable by eye:
"For autologous use only", the subject ID, the chain-of-identity (COI) id, the DIN with its
flag digits rotated 90° and its keyboard check character in a box (ISBT 128 ST-001 eye-readable
convention), the product code and description, the expiry and the storage conditions; and two
symbols:

* Code 128 (reportlab's own encoder) of the DIN's bar-code data content ``=`` + 13 characters +
  flags, as ISBT 128 Data Structure 001 defines it;
* a QR code (segno) of :func:`qr_payload`: the same facts as compact JSON, so a bedside scanner
  can match subject, COI and DIN in one read.

Rendering is deterministic (reportlab's invariant mode): the same label gives the same bytes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from io import BytesIO

import segno
from reportlab.graphics.barcode.code128 import Code128
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from celltrial.clinical.isbt128 import DonationIdentificationNumber, ProductDescription
from celltrial.errors import InvalidInput

__all__ = ["AUTOLOGOUS_WARNING", "LABEL_SIZE_MM", "ProductLabel", "qr_payload", "render_label_pdf"]

AUTOLOGOUS_WARNING = "FOR AUTOLOGOUS USE ONLY"
LABEL_SIZE_MM = 100.0
_MARGIN = 5 * mm


@dataclass(frozen=True)
class ProductLabel:
    """What one bag's label states."""

    subject_id: str
    coi_id: str
    din: DonationIdentificationNumber
    product: ProductDescription
    expiry: date | datetime
    storage: str | None = None  # None: the product description's storage conditions

    def __post_init__(self) -> None:
        for field in ("subject_id", "coi_id"):
            value = getattr(self, field)
            if not isinstance(value, str) or not value.strip():
                raise InvalidInput("must be a non-empty text for the label", field=field)
        if not isinstance(self.expiry, date):
            raise InvalidInput(f"must be a date or date-time, got {self.expiry!r}", field="expiry")

    @property
    def storage_text(self) -> str:
        return self.storage if self.storage is not None else self.product.storage

    @property
    def expiry_text(self) -> str:
        if isinstance(self.expiry, datetime):
            return self.expiry.strftime("%Y-%m-%d %H:%M")
        return self.expiry.isoformat()


def qr_payload(label: ProductLabel) -> str:
    """The 2D symbol's content: compact JSON with sorted keys."""
    return json.dumps(
        {
            "coi": label.coi_id,
            "din": label.din.keyboard_entry,
            "expiry": label.expiry_text,
            "product": label.product.code,
            "subject": label.subject_id,
        },
        separators=(",", ":"),
        sort_keys=True,
    )


def _draw_din(canvas: Canvas, din: DonationIdentificationNumber, x: float, y: float) -> None:
    size = 14
    canvas.setFont("Helvetica-Bold", size)
    main = f"{din.facility} {din.year} {din.sequence}"
    canvas.drawString(x, y, main)
    x_after = x + canvas.stringWidth(main, "Helvetica-Bold", size) + 2 * mm
    canvas.saveState()  # flag digits rotated 90° clockwise
    canvas.translate(x_after, y + canvas.stringWidth(din.flags, "Helvetica", 8))
    canvas.rotate(-90)
    canvas.setFont("Helvetica", 8)
    canvas.drawString(0, 0, din.flags)
    canvas.restoreState()
    box_x = x_after + 6 * mm
    canvas.setFont("Helvetica-Bold", size)
    width = canvas.stringWidth(din.check_character, "Helvetica-Bold", size)
    canvas.rect(box_x - 1.2 * mm, y - 1.2 * mm, width + 2.4 * mm, size * 0.75 + 2.4 * mm)
    canvas.drawString(box_x, y, din.check_character)


def _draw_qr(canvas: Canvas, payload: str, x: float, y: float, side: float) -> None:
    symbol = segno.make_qr(payload, error="m")
    matrix = [list(row) for row in symbol.matrix]
    modules = len(matrix) + 8  # four-module quiet zone each side
    cell = side / modules
    canvas.setFillColorRGB(1, 1, 1)
    canvas.rect(x, y, side, side, stroke=0, fill=1)
    canvas.setFillColorRGB(0, 0, 0)
    for row_index, row in enumerate(matrix):
        for column_index, dark in enumerate(row):
            if dark:
                canvas.rect(
                    x + (column_index + 4) * cell,
                    y + side - (row_index + 5) * cell,
                    cell,
                    cell,
                    stroke=0,
                    fill=1,
                )


def _wrapped(canvas: Canvas, text: str, font: str, size: float, width: float) -> list[str]:
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}".strip()
        if current and canvas.stringWidth(candidate, font, size) > width:
            lines.append(current)
            current = word
        else:
            current = candidate
    return [*lines, current] if current else lines


def render_label_pdf(label: ProductLabel) -> bytes:
    """One 100 × 100 mm PDF page for the bag; deterministic bytes."""
    buffer = BytesIO()
    side = LABEL_SIZE_MM * mm
    canvas = Canvas(buffer, pagesize=(side, side), invariant=True, pageCompression=0)
    canvas.setTitle(f"Label {label.din.keyboard_entry} {label.subject_id}")
    top = side - _MARGIN

    barcode = Code128(label.din.data_content, barHeight=10 * mm, barWidth=0.25 * mm, quiet=True)
    barcode.drawOn(canvas, _MARGIN - barcode.lquiet + 1 * mm, top - 10 * mm)
    _draw_din(canvas, label.din, _MARGIN, top - 16 * mm)

    canvas.setFont("Helvetica-Bold", 11)
    canvas.drawString(_MARGIN, top - 24 * mm, AUTOLOGOUS_WARNING)
    canvas.setFont("Helvetica", 9)
    text_lines = [
        f"Subject: {label.subject_id}",
        f"COI: {label.coi_id}",
        f"Product: {label.product.code}",
        f"Expiry: {label.expiry_text}",
    ]
    y = top - 30 * mm
    for line in text_lines:
        canvas.drawString(_MARGIN, y, line)
        y -= 4.5 * mm
    text_width = side - 2 * _MARGIN
    canvas.setFont("Helvetica", 8)
    for line in _wrapped(canvas, label.product.description, "Helvetica", 8, 55 * mm):
        canvas.drawString(_MARGIN, y, line)
        y -= 3.6 * mm
    y = min(y, _MARGIN + 12 * mm)
    canvas.setFont("Helvetica-Bold", 8)
    canvas.drawString(_MARGIN, y, "Storage:")
    canvas.setFont("Helvetica", 8)
    for line in _wrapped(canvas, label.storage_text, "Helvetica", 8, text_width):
        y -= 3.6 * mm
        canvas.drawString(_MARGIN, y, line)

    qr_side = 34 * mm
    _draw_qr(canvas, qr_payload(label), side - _MARGIN - qr_side, top - 62 * mm, qr_side)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
