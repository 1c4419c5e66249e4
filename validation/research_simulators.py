"""The research-simulator reproductions in full (`make validate-research`, about 15 minutes on
2 cores): the built-ins `tiresias-style`, `gavel-style` and `mixed-gb200-gb300` as shipped,
every policy the papers compare, printed as one table each and checked for the published
direction. docs/validation.md records the figures of the last run.

    python validation/research_simulators.py [--only tiresias|gavel|mixed]
"""

from __future__ import annotations

import argparse
import platform
import sys
import time

from gpufleet import api

RUNS = {
    "tiresias": ("tiresias-style", ["fifo@none", "fifo@greedy", "fgf", "srtf", "srsf", "las"]),
    "gavel": ("gavel-style", ["gavel_las", "gavel_las_agnostic", "fifo@greedy", "las"]),
    "mixed": ("mixed-gb200-gb300", ["gavel_las", "gavel_las_agnostic", "fifo@greedy", "las"]),
}


def table(name: str, policies: list[str]) -> dict[str, dict]:
    started = time.perf_counter()
    comparison = api.compare(api.load(name), policies, ["best_fit"])
    print(f"\n{name} ({time.perf_counter() - started:,.0f} s)")
    print(f"{'variant':<22}{'completed':>10}{'mean JCT h':>12}{'p50 JCT h':>11}{'mean wait h':>12}{'preempt':>9}")
    rows = {}
    for row in comparison.overall():
        rows[row["variant"]] = row
        print(f"{row['variant']:<22}{row['completed']:>10,}{row['jct_mean_h']:>12.3f}{row['jct_p50_h']:>11.3f}"
              f"{row['wait_mean_h']:>12.3f}{row['preemptions']:>9,}")
    if name == "mixed-gb200-gb300":
        for row in comparison.variants[0].result.summary["speed_by_gpu"]:
            print(f"  gavel_las {row['job_class']} on {row['gpu']}: {row['completed']} jobs, mean run "
                  f"{row['mean_run_h']:.2f} h for {row['mean_duration_h']:.2f} h on GB200, "
                  f"speed {row['mean_speed']:.3f}")
    return rows


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", choices=sorted(RUNS))
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, Python {platform.python_version()}")
    failures = []
    for key, (name, policies) in RUNS.items():
        if args.only and key != args.only:
            continue
        jct = {variant: row["jct_mean_h"] for variant, row in table(name, policies).items()}
        if key == "tiresias":
            if not max(jct["srtf"], jct["srsf"]) < jct["las"] < jct["fifo+greedy"] <= jct["fifo+none"]:
                failures.append("tiresias: order SRTF/SRSF < LAS < FIFO-skip <= FIFO broken")
            if jct["fifo+none"] / jct["las"] < 2:
                failures.append("tiresias: LAS gains less than 2x over strict FIFO")
        elif jct["gavel_las"] >= jct["gavel_las_agnostic"]:
            failures.append(f"{name}: the heterogeneity-aware policy does not beat the agnostic one")
    for failure in failures:
        print("FAILED:", failure)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
