"""The way into the native core for inference services (`gpufleet.sim.serving`): what each
service's autoscaler is told, as plain numbers.

The first piece the core runs is the autoscaler (`crates/gpufleet-core/src/serving/autoscaler.rs`):
its goal at each decision depends only on the demand per interval, known before the run
(`DemandIntervals`), so it takes the rates as an array. Services still run on the Python
engine (`native.unsupported` names them) until the core places their replicas.
"""

from __future__ import annotations

import numpy as np

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
