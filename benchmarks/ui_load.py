"""The dashboard under load: `gpufleet ui` (one uvicorn process) over a store of many runs,
and CLIENTS concurrent clients on loopback for SECONDS, each asking again as soon as it is
answered, against the runs list (page and API), a run's page, its jobs table (page
fragment and API: sorted, filtered, paged) and one job's timeline. Prints requests per
second, p50/p95/p99 latency and errors by route; records go to docs/performance.md.

The store: RUNS real runs of a small lab (a week of a 4-rack cluster, one seed each) and
one large run whose jobs table the clients read (a month of a 64-rack cluster, about
100,000 jobs). It is kept in DIR and reused (the run store skips what it holds).

    python benchmarks/ui_load.py [--runs 1000] [--clients 100] [--seconds 30] [--dir runs/bench-ui]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import re
import signal
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import httpx
import pyarrow.parquet as pq

from gpufleet import api
from gpufleet.plan.executors import LocalPool
from gpufleet.plan.runner import Runner
from gpufleet.store import RunSpec, RunStore
from gpufleet.testing import scenario, small_fleet

SMALL_RATE, BIG_RATE = 60, 3300
"""Jobs a day: the small lab's, and the large run's (about 100,000 jobs in a month)."""


def lab(racks: int, rate: int, end: str) -> object:
    workload = {"synthetic": {"name": "exp", "arrivals": {"rate_per_day": rate}, "sizes": [
        {"gpus": 1, "weight": 0.5, "duration": {"dist": "exponential", "mean_hours": 2}},
        {"gpus": 8, "weight": 0.5, "duration": {"dist": "lognormal", "median_hours": 3, "sigma": 1}}]}}
    return scenario(small_fleet(racks=racks), [workload], end=end)


def build_store(folder: Path, runs: int) -> tuple[RunStore, str, list[str]]:
    """The store (kept between runs of this script): its large run's key and the small ones'."""
    store = RunStore(folder / "store")
    small = lab(4, SMALL_RATE, "2026-01-08")
    big = lab(64, BIG_RATE, "2026-02-01")
    specs = [RunSpec.of(big, 1)] + [RunSpec.of(small, seed) for seed in range(runs)]
    started = time.perf_counter()
    missing = [spec for spec in specs if not store.has(spec.key)]
    if missing:
        print(f"running {len(missing)} runs into {store.root} ...", flush=True)
        Runner(store, LocalPool(2), api.run).run(missing)
        print(f"  {time.perf_counter() - started:.0f} s", flush=True)
    return store, specs[0].key, [spec.key for spec in specs[1:]]


def start_dashboard(folder: Path) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen([sys.executable, "-c", "from gpufleet.cli import main; main()", "ui", "--runs",
                                str(folder), "--port", "0"], stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    found = re.search(r"on (http://\S+/)", process.stdout.readline())
    assert found, "the dashboard did not start"
    return process, found.group(1).rstrip("/")


def requests_for(big: str, small: list[str], jobs: int, rng: random.Random) -> tuple[str, str]:
    """(route class, path) of the next request: an even mix of the routes."""
    sort = rng.choice(["wait_s", "gpus", "submit_time", "run_s", "job_id"])
    page = rng.randint(1, max(1, jobs // 50))
    choices = [
        ("runs list page", f"/?page={rng.randint(1, max(1, len(small) // 50))}&sort={rng.choice(['started', 'seed'])}"),
        ("runs list API", f"/api/runs?status=ok&sort=utilisation&page={rng.randint(1, 5)}"),
        ("run page", f"/runs/{rng.choice(small[:20] + [big])}"),
        ("jobs table fragment", f"/runs/{big}/jobs?jsort={sort}&jdesc=true&jpage={page}"),
        ("jobs table API", f"/api/runs/{big}/jobs?jsort={sort}&jsize=1-8&jmin={rng.choice([0, 1, 10])}&jpage="
                           f"{rng.randint(1, 20)}"),
        ("job timeline", f"/runs/{big}/jobs/{rng.randrange(jobs)}"),
    ]
    return rng.choice(choices)


async def client(base: str, big: str, small: list[str], jobs: int, until: float, seed: int,
                 times: dict[str, list[float]], errors: dict[str, int]) -> None:
    rng = random.Random(seed)
    async with httpx.AsyncClient(base_url=base, timeout=60.0, headers={"Accept": "text/html"}) as session:
        while time.monotonic() < until:
            route, path = requests_for(big, small, jobs, rng)
            started = time.perf_counter()
            try:
                answer = await session.get(path)
                ok = answer.status_code == 200
            except httpx.HTTPError:
                ok = False
            if ok:
                times[route].append(time.perf_counter() - started)
            else:
                errors[route] += 1


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def load(base: str, big: str, small: list[str], jobs: int, clients: int, seconds: float
               ) -> tuple[dict[str, list[float]], dict[str, int], float]:
    times: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, int] = defaultdict(int)
    started = time.monotonic()
    until = started + seconds
    await asyncio.gather(*(client(base, big, small, jobs, until, seed, times, errors) for seed in range(clients)))
    return times, errors, time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--dir", type=Path, default=Path("runs/bench-ui"))
    options = parser.parse_args()
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    store, big, small = build_store(options.dir, options.runs)
    print(f"load average before: {os.getloadavg()[0]:.2f} (other processes share these CPUs)")
    jobs = pq.read_metadata(store.table_path(big, "jobs")).num_rows
    print(f"store: {len(store.keys())} runs; the large run has {jobs:,} jobs")
    process, base = start_dashboard(options.dir)
    try:
        with httpx.Client(base_url=base, timeout=120.0) as warm:  # first visits render and cache the pages
            for path in ("/", f"/runs/{big}", f"/runs/{small[0]}"):
                warm.get(path, headers={"Accept": "text/html"}).raise_for_status()
        times, errors, wall = asyncio.run(load(base, big, small, jobs, options.clients, options.seconds))
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(30)
    total = sum(len(v) for v in times.values())
    print(f"\n{options.clients} clients for {wall:.1f} s: {total:,} answers, {total / wall:.1f} per second, "
          f"{sum(errors.values())} errors; load average after: {os.getloadavg()[0]:.2f}")
    print(f"{'route':<22}{'answers':>9}{'per s':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'errors':>8}")
    for route in sorted(times):
        values = times[route]
        print(f"{route:<22}{len(values):>9,}{len(values) / wall:>8.1f}{statistics.median(values) * 1e3:>9.0f}"
              f"{percentile(values, 0.95) * 1e3:>9.0f}{percentile(values, 0.99) * 1e3:>9.0f}{errors[route]:>8}")
    everything = [t for values in times.values() for t in values]
    print(f"{'all':<22}{total:>9,}{total / wall:>8.1f}{statistics.median(everything) * 1e3:>9.0f}"
          f"{percentile(everything, 0.95) * 1e3:>9.0f}{percentile(everything, 0.99) * 1e3:>9.0f}"
          f"{sum(errors.values()):>8}")


if __name__ == "__main__":
    main()
