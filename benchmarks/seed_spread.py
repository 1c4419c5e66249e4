"""The spread of a scenario's headline answers over seeds, from the summary.json of each run.

    for seed in 1 2 3 2025; do gpufleet run --seed $seed --no-report --out runs/seed-$seed; done
    python benchmarks/seed_spread.py runs/seed-*

prints, for each answer, its value per run and the mean, minimum and maximum, and for each
named job with a `start_by` the share of runs in which it started by that date. (A plain
loop over seeds; a `--replications` command supersedes it where available.)
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

Summary = dict[str, Any]


def _billions(key: str) -> Callable[[Summary], float | None]:
    return lambda s: s["money"][key] / 1e9 if s["money"].get(key) is not None else None


ANSWERS: list[tuple[str, Callable[[Summary], float | None], str]] = [
    ("utilisation", lambda s: s["capacity"]["utilisation"], "{:.1%}"),
    ("installed GPU-hours (M)", lambda s: s["capacity"]["installed_gpu_hours"] / 1e6, "{:,.1f}"),
    ("serving share of allocated GPU-hours", lambda s: s.get("serving", {}).get("serving_share_of_allocated"),
     "{:.1%}"),
    ("goodput (training)", lambda s: s["failures"]["goodput"], "{:.1%}"),
    ("goodput with serving", lambda s: s["failures"].get("goodput_with_serving"), "{:.1%}"),
    ("mean GPUs in repair", lambda s: s["failures"]["mean_gpus_in_repair"], "{:,.0f}"),
    ("job wait mean (h)", lambda s: s["jobs"]["wait"]["mean_h"], "{:,.1f}"),
    ("job wait p95 (h)", lambda s: s["jobs"]["wait"]["p95_h"], "{:,.1f}"),
    ("jobs queued at horizon", lambda s: s["jobs"]["queued"], "{:,.0f}"),
    ("billed ($B)", _billions("billed_usd"), "{:,.2f}"),
    ("projected shortfall ($B)", _billions("projected_shortfall_usd"), "{:,.2f}"),
    ("cost of delay ($B)", _billions("cost_of_delay_usd"), "{:,.2f}"),
    ("serving revenue ($B)", _billions("serving_revenue_usd"), "{:,.2f}"),
    ("net value ($B)", _billions("net_value_usd"), "{:,.2f}"),
]


def service_answers(summaries: list[Summary]) -> list[tuple[str, Callable[[Summary], float | None], str]]:
    """SLO attainment and mean GPUs of every service of the first run."""
    names = [service["name"] for service in summaries[0].get("serving", {}).get("services", [])]

    def field(name: str, key: str) -> Callable[[Summary], float | None]:
        return lambda s: next((service[key] for service in s["serving"]["services"] if service["name"] == name), None)

    rows = []
    for name in names:
        rows += [(f"{name}: SLO attainment", field(name, "slo_attainment"), "{:.2%}"),
                 (f"{name}: mean GPUs", field(name, "mean_gpus"), "{:,.0f}")]
    return rows


def named_answers(summaries: list[Summary]) -> list[tuple[str, Callable[[Summary], float | None], str]]:
    """Each named job's wait (days; none if it never started)."""
    def wait(name: str) -> Callable[[Summary], float | None]:
        def days(s: Summary) -> float | None:
            row = next(row for row in s["named_jobs"] if row["name"] == name)
            return row["wait_h"] / 24 if row["wait_h"] is not None else None
        return days

    return [(f"{row['name']}: wait (days)", wait(row["name"]), "{:,.1f}") for row in summaries[0]["named_jobs"]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", type=Path, help="run directories (each with a summary.json)")
    args = parser.parse_args()
    summaries = [json.loads((run / "summary.json").read_text()) for run in args.runs]
    seeds = [str(s["seed"]) for s in summaries]
    print(f"{summaries[0]['scenario']}: seeds {', '.join(seeds)}")
    print(f"{'answer':<42} | " + " | ".join(f"{seed:>9}" for seed in seeds) + " |      mean |       min |       max")
    for label, get, fmt in ANSWERS + service_answers(summaries) + named_answers(summaries):
        values = [get(s) for s in summaries]
        cells = [fmt.format(v) if v is not None else "-" for v in values]
        known = [v for v in values if v is not None]
        stats = [fmt.format(x) for x in (sum(known) / len(known), min(known), max(known))] if known else ["-"] * 3
        print(f"{label:<42} | " + " | ".join(f"{c:>9}" for c in cells) + " | " + " | ".join(f"{c:>9}" for c in stats))
    for row in summaries[0]["named_jobs"]:
        if "start_by" in row:
            made = [next(r for r in s["named_jobs"] if r["name"] == row["name"]).get("started_by_date", False)
                    for s in summaries]
            print(f"P({row['name']} starts by {row['start_by'][:10]}) = {sum(made)}/{len(made)}")


if __name__ == "__main__":
    main()
