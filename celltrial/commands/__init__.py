"""Command groups of the ``celltrial`` CLI, one module per domain.

Each module defines ``register(app: typer.Typer) -> None``; :mod:`celltrial.cli` mounts every
module found here. Commands parse, call a service or calculator, and render: no rule lives here.
"""
