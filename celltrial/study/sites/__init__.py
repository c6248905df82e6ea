"""Trial sites: the hospitals that screen, enrol and follow subjects."""
