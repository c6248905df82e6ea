"""Text files named by a user (CLI arguments, scenario and protocol files): read with one set of messages.

A missing file says ``no such file``; a directory, a file without permission or one that is not
UTF-8 says ``cannot be read`` with the reason; both name the file as given.
"""

from __future__ import annotations

from pathlib import Path

from celltrial.errors import InvalidInput

__all__ = ["read_text"]


def read_text(path: Path) -> str:
    """The file's UTF-8 text; :class:`InvalidInput` naming the file when it cannot be read."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InvalidInput("no such file", field=str(path)) from None
    except (OSError, UnicodeDecodeError) as error:
        raise InvalidInput(f"cannot be read: {error}", field=str(path)) from None
