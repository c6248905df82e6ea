"""Bag labels from the chain of identity: the PDF of the collection or final bag that carries a DIN."""

from __future__ import annotations

from sqlalchemy.orm import Session

from celltrial.clinical.isbt128 import DonationIdentificationNumber, product_description
from celltrial.errors import NotFound
from celltrial.product import inputs
from celltrial.product.labels import ProductLabel, render_label_pdf
from celltrial.product.models import ApheresisCollection, ProductBag
from celltrial.product.views import bag_or_collection
from celltrial.study.permissions import Action, require
from celltrial.study.subjects.models import Subject
from celltrial.study.users.models import User

__all__ = ["APHERESIS", "label_for_din", "label_pdf_for_din"]

APHERESIS = "apheresis"
"""The product description key of an apheresis collection bag."""


def label_for_din(session: Session, *, by: User, din: str) -> ProductLabel:
    """What the label of the collection or bag carrying ``din`` states."""
    require(by, Action.PRODUCT_CUSTODY)
    number = inputs.din(din, "din")
    found = bag_or_collection(session, number.din13)
    if found is None:
        raise NotFound(f"no collection or bag carries the DIN {number.keyboard_entry}", field="din")
    chain = found.lot.collection if isinstance(found, ProductBag) else found
    assert isinstance(chain, ApheresisCollection)
    subject = session.get_one(Subject, chain.coi.subject_id)
    require(by, Action.PRODUCT_CUSTODY, site_id=subject.site_id, what="din")
    key = found.product_key if isinstance(found, ProductBag) else APHERESIS
    return ProductLabel(
        subject_id=subject.subject_number or subject.screening_number,
        coi_id=chain.coi.coi_number,
        din=DonationIdentificationNumber(number.facility, number.year, number.sequence, found.din_flags),
        product=product_description(key),
        expiry=found.expires_at,
    )


def label_pdf_for_din(session: Session, *, by: User, din: str) -> bytes:
    """The 100 x 100 mm PDF label of the collection or bag carrying ``din``."""
    return render_label_pdf(label_for_din(session, by=by, din=din))
