"""10,000 research jobs on 16 GPUs under LAS, on each engine, end to end.

Two servers of 8 H100 (one NVLink domain each) and 10,000 experiments of 1 to 8 GPUs
(lognormal run times, median 1 h) arriving over 122 days at about 85% offered load,
scheduled by Tiresias' 2D-LAS (`las`: thresholds 10 and 1,000 GPU-hours, starvation guard
2x) with greedy backfill; a preempted job restarts from its last hourly checkpoint after
10 minutes. The workload is drawn by gpufleet (seed 3), the same jobs for both engines.

Each run is `api.run` plus writing the tables (as `gpufleet run --no-report` does), in its
own process, the engines in turn; prints wall time, the run and the write, events and
preemptions (the same on both engines: the runs are bit-identical).

    python benchmarks/research_las.py [--engines python,native] [--repeat 2]
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

JOBS = 10_000
DAYS = 122
RATE_PER_DAY = 82  # 16 GPUs x 24 h x 0.85 / (2.4 GPUs x 1.65 h mean): 85% offered load (assumption)


def scenario_yaml() -> str:
    sizes = [{"gpus": gpus, "weight": weight, "duration": {"dist": "lognormal", "median_hours": 1.0, "sigma": 1.0}}
             for gpus, weight in ((1, 0.5), (2, 0.25), (4, 0.15), (8, 0.1))]
    data = {
        "name": "research-las", "start": "2026-01-01", "end": "2026-05-03", "seed": 3,
        "fleet": {"pools": [{"name": "lab", "gpu": "H100", "gpus_per_node": 8, "nodes_per_rack": 1,
                             "deliveries": [{"date": "2026-01-01", "nodes": 2,
                                             "source": "assumption: two 8-GPU servers"}]}]},
        "workloads": [{"synthetic": {"name": "experiments", "team": "lab", "group_size": 8,
                                     "arrivals": {"rate_per_day": RATE_PER_DAY}, "sizes": sizes}}],
        "scheduler": {"policy": {"name": "las", "thresholds_gpu_hours": [10, 1000], "starvation_factor": 2.0},
                      "backfill": "greedy", "estimate": "exact"},
        "checkpointing": {"interval_hours": 1.0, "restart_overhead_minutes": 10},
    }
    return yaml.safe_dump(data, sort_keys=False)


def run_case(engine: str) -> dict[str, float | str | int]:
    from gpufleet import api
    from gpufleet.sim.load import parse_scenario

    scenario = parse_scenario(scenario_yaml(), source="<benchmark>")
    began = time.perf_counter()
    result = api.run(scenario, engine=engine)
    ran = time.perf_counter() - began
    with tempfile.TemporaryDirectory() as tmp:  # end to end: the results written, as `gpufleet run` does
        result.write(Path(tmp) / "out")  # no report: as `gpufleet run --no-report`
    elapsed = time.perf_counter() - began
    jobs = result.jobs
    return {"engine": result.engine, "jobs": jobs.num_rows, "seconds": elapsed, "run_s": ran,
            "write_s": elapsed - ran, "events": result.events,
            "preemptions": int(sum(jobs.column("preemptions").to_pylist()))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", metavar="ENGINE", help="run once on ENGINE in this process (JSON out)")
    parser.add_argument("--engines", default="python,native")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    if args.case:
        print(json.dumps(run_case(args.case)))
        return
    print(f"# {platform.processor() or platform.machine()}, Python {platform.python_version()}")
    print(f"{'engine':>7} {'jobs':>7} {'wall s':>7} {'run s':>7} {'write s':>8} {'events':>8} {'preemptions':>12}")
    for _ in range(args.repeat):
        for engine in args.engines.split(","):
            done = subprocess.run([sys.executable, __file__, "--case", engine], capture_output=True, text=True,
                                  check=True)
            row = json.loads(done.stdout)
            print(f"{row['engine']:>7} {row['jobs']:>7,} {row['seconds']:>7.2f} {row['run_s']:>7.2f} "
                  f"{row['write_s']:>8.2f} {row['events']:>8,} {row['preemptions']:>12,}", flush=True)


if __name__ == "__main__":
    main()
