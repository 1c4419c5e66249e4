"""Replications for a person: terminal tables of mean and 95% interval per metric, and an
HTML report whose charts show the bands across seeds (time series from the run store)."""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
import pyarrow.parquet as pq
from rich.markup import escape
from rich.table import Table

from gpufleet.catalog.size_class import LABELS
from gpufleet.plan.replicate import Replicated
from gpufleet.report.metric_format import metric_interval, metric_value
from gpufleet.results.metrics import HEADLINE
from gpufleet.results.replications import Estimate, estimate


def _groups(estimates: dict[str, Estimate]) -> list[tuple[str, list[str]]]:
    names = list(estimates)
    by_class = [n for n in names if n.startswith(("wait_mean_h[", "wait_p95_h["))]
    by_class.sort(key=lambda n: (LABELS.index(n.split("[")[1][:-1]) if n.split("[")[1][:-1] in LABELS else 99, n))
    serving = [n for n in names if n.startswith("serving_")]
    money = [n for n in names if n.endswith("_usd") or n.startswith("commitment_") or n == "used_share_of_billed"]
    named = [n for n in names if n.startswith(("wait_days[", "start_day[", "finish_day["))]
    headline = [n for n in HEADLINE if n in estimates and n not in money and n not in serving]
    other = [n for n in names if n not in set(by_class + serving + money + named + headline)]
    return [("Headline", headline + other), ("Wait by job size (GPUs)", by_class), ("Serving", serving),
            ("Money", money), ("Named jobs (days from the start)", named)]


def replication_tables(replicated: Replicated) -> list[Table]:
    """Every metric: mean with its 95% interval, min and max, and how many runs had it."""
    summary = replicated.summary()
    estimates = summary.estimates()
    tables = []
    for title, names in _groups(estimates):
        names = [name for name in names if estimates[name].n]
        if not names:
            continue
        table = Table(title=f"{title}: mean [95% CI, Student t] over {summary.replications} replications",
                      title_justify="left")
        for column in ("metric", "mean [95% CI]", "min", "max", "runs"):
            table.add_column(column, justify="left" if column == "metric" else "right")
        for name in names:
            est = estimates[name]
            runs = f"{est.n}" + (f" ({est.missing} without)" if est.missing else "")
            table.add_row(escape(name), metric_interval(name, est.mean, est.low, est.high),
                          metric_value(name, est.minimum), metric_value(name, est.maximum), runs)
        tables.append(table)
    return tables


def _daily(replicated: Replicated, column: str) -> tuple[np.ndarray, list[np.ndarray]]:
    """Each run's daily mean of an hourly column, on the days they share."""
    series = []
    for record in replicated.ok:
        table = pq.read_table(replicated.store.table_path(record.key, "timeseries"),
                              columns=["time", "interval_s", column])
        time = table["time"].to_numpy().astype("datetime64[D]")
        weights = table["interval_s"].to_numpy()
        days, index = np.unique(time, return_inverse=True)
        total = np.bincount(index, weights=weights)
        values = np.bincount(index, weights=table[column].to_numpy() * weights) / np.where(total > 0, total, 1)
        series.append((days, values))
    if not series:
        return np.zeros(0, dtype="datetime64[D]"), []
    length = min(len(days) for days, _ in series)
    return series[0][0][:length], [values[:length] for _, values in series]


def _band_figure(title: str, x: np.ndarray, runs: list[np.ndarray], y_title: str, percent: bool = False) -> go.Figure:
    figure = go.Figure()
    if runs:
        stacked = np.vstack(runs)
        low, high = stacked.min(axis=0), stacked.max(axis=0)
        bands = [estimate(list(column)) for column in stacked.T]
        mean = np.array([b.mean for b in bands])
        ci_low = np.array([b.low if b.low is not None else b.mean for b in bands])
        ci_high = np.array([b.high if b.high is not None else b.mean for b in bands])
        for upper, lower, name, opacity in ((high, low, "min-max over seeds", 0.15),
                                            (ci_high, ci_low, "95% CI of the mean", 0.35)):
            figure.add_trace(go.Scatter(x=x, y=upper, line={"width": 0}, showlegend=False, hoverinfo="skip"))
            figure.add_trace(go.Scatter(x=x, y=lower, fill="tonexty", line={"width": 0}, name=name,
                                        fillcolor=f"rgba(31,119,180,{opacity})"))
        figure.add_trace(go.Scatter(x=x, y=mean, name="mean over seeds", line={"width": 2, "color": "#1f77b4"}))
    figure.update_layout(title=title, yaxis_title=y_title, hovermode="x unified")
    if percent:
        figure.update_layout(yaxis_tickformat=".0%")
    return figure


