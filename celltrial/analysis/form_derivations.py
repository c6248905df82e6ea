"""Computed CRF fields: the derivations a form definition names (``computed: <name>``).

A field marked ``computed: <name>`` in a data dictionary is never typed: on every save the forms
service calls the derivation ``<name>`` with the form's values and the subject's other saved
forms of the codes it ``reads``, and stores what it returns. Each derivation is a pure function
of this package, citing its source:

- ``response``: the overall response and the criteria applied
  (:func:`celltrial.analysis.response_forms.derive_response_form`);
- ``lesions``: each target lesion's PPD and the SPD (Lugano 2014;
  :func:`celltrial.analysis.lesion_forms.derive_lesion_form`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from celltrial.analysis.lesion_forms import derive_lesion_form
from celltrial.analysis.response_forms import derive_response_form
from celltrial.errors import InvalidInput

__all__ = ["DERIVATIONS", "Derivation", "derivation"]

Derive = Callable[[Mapping[str, Any], Mapping[str, Sequence[Mapping[str, Any]]]], dict[str, Any]]


@dataclass(frozen=True)
class Derivation:
    """A function computing some fields of a form, and the subject's other forms it reads."""

    compute: Derive
    reads: tuple[str, ...] = ()


DERIVATIONS: dict[str, Derivation] = {
    "response": Derivation(derive_response_form, reads=("screening", "infusion", "response", "lesions")),
    "lesions": Derivation(derive_lesion_form),
}


def derivation(name: str) -> Derivation:
    """The derivation called ``name``; an unknown name is refused."""
    if name not in DERIVATIONS:
        raise InvalidInput(
            f"no derivation '{name}' (known: {', '.join(sorted(DERIVATIONS))})", field="computed"
        )
    return DERIVATIONS[name]
