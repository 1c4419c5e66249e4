"""One service on its own: autoscaler, replicas and the interval model over a horizon.

The fleet here is a pool of one GPU type that places every replica at once, up to an
optional cap (`max_placed`); the fleet simulation replaces that with real placement
and preemption but drives the same pieces in the same order:

    at each decision time t_k (every autoscaler_interval_seconds from the service start):
        qps      = mean demand rate over [t_(k-1), t_k)   (the warm start uses interval 0)
        target   = autoscaler.decide(qps)
        plan     = replicas.reconcile(target, t_k); place pending replicas; stop plan.stop
        record   ready replicas at t_k -> slots of interval k
    interval_metrics(demand, slots)

A replica placed at t is ready at t + warmup; it adds capacity from the first interval
starting at or after that (intervals are the decision intervals).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np

from gpufleet.serving.autoscaler import Autoscaler, ReplicaSet
from gpufleet.serving.demand import Demand, DemandIntervals, build_demand, grid
from gpufleet.serving.queueing import IntervalMetrics, interval_metrics
from gpufleet.serving.throughput import effective_slots, slots_per_replica
from gpufleet.spec.serving import ServiceSpec


@dataclass(frozen=True, slots=True)
class ServiceRun:
    """Per-interval results of one service.

    Attributes:
        flavor: the GPU type its replicas ran on.
        gpus_per_replica: GPUs of one replica.
        slots_per_replica: requests one replica serves at once (decoding only; with prefill
            the slots of each interval are in `metrics.slots`).
        demand: the demand per interval.
        metrics: the interval model's results.
        target_replicas: the autoscaler's target after each decision.
        ready_replicas: replicas serving during each interval.
        placed_replicas: replicas holding GPUs (warming up or ready) during each interval.
        pending_replicas: replicas asked for but not placed.
    """

    flavor: str
    gpus_per_replica: int
    slots_per_replica: int
    demand: DemandIntervals
    metrics: IntervalMetrics
    target_replicas: np.ndarray
    ready_replicas: np.ndarray
    placed_replicas: np.ndarray
    pending_replicas: np.ndarray

    @property
    def held_gpus(self) -> np.ndarray:
        """GPUs held by the service in each interval (warming replicas included)."""
        return self.placed_replicas * self.gpus_per_replica


def run_service(service: ServiceSpec, origin: datetime, end: datetime, *, flavor: str | None = None,
                demand: Demand | None = None, max_placed: int | None = None) -> ServiceRun:
    """Run `service` from its start (default `origin`) to its end (default `end`).

    Args:
        service: the service spec.
        origin: the scenario start (simulated second 0).
        end: the scenario end.
        flavor: the GPU type to run on; default the service's first flavor.
        demand: a prepared demand (default: built from the spec, reading any trace).
        max_placed: most replicas the fleet can hold at once; the rest stay pending.
    """
    flavor = flavor or service.flavors[0]
    slots = slots_per_replica(service, flavor)
    demand = demand or build_demand(service, origin, end)
    start_s = ((service.start or origin) - origin).total_seconds()
    end_s = ((service.end or end) - origin).total_seconds()
    interval = service.autoscaler_interval_seconds
    edges = grid(start_s, end_s, interval)
    intervals = demand.intervals(edges)
    n = len(intervals)
    rate = intervals.requests_per_s.tolist()
    autoscaler = Autoscaler.from_spec(service.replica_policy, interval)
    replicas = ReplicaSet(warmup_s=service.replica.warmup_minutes * 60.0)
    target: list[int] = []
    ready: list[int] = []
    placed: list[int] = []
    pending: list[int] = []
    cap = max_placed if max_placed is not None else 1 << 62
    times = edges[:-1].tolist()
    if service.warm_start:
        replicas.preload(min(autoscaler.start(rate[0]), cap), times[0], flavor)
    decide = autoscaler.decide
    for k in range(n):
        now = times[k]
        goal = decide(rate[k - 1]) if k else autoscaler.target
        if goal != len(replicas):
            replicas.reconcile(goal, now)
        while replicas.pending and replicas.placed < cap:
            replicas.place(now, flavor)
        target.append(goal)
        ready.append(replicas.promote(now) if replicas.starting else len(replicas.ready))
        placed.append(len(replicas.starting) + len(replicas.ready))
        pending.append(len(replicas.pending))
    ready_a = np.array(ready, dtype=np.int64)
    per_replica = effective_slots(service, flavor, intervals.output_tokens_per_request,
                                  intervals.input_tokens_per_request) if service.replica.prefill else slots
    metrics = interval_metrics(intervals, ready_a * per_replica,
                               tokens_per_s_per_request=service.slo.output_tokens_per_s_per_request,
                               wait_target_s=service.slo.wait_seconds, abandon_after_s=service.abandon_after_seconds)
    return ServiceRun(flavor=flavor, gpus_per_replica=service.replica.gpus, slots_per_replica=slots,
                      demand=intervals, metrics=metrics, target_replicas=np.array(target, dtype=np.int64),
                      ready_replicas=ready_a, placed_replicas=np.array(placed, dtype=np.int64),
                      pending_replicas=np.array(pending, dtype=np.int64))
