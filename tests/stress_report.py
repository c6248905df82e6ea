"""The stress report of issue #13: one JSON line per fault, load, fuzz or attack test.

Tests call :func:`record_stress`; it appends to the file named by ``CELLTRIAL_STRESS_REPORT``
(default ``test-artifacts/stress-report.jsonl`` under the repository). ``make test-stress`` ends
with ``python tests/stress_report.py FILE``, which prints every line as a table and the totals
per category: faults injected / survived, requests under load / errors, fuzz cases / crashes,
attack probes / successes.

Scale: ``CELLTRIAL_STRESS=1`` asks for the full counts of the issue; unset, tests run small
counts that fit in ``make test`` (see :func:`stress_mode`).
"""

from __future__ import annotations

import fcntl
import json
import os
import sys
from pathlib import Path

CATEGORIES = ("faults", "load", "fuzz", "attack")
REPOSITORY = Path(__file__).resolve().parents[1]
DEFAULT_REPORT = REPOSITORY / "test-artifacts" / "stress-report.jsonl"

# What "attempted" and "failed" mean in each category, as the totals name them.
TOTAL_WORDS = {
    "faults": ("faults injected", "survived"),
    "load": ("requests under load", "errors"),
    "fuzz": ("fuzz cases", "crashes"),
    "attack": ("attack probes", "successes"),
}


def stress_mode() -> bool:
    """True when the full counts are asked for (``CELLTRIAL_STRESS=1``)."""
    return os.environ.get("CELLTRIAL_STRESS", "") not in ("", "0")


def report_path() -> Path:
    """The JSON-lines file the figures go to."""
    return Path(os.environ.get("CELLTRIAL_STRESS_REPORT") or DEFAULT_REPORT)


def record_stress(category: str, name: str, attempted: int, failed: int, detail: str = "") -> None:
    """Append one test's figures; safe from parallel pytest workers (the line is written under a lock)."""
    if category not in CATEGORIES:
        raise ValueError(f"category must be one of {CATEGORIES}, not {category!r}")
    line = json.dumps(
        {"category": category, "name": name, "attempted": attempted, "failed": failed, "detail": detail}
    )
    path = report_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        handle.write(line + "\n")
        handle.flush()


def read_report(path: Path) -> list[dict[str, object]]:
    """The lines of a report file (blank lines ignored)."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def format_report(rows: list[dict[str, object]]) -> str:
    """The table of every line, then the totals per category."""
    header = ("category", "name", "attempted", "failed", "detail")
    cells = [header] + [tuple(str(row.get(column, "")) for column in header) for row in rows]
    widths = [max(len(cell[i]) for cell in cells) for i in range(len(header))]
    lines = [" | ".join(cell[i].ljust(widths[i]) for i in range(len(header))).rstrip() for cell in cells]
    lines.insert(1, "-+-".join("-" * width for width in widths))
    lines.append("")
    lines.append("totals")
    for category in CATEGORIES:
        mine = [row for row in rows if row.get("category") == category]
        attempted = sum(int(str(row.get("attempted", 0))) for row in mine)
        failed = sum(int(str(row.get("failed", 0))) for row in mine)
        attempted_word, failed_word = TOTAL_WORDS[category]
        if category == "faults":
            lines.append(f"  {attempted_word}: {attempted}, {failed_word}: {attempted - failed}")
        else:
            lines.append(f"  {attempted_word}: {attempted}, {failed_word}: {failed}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Print the table of ``FILE`` (default: the report path); exit 1 only when there is no file."""
    arguments = sys.argv[1:] if argv is None else argv
    path = Path(arguments[0]) if arguments else report_path()
    if not path.is_file():
        print(f"no stress report at {path}")
        return 1
    rows = read_report(path)
    print(format_report(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
