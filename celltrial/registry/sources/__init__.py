"""Readers that turn each kind of registry source into :class:`~celltrial.registry.record.SourcedRecord`."""
