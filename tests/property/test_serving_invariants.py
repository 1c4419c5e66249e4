"""Invariants of services sharing a fleet with training (hypothesis), on random small
fleets, workloads, demand curves, sharing modes and failures:

- serving and training never hold the same GPU: on every node, at every instant, GPUs
  held by jobs plus GPUs held by replicas plus GPUs in repair never exceed the node's;
- output tokens served never exceed the demand so far nor the ready capacity;
- serving GPU-hours in the service's accounts equal those in the fleet's time series.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from datetime import datetime, timedelta

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from gpufleet.errors import InputError
from gpufleet.sim.serving import ServingFleet
from gpufleet.testing import scenario
from tests.conftest import run_recording

START = datetime(2026, 1, 1)


def at(hours: float) -> str:
    return (START + timedelta(hours=hours)).isoformat()


@st.composite
def shared_runs(draw: st.DrawFn):  # noqa: ANN201
    nodes_per_rack = draw(st.integers(2, 4))
    fleet = {"pools": [{"name": "p", "gpu": "GB200", "gpus_per_node": 4, "nodes_per_rack": nodes_per_rack,
                        "racks_per_block": 2, "deliveries": [{"date": at(0), "racks": draw(st.integers(2, 5))}]}]}
    rack = 4 * nodes_per_rack
    jobs = []
    for index in range(draw(st.integers(1, 8))):
        group = draw(st.sampled_from([4, 8]))
        jobs.append({"name": f"j{index}", "gpus": group * draw(st.integers(1, 3)), "group_size": group,
                     "duration_hours": draw(st.floats(0.5, 12, allow_nan=False)),
                     "submit": at(draw(st.integers(0, 10))), "team": draw(st.sampled_from(["a", "b"]))})
    replica = draw(st.sampled_from([g for g in (4, 8, 16) if g <= rack]))
    sharing = draw(st.sampled_from(["preempt", "quota"]))
    service = {
        "name": "s", "flavors": ["GB200"],
        "replica": {"gpus": replica, "warmup_minutes": draw(st.sampled_from([0, 10]))},
        "start": at(draw(st.integers(0, 4))), "end": at(draw(st.integers(8, 20))),
        "replica_policy": {"min_replicas": draw(st.integers(0, 1)), "max_replicas": draw(st.integers(2, 6)),
                           "target_qps_per_replica": draw(st.sampled_from([2.0, 10.0]))},
        "autoscaler_interval_seconds": draw(st.sampled_from([300, 900])),
        "demand": {"requests_per_s": draw(st.floats(1, 40)), "output_tokens_per_request": 200,
                   "hour_of_day": [draw(st.sampled_from([0.2, 1.0, 3.0])) for _ in range(24)]},
        "warm_start": draw(st.booleans()),
    }
    scheduler = {"policy": "fifo", "backfill": True}
    if sharing == "quota":
        total = 4 * nodes_per_rack * 5
        service["sharing"] = {"mode": "quota", "queue": "serve"}
        scheduler["queues"] = [
            {"name": "train", "cohort": "c", "nominal": {"GB200": total // 2}, "tenants": ["*"]},
            {"name": "serve", "cohort": "c", "nominal": {"GB200": total // 2}, "tenants": ["b"],
             "preemption": {"reclaim_within_cohort": draw(st.sampled_from(["Any", "Never"])),
                            "within_cluster_queue": draw(st.sampled_from(["LowerPriority", "Never"]))}}]
    failures = None
    if draw(st.booleans()):
        failures = {"processes": [{"name": "n", "component": draw(st.sampled_from(["gpu", "node", "rack"])),
                                   "mttf_hours": 20.0, "repair": {"dist": "fixed", "hours": 1.0}}]}
    return fleet, jobs, service, scheduler, failures, draw(st.integers(0, 5))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(shared_runs())
def test_serving_and_training_never_share_a_gpu(problem) -> None:  # noqa: ANN001
    fleet, jobs, service, scheduler, failures, seed = problem
    try:
        spec = scenario(fleet, [{"jobs": {"name": "jobs", "items": jobs}}], end="2026-01-02", seed=seed,
                        scheduler=scheduler, services=[service], failures=failures,
                        checkpointing={"interval_hours": 1})
    except InputError:
        assume(False)
        return
    held: list[tuple[float, object, int]] = []  # (time, allocation, +1 taken / -1 given back)
    take, release = ServingFleet._take, ServingFleet._release

    def taking(self, svc, placement, flavor, now):  # noqa: ANN001, ANN202
        take(self, svc, placement, flavor, now)
        allocation = list(svc.allocations.values())[-1]
        held.append((now, replace(allocation, nodes=allocation.nodes.copy()), 1))

    def releasing(self, svc, replica_id, now):  # noqa: ANN001, ANN202
        allocation = svc.allocations[replica_id]
        held.append((now, replace(allocation, nodes=allocation.nodes.copy()), -1))
        release(self, svc, replica_id, now)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ServingFleet, "_take", taking)
        patch.setattr(ServingFleet, "_release", releasing)
        result, log, simulation = run_recording(spec)
    per_node: dict[int, list[tuple[float, int]]] = defaultdict(list)
    for start, job, allocation in log:
        end = next(e for j, _, s, e in simulation._segments if j == job and s == start and e >= s)
        for node, gpus in zip(allocation.nodes.tolist(), allocation.node_gpus.tolist(), strict=True):
            per_node[node] += [(start, gpus), (end, -gpus)]
    for when, allocation, sign in held:
        for node, gpus in zip(allocation.nodes.tolist(), allocation.node_gpus.tolist(), strict=True):
            per_node[node].append((when, sign * gpus))
    if simulation.outages is not None:
        for failure in simulation.outages.log:
            repaired = failure.repaired_s if not np.isnan(failure.repaired_s) else np.inf
            for node, gpus in failure.nodes:
                per_node[node] += [(failure.time_s, gpus), (repaired, -gpus)]
    for node, changes in per_node.items():
        level = np.cumsum([delta for _, delta in sorted(changes, key=lambda c: (c[0], c[1]))])
        assert level.max() <= simulation.layout.node_gpus[node], node

    if result.serving is None:
        return
    table = result.serving.intervals
    duration = table["end_s"].to_numpy() - table["start_s"].to_numpy()
    served = table["served_output_tokens"].to_numpy()
    capacity = table["capacity_tokens_per_s"].to_numpy() * duration
    demanded = table["demand_rps"].to_numpy() * table["output_tokens_per_request"].to_numpy() * duration
    assert np.all(served <= capacity * (1 + 1e-9) + 1e-6)
    assert np.all(np.cumsum(served) <= np.cumsum(demanded) * (1 + 1e-9) + 1e-6)
    series = result.timeseries
    fleet_serving_h = float(np.sum(series["serving_gpus"].to_numpy() * series["interval_s"].to_numpy()) / 3600)
    assert result.summary["serving"]["serving_gpu_hours"] == pytest.approx(fleet_serving_h, rel=1e-9, abs=1e-9)
