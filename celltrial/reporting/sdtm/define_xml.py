"""define.xml 2.1 describing the SDTM datasets of an export, checked against the Define-XML 2.1 schema.

One ItemGroupDef per dataset (class, structure, keys, the XPT file as ``def:leaf``) and one ItemDef
per variable (data type, length from the data, label, origin). Origins: trial design datasets come
from the protocol; identifiers, ``--SEQ`` and study days are derived; the rest is collected on CRFs
or assigned (SUPPAE's grading scale). The custom domain XK carries its description as a
``def:CommentDef``. A draft export says so in the ODM description and the study description.
"""

from __future__ import annotations

from pathlib import Path

from lxml import etree

from celltrial import __version__
from celltrial.errors import InvalidInput
from celltrial.reporting.schemas import define_schema, schema_errors
from celltrial.reporting.sdtm.common import Dataset
from celltrial.reporting.sdtm.metadata import standard
from celltrial.reporting.sdtm.xpt import ascii_text
from celltrial.reporting.trialdata import TrialData

__all__ = ["ODM_NS", "write_define"]

ODM_NS = "http://www.cdisc.org/ns/odm/v1.3"
DEF_NS = "http://www.cdisc.org/ns/def/v2.1"
XLINK_NS = "http://www.w3.org/1999/xlink"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
_DESIGN = {"TS", "TA", "TE", "TV", "TI"}
_DERIVED = {
    "USUBJID",
    "AGE",
    "EPOCH",
    "VISITNUM",
    "VISITDY",
    "RFSTDTC",
    "RFENDTC",
    "RFXSTDTC",
    "RFXENDTC",
    "RFPENDTC",
    "DTHFL",
    "ARMNRS",
    "LBNRIND",
    "LBLOBXFL",
    "VSLOBXFL",
}


def _odm(tag: str) -> str:
    return f"{{{ODM_NS}}}{tag}"


def _def(tag: str) -> str:
    return f"{{{DEF_NS}}}{tag}"


def _description(parent: etree._Element, text: str) -> None:
    description = etree.SubElement(parent, _odm("Description"))
    etree.SubElement(description, _odm("TranslatedText"), {XML_LANG: "en"}).text = text


def _origin(domain: str, name: str) -> str:
    if domain in _DESIGN:
        return "Protocol"
    if name.endswith(("SEQ", "DY")) or name in _DERIVED:
        return "Derived"
    if name in {"STUDYID", "DOMAIN", "RDOMAIN", "IDVAR", "IDVARVAL", "QNAM", "QLABEL", "QORIG", "QEVAL"}:
        return "Assigned"
    return "Collected"


def _item(mdv: etree._Element, dataset: Dataset, name: str, values: list[object]) -> None:
    variable = dataset.spec.variable(name)
    attributes = {"OID": f"IT.{dataset.domain}.{name}", "Name": name, "SASFieldName": name}
    present = [v for v in values if v is not None and v != ""]
    if variable.type == "Num":
        integral = all(float(v).is_integer() for v in present)  # type: ignore[arg-type]
        attributes["DataType"] = "integer" if integral else "float"
        digits = max((len(str(int(abs(float(v))))) for v in present), default=1)  # type: ignore[arg-type]
        attributes["Length"] = str(max(digits, 1) + (0 if integral else 8))
        if not integral:
            attributes["SignificantDigits"] = "8"
    elif name.endswith("DTC"):
        attributes["DataType"] = "datetime"
    else:
        attributes["DataType"] = "text"
        attributes["Length"] = str(max((len(ascii_text(str(v))) for v in present), default=1))
    item = etree.SubElement(mdv, _odm("ItemDef"), attributes)
    _description(item, variable.label)
    etree.SubElement(item, _def("Origin"), {"Type": _origin(dataset.domain, name)})


