"""Documents and mutators of the security tests: a valid ODM file, and Hypothesis strategies that
break a valid document a little (so the fuzzing reaches past the first check).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from hypothesis import strategies as st
from lxml import etree

from celltrial.reporting.odm_metadata import ODM_NS, add_metadata, odm
from celltrial.study.forms.dictionary import form_definitions


def valid_odm(*, forms: tuple[str, ...] = ("vital_signs",), study_name: str = "NCT07008872") -> str:
    """A schema-valid ODM 1.3.2 file with shipped CRFs (no XML declaration)."""
    root = etree.Element(
        odm("ODM"),
        {
            "FileType": "Snapshot",
            "FileOID": "F",
            "ODMVersion": "1.3.2",
            "CreationDateTime": "2026-01-01T00:00:00+00:00",
        },
        nsmap={None: ODM_NS},
    )
    study = etree.SubElement(root, odm("Study"), {"OID": "S"})
    names = etree.SubElement(study, odm("GlobalVariables"))
    for tag in ("StudyName", "StudyDescription", "ProtocolName"):
        etree.SubElement(names, odm(tag)).text = study_name
    definitions = [form_definitions()[code] for code in forms]
    add_metadata(study, oid="MDV.1", definitions=definitions, schedule=None)
    return etree.tostring(root, encoding="unicode")


# --- JSON ---------------------------------------------------------------------------------------

ODD_STRINGS = [
    "", " ", "0", "-1", "NaN", "Infinity", "1e309", "2025-02-30", "0000-00-00", "9999-12-31T25:61:00Z",
    "2025-07-01T08:00:00+25:00", "mg/dL", "10^9/L", "[IU]/mL", "%", "kg/m2/s/", "g/L/L", "\u0000",
    "'; DROP TABLE subject; --", "<script>alert(1)</script>", "../../etc/passwd", "x" * 2_000, "é" * 50,
    "Bundle", "Observation", "Condition", "Patient", "positive", "negative", "met", "true",
]  # fmt: skip
leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(ODD_STRINGS),
)
json_values = st.recursive(
    leaves,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _paths(value, (*prefix, index))


def _at(node: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        node = node[part]
    return node


@st.composite
def mutated_json(draw: st.DrawFn, base: Any, *, max_changes: int = 3) -> Any:
    """``base`` with 1 to ``max_changes`` values replaced, deleted, wrapped or their key renamed."""
    document = copy.deepcopy(base)
    keys = sorted({path[-1] for path in _paths(base) if path and isinstance(path[-1], str)})
    for _ in range(draw(st.integers(min_value=1, max_value=max_changes))):
        path = draw(st.sampled_from(list(_paths(document))))
        change = draw(st.sampled_from(["replace", "replace", "delete", "wrap", "rename", "odd"]))
        if not path:
            document = draw(json_values) if change == "replace" else document
            continue
        parent, key = _at(document, path[:-1]), path[-1]
        if change == "replace":
            parent[key] = draw(json_values)
        elif change == "odd":
            parent[key] = draw(st.sampled_from(ODD_STRINGS))
        elif change == "delete":
            del parent[key]
        elif change == "wrap":
            parent[key] = draw(st.sampled_from([[parent[key]], {"value": parent[key]}]))
        elif isinstance(parent, dict) and keys:
            parent[draw(st.sampled_from(keys))] = parent.pop(key)
    return document


# --- text ---------------------------------------------------------------------------------------

_ATTRIBUTE = re.compile(r'(?<=[\s])([A-Za-z:]+)="([^"]*)"')
_TEXT = re.compile(r">([^<]+)<")


@st.composite
def mutated_text(draw: st.DrawFn, base: str, *, max_changes: int = 3) -> str:
    """``base`` with 1 to ``max_changes`` slices deleted, duplicated or replaced by random text."""
    text = base
    for _ in range(draw(st.integers(min_value=1, max_value=max_changes))):
        start = draw(st.integers(min_value=0, max_value=len(text)))
        end = draw(st.integers(min_value=start, max_value=min(len(text), start + 80)))
        change = draw(st.sampled_from(["delete", "duplicate", "insert"]))
        if change == "delete":
            text = text[:start] + text[end:]
        elif change == "duplicate":
            text = text[:end] + text[start:end] + text[end:]
        else:
            filler = draw(st.text(max_size=12) | st.sampled_from(ODD_STRINGS))
            text = text[:start] + filler + text[end:]
    return text


@st.composite
def mutated_xml(draw: st.DrawFn, base: str, *, max_changes: int = 3) -> str:
    """``base`` (well-formed XML) with attribute values or element texts changed, still well-formed."""
    text = base
    for _ in range(draw(st.integers(min_value=1, max_value=max_changes))):
        attributes = list(_ATTRIBUTE.finditer(text))
        texts = list(_TEXT.finditer(text))
        value = draw(st.text(max_size=20) | st.sampled_from(ODD_STRINGS))
        value = "".join(ch for ch in value if ch in "\t\n\r" or ord(ch) >= 0x20)
        value = "".join(
            ch for ch in value if not 0xD800 <= ord(ch) <= 0xDFFF and ord(ch) not in (0xFFFE, 0xFFFF)
        )
        if draw(st.booleans()) or not texts:
            found = draw(st.sampled_from(attributes))
            text = text[: found.start()] + f"{found.group(1)}={quoteattr(value)}" + text[found.end() :]
        else:
            found = draw(st.sampled_from(texts))
            text = text[: found.start()] + f">{escape(value)}<" + text[found.end() :]
    return text
