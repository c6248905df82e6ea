"""SDTMIG 3.4 metadata of the domains celltrial writes (``sdtmig.yaml``), as frozen models."""

from __future__ import annotations

import functools
from importlib import resources
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

__all__ = ["DomainSpec", "Standard", "VariableSpec", "standard"]

Core = Literal["Req", "Exp", "Perm"]


class VariableSpec(BaseModel):
    """One variable: name (≤ 8), label (≤ 40), SAS type and SDTMIG core."""

    model_config = ConfigDict(frozen=True)

    name: str = Field(max_length=8)
    label: str = Field(max_length=40)
    type: Literal["Char", "Num"]
    core: Core


class DomainSpec(BaseModel):
    """One domain: label, class, structure, keys and its variables in SDTMIG order."""

    model_config = ConfigDict(frozen=True)

    name: str
    label: str = Field(max_length=40)
    class_: str = Field(alias="class")
    structure: str
    keys: tuple[str, ...]
    variables: tuple[VariableSpec, ...]
    custom: bool = False
    comment: str = ""

    def variable(self, name: str) -> VariableSpec:
        return next(variable for variable in self.variables if variable.name == name)

    @property
    def names(self) -> list[str]:
        return [variable.name for variable in self.variables]


class Standard(BaseModel):
    model_config = ConfigDict(frozen=True)

    sdtmig_version: str
    sdtm_version: str
    domains: dict[str, DomainSpec]


@functools.cache
def standard() -> Standard:
    """The metadata shipped in ``sdtmig.yaml``."""
    text = resources.files("celltrial.reporting.sdtm").joinpath("sdtmig.yaml").read_text(encoding="utf-8")
    raw = yaml.safe_load(text)
    domains = {}
    for name, spec in raw["domains"].items():
        variables = [VariableSpec(name=v[0], label=v[1], type=v[2], core=v[3]) for v in spec.pop("variables")]
        domains[name] = DomainSpec(name=name, variables=tuple(variables), **spec)
    return Standard(sdtmig_version=raw["sdtmig_version"], sdtm_version=raw["sdtm_version"], domains=domains)
