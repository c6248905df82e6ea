"""The adverse-event CRF carries what the safety issue asks of an AE: the MedDRA code, the CTCAE
version of the grade and the adverse events of special interest of CD7 CAR-T therapy."""

from __future__ import annotations

from celltrial.analysis.safety_events import Aesi
from celltrial.study.forms.dictionary import form_definition


def test_the_ae_form_offers_every_aesi_the_safety_records_know() -> None:
    form = form_definition("adverse_events")
    assert set(form.field("aesi").choice_codes()) == {item.value for item in Aesi}
    assert form.field("aesi").type == "multi_choice"


def test_the_ae_form_records_the_meddra_code_and_the_ctcae_version() -> None:
    form = form_definition("adverse_events")
    assert form.field("meddra_code").max_length == 8
    assert "5.0" in form.field("ctcae_version").choice_codes()
