"""The default scenario without its services (failures, hot spares, Young/Daly checkpoints,
backfill planned for failures) on both engines: wall time end to end, as `gpufleet run
--no-report` spends it (`api.run`, then the tables written).

Each run in its own process, the engines in turn (python, native, python, ...), so drifting
machine load hits both alike; prints per run the engine, wall time, of which the run and the
writing, events and failures, and a digest of the written tables (the same on both engines).

    python benchmarks/native_failures.py [--days 120] [--engines python,native] [--repeat 1]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import platform
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path


def run_case(days: float, engine: str) -> dict[str, object]:
    from gpufleet import api

    default = api.load("openai-aws-2025")
    scenario = default.model_copy(update={"services": []})
    began = time.perf_counter()
    result = api.run(scenario, until=scenario.start + timedelta(days=days), engine=engine)
    ran = time.perf_counter() - began
    with tempfile.TemporaryDirectory() as folder:
        result.write_tables(Path(folder))
        elapsed = time.perf_counter() - began
        digest = hashlib.sha256()
        for path in sorted(Path(folder).iterdir()):
            digest.update(path.name.encode() + path.read_bytes())
    return {"engine": result.engine, "seconds": elapsed, "run_s": ran, "events": result.events,
            "jobs": result.jobs.num_rows, "failures": result.failures.num_rows, "digest": digest.hexdigest()[:16]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=float, default=120.0)
    parser.add_argument("--engines", default="python,native")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--case", help="run on this engine in this process")
    args = parser.parse_args()
    if args.case:
        print(json.dumps(run_case(args.days, args.case)))
        return
    print(f"# {platform.processor() or platform.machine()}, Python {platform.python_version()}; "
          f"openai-aws-2025 without services, {args.days:g} days")
    print(f"{'engine':>7} {'wall s':>8} {'run s':>7} {'write s':>8} {'events':>9} {'jobs':>8} {'failures':>9} digest")
    for _ in range(args.repeat):
        for engine in args.engines.split(","):
            done = subprocess.run([sys.executable, __file__, "--case", engine, "--days", str(args.days)],
                                  capture_output=True, text=True, check=True)
            row = json.loads(done.stdout.strip().splitlines()[-1])
            print(f"{row['engine']:>7} {row['seconds']:>8.1f} {row['run_s']:>7.1f} "
                  f"{row['seconds'] - row['run_s']:>8.1f} {row['events']:>9,} {row['jobs']:>8,} "
                  f"{row['failures']:>9,} {row['digest']}", flush=True)


if __name__ == "__main__":
    main()
