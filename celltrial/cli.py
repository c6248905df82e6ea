"""The ``celltrial`` command line.

The root app only mounts command groups: each module in :mod:`celltrial.commands` defines
``register(app)`` and adds its own commands, so a domain's CLI lives next to nothing else.
Every :class:`~celltrial.errors.CelltrialError` becomes a one-line message on stderr and
exit code 2 (3 when a service is unavailable); no user ever sees a stack trace.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import sys

import typer
from rich.console import Console

from celltrial import __version__, commands
from celltrial.errors import CelltrialError

app = typer.Typer(
    name="celltrial",
    help="Run a CAR-T cell-therapy clinical trial: protocol, eligibility, EDC, safety, product, analyses.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
stderr = Console(stderr=True, highlight=False, soft_wrap=True)


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", help="Print the version and exit."),
) -> None:
    if version:
        typer.echo(__version__)
        raise typer.Exit()


def _register_command_groups() -> None:
    for module_info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{commands.__name__}.{module_info.name}")
        module.register(app)


_register_command_groups()


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; map celltrial's errors to a one-line message and an exit code."""
    try:
        exit_code = app(args=argv, standalone_mode=False)
    except CelltrialError as error:
        stderr.print(f"error: {error}", markup=False)
        return error.exit_code
    except typer.Exit as done:
        return done.exit_code
    except typer.Abort:
        stderr.print("aborted", markup=False)
        return 1
    except Exception as error:  # click's usage errors carry their own exit code
        exit_code = getattr(error, "exit_code", None)
        show = getattr(error, "show", None)
        if isinstance(exit_code, int) and callable(show):
            show()
            return exit_code
        if os.environ.get("CELLTRIAL_DEBUG"):
            raise
        stderr.print(
            f"internal error: {type(error).__name__}: {error} (set CELLTRIAL_DEBUG=1 for details)",
            markup=False,
        )
        return 1
    return exit_code if isinstance(exit_code, int) else 0


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
