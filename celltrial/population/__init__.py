"""Population prescreening: eligibility rules compiled to ibis over OMOP CDM and FHIR tables.

``open_source`` opens an OMOP source (Parquet directory, zip, DuckDB file, PostgreSQL schema; DuckDB,
PostgreSQL or Spark), ``prescreen`` runs a protocol's rules over every patient and returns the
attrition funnel with the per-patient verdicts, ``flatten_fhir`` turns FHIR Bundles or NDJSON into
the same tables, ``synthesise`` writes synthetic OMOP data at scale.
"""

from celltrial.population.fhir_tables import flatten_fhir
from celltrial.population.funnel import Funnel
from celltrial.population.prescreen import PrescreenRun, prescreen
from celltrial.population.source import OmopSource, open_source
from celltrial.population.synth import synthesise

__all__ = ["Funnel", "OmopSource", "PrescreenRun", "flatten_fhir", "open_source", "prescreen", "synthesise"]
