"""The cost of waiting: days of delay priced per named job and per size range, and serving
revenue (and revenue lost to dropped requests) per million tokens.

A named job's delay counts from its `start_by` (else its submit time) to its first start;
any other job's delay is its wait. A job not started by the horizon is counted to the
horizon and flagged `censored` (its cost is a lower bound).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from gpufleet.spec.value import ValueSpec

DAY_S = 86400.0


def delay_costs(value: ValueSpec, jobs: pa.Table, start_by_s: dict[str, float], horizon_s: float) -> dict[str, Any]:
    """Cost of delay per named job and per size range (jobs table rows; times in seconds from the start)."""
    names = jobs["name"].to_numpy(zero_copy_only=False)
    explicit = jobs["kind"].to_numpy(zero_copy_only=False) == "explicit"
    gpus = jobs["gpus"].to_numpy()
    submit = jobs["submit_s"].to_numpy()
    start = jobs["start_s"].to_numpy()
    submitted = submit <= horizon_s
    started = ~np.isnan(start)
    named_entries = {entry.job: entry for entry in value.delay if entry.job is not None}
    named_rows = []
    is_named = np.zeros(len(names), dtype=bool)
    for job in np.flatnonzero(explicit).tolist():
        entry = named_entries.get(str(names[job]))
        if entry is None:
            continue
        is_named[job] = True
        reference = start_by_s.get(str(names[job]), float(submit[job]))
        until = float(start[job]) if started[job] else horizon_s
        delay = max(until - reference, 0.0) / DAY_S
        per_day = entry.per_day(int(gpus[job]))
        named_rows.append({"job": str(names[job]), "gpus": int(gpus[job]), "started": bool(started[job]),
                           "delay_days": delay, "censored": not bool(started[job]) and delay > 0,
                           "usd_per_day": per_day, "cost_usd": delay * per_day, "source": entry.source})
    wait_days = (np.where(started, start, horizon_s) - submit) / DAY_S
    taken = is_named | ~submitted
    size_rows = []
    for entry in value.delay:
        if entry.job is not None:
            continue
        mine = ~taken & (gpus >= (entry.min_gpus or 0)) & (gpus <= (entry.max_gpus or np.iinfo(np.int64).max))
        taken |= mine  # the first matching range counts
        days = float(wait_days[mine].sum())
        # Per job, or per GPU-day: the cost is the rate times the (GPU-)days waited.
        cost = days * entry.usd_per_day if entry.usd_per_day is not None \
            else float((wait_days[mine] * gpus[mine]).sum()) * entry.usd_per_gpu_day  # type: ignore[operator]
        size_rows.append({"min_gpus": entry.min_gpus, "max_gpus": entry.max_gpus, "usd_per_day": entry.usd_per_day,
                          "usd_per_gpu_day": entry.usd_per_gpu_day, "jobs": int(mine.sum()), "delay_days": days,
                          "censored_jobs": int((mine & ~started).sum()), "cost_usd": cost, "source": entry.source})
    total = sum(row["cost_usd"] for row in named_rows) + sum(row["cost_usd"] for row in size_rows)
    return {"cost_of_delay_usd": total, "named_jobs": named_rows, "size_ranges": size_rows}


def serving_revenue(value: ValueSpec, served: dict[str, tuple[float, float, float]]) -> dict[str, Any]:
    """Revenue per service from (output tokens served, input tokens served, output tokens dropped)."""
    rows = []
    for entry in value.revenue:
        output, inputs, dropped = served.get(entry.service, (0.0, 0.0, 0.0))
        rows.append({"service": entry.service,
                     "revenue_usd": (output * entry.usd_per_million_output_tokens
                                     + inputs * entry.usd_per_million_input_tokens) / 1e6,
                     "lost_to_drops_usd": dropped * entry.usd_per_million_output_tokens / 1e6,
                     "usd_per_million_output_tokens": entry.usd_per_million_output_tokens,
                     "usd_per_million_input_tokens": entry.usd_per_million_input_tokens, "source": entry.source})
    return {"serving_revenue_usd": sum(row["revenue_usd"] for row in rows),
            "revenue_lost_to_drops_usd": sum(row["lost_to_drops_usd"] for row in rows), "services": rows}


def value_of_time(value: ValueSpec, jobs: pa.Table, start_by_s: dict[str, float], horizon_s: float,
                  served: dict[str, tuple[float, float, float]], billed_usd: float) -> dict[str, Any]:
    """The money answers with the cost of waiting: headline figures and their breakdown.

    cost of waiting = cost of delay + revenue lost to dropped requests;
    net value = serving revenue - billed - cost of delay (a planner's objective to maximise).
    """
    delay = delay_costs(value, jobs, start_by_s, horizon_s)
    revenue = serving_revenue(value, served)
    return {
        "cost_of_delay_usd": delay["cost_of_delay_usd"],
        "serving_revenue_usd": revenue["serving_revenue_usd"],
        "revenue_lost_to_drops_usd": revenue["revenue_lost_to_drops_usd"],
        "cost_of_waiting_usd": delay["cost_of_delay_usd"] + revenue["revenue_lost_to_drops_usd"],
        "net_value_usd": revenue["serving_revenue_usd"] - billed_usd - delay["cost_of_delay_usd"],
        "value_of_time": {"delay": {"named_jobs": delay["named_jobs"], "size_ranges": delay["size_ranges"]},
                          "revenue": revenue["services"]},
    }
