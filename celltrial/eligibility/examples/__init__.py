"""Sample screening forms shipped with celltrial: one eligible patient, one ineligible.

``celltrial screen <example_path("eligible")>`` screens the first; the demo uses them.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Literal

__all__ = ["EXAMPLES", "example_path"]

EXAMPLES = ("eligible", "ineligible")


def example_path(name: Literal["eligible", "ineligible"]) -> Path:
    """The file path of a shipped sample screening form."""
    if name not in EXAMPLES:
        raise ValueError(f"no example {name!r}; known: {', '.join(EXAMPLES)}")
    return Path(str(resources.files("celltrial.eligibility.examples") / f"{name}.json"))
