"""The cell product: chain of identity and custody, release testing, labels."""
