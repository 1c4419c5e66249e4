"""The comparison report: variants of one workload side by side, on one self-contained page."""

from __future__ import annotations

import html
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio

from gpufleet.catalog.size_class import LABELS
from gpufleet.report.format import in_unit, time_unit
from gpufleet.report.series import ecdf, resample

if TYPE_CHECKING:
    from gpufleet.results.compare import Comparison


def wait_cdf(comparison: Comparison) -> go.Figure:
    figure = go.Figure()
    waits = {}
    for variant in comparison.variants:
        wait_h = variant.result.jobs["wait_s"].to_numpy() / 3600.0
        waits[variant.name] = wait_h[~np.isnan(wait_h)]
    unit, scale = time_unit(float(wait.max()) for wait in waits.values() if len(wait))
    for name, wait_h in waits.items():
        if len(wait_h):
            x, y = ecdf(np.maximum(wait_h, 1 / 3600) / scale)
            figure.add_trace(go.Scatter(x=x, y=y, name=name, line={"shape": "hv"}))
    figure.update_layout(title="Wait before start, all jobs (CDF; under a second shown at 1 s)", xaxis_type="log",
                         xaxis_title=unit, yaxis_tickformat=".0%")
    return figure


def by_group(comparison: Comparison, by: str, metric: str, stat: str, title: str) -> go.Figure:
    rows = comparison.grouped(by)
    groups = [label for label in LABELS if any(row[by] == label for row in rows)] if by == "size_class" \
        else sorted({row[by] for row in rows})
    unit, scale = time_unit(row[f"{metric}_{stat}"] for row in rows)
    figure = go.Figure()
    for variant in comparison.variants:
        values = {row[by]: row[f"{metric}_{stat}"] for row in rows if row["variant"] == variant.name}
        figure.add_trace(go.Bar(x=groups, y=[None if values.get(group) is None else values[group] / scale
                                             for group in groups], name=variant.name))
    figure.update_layout(title=title, barmode="group", yaxis_title=unit, yaxis_type="log")
    return figure


def over_time(comparison: Comparison, column: str, title: str, percent: bool = False) -> go.Figure:
    figure = go.Figure()
    for variant in comparison.variants:
        series = resample(variant.result)
        figure.add_trace(go.Scatter(x=series["time"], y=series[column], name=variant.name, line={"width": 1}))
    figure.update_layout(title=title, hovermode="x unified")
    if percent:
        figure.update_layout(yaxis_tickformat=".0%")
    return figure


def _table(rows: list[dict[str, Any]]) -> str:
    columns = [("variant", "variant"), ("mean wait", "wait_mean_h"), ("p95 wait", "wait_p95_h"),
               ("p99 wait", "wait_p99_h"), ("mean JCT", "jct_mean_h"), ("p50 JCT", "jct_p50_h"),
               ("p95 JCT", "jct_p95_h"), ("p99 JCT", "jct_p99_h"), ("utilisation", "utilisation"),
               ("preemptions", "preemptions"), ("GPU-h lost", "lost_gpu_hours")]
    head = "".join(f"<th>{name}</th>" for name, _ in columns)
    units = {key: time_unit(row[key] for row in rows) for _, key in columns if key.endswith("_h")}
    body = ""
    for row in rows:
        cells = []
        for _, key in columns:
            value = row[key]
            if key.endswith("_h"):
                cells.append(in_unit(value, units[key]))
            elif key == "utilisation":
                cells.append(f"{value:.1%}")
            elif isinstance(value, float):
                cells.append(f"{value:,.0f}")
            else:
                cells.append(f"{value:,}" if isinstance(value, int) else str(value))
        body += "<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in cells) + "</tr>"
    return f"<table><tr>{head}</tr>{body}</table>"


_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1200px; color: #222; }
table { border-collapse: collapse; margin: 1rem 0; }
th, td { border-bottom: 1px solid #ddd; padding: 0.3rem 0.8rem; text-align: left; }
"""


def render(comparison: Comparison) -> str:
    figures = [
        wait_cdf(comparison),
        by_group(comparison, "size_class", "jct", "mean_h", "Mean job completion time by size (GPUs)"),
        by_group(comparison, "size_class", "wait", "p95_h", "95th percentile wait by size (GPUs)"),
        over_time(comparison, "utilisation", "Utilisation", percent=True),
        over_time(comparison, "queued_jobs", "Jobs waiting"),
        over_time(comparison, "unusable_gpus", "Free GPUs unusable by the smallest waiting job (fragmentation)"),
    ]
    if len({row["queue"] for row in comparison.grouped("queue")}) > 1:
        figures.append(by_group(comparison, "queue", "wait", "mean_h", "Mean wait by queue"))
    charts = []
    for index, figure in enumerate(figures):
        figure.update_layout(template="plotly_white", height=420, margin={"t": 60, "b": 40})
        charts.append(pio.to_html(figure, full_html=False, include_plotlyjs=index == 0,
                                  div_id=f"chart-{index}", config={"displaylogo": False}))
    name = html.escape(comparison.scenario.name)
    seed = comparison.variants[0].result.seed if comparison.variants else "-"
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>gpufleet: compare {name}</title><style>{_STYLE}</style></head>
<body>
<h1>gpufleet: {name}, compared</h1>
<p>Every variant runs the same jobs (seed {seed}); only the queue policy or placement differs.</p>
{_table(comparison.overall())}
{''.join(charts)}
</body></html>
"""


def write_comparison_report(comparison: Comparison, path: str | Path) -> None:
    Path(path).write_text(render(comparison), encoding="utf-8")
