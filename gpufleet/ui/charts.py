"""Charts as page fragments: the report's figures with the report's layout, and the few
the report has no need for (one job's timeline, money across runs, a plan's candidates).
plotly.js is loaded once by the page; each chart is its own div."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

import plotly.graph_objects as go
import plotly.io as pio
import pyarrow as pa
from plotly.subplots import make_subplots

from gpufleet.report.html import resample
from gpufleet.results.run_result import RunResult

CONFIG = {"displaylogo": False, "responsive": True}
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
           "#17becf")


def chart_html(figure: go.Figure, div_id: str, height: int = 440) -> str:
    """The figure as a div and the script that draws it (the report's template and margins)."""
    figure.update_layout(template="plotly_white", height=height, margin={"t": 60, "b": 40})
    return str(pio.to_html(figure, full_html=False, include_plotlyjs=False, div_id=div_id, config=CONFIG))


def _when(start: datetime, seconds: float) -> datetime:
    return start + timedelta(seconds=seconds)


def _finite(value: Any) -> bool:  # noqa: ANN401 - a cell of any type
    return isinstance(value, int | float) and math.isfinite(value)


def job_timeline(row: dict[str, Any], start: datetime, horizon_s: float, context: pa.Table,
                 describe: dict[str, str]) -> go.Figure:
    """One job: each reason it waited for (as it changed), when it ran, its reservation and
    time limit, and under it the fleet's free GPUs a waiting job could start on against
    what the job asks for."""
    figure = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.42, 0.58], vertical_spacing=0.1,
                           subplot_titles=("What the job did", "The fleet meanwhile"))
    history = row.get("reasons") or []
    first_start = row.get("start_s") if _finite(row.get("start_s")) else None
    end = row.get("end_s") if _finite(row.get("end_s")) else horizon_s
    waiting_until = first_start if first_start is not None else horizon_s
    colors: dict[str, str] = {}
    for index, entry in enumerate(history):
        begin = entry["t_s"]
        if begin >= waiting_until:
            break
        stop = min(history[index + 1]["t_s"] if index + 1 < len(history) else waiting_until, waiting_until)
        reason = entry["reason"]
        color = colors.setdefault(reason, PALETTE[(len(colors) + 1) % len(PALETTE)])
        figure.add_trace(go.Scatter(x=[_when(start, begin), _when(start, stop)], y=["waiting", "waiting"],
                                    mode="lines", line={"width": 18, "color": color}, name=f"waiting: {reason}",
                                    legendgroup=reason, showlegend=reason not in [t.legendgroup for t in figure.data],
                                    hovertemplate=f"{describe.get(reason, reason)}<br>%{{x}}<extra></extra>"),
                         row=1, col=1)
    if first_start is not None:
        figure.add_trace(go.Scatter(x=[_when(start, first_start), _when(start, end)], y=["running", "running"],
                                    mode="lines", line={"width": 18, "color": PALETTE[0]},
                                    name="from its first start to its end" if _finite(row.get("end_s"))
                                    else "from its first start (still running at the end of the run)",
                                    hovertemplate="%{x}<extra>running</extra>"), row=1, col=1)
    marks = [("submitted", row.get("submit_s"), "circle"), ("reservation: planned start", row.get("reserved_s"),
                                                            "diamond")]
    limit = row.get("time_limit_s")
    if first_start is not None and _finite(limit) and first_start + limit <= horizon_s:
        marks.append(("time limit", first_start + limit, "x"))
    for name, seconds, symbol in marks:
        if _finite(seconds) and seconds <= horizon_s:  # a reservation past the run's end is not on its axis
            figure.add_trace(go.Scatter(x=[_when(start, seconds)], y=["waiting" if name != "time limit" else
                                                                       "running"], mode="markers", name=name,
                                        marker={"symbol": symbol, "size": 12, "color": "#333"}), row=1, col=1)
    later = [entry for entry in history if first_start is not None and entry["t_s"] >= first_start]
    if later:
        figure.add_trace(go.Scatter(x=[_when(start, e["t_s"]) for e in later], y=["running"] * len(later),
                                    mode="markers", name="stopped, waiting again",
                                    text=[describe.get(e["reason"], e["reason"]) for e in later],
                                    marker={"symbol": "triangle-down", "size": 12, "color": PALETTE[3]},
                                    hovertemplate="%{text}<br>%{x}<extra></extra>"), row=1, col=1)
    if context.num_rows:
        times = [_when(start, t) for t in context["t_s"].to_pylist()]
        if "startable_gpus" in context.column_names:
            figure.add_trace(go.Scatter(x=times, y=context["startable_gpus"].to_pylist(), line={"shape": "hv"},
                                        name="free GPUs a waiting job could start on"), row=2, col=1)
        if "queued_gpus" in context.column_names:
            figure.add_trace(go.Scatter(x=times, y=context["queued_gpus"].to_pylist(), line={"dash": "dot"},
                                        name="GPUs the queue asks for"), row=2, col=1)
        figure.add_trace(go.Scatter(x=[times[0], times[-1]], y=[row.get("gpus"), row.get("gpus")],
                                    line={"dash": "dash", "color": "#333"}, mode="lines",
                                    name=f"this job asks for {row.get('gpus'):,} GPUs"), row=2, col=1)
    figure.update_yaxes(title_text="GPUs", row=2, col=1)
    figure.update_layout(title=f"Job {row.get('job_id')}: {row.get('name')}", hovermode="closest",
                         legend={"orientation": "h", "y": -0.12})
    return figure


