"""Population prescreening: eligibility rules compiled to ibis over OMOP CDM and FHIR tables."""
