"""One scheduling pass on a 500k-GPU fleet with 10,000 pending jobs across 50 queues.

Builds a fleet of 6,944 GB200 NVL72 racks (499,968 GPUs) in 50-queue cohorts and a burst
of jobs at t = 0 sized so that the fleet fills and about 10,000 jobs wait. Then, the
common case: one running job ends and a full pass runs (the queue is re-examined, the
head's reservation is kept or re-planned, what fits starts). Prints the median, p95 and
max time of such passes for each policy.

    python benchmarks/scheduler_pass.py [--passes 200] [--policy fifo,priority,drf]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time

import numpy as np
import yaml

from gpufleet.sim.build import build
from gpufleet.sim.load import parse_scenario

QUEUES = 50
RACKS = 6944
# (GPUs, share of the burst, group): mostly small jobs, some multi-rack ones.
MIX = [(8, 0.45, 8), (64, 0.3, 8), (256, 0.15, 8), (1024, 0.08, 64), (4096, 0.02, 64)]


def scenario_yaml(pending_target: int, policy: str, seed: int = 1) -> str:
    rng = np.random.default_rng(seed)
    capacity = RACKS * 72
    mean_gpus = sum(gpus * share for gpus, share, _ in MIX)
    count = int(capacity / mean_gpus * 1.05) + pending_target  # enough to fill, then the backlog
    sizes = rng.choice(len(MIX), size=count, p=[share for _, share, _ in MIX])
    items = [{"name": f"j{i}", "team": f"team{i % QUEUES}", "gpus": MIX[s][0], "group_size": MIX[s][2],
              "duration_hours": float(rng.lognormal(np.log(12), 1.0))} for i, s in enumerate(sizes.tolist())]
    queues = [{"name": f"q{k}", "tenants": [f"team{k}"], "cohort": "org",
               "nominal": {"GB200": capacity // QUEUES}, "preemption": {"reclaim_within_cohort": "Never"}}
              for k in range(QUEUES)]
    data = {
        "name": "pass-benchmark", "start": "2026-01-01", "end": "2026-03-01", "seed": seed,
        "fleet": {"pools": [{"name": "gb200", "gpu": "GB200", "racks_per_block": 320,
                             "deliveries": [{"date": "2026-01-01", "racks": RACKS}]}]},
        "workloads": [{"jobs": {"name": "burst", "items": items}}],
        "scheduler": {"policy": policy, "backfill": "easy", "queues": queues, "cohorts": [{"name": "org"}]},
    }
    return yaml.safe_dump(data, sort_keys=False)


def measure(policy: str, passes: int, pending_target: int) -> dict[str, float]:
    scenario = parse_scenario(scenario_yaml(pending_target, policy), source="<benchmark>")
    simulation = build(scenario)
    simulation.until_s = 1.0
    simulation.run()  # the burst arrives; the first passes fill the fleet
    scheduler = simulation.scheduler
    rng = np.random.default_rng(0)
    timings = []
    now = 2.0
    for _ in range(passes):
        running = list(scheduler.allocations)
        job = running[int(rng.integers(len(running)))]
        scheduler.end(job, now)
        began = time.perf_counter()
        scheduler.schedule(now)
        timings.append((time.perf_counter() - began) * 1000)
        now += 1.0
    return {"pending": scheduler.n_pending, "running": len(scheduler.allocations),
            "median_ms": statistics.median(timings), "p95_ms": float(np.percentile(timings, 95)),
            "max_ms": max(timings)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passes", type=int, default=200)
    parser.add_argument("--pending", type=int, default=10_000)
    parser.add_argument("--policy", default="fifo,priority,drf")
    args = parser.parse_args()
    print(f"# {platform.processor() or platform.machine()}, Python {platform.python_version()}; "
          f"{RACKS * 72:,} GPUs, {QUEUES} queues")
    print(f"{'policy':>9} {'pending':>8} {'running':>8} {'median ms':>10} {'p95 ms':>8} {'max ms':>8}")
    for policy in args.policy.split(","):
        row = measure(policy, args.passes, args.pending)
        print(f"{policy:>9} {row['pending']:>8,} {row['running']:>8,} {row['median_ms']:>10.2f} "
              f"{row['p95_ms']:>8.2f} {row['max_ms']:>8.2f}", flush=True)


if __name__ == "__main__":
    main()
