"""PDF bag labels: rendered, read back as text, and both symbols decoded from the page image.

The page is rasterised with PDFium (pypdfium2) and decoded with zxing-cpp, so what a bedside
scanner would read is checked, not just what was handed to the encoders.
"""

from __future__ import annotations

import json
from datetime import date, datetime

import pypdfium2 as pdfium
import pytest
import zxingcpp

from celltrial.clinical.isbt128 import make_din, product_description
from celltrial.errors import InvalidInput
from celltrial.product.labels import AUTOLOGOUS_WARNING, ProductLabel, qr_payload, render_label_pdf


@pytest.fixture
def final_product_label() -> ProductLabel:
    return ProductLabel(
        subject_id="NCT07008872-001-003",
        coi_id="COI-2026-0001",
        din=make_din("A9999", 14, 123456),
        product=product_description("final_product"),
        expiry=date(2026, 12, 31),
    )


def _page_text(pdf: bytes) -> str:
    document = pdfium.PdfDocument(pdf)
    try:
        return str(document[0].get_textpage().get_text_range())
    finally:
        document.close()


def _decoded(pdf: bytes) -> dict[str, str]:
    document = pdfium.PdfDocument(pdf)
    try:
        image = document[0].render(scale=6).to_pil()
    finally:
        document.close()
    names = {zxingcpp.BarcodeFormat.Code128: "Code128", zxingcpp.BarcodeFormat.QRCode: "QRCode"}
    return {
        names.get(result.format, str(result.format)): result.text for result in zxingcpp.read_barcodes(image)
    }


def test_the_label_is_a_one_page_pdf_of_100_mm_square(final_product_label: ProductLabel) -> None:
    pdf = render_label_pdf(final_product_label)
    assert pdf.startswith(b"%PDF-")
    document = pdfium.PdfDocument(pdf)
    try:
        assert len(document) == 1
        width, height = document[0].get_size()
    finally:
        document.close()
    assert width == pytest.approx(100 / 25.4 * 72, abs=0.1)
    assert height == pytest.approx(width)


def test_the_label_text_holds_every_required_statement(final_product_label: ProductLabel) -> None:
    text = _page_text(render_label_pdf(final_product_label))
    for expected in [
        AUTOLOGOUS_WARNING,
        "Subject: NCT07008872-001-003",
        "COI: COI-2026-0001",
        "A9999 14 123456",
        "N",  # keyboard check character of A999914123456 (ICCBBA example)
        "Product: CT-CART",
        "Expiry: 2026-12-31",
        "vapour phase of liquid nitrogen",
    ]:
        assert expected in text, f"{expected!r} missing from the label text"


def test_the_code_128_symbol_decodes_to_the_din_data_content(final_product_label: ProductLabel) -> None:
    decoded = _decoded(render_label_pdf(final_product_label))
    assert decoded["Code128"] == "=A99991412345600"


def test_the_qr_symbol_decodes_to_subject_coi_and_din(final_product_label: ProductLabel) -> None:
    decoded = _decoded(render_label_pdf(final_product_label))
    assert decoded["QRCode"] == qr_payload(final_product_label)
    assert json.loads(decoded["QRCode"]) == {
        "coi": "COI-2026-0001",
        "din": "A999914123456N",
        "expiry": "2026-12-31",
        "product": "CT-CART",
        "subject": "NCT07008872-001-003",
    }


def test_an_apheresis_label_with_check_flags_and_a_time_decodes_too() -> None:
    label = ProductLabel(
        subject_id="S-042",
        coi_id="COI-42",
        din=make_din("G1234", 98, 654321, flags="77"),
        product=product_description("apheresis"),
        expiry=datetime(2026, 11, 27, 14, 30),
        storage="Ship at 2-8 °C in a validated shipper",
    )
    pdf = render_label_pdf(label)
    decoded = _decoded(pdf)
    assert decoded["Code128"] == "=G12349865432177"
    assert json.loads(decoded["QRCode"])["din"] == "G123498654321H"
    text = _page_text(pdf)
    assert "Expiry: 2026-11-27 14:30" in text
    assert "Ship at 2-8" in text


def test_rendering_is_deterministic(final_product_label: ProductLabel) -> None:
    assert render_label_pdf(final_product_label) == render_label_pdf(final_product_label)


@pytest.mark.parametrize("field", ["subject_id", "coi_id"])
def test_a_label_without_subject_or_coi_is_refused(field: str) -> None:
    arguments: dict[str, object] = {
        "subject_id": "S-1",
        "coi_id": "COI-1",
        "din": make_din("A9999", 14, 123456),
        "product": product_description("final_product"),
        "expiry": date(2026, 12, 31),
    }
    with pytest.raises(InvalidInput) as raised:
        ProductLabel(**{**arguments, field: "  "})  # type: ignore[arg-type]
    assert raised.value.field == field