def build_define(data: TrialData, datasets: list[Dataset]) -> etree._ElementTree:
    """The define.xml document of ``datasets``."""
    sdtm = standard()
    draft = " DRAFT: extract of unlocked data, not for submission." if data.draft else ""
    created = data.extracted_at.strftime("%Y-%m-%dT%H:%M:%S+00:00")
    root = etree.Element(
        _odm("ODM"),
        {
            "ODMVersion": "1.3.2",
            "FileType": "Snapshot",
            "FileOID": f"DEFINE.{data.nct_id}.SDTM",
            "CreationDateTime": created,
            "Originator": "celltrial",
            "SourceSystem": "celltrial",
            "SourceSystemVersion": __version__,
            "Description": f"SDTM define.xml of {data.nct_id}.{draft}",
            _def("Context"): "Submission",
        },
        nsmap={None: ODM_NS, "def": DEF_NS, "xlink": XLINK_NS},
    )
    study = etree.SubElement(root, _odm("Study"), {"OID": f"STDY.{data.nct_id}"})
    globals_ = etree.SubElement(study, _odm("GlobalVariables"))
    etree.SubElement(globals_, _odm("StudyName")).text = data.nct_id
    etree.SubElement(globals_, _odm("StudyDescription")).text = data.record.brief_title + draft
    etree.SubElement(globals_, _odm("ProtocolName")).text = data.nct_id
    mdv = etree.SubElement(
        study,
        _odm("MetaDataVersion"),
        {
            "OID": f"MDV.{data.nct_id}.SDTMIG.{sdtm.sdtmig_version}",
            "Name": f"SDTMIG {sdtm.sdtmig_version}",
            "Description": f"SDTM datasets of {data.nct_id}",
            _def("DefineVersion"): "2.1.0",
        },
    )
    standards = etree.SubElement(mdv, _def("Standards"))
    etree.SubElement(
        standards,
        _def("Standard"),
        {
            "OID": "STD.SDTMIG",
            "Name": "SDTMIG",
            "Type": "IG",
            "Version": sdtm.sdtmig_version,
            "Status": "Final",
        },
    )
    columns = {dataset.domain: dataset.columns() for dataset in datasets}
    for dataset in datasets:
        spec = dataset.spec
        attributes = {
            "OID": f"IG.{spec.name}",
            "Name": spec.name,
            "SASDatasetName": spec.name,
            "Repeating": "No" if spec.name == "DM" else "Yes",
            "IsReferenceData": "Yes" if spec.name in _DESIGN else "No",
            "Purpose": "Tabulation",
            _def("Structure"): spec.structure,
            _def("ArchiveLocationID"): f"LF.{spec.name}",
        }
        if spec.name.startswith("SUPP"):
            attributes["Domain"] = spec.name.removeprefix("SUPP")
        else:
            attributes["Domain"] = spec.name
            attributes[_def("StandardOID")] = "STD.SDTMIG"
        if spec.custom:
            attributes[_def("CommentOID")] = f"COM.{spec.name}"
            del attributes[_def("StandardOID")]
        group = etree.SubElement(mdv, _odm("ItemGroupDef"), attributes)
        _description(group, spec.label)
        for order, variable in enumerate(spec.variables, start=1):
            ref = {
                "ItemOID": f"IT.{spec.name}.{variable.name}",
                "OrderNumber": str(order),
                "Mandatory": "Yes" if variable.core == "Req" else "No",
            }
            if variable.name in spec.keys:
                ref["KeySequence"] = str(spec.keys.index(variable.name) + 1)
            etree.SubElement(group, _odm("ItemRef"), ref)
        etree.SubElement(group, _def("Class"), {"Name": spec.class_})
        leaf = etree.SubElement(
            group, _def("leaf"), {"ID": f"LF.{spec.name}", f"{{{XLINK_NS}}}href": f"{spec.name.lower()}.xpt"}
        )
        etree.SubElement(leaf, _def("title")).text = f"{spec.name.lower()}.xpt"
    for dataset in datasets:
        for name, values in columns[dataset.domain].items():
            _item(mdv, dataset, name, values)
    for dataset in datasets:
        if dataset.spec.custom:
            comment = etree.SubElement(mdv, _def("CommentDef"), {"OID": f"COM.{dataset.domain}"})
            _description(comment, " ".join(dataset.spec.comment.split()))
    return etree.ElementTree(root)


def write_define(data: TrialData, datasets: list[Dataset], folder: Path) -> Path:
    """Write ``define.xml`` into ``folder`` after checking it against the Define-XML 2.1 schema."""
    document = build_define(data, datasets)
    problems = schema_errors(define_schema(), document)
    if problems:
        raise InvalidInput(
            f"define.xml does not match the Define-XML 2.1 schema: {problems[0]}", field="define.xml"
        )
    path = folder / "define.xml"
    document.write(str(path), xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return path
