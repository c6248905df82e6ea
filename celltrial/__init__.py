"""celltrial: runs a CAR-T cell-therapy clinical trial end to end."""

__version__ = "0.1.0"
