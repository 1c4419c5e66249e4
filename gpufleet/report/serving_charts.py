"""Report charts and table about inference services: demand against serving capacity over
the busiest day and over the horizon, the GPU split between serving and training, SLO
attainment and cost per million tokens by month."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

import numpy as np
import plotly.graph_objects as go
import pyarrow.compute as pc

from gpufleet.report.format import rate, usd

if TYPE_CHECKING:
    from gpufleet.results.run_result import RunResult

DAY_S = 86400.0


def _service_columns(result: RunResult, name: str) -> dict[str, np.ndarray]:
    assert result.serving is not None
    table = result.serving.intervals.filter(pc.equal(result.serving.intervals["service"], name))
    columns = {column: table[column].to_numpy() for column in (
        "start_s", "end_s", "demand_rps", "output_tokens_per_request", "capacity_tokens_per_s",
        "served_output_tokens", "ready_replicas", "held_gpus")}
    duration = columns["end_s"] - columns["start_s"]
    columns["demand_tps"] = columns["demand_rps"] * columns["output_tokens_per_request"]
    columns["served_tps"] = np.divide(columns["served_output_tokens"], duration, out=np.zeros_like(duration),
                                      where=duration > 0)
    columns["duration"] = duration
    return columns


def _times(result: RunResult, seconds: np.ndarray) -> np.ndarray:
    return np.datetime64(result.scenario.start, "s") + seconds.astype("timedelta64[s]")


def busiest_day_figure(result: RunResult) -> go.Figure:
    """Each service's busiest day at decision resolution: demand, capacity and tokens served."""
    assert result.serving is not None
    figure = go.Figure()
    for service in result.serving.services:
        columns = _service_columns(result, service["name"])
        day = ((columns["start_s"] + _offset(result)) // DAY_S).astype(np.int64)
        per_day = np.bincount(day - day.min(), weights=columns["demand_tps"] * columns["duration"])
        busiest = int(np.argmax(per_day)) + int(day.min())
        mine = day == busiest
        when = _times(result, columns["start_s"][mine])
        name = service["name"]
        figure.add_trace(go.Scatter(x=when, y=columns["demand_tps"][mine], name=f"{name}: demand",
                                    line={"shape": "hv"}))
        figure.add_trace(go.Scatter(x=when, y=columns["capacity_tokens_per_s"][mine],
                                    name=f"{name}: capacity (ready replicas)", line={"shape": "hv", "dash": "dot"}))
        figure.add_trace(go.Scatter(x=when, y=columns["served_tps"][mine], name=f"{name}: served",
                                    line={"shape": "hv", "width": 1}))
    figure.update_layout(title="Busiest day: output tokens/s asked for, capacity of ready replicas, served",
                         yaxis_title="output tokens/s")
    return figure


def horizon_figure(result: RunResult) -> go.Figure:
    """Daily mean and peak demand against daily mean capacity, over the whole run."""
    assert result.serving is not None
    figure = go.Figure()
    for service in result.serving.services:
        columns = _service_columns(result, service["name"])
        day = ((columns["start_s"] + _offset(result)) // DAY_S).astype(np.int64)
        first = int(day.min())
        index = day - first
        seconds = np.bincount(index, weights=columns["duration"])
        used = seconds > 0
        mean_demand = np.bincount(index, weights=columns["demand_tps"] * columns["duration"])[used] / seconds[used]
        capacity = np.bincount(index, weights=columns["capacity_tokens_per_s"] * columns["duration"])[used] \
            / seconds[used]
        peak = np.full(len(seconds), -np.inf)
        np.maximum.at(peak, index, columns["demand_tps"])
        offsets = (np.flatnonzero(used) + first).astype("timedelta64[D]")
        days = np.datetime64(result.scenario.start.date(), "D") + offsets
        name = service["name"]
        figure.add_trace(go.Scatter(x=days, y=peak[used], name=f"{name}: peak demand", line={"width": 1}))
        figure.add_trace(go.Scatter(x=days, y=mean_demand, name=f"{name}: mean demand"))
        figure.add_trace(go.Scatter(x=days, y=capacity, name=f"{name}: mean capacity", line={"dash": "dot"}))
    figure.update_layout(title="Serving demand and capacity per day (output tokens/s)", yaxis_title="output tokens/s")
    return figure


def gpu_split_figure(result: RunResult) -> go.Figure:
    """Mean GPUs per month: serving, training, idle (installed minus both)."""
    series = result.timeseries
    month = series["time"].to_numpy().astype("datetime64[M]")
    seconds = series["interval_s"].to_numpy()
    months, index = np.unique(month, return_inverse=True)
    total = np.bincount(index, weights=seconds)

    def mean(column: str) -> np.ndarray:
        return np.bincount(index, weights=series[column].to_numpy() * seconds) / total

    serving, training, installed = mean("serving_gpus"), mean("training_gpus"), mean("installed_gpus")
    labels = months.astype(str)
    figure = go.Figure([go.Bar(x=labels, y=serving, name="serving"), go.Bar(x=labels, y=training, name="training"),
                        go.Bar(x=labels, y=np.maximum(installed - serving - training, 0.0), name="idle")])
    figure.update_layout(title="GPUs by use, monthly mean", barmode="stack", yaxis_title="GPUs", xaxis_type="category")
    return figure


def slo_cost_figure(result: RunResult) -> go.Figure:
    """Monthly SLO attainment (left axis) and cost per million output tokens (right axis)."""
    assert result.serving is not None
    months = result.serving.monthly
    figure = go.Figure()
    lowest = float(np.min(months["slo_attainment"].to_numpy())) if months.num_rows else 1.0
    for name in sorted(set(months["service"].to_pylist())):
        mine = months.filter(pc.equal(months["service"], name))
        figure.add_trace(go.Scatter(x=mine["month"].to_pylist(), y=mine["slo_attainment"].to_numpy(),
                                    name=f"{name}: SLO attainment", mode="lines+markers"))
        figure.add_trace(go.Bar(x=mine["month"].to_pylist(), y=mine["usd_per_million_output_tokens"].to_numpy(),
                                name=f"{name}: $ per million output tokens", yaxis="y2", opacity=0.4))
    figure.update_layout(title="SLO attainment (share of requests starting within the wait target) and cost per "
                         "million output tokens, by month", xaxis_type="category",
                         yaxis={"tickformat": ".1%", "title": "attainment", "range": [min(lowest - 0.01, 0.95), 1.002]},
                         yaxis2={"overlaying": "y", "side": "right", "title": "$ / M tokens", "showgrid": False,
                                 "rangemode": "tozero"})
    return figure


def service_table(result: RunResult) -> str:
    """One row per service: demand, SLO, tokens, GPUs, cost, and what it did to training."""
    assert result.serving is not None
    head = "".join(f"<th>{c}</th>" for c in ("service", "sharing", "mean req/s", "SLO attainment", "mean wait",
                                             "tokens served", "tokens dropped", "mean / peak GPUs", "GPU-hours",
                                             "$ / M tokens", "training jobs preempted", "replicas lost"))
    body = ""
    for service in result.serving.services:
        cost = service["usd_per_million_output_tokens"]
        lost = sum(service["replicas_lost"].values())
        cells = [service["name"], service["sharing"], rate(service["demand"]["requests_per_s"]),
                 f"{service['slo_attainment']:.2%}", f"{service['mean_wait_s']:.3f} s",
                 f"{service['output_tokens_served']:.3g}", f"{service['output_tokens_dropped']:.3g}",
                 f"{service['mean_gpus']:,.0f} / {service['peak_gpus']:,.0f}", f"{service['gpu_hours']:,.0f}",
                 usd(cost) if cost is not None else "-", f"{service['training_jobs_preempted']:,}", f"{lost:,}"]
        body += "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>"
    return f"<table><tr>{head}</tr>{body}</table>"


def _offset(result: RunResult) -> int:
    """Seconds from midnight to the scenario start (days are calendar days, UTC)."""
    start = result.scenario.start
    return start.hour * 3600 + start.minute * 60 + start.second
