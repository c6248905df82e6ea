"""Import CRF definitions from a CDISC ODM 1.3.2 file, so that a form designed elsewhere can be used.

The file is parsed without network access, DTD loading or entity expansion, and a file that
declares a DOCTYPE (where entities live: "billion laughs" expansion, external entities reading
local files or URLs, OWASP XXE Prevention Cheat Sheet) is refused outright, since ODM needs none.
It is then checked against the ODM 1.3.2 schema, and each FormDef of its first MetaDataVersion
becomes a celltrial data dictionary
(:func:`celltrial.reporting.odm_metadata.form_definitions_from_odm`), validated like the shipped
ones and written as ``<code>.yaml`` in the chosen folder. Nothing is written unless every form is
valid.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from lxml import etree

from celltrial.errors import InvalidInput
from celltrial.reporting.odm_metadata import form_definitions_from_odm
from celltrial.reporting.schemas import odm_schema, schema_errors
from celltrial.study.forms.dictionary import FormDefinition, parse_form_definition

__all__ = ["definition_yaml", "import_odm_forms", "read_odm_forms"]


DOCTYPE_REFUSED = "a DOCTYPE or entity declaration is not accepted in an ODM file (ODM needs none)"


def _declares_doctype(path: Path) -> bool:
    """Whether the file's text declares a DOCTYPE or an entity (read in blocks, never all at once)."""
    with path.open("rb") as handle:
        tail = b""
        while block := handle.read(1 << 16):
            text = tail + block
            if b"<!DOCTYPE" in text or b"<!ENTITY" in text:
                return True
            tail = text[-16:]
    return False


def read_odm_forms(path: Path) -> list[FormDefinition]:
    """The CRF definitions of an ODM file; errors name the file and the ODM element."""
    if not path.is_file():
        raise InvalidInput("no such file", field=str(path))
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False, dtd_validation=False
    )
    try:
        document = etree.parse(str(path), parser)
    except etree.XMLSyntaxError as error:
        if _declares_doctype(path):
            raise InvalidInput(DOCTYPE_REFUSED, field=path.name) from None
        raise InvalidInput(f"not well-formed XML: {error}", field=path.name) from None
    if document.docinfo.doctype or document.docinfo.internalDTD is not None:
        raise InvalidInput(DOCTYPE_REFUSED, field=path.name)
    problems = schema_errors(odm_schema(), document)
    if problems:
        raise InvalidInput(f"not valid ODM 1.3.2: {problems[0]}", field=path.name)
    try:
        return form_definitions_from_odm(document.getroot())
    except InvalidInput as error:
        raise InvalidInput(error.message, field=f"{path.name}: {error.field}") from None


def definition_yaml(definition: FormDefinition) -> str:
    """The data dictionary as the YAML celltrial reads (checked by reading it back)."""
    text = yaml.safe_dump(
        definition.model_dump(mode="json", exclude_defaults=True),
        sort_keys=False,
        allow_unicode=True,
        width=110,
    )
    if parse_form_definition(text, origin=f"{definition.code}.yaml") != definition:
        raise InvalidInput("the form does not survive its YAML form", field=f"{definition.code}.yaml")
    return text


def import_odm_forms(path: Path, folder: Path) -> list[Path]:
    """Write every CRF definition of the ODM file ``path`` into ``folder``; all or none."""
    definitions = read_odm_forms(path)
    if not definitions:
        raise InvalidInput("the ODM file defines no FormDef", field=path.name)
    texts = {definition.code: definition_yaml(definition) for definition in definitions}
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for code, text in texts.items():
        target = folder / f"{code}.yaml"
        target.write_text(text, encoding="utf-8")
        written.append(target)
    return written
