"""Small text helpers shared by the source readers."""

from __future__ import annotations

from collections.abc import Iterable


def clean(value: object) -> str | None:
    """The text without surrounding blanks, or ``None`` when there is none."""
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def unique(values: Iterable[str]) -> list[str]:
    """The non-blank values in their first order, each once."""
    seen: dict[str, None] = {}
    for value in values:
        text = clean(value)
        if text is not None:
            seen.setdefault(text, None)
    return list(seen)


def split_list(value: object, separator: str = "|") -> list[str]:
    """A joined list (``a|b|c``) as its items, blanks dropped."""
    text = clean(value)
    return unique(text.split(separator)) if text else []
