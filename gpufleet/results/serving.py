"""Serving results: each service's intervals (as the run's queueing model left them), its
monthly accounts, and its summary (demand, tokens served and dropped, SLO attainment, GPU-hours,
cost per million tokens, training jobs it preempted, replicas lost).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from gpufleet import numerics
from gpufleet.econ.pricing import pool_prices
from gpufleet.fleet.layout import FleetLayout
from gpufleet.results.timeseries import integrate_steps
from gpufleet.serving.accounting import interval_table, monthly
from gpufleet.sim.service_split import base_service
from gpufleet.sim.serving import ServiceRecord
from gpufleet.spec.scenario import Scenario
from gpufleet.spec.serving import ServiceSpec

HOUR_S = 3600.0


@dataclass
class ServingResults:
    """All services of a run: intervals (serving.parquet), months (serving_monthly.parquet), summaries."""

    intervals: pa.Table
    monthly: pa.Table
    services: list[dict[str, Any]]


def serving_results(scenario: Scenario, layout: FleetLayout, records: list[ServiceRecord]) -> ServingResults | None:
    """The serving tables and summaries of a run; None when it has no services."""
    if not records:
        return None
    prices = np.array([price for price, _ in pool_prices(scenario, layout)], dtype=np.float64)
    interval_parts, month_parts, summaries = [], [], []
    for record in records:
        if len(record.intervals) == 0:
            continue
        table, usd_per_gpu_hour = _intervals(record, prices)
        months = monthly(table, scenario.start, usd_per_gpu_hour)
        months = months.add_column(0, "service", pa.array([record.spec.name] * months.num_rows, type=pa.string()))
        interval_parts.append(table)
        month_parts.append(months)
        summaries.append(_summary(record, table, months))
    if not interval_parts:
        return None
    return ServingResults(pa.concat_tables(interval_parts), pa.concat_tables(month_parts), summaries)


def _intervals(record: ServiceRecord, prices: np.ndarray) -> tuple[pa.Table, np.ndarray]:
    """One row per decision interval, and the price of each row's GPU-hours (blended over pools)."""
    spec, demand = record.spec, record.intervals
    edges = np.append(demand.start_s, demand.end_s[-1])
    held_h = np.zeros((len(demand), len(prices)))
    log = record.held_log
    for pool in range(len(prices)):
        mine = log[:, 1] == pool
        if mine.any():
            held_h[:, pool] = integrate_steps(log[mine, 0], log[mine, 2], edges)[0] / HOUR_S
    gpu_hours = held_h.sum(axis=1)
    cost = numerics.weighted_sum(held_h, prices)
    price = np.divide(cost, gpu_hours, out=np.zeros_like(cost), where=gpu_hours > 0)
    metrics = record.metrics
    held_mean = np.divide(gpu_hours * HOUR_S, demand.duration_s, out=np.zeros_like(gpu_hours),
                          where=demand.duration_s > 0)
    table = interval_table(metrics, target_replicas=record.target_replicas, ready_replicas=record.ready_replicas,
                           held_gpus=held_mean, service=spec.name)
    table = table.append_column("pending_replicas", pa.array(record.pending_replicas))
    table = table.append_column("cost_usd", pa.array(cost))
    return table, price


def _summary(record: ServiceRecord, table: pa.Table, months: pa.Table) -> dict[str, Any]:
    spec, demand = record.spec, record.intervals
    column = {name: table[name].to_numpy() for name in ("within_target", "mean_wait_s", "held_gpus", "gpu_hours",
                                                          "cost_usd", "pending_replicas")}
    arrivals = demand.requests
    total = float(arrivals.sum())
    duration = float(demand.duration_s.sum())

    def month_total(name: str) -> float:
        return float(np.sum(months[name].to_numpy()))

    served_tokens = month_total("output_tokens_served")
    cost = float(column["cost_usd"].sum())
    return {
        "name": spec.name,
        "flavors": list(spec.flavors),
        "sharing": spec.sharing.mode.value if spec.sharing.queue is None
        else f"{spec.sharing.mode.value}:{spec.sharing.queue}",
        "replica_gpus": spec.replica.gpus,
        "intervals": len(demand),
        "demand": {
            "requests": total,
            "requests_per_s": total / duration if duration else 0.0,
            "output_tokens_per_request": float((arrivals * demand.output_tokens_per_request).sum() / total)
            if total else None,
            "input_tokens_per_request": float((arrivals * demand.input_tokens_per_request).sum() / total)
            if total else None,
            "peak_requests_per_s": float(demand.requests_per_s.max()),
        },
        "requests_served": month_total("requests_served"),
        "requests_dropped": month_total("requests_dropped"),
        "output_tokens_demanded": month_total("output_tokens_demanded"),
        "output_tokens_served": served_tokens,
        "output_tokens_dropped": month_total("output_tokens_dropped"),
        "slo_attainment": float((column["within_target"] * arrivals).sum() / total) if total else 1.0,
        "mean_wait_s": float((column["mean_wait_s"] * arrivals).sum() / total) if total else 0.0,
        "gpu_hours": float(column["gpu_hours"].sum()),
        "warmup_gpu_hours": record.warmup_gpu_s / HOUR_S,
        "mean_gpus": float(column["gpu_hours"].sum() * HOUR_S / duration) if duration else 0.0,
        "peak_gpus": float(column["held_gpus"].max()),
        "cost_usd": cost,
        "usd_per_million_output_tokens": cost / (served_tokens / 1e6) if served_tokens else None,
        "peak_target_replicas": int(record.target_replicas.max()),
        "share_of_intervals_short": float((column["pending_replicas"] > 0).mean()),
        "placements": record.placements,
        "training_jobs_preempted": record.jobs_preempted,
        "replicas_lost": dict(sorted(record.lost.items())),
        **(_prefill(spec, months) if spec.replica.prefill else {}),
    }


def _prefill(spec: ServiceSpec, months: pa.Table) -> dict[str, Any]:
    """With prefill: the prompt tokens served and those that took prefill work (not cached)."""
    served = float(np.sum(months["input_tokens_served"].to_numpy()))
    cached = spec.demand.cached_input_share
    return {"prefill": {"cached_input_share": cached, "input_tokens_served": served,
                        "prompt_tokens_prefilled": served * (1.0 - cached)}}


def gpu_split(summary_services: list[dict[str, Any]], allocated_gpu_hours: float) -> dict[str, float]:
    """GPU-hours for serving (of which replicas warming up) vs training over the run."""
    serving = sum(service["gpu_hours"] for service in summary_services)
    return {"serving_gpu_hours": serving,
            "serving_warmup_gpu_hours": sum(service["warmup_gpu_hours"] for service in summary_services),
            "training_gpu_hours": allocated_gpu_hours - serving,
            "serving_share_of_allocated": serving / allocated_gpu_hours if allocated_gpu_hours else 0.0}



def served_tokens(serving: ServingResults | None) -> dict[str, tuple[float, float, float]]:
    """(output tokens served, input tokens served, output tokens dropped) per service (a service
    split across providers sums its replica sets `NAME@PROVIDER`)."""
    if serving is None:
        return {}
    months = serving.monthly
    name = np.array([base_service(service) for service in months["service"].to_pylist()], dtype=object)
    out = {}
    for service in dict.fromkeys(name.tolist()):
        mine = name == service
        out[service] = tuple(float(months[column].to_numpy()[mine].sum()) for column in (
            "output_tokens_served", "input_tokens_served", "output_tokens_dropped"))
    return out
