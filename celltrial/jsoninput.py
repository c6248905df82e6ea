"""JSON read from outside (files, uploads, request bodies): refuse nesting deep enough to exhaust a parser.

Python's ``json`` module and recursive validators spend a stack frame per level of nesting; a
document of 100,000 ``[`` ends in ``RecursionError`` rather than an answer. Every entry point that
reads JSON from outside calls :func:`refuse_deep_json` first, so such a document is refused as
bad input naming the file or field (OWASP Input Validation Cheat Sheet: bound the structure, not
only the size). Real documents are far shallower: a FHIR Bundle nests about 10 levels.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np

from celltrial.errors import InvalidInput
from celltrial.textfile import read_text

__all__ = ["MAX_JSON_DEPTH", "json_depth_exceeds", "parse_json", "read_json_file", "refuse_deep_json"]

MAX_JSON_DEPTH = 64
"""The deepest nesting of JSON arrays and objects accepted."""

_STRING = re.compile(rb'"(?:[^"\\]++|\\.)*+"', re.DOTALL)
_NOT_BRACKET = re.compile(rb"[^\[\]{}]+")


def json_depth_exceeds(document: bytes | str, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether the JSON text nests arrays/objects deeper than ``limit`` (brackets in strings ignored)."""
    body = document.encode("utf-8", "surrogatepass") if isinstance(document, str) else document
    if body.count(b"[") + body.count(b"{") <= limit:
        return False
    brackets = _NOT_BRACKET.sub(b"", _STRING.sub(b"", body))
    codes = np.frombuffer(brackets, dtype=np.uint8)
    steps = np.where((codes == ord("[")) | (codes == ord("{")), 1, -1)
    return bool(steps.size) and int(np.cumsum(steps).max()) > limit


def refuse_deep_json(document: bytes | str, *, field: str, limit: int = MAX_JSON_DEPTH) -> None:
    """Raise :class:`InvalidInput` naming ``field`` when the JSON text nests deeper than ``limit``."""
    if json_depth_exceeds(document, limit):
        raise InvalidInput(f"the JSON nests arrays or objects more than {limit} levels deep", field=field)


def parse_json(document: bytes | str, *, field: str) -> Any:
    """The parsed document; :class:`InvalidInput` naming ``field`` when it nests too deep or is not JSON."""
    refuse_deep_json(document, field=field)
    try:
        return json.loads(document)
    except json.JSONDecodeError as error:
        message = f"not JSON: {error.msg} at line {error.lineno} column {error.colno}"
        raise InvalidInput(message, field=field) from None
    except UnicodeDecodeError as error:
        raise InvalidInput(f"not JSON: not UTF-8 text ({error.reason})", field=field) from None


def read_json_file(path: Path) -> Any:
    """The parsed content of a JSON file; :class:`InvalidInput` naming the file when it is missing,
    unreadable, too deep or not JSON."""
    return parse_json(read_text(path), field=str(path))
