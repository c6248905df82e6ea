"""CDISC ODM 1.3.2 and Define-XML 2.1 schemas (see NOTICE.txt), loaded once for validation."""

from __future__ import annotations

import functools
from importlib import resources

from lxml import etree

__all__ = ["define_schema", "odm_schema", "schema_errors"]


@functools.cache
def _schema(relative: str) -> etree.XMLSchema:
    path = resources.files("celltrial.reporting.schemas").joinpath(relative)
    with resources.as_file(path) as file:
        return etree.XMLSchema(etree.parse(str(file)))


def odm_schema() -> etree.XMLSchema:
    """The ODM 1.3.2 schema."""
    return _schema("odm/1.3.2/ODM1-3-2.xsd")


def define_schema() -> etree.XMLSchema:
    """The Define-XML 2.1 schema (ODM 1.3.2 with the def: extensions)."""
    return _schema("define/2.1/define2-1-0.xsd")


def schema_errors(schema: etree.XMLSchema, document: etree._ElementTree) -> list[str]:
    """Every schema violation of ``document`` as ``line N: message``; empty when it is valid."""
    if schema.validate(document):
        return []
    return [f"line {error.line}: {error.message}" for error in schema.error_log]
