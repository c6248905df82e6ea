"""The trial landscape: registry import, search, trial pages, related trials by similarity."""
