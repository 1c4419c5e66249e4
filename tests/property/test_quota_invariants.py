"""Quota invariants on random queues, cohorts, limits, policies and preemption (hypothesis):

- a queue never uses more than nominal + borrowing_limit of a flavor;
- the cohort pool is never overdrawn: the usage above guaranteed quota of all members
  fits what they lend;
- so a lender always has nominal - lending_limit of its own quota available to itself;
- no job starts before it is submitted, no rack holds more GPUs than it has, and the
  work a job keeps plus what it lost never exceeds what it ran.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

import numpy as np
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from gpufleet.errors import InputError
from gpufleet.testing import scenario
from tests.conftest import run_recording

START = datetime(2026, 1, 1)
FLAVORS = ("H100", "B200")


def at(hours: float) -> str:
    return (START + timedelta(hours=hours)).isoformat()


@st.composite
def queued_runs(draw: st.DrawFn):  # noqa: ANN201
    pools = [{"name": f"p{i}", "gpu": flavor, "gpus_per_node": 4, "nodes_per_rack": 2,
              "deliveries": [{"date": at(0), "racks": draw(st.integers(1, 3))}]}
             for i, flavor in enumerate(FLAVORS)]
    queues = []
    for index in range(draw(st.integers(1, 3))):
        queue = {"name": f"q{index}", "tenants": [f"t{index}"], "cohort": draw(st.sampled_from([None, "c"])),
                 "nominal": {flavor: draw(st.integers(0, 24)) for flavor in FLAVORS},
                 "queueing_strategy": draw(st.sampled_from(["StrictFIFO", "BestEffortFIFO"])),
                 "preemption": {"within_cluster_queue": draw(st.sampled_from(["Never", "LowerPriority"])),
                                "reclaim_within_cohort": draw(st.sampled_from(["Never", "LowerPriority", "Any"])),
                                "borrow_within_cohort": draw(st.sampled_from(["Never", "LowerPriority"]))}}
        if draw(st.booleans()):
            queue["borrowing_limit"] = {flavor: draw(st.integers(0, 16)) for flavor in FLAVORS}
        if draw(st.booleans()):
            queue["lending_limit"] = {flavor: draw(st.integers(0, 16)) for flavor in FLAVORS}
        queues.append(queue)
    scheduler = {"policy": draw(st.sampled_from(["fifo", "priority", "drf", "las", "srtf", "sjf"])),
                 "backfill": draw(st.sampled_from(["easy", "greedy", "none"])),
                 "queues": queues, "cohorts": [{"name": "c"}],
                 "priority_classes": [{"name": "hi", "value": 10, "teams": ["t0"]}],
                 }
    checkpointing = {"interval_hours": draw(st.sampled_from([0.25, 1.0])),
                     "restart_overhead_minutes": draw(st.sampled_from([0, 10]))}
    jobs = []
    for index in range(draw(st.integers(1, 12))):
        group = draw(st.sampled_from([1, 2, 4]))
        jobs.append({"name": f"j{index}", "team": f"t{draw(st.integers(0, len(queues) - 1))}",
                     "gpus": group * draw(st.integers(1, 4)), "group_size": group,
                     "duration_hours": draw(st.floats(0.5, 12, allow_nan=False)),
                     "submit": at(draw(st.integers(0, 24))),
                     "flavors": draw(st.sampled_from([None, ["H100"], ["B200"]]))})
    for item in jobs:
        if item["flavors"] is None:
            del item["flavors"]
    return {"pools": pools}, jobs, scheduler, checkpointing


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(queued_runs())
def test_quota_invariants_hold(problem) -> None:  # noqa: ANN001
    fleet, jobs, scheduler, checkpointing = problem
    try:
        spec = scenario(fleet, [{"jobs": {"name": "jobs", "items": jobs}}], end="2026-01-04", scheduler=scheduler,
                        checkpointing=checkpointing)
    except InputError:
        assume(False)
        return
    result, log, simulation = run_recording(spec)
    quotas = simulation.scheduler.quotas
    rows = result.jobs.to_pylist()
    segments = simulation._segments
    changes: list[tuple[float, int, int, int, int]] = []  # (time, order, queue, flavor, gpus)
    per_rack: dict[int, list[tuple[float, int]]] = defaultdict(list)
    for job, pool, start, end in segments:
        queue = simulation.scheduler.queue_of[job]
        flavor = simulation.scheduler.flavor_of_pool[pool]
        gpus = rows[job]["gpus"]
        changes += [(start, 1, queue, flavor, gpus), (end, 0, queue, flavor, -gpus)]
        assert start >= rows[job]["submit_s"]
    for start, job, allocation in log:
        end = next(e for j, _, s, e in segments if j == job and s == start)
        for rack, gpus in zip(allocation.racks.tolist(), allocation.gpus.tolist(), strict=True):
            per_rack[rack] += [(start, gpus), (end, -gpus)]
    for rack, deltas in per_rack.items():
        held = np.cumsum([d for _, d in sorted(deltas, key=lambda c: (c[0], c[1]))])
        assert held.max() <= simulation.layout.rack_gpus[rack]
    usage = np.zeros((quotas.n_queues, len(quotas.flavors)))
    for _, _, queue, flavor, gpus in sorted(changes):
        usage[queue, flavor] += gpus
        for q in range(quotas.n_queues):
            for f in range(len(quotas.flavors)):
                assert usage[q, f] <= quotas.cap[q][f] + 1e-9
        for pool in range(len(quotas.pool_names)):
            members = [q for q in range(quotas.n_queues) if quotas.pool_of[q] == pool]
            for f in range(len(quotas.flavors)):
                drawn = sum(max(usage[q, f] - quotas.guaranteed[q][f], 0) for q in members)
                assert drawn <= quotas.pool_capacity[pool][f] + 1e-9
                for q in members:  # q can always admit up to its guaranteed quota, whatever others use
                    headroom = quotas.guaranteed[q][f] - usage[q, f]
                    if headroom > 0:
                        assert usage[q, f] + headroom <= quotas.cap[q][f] + 1e-9
                        others = sum(max(usage[o, f] - quotas.guaranteed[o][f], 0) for o in members if o != q)
                        assert others <= quotas.pool_capacity[pool][f] + 1e-9
    progress = simulation.progress
    for job in range(len(rows)):
        ran = sum(e - s for j, _, s, e in segments if j == job)
        assert progress.done_s[job] + progress.lost_s[job] <= ran + 1e-6