def capacity_compare(results: dict[str, RunResult]) -> go.Figure:
    """Installed and allocated GPUs of each run (daily means when long, as the report draws them)."""
    figure = go.Figure()
    for index, (name, result) in enumerate(results.items()):
        series = resample(result)
        color = PALETTE[index % len(PALETTE)]
        figure.add_trace(go.Scatter(x=series["time"], y=series["installed_gpus"], name=f"{name}: installed",
                                    line={"shape": "hv", "dash": "dot", "color": color}))
        figure.add_trace(go.Scatter(x=series["time"], y=series["allocated_gpus"], name=f"{name}: allocated",
                                    line={"width": 1, "color": color}))
    figure.update_layout(title="Capacity: installed and allocated GPUs", yaxis_title="GPUs", hovermode="x unified")
    return figure


def money_compare(results: dict[str, RunResult]) -> go.Figure:
    """Cumulative billed and used dollars by month of each run (the commitment, where there is one)."""
    figure = go.Figure()
    for index, (name, result) in enumerate(results.items()):
        ledger = result.ledger
        months = [str(m)[:7] for m in ledger["month"].to_pylist()]
        color = PALETTE[index % len(PALETTE)]
        figure.add_trace(go.Scatter(x=months, y=ledger["cumulative_billed_usd"].to_pylist(),
                                    name=f"{name}: billed", line={"color": color}))
        figure.add_trace(go.Scatter(x=months, y=ledger["cumulative_used_usd"].to_pylist(),
                                    name=f"{name}: used", line={"color": color, "dash": "dot"}))
        if "contract_value_usd" in result.summary.get("money", {}):
            figure.add_trace(go.Scatter(x=months, y=ledger["cumulative_committed_usd"].to_pylist(),
                                        name=f"{name}: committed", line={"color": color, "dash": "dash",
                                                                          "width": 1}))
    figure.update_layout(title="Money: cumulative billed (installed) and used (allocated) dollars by month",
                         yaxis_title="USD", hovermode="x unified")
    return figure


def plan_figure(plans: list[dict[str, Any]], target: str, metric_label: str) -> go.Figure:
    """Each plan's cost against its bound on one target: the answer, plans that meet it, misses."""
    figure = go.Figure()
    threshold = _threshold(target)
    for status, color, symbol in (("meets", PALETTE[2], "circle"), ("misses", PALETTE[3], "x"),
                                  ("answer", "#000", "star")):
        chosen = [p for p in plans if p.get("role", p.get("status")) == status]
        points = [(p.get("total_usd"), p.get(f"{target} | bound")) for p in chosen]
        shown = [(cost, bound, p.get("plan")) for (cost, bound), p in zip(points, chosen, strict=True)
                 if _finite(cost) and _finite(bound)]
        if shown:
            figure.add_trace(go.Scatter(x=[s[0] for s in shown], y=[s[1] for s in shown], mode="markers",
                                        name=status, text=[s[2] for s in shown],
                                        marker={"color": color, "symbol": symbol, "size": 14 if status == "answer"
                                                else 9},
                                        hovertemplate="%{text}<br>cost %{x:$,.0f}<br>bound %{y}<extra></extra>"))
    if threshold is not None:
        figure.add_hline(y=threshold, line_dash="dash", annotation_text=target)
    figure.update_layout(title=f"Plans: cost against the bound on {metric_label}", xaxis_title="cost (USD)",
                         yaxis_title=metric_label)
    return figure


def _threshold(target: str) -> float | None:
    for operator in ("<=", ">="):
        if operator in target:
            try:
                return float(target.split(operator)[1].strip().split()[0])
            except (ValueError, IndexError):
                return None
    return None
