"""Virtual patients and the whole trial simulated through the services.

- :mod:`.scenario`: the scenario file, each number with its source (``data/default_scenario.yaml``);
- :mod:`.patients`, :mod:`.screening_facts`, :mod:`.outcomes`: pure, seeded generators of
  referred patients, their screening facts and their course;
- :func:`simulate_trial`: the trial in calendar time through the real services, to a data cut;
- :mod:`.design`: the design's operating characteristics from outcomes only (no database);
- :mod:`.demo_users`: one demo account per role with a known password.
"""

from celltrial.simulate.trial import SimulationSummary, simulate_trial

__all__ = ["SimulationSummary", "simulate_trial"]
