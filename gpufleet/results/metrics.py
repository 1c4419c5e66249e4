"""Headline metrics: one flat dict of numbers per run, the unit of replications, the run
store's catalog, sweeps and the planner.

Names are stable and documented (docs/planning.md). A bracket names the group a metric
belongs to: a size class (`wait_p95_h[1K-8K]`) or a named job (`wait_days[frontier-2027]`).
Days are counted from the scenario start. A metric a run cannot give (no contract, a job
that never started) is None.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

HEADLINE = ("utilisation", "wait_mean_h", "wait_p95_h", "cost_usd", "goodput", "serving_slo", "jct_mean_h",
            "billed_usd", "purchased_usd", "commitment_used")
"""The metrics shown first in tables and reports (a run has more)."""

HIGHER_IS_BETTER = ("utilisation", "goodput", "goodput_with_serving", "serving_slo", "commitment_used",
                    "commitment_billed", "used_share_of_billed", "jobs_completed")


def headline_metrics(summary: dict[str, Any]) -> dict[str, float | None]:
    """Every number a decision may rest on, from a run's summary."""
    start = datetime.fromisoformat(summary["start"])
    horizon = datetime.fromisoformat(summary["horizon"])
    jobs, capacity, money, failures = summary["jobs"], summary["capacity"], summary["money"], summary["failures"]
    committed = money["committed_to_date_usd"]
    purchased = money.get("purchased_usd", 0.0)
    metrics: dict[str, float | None] = {
        "utilisation": capacity["utilisation"],
        "wait_mean_h": jobs["wait"]["mean_h"],
        "wait_p95_h": jobs["wait"]["p95_h"],
        "jct_mean_h": jobs["completion_time"]["mean_h"],
        "jobs_completed": float(jobs["completed"]),
        "jobs_queued_at_end": float(jobs["queued"]),
        "full_from_day": _days(start, capacity["full_from"]),
        "share_of_days_full": capacity["share_of_days_full"],
        "goodput": failures["goodput"],
        "goodput_with_serving": failures.get("goodput_with_serving"),
        "interruptions": float(failures["interruptions"]),
        "billed_usd": money["billed_usd"],
        "used_usd": money["used_usd"],
        "purchased_usd": purchased,
        "cost_usd": money["billed_usd"] + purchased,
        "committed_to_date_usd": committed,
        "commitment_billed": money["billed_usd"] / committed if committed else None,
        "commitment_used": money["used_usd"] / committed if committed else None,
        "used_share_of_billed": money["used_share_of_billed"],
        "projected_term_billed_usd": money.get("projected_term_billed_usd"),
        "projected_shortfall_usd": money.get("projected_shortfall_usd"),
        "horizon_days": (horizon - start).total_seconds() / 86400.0,
    }
    if "contracts" in money:  # a portfolio (docs/portfolio.md): each contract's, and the portfolio's
        for row in money["contracts"]:
            for key in ("billed_usd", "used_usd", "projected_shortfall_usd", "projected_unused_share",
                        "projected_term_cost_usd"):
                metrics[f"{key}[{row['name']}]"] = row[key]
        portfolio = money["portfolio"]
        metrics["projected_owed_shortfall_usd"] = portfolio["projected_owed_shortfall_usd"]
        metrics["projected_term_cost_usd"] = portfolio["projected_term_cost_usd"]
        metrics["usd_per_useful_gpu_hour"] = portfolio.get("usd_per_useful_gpu_hour")
    for label, row in summary["wait_by_size_class"].items():
        metrics[f"wait_mean_h[{label}]"] = row["wait"]["mean_h"]
        metrics[f"wait_p95_h[{label}]"] = row["wait"]["p95_h"]
    serving = summary.get("serving")
    if serving is not None:
        services = serving["services"]
        demanded = sum(s["demand"]["requests"] for s in services)
        served = sum(s["output_tokens_served"] for s in services)
        cost = sum(s["cost_usd"] for s in services)
        metrics["serving_slo"] = (sum(s["slo_attainment"] * s["demand"]["requests"] for s in services) / demanded
                                  if demanded else 1.0)
        metrics["serving_usd_per_mtok"] = cost / (served / 1e6) if served else None
        for service in services:
            metrics[f"serving_slo[{service['name']}]"] = service["slo_attainment"]
    for job in summary["named_jobs"]:
        name = job["name"]
        submitted = _days(start, job["submitted"])
        wait_h = job["wait_h"]
        begun = None if submitted is None or wait_h is None else submitted + wait_h / 24.0
        ended = None if begun is None or job["run_h"] is None or job["status"] == "running" \
            else begun + job["run_h"] / 24.0
        metrics[f"wait_days[{name}]"] = None if wait_h is None else wait_h / 24.0
        metrics[f"start_day[{name}]"] = begun
        metrics[f"finish_day[{name}]"] = ended
    return metrics


def _days(start: datetime, when: str | None) -> float | None:
    if when is None:
        return None
    return (datetime.fromisoformat(when) - start).total_seconds() / 86400.0
