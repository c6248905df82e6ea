"""Safety: adverse events, daily CRS/ICANS assessments, SAE clocks, DLTs, stopping rule, DSMB tables."""
