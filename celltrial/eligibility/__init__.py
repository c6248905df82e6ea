"""Eligibility criteria as computable rules: facts in, per-criterion verdicts with evidence out."""
