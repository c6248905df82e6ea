"""Exports and reports: SDTM, ODM, FHIR, CT.gov results, figures, PDF."""
