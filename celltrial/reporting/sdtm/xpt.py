"""SAS transport (XPT) version 5 files of SDTM datasets, written and read with pyreadstat.

Character variables are ASCII (the FDA's requirement for XPT v5): the few symbols the trial's
texts use (≤, ≥, ×, µ, dashes, quotes) are spelled out, anything else becomes ``?``. Missing
character values are blank, missing numbers are SAS missing (``.``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pyreadstat

from celltrial.reporting.sdtm.common import Dataset

__all__ = ["ascii_text", "read_xpt", "write_xpt"]

_SPELLED = str.maketrans(
    {
        "≤": "<=",
        "≥": ">=",
        "×": "x",
        "µ": "u",
        "μ": "u",
        "–": "-",
        "—": "-",
        "’": "'",
        "‘": "'",
        "“": '"',
        "”": '"',
        "²": "2",
        "³": "3",
        "°": " deg ",
        "\u00a0": " ",
    }
)


def ascii_text(value: str) -> str:
    """``value`` in ASCII: known symbols spelled out, others replaced by ``?``."""
    return value.translate(_SPELLED).encode("ascii", "replace").decode("ascii")


def frame(dataset: Dataset) -> pd.DataFrame:
    """The dataset as a DataFrame with SAS types: float64 for Num, ASCII text for Char."""
    columns: dict[str, Any] = {}
    for variable, values in zip(dataset.spec.variables, dataset.columns().values(), strict=True):
        if variable.type == "Num":
            columns[variable.name] = pd.Series(
                [None if v is None else float(v) for v in values], dtype="float64"
            )
        else:
            columns[variable.name] = pd.Series(
                ["" if v is None else ascii_text(str(v)) for v in values], dtype=object
            )
    return pd.DataFrame(columns)


def write_xpt(dataset: Dataset, folder: Path) -> Path:
    """Write ``<domain>.xpt`` (lower case) into ``folder`` and return its path."""
    path = folder / f"{dataset.domain.lower()}.xpt"
    pyreadstat.write_xport(
        frame(dataset),
        str(path),
        file_label=dataset.spec.label,
        column_labels=[variable.label for variable in dataset.spec.variables],
        table_name=dataset.domain,
        file_format_version=5,
    )
    return path


def read_xpt(path: Path) -> tuple[pd.DataFrame, Any]:
    """A dataset and its metadata (labels, types, widths) read back from an XPT file."""
    return pyreadstat.read_xport(str(path))
