"""The way into the native core for inference services (`gpufleet.sim.serving`): what each
service's autoscaler is told, as plain numbers.

The first pieces the core runs are the autoscaler (`crates/gpufleet-core/src/serving/autoscaler.rs`):
its goal at each decision depends only on the demand per interval, known before the run
(`DemandIntervals`), so it takes the rates as an array; and the choice of the training jobs
a replica preempts (`serving/victims.rs`, `sched.preemption.gang_victims`), which
`core_gang_victims` runs on a snapshot of the Python scheduler (for the differential tests).
Services still run on the Python engine (`native.unsupported` names them) until the core
places their replicas.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from gpufleet.fleet.state import ACTIVE
from gpufleet.sched.core import SchedulerView
from gpufleet.serving.autoscaler import Autoscaler
from gpufleet.sim.serving import Service

AutoscalerPolicy = tuple[int, int, float | None, int, int]
"""(min_replicas, max_replicas, target_qps_per_replica, upscale_periods, downscale_periods)."""


def autoscaler_policy(autoscaler: Autoscaler) -> AutoscalerPolicy:
    """A fresh autoscaler's settings as the core reads them (the periods already in decisions)."""
    return (autoscaler.min_replicas, autoscaler.max_replicas, autoscaler.target_qps_per_replica,
            autoscaler.upscale_periods, autoscaler.downscale_periods)


def core_goals(service: Service) -> np.ndarray:
    """The native core's autoscaler goal at each decision of `service` (built, not yet run):
    what `ServingFleet._on_decision` computes as `goal`, decision by decision."""
    from gpufleet import _core

    return _core.autoscale(autoscaler_policy(service.autoscaler), np.asarray(service.rates, dtype=np.float64),
                           service.spec.warm_start)


def victims_view(scheduler: SchedulerView, pool: int, group: int) -> dict[str, Any]:
    """What a victim search in `pool` for groups of `group` reads, as plain numbers: the
    delivered racks, which are in service, the free room, and the running jobs."""
    state, layout = scheduler.state, scheduler.layout
    return {
        "range": (layout.pools[pool].rack_lo, min(layout.pools[pool].rack_hi, state.delivered_hi[pool])),
        "usable": ((state.rack_state == ACTIVE) & ~state.rack_down).tolist(),
        "groups_free": int(state.groups_free(pool, group)),
        "avail": np.asarray(state.avail, dtype=np.int64).tolist(),
        "cheapest_first": [(int(priority), int(gpus), float(started), int(job))
                           for priority, gpus, started, job in scheduler.cheapest_first[pool]],
        "running": [(int(job), int(scheduler.priority[job]), int(scheduler.job_gpus[job]),
                     float(scheduler.started_at[job]), allocation.racks.tolist(), allocation.gpus.tolist())
                    for job, allocation in scheduler.allocations.items()],
    }


def core_gang_victims(scheduler: SchedulerView, pool: int, gpus: int, group: int,
                      may_preempt: Callable[[int], bool] | None = None) -> list[int] | None:
    """`sched.preemption.gang_victims` computed by the native core on the scheduler as it stands."""
    from gpufleet import _core

    allowed = None if may_preempt is None else [job for job in scheduler.allocations if may_preempt(job)]
    return _core.gang_victims(victims_view(scheduler, pool, group), gpus, group, allowed)
