"""Characterise a trace: counts, arrival rate by hour and weekday, sizes, run times, GPU time, outcomes.

Every function returns a JSON-ready dict (plain floats, ints, strings, lists), which the
CLI renders as rich tables, JSON and an HTML page.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from gpufleet.catalog.size_class import LABELS as SIZE_LABELS
from gpufleet.catalog.size_class import size_class
from gpufleet.traces.openb import NodeList
from gpufleet.traces.tables import JobTrace, RequestTrace

QUANTILES = {"p10": 0.10, "p25": 0.25, "median": 0.50, "p75": 0.75, "p90": 0.90, "p99": 0.99}
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
THURSDAY = 3  # 1970-01-01, day 0 of calendar (epoch) times
HOUR_S, DAY_S, WEEK_S = 3600.0, 86400.0, 7 * 86400.0


def quantiles(values: np.ndarray) -> dict[str, float | int | None]:
    """Count, min, p10..p99, max and mean of the finite values (None when there are none)."""
    finite = values[np.isfinite(values)]
    if not len(finite):
        return {"count": 0, "min": None, **dict.fromkeys(QUANTILES), "max": None, "mean": None}
    points = np.quantile(finite, list(QUANTILES.values()))
    return {"count": int(len(finite)), "min": float(finite.min()),
            **{name: float(value) for name, value in zip(QUANTILES, points, strict=True)},
            "max": float(finite.max()), "mean": float(finite.mean())}


def distribution(values: np.ndarray, points: int = 101) -> dict[str, list[float]] | None:
    """The empirical quantile function at `points` evenly spaced probabilities (for plots)."""
    finite = values[np.isfinite(values)]
    if not len(finite):
        return None
    p = np.linspace(0.0, 1.0, points)
    return {"p": [round(float(x), 4) for x in p], "value": [float(x) for x in np.quantile(finite, p)]}


def bin_exposure(first: float, last: float, width: float, bins: int, offset: int = 0) -> np.ndarray:
    """Seconds of [first, last] that fall in each bin of a repeating clock.

    The bin of time t is (floor(t / width) + offset) mod bins: hour of day with width
    3600 and 24 bins; weekday with width 86400, 7 bins and offset THURSDAY.
    """
    exposure = np.zeros(bins)
    if not last > first:
        return exposure
    period = width * bins
    whole = math.floor((last - first) / period)
    exposure += whole * width
    t = first + whole * period
    for _ in range(bins + 1):  # what is left is less than one period
        if not t < last:
            break
        index = math.floor(t / width)
        step_end = min((index + 1) * width, last)
        if step_end <= t:  # times so large that a bin's edge rounds onto them
            break
        exposure[(index + offset) % bins] += step_end - t
        t = step_end
    return exposure


def arrival_profile(times: np.ndarray, calendar: bool) -> dict[str, Any]:
    """Arrivals and mean arrival rate by hour of day and by weekday over the trace's span.

    For a trace without calendar dates, hours count from its origin (hour 0 = the
    origin's hour) and weekdays are days since the origin modulo 7.
    """
    times = times[np.isfinite(times)]
    if not len(times):
        return {"by_hour": None, "by_weekday": None}
    first, last = float(times.min()), float(times.max())
    hour = (np.floor(times / HOUR_S) % 24).astype(np.int64)
    offset = THURSDAY if calendar else 0
    day = ((np.floor(times / DAY_S)).astype(np.int64) + offset) % 7
    hour_counts = np.bincount(hour, minlength=24)
    day_counts = np.bincount(day, minlength=7)
    hour_exposure = bin_exposure(first, last, HOUR_S, 24) / HOUR_S
    day_exposure = bin_exposure(first, last, DAY_S, 7, offset) / DAY_S
    return {
        "by_hour": {
            "hour": list(range(24)),
            "arrivals": hour_counts.tolist(),
            "observed_hours": [round(float(value), 6) for value in hour_exposure],
            "rate_per_hour": _rates(hour_counts, hour_exposure),
        },
        "by_weekday": {
            "day": list(WEEKDAYS) if calendar else [f"day {k}" for k in range(7)],
            "arrivals": day_counts.tolist(),
            "observed_days": [round(float(value), 6) for value in day_exposure],
            "rate_per_day": _rates(day_counts, day_exposure),
        },
    }


def _rates(counts: np.ndarray, exposure: np.ndarray) -> list[float | None]:
    return [float(count / seen) if seen > 0 else None for count, seen in zip(counts, exposure, strict=True)]


def span(times: np.ndarray, calendar: bool) -> dict[str, Any]:
    """First and last time, the span in seconds and days (and dates for calendar traces)."""
    times = times[np.isfinite(times)]
    if not len(times):
        return {"first_s": None, "last_s": None, "seconds": 0.0, "days": 0.0}
    first, last = float(times.min()), float(times.max())
    out: dict[str, Any] = {"first_s": first, "last_s": last, "seconds": last - first, "days": (last - first) / DAY_S}
    if calendar:
        out["first"] = _iso(first)
        out["last"] = _iso(last)
    return out


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).replace(tzinfo=None).isoformat(timespec="milliseconds")


def counts(column: pa.ChunkedArray | None, weights: np.ndarray | None = None) -> list[dict[str, Any]] | None:
    """Values of a text column with their counts and shares (and weight sums), most common first."""
    if column is None:
        return None
    filled = pc.fill_null(column, "(empty)")
    table = pa.table({"value": filled, "weight": weights if weights is not None else np.zeros(len(column))})
    grouped = table.group_by("value").aggregate([("value", "count"), ("weight", "sum")])
    rows = sorted(zip(grouped["value"].to_pylist(), grouped["value_count"].to_pylist(),
                      grouped["weight_sum"].to_pylist(), strict=True), key=lambda row: (-row[1], row[0]))
    total = len(column)
    total_weight = float(weights.sum()) if weights is not None else 0.0
    out = []
    for value, count, weight in rows:
        row: dict[str, Any] = {"value": value, "count": int(count), "share": count / total if total else 0.0}
        if weights is not None:
            row["gpu_hours"] = float(weight)
            row["gpu_time_share"] = float(weight) / total_weight if total_weight > 0 else 0.0
        out.append(row)
    return out


def job_stats(trace: JobTrace) -> dict[str, Any]:
    """The statistics of a job trace (see the module docstring)."""
    n = len(trace)
    ran = np.isfinite(trace.duration_s)
    out: dict[str, Any] = {"kind": "jobs", "read": trace.report.to_dict(), "jobs": n, "calendar": trace.calendar}
    if trace.has_submit:
        window = span(trace.submit_s, trace.calendar)
        out["span"] = window
        out["rate_per_day"] = n / window["days"] if window["days"] > 0 else None
        out["arrivals"] = arrival_profile(trace.submit_s, trace.calendar)
    gpu_hours = np.where(ran, trace.gpu_share * np.nan_to_num(trace.duration_s), 0.0) / HOUR_S
    if trace.has_gpus:
        gpu_job = trace.gpus >= 1
        values, per_value = np.unique(trace.gpus, return_counts=True)
        out["gpu_jobs"] = int(gpu_job.sum())
        out["cpu_jobs"] = int((trace.gpus == 0).sum())
        out["gpus_per_job"] = {
            "values": values.tolist(),
            "jobs": per_value.tolist(),
            "share": (per_value / n).tolist() if n else [],
            "gpu_jobs_mean": float(trace.gpus[gpu_job].mean()) if gpu_job.any() else None,
            "gpu_jobs_median": float(np.median(trace.gpus[gpu_job])) if gpu_job.any() else None,
            "max": int(trace.gpus.max()) if n else None,
        }
        out["gpu_duration_s"] = quantiles(trace.duration_s[gpu_job])
        out["gpu_time_by_size_class"] = _by_size_class(trace, gpu_job & ran, gpu_hours)
        out["gpu_hours"] = float(gpu_hours.sum())
        sharing = gpu_job & (trace.gpu_share < trace.gpus)
        if sharing.any():
            out["gpu_sharing_jobs"] = int(sharing.sum())
            out["gpu_sharing_gpu_share"] = quantiles(trace.gpu_share[sharing])
    out["duration_s"] = quantiles(trace.duration_s)
    out["never_ran"] = int((~ran).sum())
    if np.isfinite(trace.wait_s).any():
        out["wait_s"] = quantiles(trace.wait_s)
        if trace.has_gpus:
            out["gpu_wait_s"] = quantiles(trace.wait_s[trace.gpus >= 1])
    out["distributions"] = {name: distribution(values) for name, values in (
        ("duration_s", trace.duration_s), ("wait_s", trace.wait_s),
        ("gpu_duration_s", trace.duration_s[trace.gpus >= 1] if trace.has_gpus else np.zeros(0)))}
    weights = gpu_hours if trace.has_gpus else None
    out["outcomes"] = counts(trace.status, weights)
    for name in ("team", "queue", "priority"):
        column = getattr(trace, name)
        if column is not None:
            out[name] = _top(counts(column, weights))
    for name, column in trace.extra.items():
        out[name] = counts(column, weights)
    if trace.flavors is not None:
        out["gpu_type_constrained"] = sum(1 for flavors in trace.flavors if flavors)
    return out


def _top(rows: list[dict[str, Any]] | None, limit: int = 20) -> dict[str, Any] | None:
    if rows is None:
        return None
    return {"distinct": len(rows), "top": rows[:limit]}


def _by_size_class(trace: JobTrace, mask: np.ndarray, gpu_hours: np.ndarray) -> list[dict[str, Any]]:
    labels = size_class(trace.gpus[mask])
    hours = gpu_hours[mask]
    total = float(hours.sum())
    rows = []
    for label in SIZE_LABELS:
        mine = labels == label
        if not mine.any():
            continue
        value = float(hours[mine].sum())
        rows.append({"size_class": label, "jobs": int(mine.sum()), "gpu_hours": value,
                     "gpu_time_share": value / total if total > 0 else 0.0})
    return rows


def request_stats(trace: RequestTrace) -> dict[str, Any]:
    """The statistics of a request trace: count, rate, arrival profile, token quantiles, burstiness."""
    n = len(trace)
    window = span(trace.arrival_s, trace.calendar)
    out: dict[str, Any] = {"kind": "requests", "read": trace.report.to_dict(), "requests": n,
                           "calendar": trace.calendar, "span": window,
                           "rate_per_s": n / window["seconds"] if window["seconds"] > 0 else None,
                           "arrivals": arrival_profile(trace.arrival_s, trace.calendar)}
    for name, values in (("input_tokens", trace.input_tokens), ("output_tokens", trace.output_tokens)):
        out[name] = {**quantiles(values.astype(np.float64)), "total": int(values.sum())}
    gaps = np.diff(np.sort(trace.arrival_s))
    if len(gaps) > 1 and gaps.mean() > 0:
        out["interarrival_s"] = quantiles(gaps)
        out["interarrival_cv"] = float(gaps.std() / gaps.mean())
    out["distributions"] = {"input_tokens": distribution(trace.input_tokens.astype(np.float64)),
                            "output_tokens": distribution(trace.output_tokens.astype(np.float64)),
                            "interarrival_s": distribution(gaps)}
    return out


def node_stats(nodes: NodeList) -> dict[str, Any]:
    """Nodes and GPUs by GPU model and by (model, GPUs per node); CPU-only nodes apart."""
    groups: dict[tuple[str, int], int] = {}
    for model, gpus in zip(nodes.model, nodes.gpus.tolist(), strict=True):
        key = (model or "(CPU only)", gpus)
        groups[key] = groups.get(key, 0) + 1
    by_model: dict[str, dict[str, int]] = {}
    for (model, gpus), count in groups.items():
        row = by_model.setdefault(model, {"nodes": 0, "gpus": 0})
        row["nodes"] += count
        row["gpus"] += count * gpus
    return {
        "kind": "nodes",
        "read": nodes.report.to_dict(),
        "nodes": len(nodes),
        "gpus": int(nodes.gpus.sum()),
        "gpu_nodes": int((nodes.gpus > 0).sum()),
        "cpu_only_nodes": int((nodes.gpus == 0).sum()),
        "by_model": [{"model": model, **row}
                     for model, row in sorted(by_model.items(), key=lambda item: -item[1]["gpus"])],
        "by_shape": [{"model": model, "gpus_per_node": gpus, "nodes": count}
                     for (model, gpus), count in sorted(groups.items(), key=lambda item: (item[0][0], -item[0][1]))],
        "cpu_milli": quantiles(nodes.cpu_milli.astype(np.float64)),
        "memory_mib": quantiles(nodes.memory_mib.astype(np.float64)),
    }
