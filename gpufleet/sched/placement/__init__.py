"""Topology-aware gang placement strategies, one module each, registered by name.

Every module of this package is imported here, so a new strategy is one new file.
"""

import importlib
import pkgutil

from gpufleet.sched.placement.base import PLACEMENTS, PlacementStrategy

for _module in pkgutil.iter_modules(__path__):
    if _module.name != "base":
        importlib.import_module(f"{__name__}.{_module.name}")

from gpufleet.sched.placement.best_fit import BestFitPlacement  # noqa: E402

__all__ = ["PLACEMENTS", "BestFitPlacement", "PlacementStrategy"]
