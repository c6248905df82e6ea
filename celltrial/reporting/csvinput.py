"""Reading analysis input from CSV files, with errors that name the row and column.

Rows are numbered as a spreadsheet shows them: the header is row 1, the first data row is row 2.
Every problem raises :class:`~celltrial.errors.InvalidInput` whose ``field`` is
``"<file>: row N, column 'name'"`` so a statistician can go straight to the cell.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from celltrial.errors import InvalidInput

__all__ = ["CsvTable", "read_csv_table"]

_TRUE = frozenset({"1", "true", "yes", "y", "t"})
_FALSE = frozenset({"0", "false", "no", "n", "f"})


@dataclass(frozen=True)
class CsvTable:
    """The columns asked for, as parallel lists, and the file row number of each entry."""

    path: Path
    rows: tuple[int, ...]
    columns: dict[str, list[str]]

    def where(self, index: int, column: str) -> str:
        """The ``field`` text naming one cell."""
        return f"{self.path.name}: row {self.rows[index]}, column '{column}'"

    def numbers(
        self, column: str, *, non_negative: bool = False, blq_token: str | None = None
    ) -> list[float]:
        """A column as finite numbers; ``blq_token`` (e.g. ``BLQ``) reads as 0."""
        values: list[float] = []
        for index, text in enumerate(self.columns[column]):
            cell = text.strip()
            if blq_token is not None and cell.casefold() == blq_token.casefold():
                values.append(0.0)
                continue
            if not cell:
                raise InvalidInput("the cell is empty; a number is required", field=self.where(index, column))
            try:
                value = float(cell)
            except ValueError:
                raise InvalidInput(f"{cell!r} is not a number", field=self.where(index, column)) from None
            if not math.isfinite(value):
                raise InvalidInput(f"{cell!r} is not a finite number", field=self.where(index, column))
            if non_negative and value < 0:
                raise InvalidInput(f"{cell} is negative; it must be ≥ 0", field=self.where(index, column))
            values.append(value)
        return values

    def flags(self, column: str) -> list[bool]:
        """A column of yes/no flags: 1/0, true/false, yes/no (any case)."""
        values: list[bool] = []
        for index, text in enumerate(self.columns[column]):
            cell = text.strip().casefold()
            if cell in _TRUE:
                values.append(True)
            elif cell in _FALSE:
                values.append(False)
            else:
                raise InvalidInput(
                    f"{text.strip()!r} is not a flag; use 1/0, true/false or yes/no",
                    field=self.where(index, column),
                )
        return values

    def labels(self, column: str) -> list[str]:
        """A column of non-empty labels (subject ids, group names)."""
        for index, text in enumerate(self.columns[column]):
            if not text.strip():
                raise InvalidInput("the cell is empty; a label is required", field=self.where(index, column))
        return [text.strip() for text in self.columns[column]]


def read_csv_table(path: Path, columns: Sequence[str]) -> CsvTable:
    """Read ``columns`` from a CSV file with a header row; other columns are ignored."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            header = reader.fieldnames or []
            missing = [name for name in columns if name not in header]
            if missing:
                available = ", ".join(repr(name) for name in header) or "none"
                raise InvalidInput(
                    f"missing column {', '.join(repr(n) for n in missing)} (the header has {available})",
                    field=f"{path.name}: row 1",
                )
            rows: list[int] = []
            cells: dict[str, list[str]] = {name: [] for name in columns}
            for record in reader:
                row = reader.line_num
                if all(not (value or "").strip() for value in record.values() if isinstance(value, str)):
                    continue
                for name in columns:
                    value = record.get(name)
                    if value is None:
                        raise InvalidInput(
                            "the row is shorter than the header", field=f"{path.name}: row {row}"
                        )
                    cells[name].append(value)
                rows.append(row)
    except OSError as error:
        raise InvalidInput(f"cannot read the file: {error.strerror or error}", field=str(path)) from None
    except UnicodeDecodeError:
        raise InvalidInput("the file is not UTF-8 text", field=str(path)) from None
    except csv.Error as error:
        raise InvalidInput(f"not a readable CSV file: {error}", field=str(path)) from None
    if not rows:
        raise InvalidInput("the file has a header but no data rows", field=path.name)
    return CsvTable(path=path, rows=tuple(rows), columns=cells)
