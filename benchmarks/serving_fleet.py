"""What a ChatGPT-scale service costs a fleet run: the default scenario over 2026 (the
service's first year, 105,120 five-minute decisions) with and without its services.

Prints wall time (the best of --repeat runs, alternating the variants), engine events,
replica placements and training jobs preempted for each variant, and the difference the
service makes.

    python benchmarks/serving_fleet.py [--until 2027-01-01] [--scenario openai-aws-2025] [--repeat 3]
"""

from __future__ import annotations

import argparse
import math
import platform
import time
from datetime import datetime

from gpufleet import api


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="openai-aws-2025")
    parser.add_argument("--until", default="2027-01-01", help="stop date (YYYY-MM-DD)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per variant; the best is reported")
    args = parser.parse_args()
    scenario = api.load(args.scenario)
    until = datetime.fromisoformat(args.until)
    print(f"{platform.machine()} {platform.processor() or '?'}, Python {platform.python_version()}; "
          f"{args.scenario} to {until.date()}")
    variants = (("without services", scenario.model_copy(update={"services": []})), ("with services", scenario))
    times: dict[str, float] = {}
    results = {}
    for _ in range(args.repeat):  # alternating, so drifting machine load hits both alike
        for name, variant in variants:
            began = time.perf_counter()
            results[name] = api.run(variant, until=until)
            times[name] = min(times.get(name, math.inf), time.perf_counter() - began)
    for name, _ in variants:
        result = results[name]
        serving = result.summary.get("serving")
        extra = ""
        if serving:
            service = serving["services"][0]
            extra = (f"; {service['intervals']:,} decisions, {service['placements']:,} placements, "
                     f"{service['training_jobs_preempted']:,} training jobs preempted, "
                     f"SLO {service['slo_attainment']:.2%}")
        print(f"{name:>17}: {times[name]:6.1f} s, {result.events:,} events{extra}")
    print(f"the services add {times['with services'] - times['without services']:.1f} s")


if __name__ == "__main__":
    main()
