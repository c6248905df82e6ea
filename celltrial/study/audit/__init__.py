"""The append-only, hash-chained audit trail (21 CFR 11.10(e), ICH E6(R3))."""
