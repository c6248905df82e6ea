"""A record's eligibility text as sections and nested numbered items, for reading.

CT.gov stores eligibility criteria as markdown-like text: "Inclusion Criteria:" and "Exclusion
Criteria:" headings, numbered or bulleted items, nested by indentation (``1.`` then ``   1.``
then ``      i)``). This keeps the record's own markers and nesting, and undoes the registry's
markdown escapes (``\\>`` is ``>``). Nothing is interpreted: this is layout, not eligibility logic.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, Field

_HEADING = re.compile(
    r"^\s*(?:key\s+|main\s+|general\s+)?(inclusion|exclusion)(?:\s+criteria)?\s*:?\s*$", re.IGNORECASE
)
_ITEM = re.compile(
    r"^(?P<indent>\s*)(?P<marker>\d{1,3}[.)]|[a-zA-Z][.)]|[ivxIVX]{1,5}[.)]|[*•-])\s+(?P<text>\S.*)$"
)
_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!<>~|])")


class CriterionItem(BaseModel):
    """One numbered or bulleted item with its sub-items."""

    marker: str
    text: str
    children: list[CriterionItem] = Field(default_factory=list)


class CriteriaSection(BaseModel):
    """Inclusion or exclusion criteria (or untitled text): lead-in paragraphs, then items."""

    heading: str | None
    preamble: list[str] = Field(default_factory=list)
    items: list[CriterionItem] = Field(default_factory=list)


def unescape(text: str) -> str:
    """The registry's markdown escapes undone: ``proportion\\>5%`` -> ``proportion>5%``."""
    return _ESCAPE.sub(r"\1", text)


def parse_eligibility(text: str) -> list[CriteriaSection]:
    """Sections of the eligibility text, items nested as the record indents them."""
    sections: list[CriteriaSection] = []
    current: CriteriaSection | None = None
    stack: list[tuple[int, CriterionItem]] = []
    blank_before = False
    for raw in text.replace("\r\n", "\n").split("\n"):
        line = unescape(raw.rstrip())
        if not line.strip():
            blank_before = True
            continue
        heading = _HEADING.match(line)
        if heading:
            current = CriteriaSection(heading=f"{heading[1].capitalize()} Criteria")
            sections.append(current)
            stack = []
            blank_before = False
            continue
        if current is None:
            current = CriteriaSection(heading=None)
            sections.append(current)
        item = _ITEM.match(line)
        if item:
            indent = len(item["indent"].expandtabs(4))
            node = CriterionItem(marker=item["marker"], text=item["text"].strip())
            while stack and stack[-1][0] >= indent:
                stack.pop()
            (stack[-1][1].children if stack else current.items).append(node)
            stack.append((indent, node))
        elif stack:
            node = stack[-1][1]
            node.text = f"{node.text}\n\n{line.strip()}" if blank_before else f"{node.text} {line.strip()}"
        elif current.preamble and not blank_before:
            current.preamble[-1] = f"{current.preamble[-1]} {line.strip()}"
        else:
            current.preamble.append(line.strip())
        blank_before = False
    return sections
