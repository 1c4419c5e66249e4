"""One scheduling pass on a 500k-GPU fleet with 10,000 pending jobs across 50 queues.

Builds a fleet of 6,944 GB200 NVL72 racks (499,968 GPUs) in 50-queue cohorts and a burst
of jobs at t = 0 sized so that the fleet fills and about 10,000 jobs wait. Then, the
common case: one running job ends and a full pass runs (the queue is re-examined, the
head's reservation is kept or re-planned, what fits starts). Prints the median, p95 and
max time of such passes for each policy.

`--engines` adds the passes of the event loop itself (the burst arrives at t = 0, then the
run goes on for `--loop-hours` of simulated time, each job end followed by a pass over the
~10,000 waiting jobs), timed inside each engine around its pass: `python-loop` wraps
`Scheduler.schedule` with `time.perf_counter`, `native` asks the core to time each pass
with Rust's `Instant` (`time_passes` in the run spec). Both report the passes after the
burst (t > 0), the same passes of the same run (the engines are bit-identical).

    python benchmarks/scheduler_pass.py [--passes 200] [--policy fifo,priority,drf]
                                        [--engines python,python-loop,native]
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


def measure_loop(policy: str, engine: str, pending_target: int, hours: float) -> dict[str, float]:
    """Every pass after the burst of a run to `hours`, timed inside the engine (see the docstring)."""
    from gpufleet import _core
    from gpufleet.sim import native

    simulation = build(parse_scenario(scenario_yaml(pending_target, policy), source="<benchmark>"))
    simulation.until_s = hours * 3600.0
    if engine == "native":
        missing = native.unsupported(simulation)
        if missing is not None:
            raise SystemExit(f"{policy}: the native core does not cover {missing}")
        columns = _core.run({**native.core_spec(simulation), "time_passes": True})
        after = columns["pass_time_s"] > 0.0
        timings = (columns["pass_ns"][after] / 1e6).tolist()
        pending = int((columns["status"] == 3).sum())
    else:
        scheduler = simulation.scheduler
        schedule = scheduler.schedule
        timings = []

        def timed(now: float):  # type: ignore[no-untyped-def]
            began = time.perf_counter()
            result = schedule(now)
            if now > 0.0:
                timings.append((time.perf_counter() - began) * 1000)
            return result

        scheduler.schedule = timed  # type: ignore[method-assign]
        record = simulation.run()
        pending = int((record.status == "queued").sum())
    return {"pending": pending, "passes": len(timings), "median_ms": statistics.median(timings),
            "p95_ms": float(np.percentile(timings, 95)), "max_ms": max(timings)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passes", type=int, default=200)
    parser.add_argument("--pending", type=int, default=10_000)
    parser.add_argument("--policy", default="fifo,priority,drf")
    parser.add_argument("--engines", default="python",
                        help="python (a job ends, one pass; the figures above), python-loop, native")
    parser.add_argument("--loop-hours", type=float, default=4.0)
    args = parser.parse_args()
    print(f"# {platform.processor() or platform.machine()}, Python {platform.python_version()}; "
          f"{RACKS * 72:,} GPUs, {QUEUES} queues")
    print(f"{'policy':>9} {'engine':>12} {'pending':>8} {'passes':>7} {'median ms':>10} {'p95 ms':>8} {'max ms':>8}")
    for policy in args.policy.split(","):
        for engine in args.engines.split(","):
            if engine == "python":
                row = measure(policy, args.passes, args.pending)
                row["passes"] = args.passes
            else:
                row = measure_loop(policy, engine, args.pending, args.loop_hours)
            print(f"{policy:>9} {engine:>12} {row['pending']:>8,} {row['passes']:>7,} {row['median_ms']:>10.4f} "
                  f"{row['p95_ms']:>8.4f} {row['max_ms']:>8.4f}", flush=True)


if __name__ == "__main__":
    main()
