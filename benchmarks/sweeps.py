"""Sweeps and their executors: overhead against running the same points by hand,
throughput with 1 and 2 local workers and with Ray (2 local CPUs), and a 50-point x
5-seed sweep of a month of the default scenario (250 runs).

Each case uses a fresh run store (nothing is skipped). Prints wall times and runs per
second; records go to docs/performance.md.

    python benchmarks/sweeps.py [--case overhead|workers|ray|month|all] [--points 16] [--repeat 2]
"""

from __future__ import annotations

import argparse
import gc
import math
import os
import platform
import tempfile
import time
from pathlib import Path

import yaml

from gpufleet import api
from gpufleet.plan.executors import LocalPool, SerialExecutor
from gpufleet.plan.runner import Runner
from gpufleet.store import ENGINE

MONTH = "2025-12-03"
"""A month of the default scenario: its first 30 days (100 to 250 GB200 racks, serving from 2026 on)."""


def write_sweep(folder: Path, name: str, axes: list[dict], replications: int, until: str | None) -> Path:
    path = folder / f"{name}.yaml"
    data = {"name": name, "base": "openai-aws-2025", "replications": replications, "axes": axes}
    if until:
        data["until"] = until
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def small_axes(points: int) -> list[dict]:
    """`points` values of the first GB200 delivery: runs of the same size and kind."""
    return [{"path": "fleet.pools[gb200].deliveries[0].racks", "values": [100 + 4 * i for i in range(points)]}]


def overhead(points: int, repeat: int) -> None:
    """The same points by hand (api.run, then the tables written) and as a sweep in this process."""
    folder = Path(tempfile.mkdtemp(prefix="gpufleet-bench-"))
    sweep = api.load_sweep(write_sweep(folder, "overhead", small_axes(points), 1, MONTH))
    axis = sweep.spec.axes[0]
    runs = [sweep.point(index, {axis.label: value}) for index, value in enumerate(axis.grid())]
    until = sweep.spec.until
    best = {"by hand": math.inf, "sweep": math.inf}

    def by_hand(attempt: int) -> float:
        began = time.perf_counter()
        for point in runs:
            result = api.run(point.scenario, until=until)
            out = folder / f"hand-{attempt}" / str(point.index)
            out.mkdir(parents=True)
            result.write_tables(out)
            del result  # as the sweep's worker does: one run's tables alive at a time
        return time.perf_counter() - began

    def as_sweep(attempt: int) -> float:
        began = time.perf_counter()
        Runner(api.store(folder / f"store-{attempt}"), SerialExecutor(), api.run).run(sweep.specs(runs))
        return time.perf_counter() - began

    for attempt in range(repeat):  # alternating which goes first, so drifting load hits both alike
        order = (("by hand", by_hand), ("sweep", as_sweep)) if attempt % 2 == 0 else \
            (("sweep", as_sweep), ("by hand", by_hand))
        for name, function in order:
            gc.collect()
            best[name] = min(best[name], function(attempt))
    print(f"overhead, {points} runs of a month, best of {repeat}: by hand {best['by hand']:.2f} s, "
          f"as a sweep (store, keys, catalog) {best['sweep']:.2f} s: "
          f"{(best['sweep'] / best['by hand'] - 1) * 100:+.1f}%")


def throughput(points: int, label: str, make) -> float:  # noqa: ANN001
    folder = Path(tempfile.mkdtemp(prefix="gpufleet-bench-"))
    sweep = api.load_sweep(write_sweep(folder, label, small_axes(points), 1, MONTH))
    executor = make()
    try:
        began = time.perf_counter()
        result = sweep.run(Runner(api.store(folder / "store"), executor, api.run))
        elapsed = time.perf_counter() - began
    finally:
        executor.close()
    ok = [record for record in result.records.values() if record.ok]
    busy = sum(record.wall_s for record in ok)
    print(f"{label:>22}: {len(ok)} runs in {elapsed:6.2f} s, {len(ok) / elapsed:.2f} runs/s; "
          f"{busy / len(ok):.2f} s a run inside its worker, {busy:.1f} s of runs in all")
    return elapsed


def workers(points: int) -> None:
    one = throughput(points, "local pool, 1 worker", lambda: LocalPool(1))
    two = throughput(points, "local pool, 2 workers", lambda: LocalPool(2))
    print(f"2 workers: {one / two:.2f}x the throughput of 1")


def ray(points: int) -> None:
    from gpufleet.plan.ray_executor import RayExecutor

    began = time.perf_counter()
    executor = RayExecutor(workers=2)
    print(f"ray.init with 2 CPUs: {time.perf_counter() - began:.1f} s")
    executor.close()
    throughput(points, "Ray, 2 local workers", lambda: RayExecutor(workers=2))


def month() -> None:
    """50 points (10 GB200 ramps x 5 checkpoint write times) x 5 seeds over a month of the default scenario."""
    folder = Path(tempfile.mkdtemp(prefix="gpufleet-bench-"))
    axes = [{"path": "fleet.pools[gb200].deliveries[*].racks", "name": "gb200 ramp",
             "scale": {"from": 0.55, "to": 1.45, "steps": 10}},
            {"path": "checkpointing.write_minutes", "name": "checkpoint write", "values": [0.5, 1, 2, 4, 8]}]
    sweep = api.load_sweep(write_sweep(folder, "month-250", axes, 5, MONTH))
    began = time.perf_counter()
    result = api.sweep(sweep, workers=2, store_root=folder / "store")
    elapsed = time.perf_counter() - began
    ok = sum(1 for record in result.records.values() if record.ok)
    run_s = sorted(record.wall_s for record in result.records.values() if record.ok)
    broken = sum(1 for point in result.points if point.error)
    print(f"{len(result.points)} points ({broken} could not be built) x 5 seeds to {MONTH}, local pool of 2 "
          f"({ENGINE} engine): {ok} runs ok of {len(result.records)} in {elapsed:.1f} s ({elapsed / 60:.1f} min); "
          f"per run median {run_s[len(run_s) // 2]:.2f} s, max {run_s[-1]:.2f} s; {ok / elapsed:.2f} runs/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", default="all", choices=["overhead", "workers", "ray", "month", "all"])
    parser.add_argument("--points", type=int, default=16, help="runs in the overhead and throughput cases")
    parser.add_argument("--repeat", type=int, default=2, help="rounds of the overhead case; the best is kept")
    args = parser.parse_args()
    print(f"{platform.machine()} {platform.processor() or '?'}, Python {platform.python_version()}, "
          f"{len(os.sched_getaffinity(0))} cores; {ENGINE} engine")
    if args.case in ("overhead", "all"):
        overhead(args.points, args.repeat)
    if args.case in ("workers", "all"):
        workers(args.points)
    if args.case in ("ray", "all"):
        ray(args.points)
    if args.case in ("month", "all"):
        month()


if __name__ == "__main__":
    main()