def _class_figure(estimates: dict[str, Estimate]) -> go.Figure:
    figure = go.Figure()
    for stat, name in (("wait_mean_h", "mean wait"), ("wait_p95_h", "p95 wait")):
        labels = [label for label in LABELS if f"{stat}[{label}]" in estimates and
                  estimates[f"{stat}[{label}]"].mean is not None]
        est = [estimates[f"{stat}[{label}]"] for label in labels]
        means = [e.mean for e in est]
        figure.add_trace(go.Bar(x=labels, y=means, name=name, error_y={
            "type": "data", "symmetric": False,
            "array": [(e.high - e.mean) if e.high is not None else 0 for e in est],
            "arrayminus": [(e.mean - e.low) if e.low is not None else 0 for e in est]}))
    figure.update_layout(title="Wait by job size: mean over seeds with the 95% interval", yaxis_title="hours",
                         xaxis_title="GPUs", barmode="group")
    return figure


def _seed_figure(replicated: Replicated, names: list[str]) -> go.Figure:
    figure = go.Figure()
    for name in names:
        values = [r.metrics.get(name) for r in replicated.ok]
        seeds = [r.seed for r in replicated.ok]
        est = estimate(values)
        if est.mean is None:
            continue
        scaled = [v / est.mean if v is not None and est.mean else None for v in values]
        figure.add_trace(go.Scatter(x=[name] * len(values), y=scaled, mode="markers", name=name,
                                    text=[f"seed {s}: {metric_value(name, v)}" for s, v in zip(seeds, values,
                                                                                            strict=True)],
                                    hovertemplate="%{text}<extra></extra>", showlegend=False))
    figure.update_layout(title="Spread over seeds: each run's value / the mean", yaxis_title="x mean")
    return figure


def _html_table(replicated: Replicated) -> str:
    estimates = replicated.summary().estimates()
    parts = []
    for title, names in _groups(estimates):
        names = [name for name in names if estimates[name].n]
        if not names:
            continue
        rows = "".join(
            f"<tr><td>{html.escape(n)}</td><td>{html.escape(metric_interval(n, e.mean, e.low, e.high))}</td>"
            f"<td>{html.escape(metric_value(n, e.minimum))}</td><td>{html.escape(metric_value(n, e.maximum))}</td>"
            f"<td>{e.n}</td></tr>" for n, e in ((n, estimates[n]) for n in names))
        parts.append(f"<h3>{html.escape(title)}</h3><table><tr><th>metric</th><th>mean [95% CI]</th><th>min</th>"
                     f"<th>max</th><th>runs</th></tr>{rows}</table>")
    return "".join(parts)


_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1200px; color: #222; }
table { border-collapse: collapse; margin: 1rem 0; }
th, td { border-bottom: 1px solid #ddd; padding: 0.3rem 0.8rem; text-align: left; }
.note { color: #666; font-size: 0.9rem; }
"""


def render(replicated: Replicated) -> str:
    """The replications report: metrics with intervals, and bands over seeds."""
    summary = replicated.summary()
    estimates = summary.estimates()
    x, utilisation = _daily(replicated, "utilisation")
    _, allocated = _daily(replicated, "allocated_gpus")
    _, queued = _daily(replicated, "queued_gpus")
    figures = [_band_figure("Utilisation by day across seeds", x, utilisation, "utilisation", percent=True),
               _band_figure("Allocated GPUs by day across seeds", x, allocated, "GPUs"),
               _band_figure("Queued GPU demand by day across seeds", x, queued, "GPUs"),
               _class_figure(estimates),
               _seed_figure(replicated, [n for n in HEADLINE if n in estimates])]
    charts = []
    for index, figure in enumerate(figures):
        figure.update_layout(template="plotly_white", height=420, margin={"t": 60, "b": 40})
        charts.append(pio.to_html(figure, full_html=False, include_plotlyjs=index == 0, div_id=f"chart-{index}",
                                  config={"displaylogo": False}))
    failed = "".join(f"<li>seed {r.seed}: {html.escape((r.error or '').splitlines()[0])}</li>"
                     for r in replicated.failed)
    title = f"gpufleet: {replicated.scenario.name}, {summary.replications} replications"
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>{html.escape(title)}</title><style>{_STYLE}</style></head>
<body>
<h1>{html.escape(title)}</h1>
<p>{html.escape(replicated.scenario.description)}</p>
<p class="note">Seeds {', '.join(map(str, summary.seeds))}{'; to ' + summary.until[:10] if summary.until else ''}.
Every number is the mean over the replications with a two-sided 95% confidence interval from Student's t
(n - 1 degrees of freedom); bands show the interval of the daily mean and the range over seeds.</p>
{f'<p>Failed runs:</p><ul>{failed}</ul>' if failed else ''}
{''.join(charts)}
<h2>Every metric</h2>
{_html_table(replicated)}
</body></html>
"""


def write_replication_report(replicated: Replicated, path: str | Path) -> None:
    Path(path).write_text(render(replicated), encoding="utf-8")

