"""Electronic signatures bound to the content they sign (21 CFR 11.50, 11.70, 11.200)."""
