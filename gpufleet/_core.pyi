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

def autoscale(policy: tuple[int, int, float | None, int, int], rates: np.ndarray[Any, Any], warm: bool
              ) -> np.ndarray[Any, Any]:
    """The autoscaler's goal at each decision of a service (int64), from `policy` (min_replicas,
    max_replicas, target_qps_per_replica, upscale_periods, downscale_periods) and the
    requests/s of each interval; `warm`: decision 0 starts from interval 0's demand
    (gpufleet.sim.native_serving.core_goals)."""

def gang_victims(view: dict[str, Any], gpus: int, group: int, allowed: list[int] | None = None
                 ) -> list[int] | None:
    """The running jobs whose preemption frees room for a replica of `gpus` GPUs in groups of
    `group`, on a snapshot of the Python scheduler (gpufleet.sim.native_serving.victims_view);
    `allowed`: the jobs it may preempt (None: any). None when they cannot."""
