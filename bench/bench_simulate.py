"""Benchmark the whole-trial simulation: how long the demo's 60 patients take, and where the time goes.

Usage::

    .venv/bin/python bench/bench_simulate.py [--patients 60] [--seed 7] [--until YYYY-MM-DD]
                                              [--db URL] [--profile N]

Simulates into a fresh SQLite file in a temporary directory (or ``--db``, which must be empty)
and prints the wall-clock and CPU seconds, the load average of the machine (wall time on a busy
machine says little; CPU seconds are what the simulation itself costs), the rows written (audit
entries, forms entered, CRS/ICANS assessments...) and the CONSORT flow. ``--profile N`` also
prints the N functions with the most cumulative time.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import tempfile
import time
from datetime import date
from pathlib import Path

from celltrial.simulate.consort import render_consort
from celltrial.simulate.trial import SimulationSummary, simulate_trial


def _run(url: str, patients: int, seed: int, until: date | None) -> SimulationSummary:
    return simulate_trial(url, patients=patients, seed=seed, until=until)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=60)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--until", type=date.fromisoformat, default=None)
    parser.add_argument("--db", default=None, help="an empty database (default: a temporary SQLite file)")
    parser.add_argument("--profile", type=int, default=0, help="print the N most expensive functions")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = options.db or f"sqlite:///{Path(folder) / 'bench.db'}"
        load_before = os.getloadavg()[0]
        wall, cpu = time.perf_counter(), time.process_time()
        profiler = cProfile.Profile() if options.profile else None
        if profiler is not None:
            profiler.enable()
        summary = _run(url, options.patients, options.seed, options.until)
        if profiler is not None:
            profiler.disable()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        load_after = os.getloadavg()[0]
    print(f"simulated {summary.patients} patients, seed {summary.seed}, {summary.start} to {summary.cut}")
    print(
        f"wall {wall:.1f} s, CPU {cpu:.1f} s (load average {load_before:.1f} before, {load_after:.1f} after)"
    )
    rate = summary.audit_entries / cpu
    print(f"audit entries {summary.audit_entries} ({rate:.0f} per CPU-s), verified {summary.audit_verified}")
    for name, count in sorted(summary.activity.items()):
        print(f"  {name}: {count}")
    for line in render_consort(summary.consort):
        print(line)
    if profiler is not None:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(options.profile)


if __name__ == "__main__":
    main()
