"""The contract every registered queue policy x placement keeps (a new policy or placement
file is tested here as soon as it registers itself).

On one small, hand-built problem (two GPU types, two queues sharing a cohort, a priority
class, gangs of several shapes, time limits, checkpointing) every pair must:

- start a job no earlier than its submission, as a whole gang, in whole NVLink groups,
  on racks in service, with no rack ever holding more GPUs than it has;
- run each job in segments that do not overlap;
- keep every queue within nominal + borrowing limit and the cohort pool never overdrawn;
- keep no more work than a job ran, and for a job that completed exactly its duration;
- with free preemption (`preemption_cost: none`), finish every job: the fleet fits them
  all and the horizon is days past the last one. (With a cost, a policy that preempts
  often may keep little or no work, as Gavel rounds not longer than the checkpoint
  interval do; those runs are checked for safety only.)

It found that Gavel's round plan did not know the queues' quota (a job given a GPU type
beyond its queue's borrowing limit waited for ever); the plan now respects it.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

import numpy as np
import pytest

from gpufleet.sched import PLACEMENTS, POLICIES
from gpufleet.sim.simulation import Status
from gpufleet.spec.scenario import Scenario
from gpufleet.testing import scenario
from tests.conftest import run_recording

START = datetime(2026, 1, 1)
FLAVORS = ("H100", "B200")


def at(hours: float) -> str:
    return (START + timedelta(hours=hours)).isoformat()


def problem(policy: str, placement: str, cost: str) -> Scenario:
    pools = [{"name": f"p{i}", "gpu": flavor, "gpus_per_node": 4, "nodes_per_rack": 2, "racks_per_block": 3,
              "deliveries": [{"date": at(0), "racks": 2}, {"date": at(30), "racks": 1}]}
             for i, flavor in enumerate(FLAVORS)]
    queues = [{"name": "research", "tenants": ["alice"], "cohort": "lab", "nominal": {"H100": 16, "B200": 8},
               "borrowing_limit": {"H100": 8, "B200": 8},
               "preemption": {"within_cluster_queue": "LowerPriority", "reclaim_within_cohort": "Any"}},
              {"name": "product", "tenants": ["bob"], "cohort": "lab", "nominal": {"H100": 8, "B200": 16},
               "lending_limit": {"B200": 8}}]
    shapes = [(2, 1), (4, 2), (8, 4), (16, 8), (24, 8), (8, 8), (1, 1), (12, 4)]
    jobs = []
    for index in range(28):
        gpus, group = shapes[index % len(shapes)]
        job = {"name": f"j{index}", "team": ["alice", "bob"][index % 2], "gpus": gpus, "group_size": group,
               "duration_hours": 0.5 + (index * 7 % 11), "submit": at(index * 1.5 % 40),
               "within_block": index % 5 == 0}
        if index % 3 == 0:
            job["flavors"] = [FLAVORS[index % 2]]
        if index % 7 == 0:
            job["time_limit_hours"] = 4.0
        jobs.append(job)
    options = {"gavel_las": {"round_s": 3600}, "gavel_las_agnostic": {"round_s": 3600}}
    return scenario({"pools": pools}, [{"jobs": {"name": "jobs", "items": jobs}}], end="2026-01-05", seed=3,
                    scheduler={"policy": policy, "placement": placement, "backfill": "easy", "queues": queues,
                               "cohorts": [{"name": "lab"}],
                               "priority_classes": [{"name": "urgent", "value": 10, "teams": ["bob"]}],
                               "policy_options": {policy: options[policy]} if policy in options else {},
                               "preemption_cost": cost},
                    checkpointing={"interval_hours": 0.25, "restart_overhead_minutes": 2})


@pytest.mark.parametrize("cost", ["checkpoint", "none"])
@pytest.mark.parametrize("placement", PLACEMENTS.names())
@pytest.mark.parametrize("policy", POLICIES.names())
def test_every_policy_and_placement_keeps_the_contract(policy: str, placement: str, cost: str) -> None:
    spec = problem(policy, placement, cost)
    result, log, simulation = run_recording(spec)
    layout, scheduler, progress = simulation.layout, simulation.scheduler, simulation.progress
    rows = result.jobs.to_pylist()
    segments = sorted(simulation._segments, key=lambda s: (s[0], s[2]))
    end_of = {(job, start): end for job, _, start, end in segments}
    ran: dict[int, float] = defaultdict(float)
    for job, _, start, end in segments:
        ran[job] += end - start
    items = {item.name: item for item in spec.workloads[0].jobs.items}  # type: ignore[union-attr]

    # Gangs: whole, in NVLink groups, on racks in service, no rack over-full.
    per_rack: dict[int, list[tuple[float, int]]] = defaultdict(list)
    for start, job, allocation in log:
        row, item = rows[job], items[rows[job]["name"]]
        assert start >= row["submit_s"]
        assert int(allocation.gpus.sum()) == row["gpus"]
        assert all(int(gpus) % item.group_size == 0 for gpus in allocation.gpus)
        if item.within_block:
            assert len(set(layout.rack_block[allocation.racks].tolist())) == 1
        assert np.all(layout.rack_delivered_s[allocation.racks] <= start)
        end = end_of[(job, start)]
        for rack, gpus in zip(allocation.racks.tolist(), allocation.gpus.tolist(), strict=True):
            per_rack[rack] += [(start, gpus), (end, -gpus)]
    for rack, deltas in per_rack.items():
        held = np.cumsum([delta for _, delta in sorted(deltas)])
        assert held.max() <= layout.rack_gpus[rack]

    # Segments of one job never overlap; quota and the cohort pool are never overdrawn.
    quotas = scheduler.quotas
    changes: list[tuple[float, int, int, int, int]] = []
    previous_end: dict[int, float] = {}
    for job, pool, start, end in segments:
        assert start >= previous_end.get(job, -np.inf) and end >= start
        previous_end[job] = end
        queue, flavor = scheduler.queue_of[job], scheduler.flavor_of_pool[pool]
        changes += [(start, 1, queue, flavor, rows[job]["gpus"]), (end, 0, queue, flavor, -rows[job]["gpus"])]
    usage = np.zeros((quotas.n_queues, len(quotas.flavors)))
    for _, _, queue, flavor, gpus in sorted(changes):
        usage[queue, flavor] += gpus
        assert usage[queue, flavor] <= quotas.cap[queue][flavor]
        pool = quotas.pool_of[queue]
        drawn = sum(max(usage[q, flavor] - quotas.guaranteed[q][flavor], 0.0) for q in quotas.members(queue))
        assert drawn <= quotas.pool_capacity[pool][flavor]

    # Work: never more kept than run; a completed job kept exactly its duration.
    for job, row in enumerate(rows):
        assert progress.done_s[job] + progress.lost_s[job] <= ran[job] + 1e-6
        if row["status"] == Status.COMPLETED:
            assert row["productive_gpu_hours"] == pytest.approx(row["gpus"] * row["duration_s"] / 3600, rel=1e-9)
        elif row["status"] == Status.TIME_LIMIT:
            assert row["time_limit_s"] is not None
            assert row["productive_gpu_hours"] <= row["gpus"] * row["duration_s"] / 3600 + 1e-9
        elif cost == "none":
            raise AssertionError((row["name"], row["status"], row["reason"]))
