"""Serving accounts: the per-interval table and the per-month roll-up, as pure functions.

GPU-hours count every GPU a service holds, warming replicas included (they are paid
for and serve nothing). Cost per million tokens is the month's serving cost over the
output tokens it served.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pyarrow as pa

from gpufleet.serving.queueing import IntervalMetrics
from gpufleet.serving.run import ServiceRun
from gpufleet.workload.synthetic import month_starts

HOUR_S = 3600.0


def interval_table(metrics: IntervalMetrics, *, target_replicas: np.ndarray, ready_replicas: np.ndarray,
                   held_gpus: np.ndarray, service: str = "") -> pa.Table:
    """The interval model's columns plus replicas, held GPUs and GPU-hours, one row per interval."""
    table = metrics.to_arrow()
    n = len(metrics)
    held = np.asarray(held_gpus, dtype=np.float64)
    extra = {
        "service": pa.array([service] * n, type=pa.string()),
        "target_replicas": np.asarray(target_replicas, dtype=np.int64),
        "ready_replicas": np.asarray(ready_replicas, dtype=np.int64),
        "held_gpus": held,
        "gpu_hours": held * metrics.duration_s / HOUR_S,
    }
    for name, column in extra.items():
        table = table.append_column(name, pa.array(column) if not isinstance(column, pa.Array) else column)
    return table


def run_table(run: ServiceRun, service: str = "") -> pa.Table:
    """`interval_table` of a standalone service run."""
    return interval_table(run.metrics, target_replicas=run.target_replicas, ready_replicas=run.ready_replicas,
                          held_gpus=run.held_gpus, service=service)


def monthly(table: pa.Table, origin: datetime, usd_per_gpu_hour: float | np.ndarray) -> pa.Table:
    """Calendar-month roll-up of an `interval_table` (each interval goes to the month it starts in).

    Args:
        table: rows of `interval_table`.
        origin: calendar time of simulated second 0.
        usd_per_gpu_hour: price, one number or one per row.

    Returns:
        One row per month: month (YYYY-MM), hours, gpu_hours, cost_usd, requests_demanded,
        requests_served, requests_dropped, output_tokens_demanded, output_tokens_served,
        output_tokens_dropped, input_tokens_served, slo_attainment (share of arrivals
        within the wait target), mean_wait_s (over arrivals), utilisation (served over
        capacity output tokens) and usd_per_million_output_tokens (NaN if none served).
    """
    if table.num_rows == 0:
        raise ValueError("no intervals to roll up")
    col = {name: table[name].to_numpy() for name in (
        "start_s", "end_s", "demand_rps", "output_tokens_per_request", "served_requests", "served_output_tokens",
        "served_input_tokens", "dropped_requests", "dropped_output_tokens", "within_target", "mean_wait_s",
        "capacity_tokens_per_s", "gpu_hours")}
    duration = col["end_s"] - col["start_s"]
    arrivals = col["demand_rps"] * duration
    price = np.broadcast_to(np.asarray(usd_per_gpu_hour, dtype=np.float64), duration.shape)
    first = origin + timedelta(seconds=float(col["start_s"].min()))
    last = origin + timedelta(seconds=float(col["start_s"].max()) + 1.0)
    bounds = month_starts(first, last)
    bound_s = np.array([(when - origin).total_seconds() for when in bounds])
    month = np.searchsorted(bound_s, col["start_s"], side="right") - 1
    months = len(bounds)

    def per_month(values: np.ndarray) -> np.ndarray:
        return np.bincount(month, weights=values, minlength=months)

    cost = per_month(col["gpu_hours"] * price)
    served_tokens = per_month(col["served_output_tokens"])
    demanded = per_month(arrivals)
    weight = np.maximum(demanded, 1e-300)
    capacity = per_month(col["capacity_tokens_per_s"] * duration)
    return pa.table({
        "month": [f"{when.year:04d}-{when.month:02d}" for when in bounds],
        "hours": per_month(duration) / HOUR_S,
        "gpu_hours": per_month(col["gpu_hours"]),
        "cost_usd": cost,
        "requests_demanded": demanded,
        "requests_served": per_month(col["served_requests"]),
        "requests_dropped": per_month(col["dropped_requests"]),
        "output_tokens_demanded": per_month(arrivals * col["output_tokens_per_request"]),
        "output_tokens_served": served_tokens,
        "output_tokens_dropped": per_month(col["dropped_output_tokens"]),
        "input_tokens_served": per_month(col["served_input_tokens"]),
        "slo_attainment": np.where(demanded > 0, per_month(col["within_target"] * arrivals) / weight, 1.0),
        "mean_wait_s": np.where(demanded > 0, per_month(col["mean_wait_s"] * arrivals) / weight, 0.0),
        "utilisation": np.divide(served_tokens, capacity, out=np.zeros(months), where=capacity > 0),
        "usd_per_million_output_tokens": np.divide(cost, served_tokens / 1e6, out=np.full(months, np.nan),
                                                   where=served_tokens > 0),
    })
