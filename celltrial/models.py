"""Imports every domain's ORM classes so that ``Base.metadata`` knows every table.

Every module named ``models`` under the ``celltrial`` package (``celltrial/study/models.py``,
``celltrial/registry/models.py``, ...) is imported; Alembic's environment, the app and the
test fixtures import this module once.
"""

from __future__ import annotations

import importlib
import pkgutil

import celltrial


def import_all_models() -> list[str]:
    """Import every ``*.models`` module of celltrial; return their names."""
    names = [
        info.name
        for info in pkgutil.walk_packages(celltrial.__path__, prefix="celltrial.")
        if info.name.rsplit(".", 1)[-1] == "models" and info.name != __name__
    ]
    for name in names:
        importlib.import_module(name)
    return names


MODEL_MODULES = import_all_models()
