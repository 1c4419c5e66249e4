"""Trace reading and characterisation speed: a synthetic generic job CSV of N rows (default 1M).

Writes the file (submit in seconds, gpus, duration, team, status; about 40 MB for 1M
rows) into a temporary folder, then times, each in a fresh process so peak memory is
its own: reading it (`traces.generic.read_jobs`), reading plus characterising it (what
`gpufleet trace stats` computes), and the whole command `gpufleet trace stats FILE
--format generic-jobs --json OUT` (start-up, tables and JSON included). The target is
under 10 s for 1M rows. A second case with date-time submit times (ISO 8601) measures
the datetime path.

    python benchmarks/traces.py
    python benchmarks/traces.py --rows 4000000 --repeat 1    # memory: the table grows, the rest does not
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TEAMS = [f"team-{k:02d}" for k in range(20)]
STATUSES = ["completed", "failed", "cancelled"]


def write_trace(path: Path, rows: int, seed: int, iso: bool) -> None:
    """A generic job CSV: Poisson arrivals over a year, power-of-two sizes, lognormal run times."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.csv as pacsv

    rng = np.random.default_rng(seed)
    submit = np.sort(rng.uniform(0, 365 * 86400.0, rows)).round(3)
    gpus = 2 ** rng.choice(11, size=rows, p=np.array([40, 15, 12, 10, 8, 6, 4, 2, 1.5, 1, 0.5]) / 100)
    duration = np.exp(rng.normal(np.log(1800.0), 1.6, rows)).round(1)
    columns = {
        "submit": pa.array((np.datetime64("2025-01-01T00:00:00", "ms") + (submit * 1000).astype("timedelta64[ms]"))
                           .astype(str)) if iso else submit,
        "gpus": gpus,
        "duration": duration,
        "team": pa.array(np.array(TEAMS)[rng.integers(0, len(TEAMS), rows)]),
        "status": pa.array(np.array(STATUSES)[rng.choice(3, size=rows, p=[0.7, 0.2, 0.1])]),
    }
    pacsv.write_csv(pa.table(columns), path)


def measure(path: str, stage: str, time_unit: str) -> dict[str, float]:
    """Run one stage in this process; return its wall time and peak memory."""
    from gpufleet.traces.generic import read_jobs
    from gpufleet.traces.stats import job_stats

    began = time.perf_counter()
    trace = read_jobs(path, time_unit=time_unit)
    read_s = time.perf_counter() - began
    stats_s = 0.0
    if stage == "stats":
        began = time.perf_counter()
        result = job_stats(trace)
        json.dumps(result)
        stats_s = time.perf_counter() - began
    peak_mib = _peak_mib()
    table = sum(column.nbytes for column in (trace.submit_s, trace.gpus, trace.gpu_share, trace.duration_s,
                                             trace.wait_s, trace.team, trace.status))
    return {"rows": len(trace), "bad": trace.report.bad_count, "read_s": read_s, "stats_s": stats_s,
            "total_s": read_s + stats_s, "peak_mib": peak_mib, "table_mib": table / 2**20}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs per case; the best is reported")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--child", nargs=3, metavar=("PATH", "STAGE", "UNIT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(*args.child)))
        return
    cpu = platform.processor() or _cpu_model()
    print(f"machine: {cpu}, Python {platform.python_version()}, {_cores()} cores")
    with tempfile.TemporaryDirectory() as folder:
        for iso in (False, True):
            path = Path(folder) / f"jobs-{'iso' if iso else 's'}.csv"
            began = time.perf_counter()
            write_trace(path, args.rows, args.seed, iso)
            size_mb = path.stat().st_size / 1e6
            unit = "iso" if iso else "s"
            print(f"\n{args.rows:,} rows, submit in {'ISO 8601 date-times' if iso else 'seconds'}: "
                  f"{size_mb:,.1f} MB written in {time.perf_counter() - began:.1f} s")
            for stage in ("read", "stats"):
                runs = [json.loads(subprocess.run([sys.executable, __file__, "--child", str(path), stage, unit],
                                                  check=True, capture_output=True, text=True).stdout)
                        for _ in range(args.repeat)]
                best = min(runs, key=lambda run: run["total_s"])
                label = "read" if stage == "read" else "read + characterise"
                print(f"  {label:<20} {best['total_s']:6.2f} s  (read {best['read_s']:.2f} s, statistics "
                      f"{best['stats_s']:.2f} s; {best['rows'] / best['total_s'] / 1e6:.2f} M rows/s; "
                      f"peak memory {best['peak_mib']:,.0f} MiB with a {best['table_mib']:,.0f} MiB job table; "
                      f"best of {args.repeat})")
            command = [sys.executable, "-m", "gpufleet.cli", "trace", "stats", str(path), "--format", "generic-jobs",
                       "--time-unit", unit, "--json", str(Path(folder) / "stats.json")]
            walls = []
            for _ in range(args.repeat):
                began = time.perf_counter()
                subprocess.run(command, check=True, capture_output=True)
                walls.append(time.perf_counter() - began)
            print(f"  {'gpufleet trace stats':<20} {min(walls):6.2f} s  (the whole command: start-up, reading, "
                  f"statistics, tables, --json; best of {args.repeat})")


def _peak_mib() -> float:
    """This process's peak resident memory. VmHWM belongs to the process image, so it does not
    inherit the parent's peak the way ru_maxrss does across fork and exec."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


def _cores() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 0


if __name__ == "__main__":
    main()
