"""Queue-ordering policies, one module each, registered by name in `POLICIES`.

Every module of this package is imported here, so a new policy is one new file.
"""

import importlib
import pkgutil

from gpufleet.sched.policies.base import POLICIES, Key, Policy, PolicyContext, PolicyOptions

for _module in pkgutil.iter_modules(__path__):
    if _module.name != "base":
        importlib.import_module(f"{__name__}.{_module.name}")

__all__ = ["POLICIES", "Key", "Policy", "PolicyContext", "PolicyOptions"]
