"""Types of the compiled native engine core (crates/gpufleet-core, built by maturin)."""

from collections.abc import Callable
from typing import Any

import numpy as np

def run(spec: dict[str, Any], progress: Callable[[float, int, int], None] | None = None
        ) -> dict[str, np.ndarray[Any, Any]]:
    """A whole run of the built scenario `spec` (gpufleet.sim.native.core_spec): its columns.

    With failures, `spec["failure_draws"]` (gpufleet.sim.native_failures.FailureDraws) is
    called back, with the GIL, for the failure processes' draws; an exception there stops the
    run and is raised here.
    With `spec["time_passes"] = True` the columns add `pass_time_s` and `pass_ns`: the
    simulated time and wall nanoseconds of every scheduling pass (benchmarks/scheduler_pass.py)."""
