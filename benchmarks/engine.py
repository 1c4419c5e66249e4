"""Engine throughput: jobs/s, events/s and peak memory for growing fleets and job counts.

Each case runs in its own process (so peak memory is the case's own) on a fleet of
GB200 NVL72 racks under FIFO + EASY backfill with best-fit placement. The job mix is
the default scenario's experiments and research runs (1 to 4,096 GPUs, lognormal run
times); the arrival rate is set for an offered load of 85% of the fleet, and the horizon
for the wanted number of jobs.

    python benchmarks/engine.py                 # the standard grid (takes minutes)
    python benchmarks/engine.py --case 100000 10000
    python benchmarks/engine.py --grid 1000000x500000 --engines python,native --repeat 2

With several engines, each case runs once per engine in turn (python, native, python,
native, ...) in the same session, so both see the same machine load.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import subprocess
import sys
import time
from datetime import datetime, timedelta

GRID = [(10_000, 10_000), (100_000, 10_000), (100_000, 100_000), (1_000_000, 100_000), (1_000_000, 500_000)]
LOAD = 0.85
# (GPUs, share of jobs, median hours, sigma, NVLink group): experiments and research runs.
MIX = [(1, 0.20, 0.5, 1.2, 1), (8, 0.35, 1.5, 1.2, 8), (64, 0.25, 4.0, 1.0, 8), (256, 0.12, 8.0, 1.0, 8),
       (1024, 0.06, 12.0, 0.8, 64), (4096, 0.02, 24.0, 0.8, 64)]


def scenario_yaml(jobs: int, gpus: int) -> str:
    """A scenario with `gpus` GB200 GPUs and about `jobs` jobs at 85% offered load."""
    import yaml

    racks = gpus // 72
    mean_gpu_hours = sum(share * size * median * math.exp(sigma**2 / 2) for size, share, median, sigma, _ in MIX)
    per_day = LOAD * racks * 72 * 24 / mean_gpu_hours
    days = jobs / per_day
    start = datetime(2026, 1, 1)
    end = start + timedelta(days=days)
    data = {
        "name": f"bench-{jobs}-{gpus}",
        "start": start.isoformat(),
        "end": end.isoformat(),
        "seed": 1,
        "fleet": {"pools": [{"name": "gb200", "gpu": "GB200", "racks_per_block": 320,
                             "deliveries": [{"date": start.isoformat(), "racks": racks}]}]},
        "workloads": [{"synthetic": {
            "name": "mix", "arrivals": {"rate_per_day": per_day}, "time_limit_hours": 168,
            "sizes": [{"gpus": size, "weight": share, "group_size": group,
                       "duration": {"dist": "lognormal", "median_hours": median, "sigma": sigma}}
                      for size, share, median, sigma, group in MIX],
        }}],
        "scheduler": {"policy": "fifo", "backfill": True, "placement": "best_fit"},
    }
    return yaml.safe_dump(data, sort_keys=False)


def peak_rss_mib() -> float:
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_case(jobs: int, gpus: int, engine: str = "python") -> dict[str, float]:
    import tempfile
    from pathlib import Path

    from gpufleet import api
    from gpufleet.sim.load import parse_scenario

    scenario = parse_scenario(scenario_yaml(jobs, gpus), source="<benchmark>")
    began = time.perf_counter()
    result = api.run(scenario, engine=engine)
    ran = time.perf_counter() - began
    with tempfile.TemporaryDirectory() as tmp:  # end to end: the results written, as `gpufleet run` does
        api.write(result, Path(tmp) / "out", report=False)
    elapsed = time.perf_counter() - began
    count = result.jobs.num_rows
    return {"engine": result.engine, "run_s": ran, "write_s": elapsed - ran,
            "jobs": count, "gpus": gpus, "seconds": elapsed, "jobs_per_s": count / elapsed,
            "events": result.events, "events_per_s": result.events / elapsed,
            "utilisation": result.summary["capacity"]["utilisation"],
            "mean_wait_h": result.summary["jobs"]["wait"]["mean_h"] or 0.0, "peak_rss_mib": peak_rss_mib()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", nargs=2, type=int, metavar=("JOBS", "GPUS"), help="run one case in this process")
    parser.add_argument("--engine", default="python", help="with --case: auto, native or python")
    parser.add_argument("--engines", default="python,native", help="engines to run each case on, in turn")
    parser.add_argument("--grid", help="cases as JOBSxGPUS,... (default: the standard grid)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per case and engine, alternating")
    args = parser.parse_args()
    if args.case:
        print(json.dumps(run_case(*args.case, engine=args.engine)))
        return
    grid = [tuple(int(n) for n in case.split("x")) for case in args.grid.split(",")] if args.grid else GRID
    engines = [name.strip() for name in args.engines.split(",") if name.strip()]
    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, Python "
          f"{platform.python_version()}, {platform.system()} {platform.release()}")
    print(f"{'engine':>7} {'jobs':>10} {'GPUs':>8} {'wall s':>8} {'run s':>7} {'write s':>8} {'jobs/s':>9} "
          f"{'events/s':>10} {'util':>6} {'wait h':>7} {'peak MiB':>9}")
    for jobs, gpus in grid:
        for _ in range(args.repeat):
            for engine in engines:
                done = subprocess.run([sys.executable, __file__, "--case", str(jobs), str(gpus), "--engine", engine],
                                      capture_output=True, text=True, check=True)
                row = json.loads(done.stdout.strip().splitlines()[-1])
                print(f"{row['engine']:>7} {row['jobs']:>10,} {row['gpus']:>8,} {row['seconds']:>8.1f} "
                      f"{row['run_s']:>7.1f} {row['write_s']:>8.1f} {row['jobs_per_s']:>9,.0f} "
                      f"{row['events_per_s']:>10,.0f} {row['utilisation']:>6.1%} {row['mean_wait_h']:>7.2f} "
                      f"{row['peak_rss_mib']:>9,.0f}", flush=True)


if __name__ == "__main__":
    main()
