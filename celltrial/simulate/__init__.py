"""Virtual patients and whole-trial simulation through the real services."""
