"""Data lock per subject and per study."""
