"""Informed consent: ICF versions, consent by subject or guardian with assent, re-consent, withdrawal."""
