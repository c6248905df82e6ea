"""``celltrial product``: coi, custody, label, v2v and counts over a real database, with exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pypdfium2 as pdfium
import pytest
import zxingcpp
from product_world import Lab, din

from celltrial.cli import main
from celltrial.product.custody_rules import CHAIN_ORDER, CustodyStep

S = CustodyStep


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def infused(lab: Lab, database_url: str) -> tuple[Lab, tuple[str, ...]]:
    """S01-001 infused; the options naming the database."""
    lab.advance("S01-001", S.INFUSED)
    return lab, ("--db", database_url)


def test_the_read_commands_print_json_and_text_for_the_user_named(
    infused: tuple[Lab, tuple[str, ...]], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    lab, db = infused
    code, out, err = _run(capsys, "product", "coi", "S01-001", "--user", "monitor", "--json", *db)
    assert (code, err) == (0, "")
    view = json.loads(out)
    assert view["coi_number"] == "COI-S01-001"
    assert view["collections"][0]["custody_step"] == "infused"
    assert view["collections"][0]["lot"]["bags"][0]["din"] == lab.bags_of[lab.subjects["S01-001"]][0]
    code, out, _ = _run(capsys, "product", "coi", "S01-001", "--user", "monitor", *db)
    assert code == 0
    assert out.startswith("COI-S01-001  subject S01-001")
    assert "release within specification" in out

    code, out, _ = _run(capsys, "product", "custody", "S01-001", "--user", "lab-one", "--json", *db)
    assert code == 0
    assert [event["step"] for event in json.loads(out)] == [step.value for step in CHAIN_ORDER]
    code, out, _ = _run(capsys, "product", "custody", "S01-001", "--user", "lab-one", *db)
    assert code == 0
    assert out.splitlines()[0] == "Chain of custody of subject S01-001 (12 steps)"
    assert "shipped_to_site" in out.splitlines()[8]
    assert "[-196 to -150 °C]" in out.splitlines()[8]

    code, out, _ = _run(capsys, "product", "v2v", "--json", "--user", "sponsor", *db)
    assert code == 0
    report = json.loads(out)
    assert [row["subject_number"] for row in report["subjects"]] == ["S01-001"]
    assert report["subjects"][0]["total_days"] == pytest.approx(21.05)
    assert report["summary"]["vein_to_vein"]["n"] == 1
    code, out, _ = _run(capsys, "product", "v2v", "--user", "sponsor", *db)
    assert code == 0
    assert "21.1" in out

    monkeypatch.setenv("CELLTRIAL_USER", "sponsor")
    code, out, _ = _run(capsys, "product", "counts", "--json", *db)
    assert (code, json.loads(out)["subjects_infused"]) == (0, 1)


def test_label_writes_pdfs_whose_bar_codes_read_back_the_dins(
    infused: tuple[Lab, tuple[str, ...]], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    lab, db = infused
    bag = lab.bags_of[lab.subjects["S01-001"]][0]
    out_file = tmp_path / "bag.pdf"
    code, out, err = _run(capsys, "product", "label", bag, "--out", str(out_file), "--user", "lab-one", *db)
    assert (code, err) == (0, "")
    assert f"DIN {bag} (CT-CART" in out
    document = pdfium.PdfDocument(out_file.read_bytes())
    try:
        text = str(document[0].get_textpage().get_text_range())
        image = document[0].render(scale=6).to_pil()
    finally:
        document.close()
    assert "Subject: S01-001" in text
    assert "COI: COI-S01-001" in text
    codes = {result.format: result.text for result in zxingcpp.read_barcodes(image)}
    assert codes[zxingcpp.BarcodeFormat.Code128] == f"={bag[:13]}00"
    assert json.loads(codes[zxingcpp.BarcodeFormat.QRCode])["din"] == bag

    collection = din(lab.subjects["S01-001"])
    code, out, _ = _run(
        capsys, "product", "label", collection, "--out", str(tmp_path / "aph.pdf"), "--user", "lab-one", *db
    )
    assert code == 0
    assert f"DIN {collection} (CT-APH" in out


BAD_REQUESTS = [
    (("product", "coi", "S01-001"), "--user: name the study user acting"),
    (("product", "coi", "S09-999", "--user", "monitor"), "no enrolled subject numbered 'S09-999'"),
    (("product", "coi", "S01-001", "--user", "dsmb"), "may not product.view"),
    (("product", "coi", "S01-001", "--user", "nobody"), "no user named 'nobody'"),
    (("product", "label", "G123426000101", "--out", "x.png", "--user", "lab-one"), "must end in .pdf"),
    (("product", "label", "g123426000101", "--out", "x.pdf", "--user", "lab-one"), "lowercase"),
    (("product", "label", "G123426999999", "--out", "x.pdf", "--user", "lab-one"), "no collection or bag"),
    (("product", "label", "G123426000101", "--out", "x.pdf", "--user", "monitor"), "may not product.custody"),
]


def test_bad_requests_give_a_one_line_error_and_exit_code_2(
    infused: tuple[Lab, tuple[str, ...]],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    _, db = infused
    monkeypatch.delenv("CELLTRIAL_USER", raising=False)
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)
    for argv, message in BAD_REQUESTS:
        code, out, err = _run(capsys, *argv, *db)
        assert (code, out) == (2, ""), argv
        assert message in err, (argv, err)
        assert err.count("\n") == 1, err
    assert list(work.iterdir()) == []
