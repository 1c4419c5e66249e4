"""Every module of the package imports: a name moved between layers leaves no stale import
behind (import-linter only sees imports of modules that exist)."""

from __future__ import annotations

import importlib
import pkgutil

import gpufleet


def test_every_module_of_the_package_imports() -> None:
    failed = {}
    for module in pkgutil.walk_packages(gpufleet.__path__, "gpufleet."):
        if module.name.endswith(".__main__"):  # importing it runs the command
            continue
        try:
            importlib.import_module(module.name)
        except Exception as error:  # noqa: BLE001 - every failure is reported, by module
            failed[module.name] = repr(error)
    assert failed == {}
