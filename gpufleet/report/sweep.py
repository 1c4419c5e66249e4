"""A sweep for a person: the terminal table (one row per point) and the HTML report:
each metric against each axis with its 95% interval, and the Pareto frontier of cost
against wait, serving SLO and goodput."""

from __future__ import annotations

import html
import json
from pathlib import Path

import plotly.graph_objects as go
import plotly.io as pio
from rich.markup import escape
from rich.table import Table

from gpufleet.plan.sweep import PARETO, SweepResult
from gpufleet.report.metric_format import metric_plus_minus
from gpufleet.results.metrics import HEADLINE

MAX_LINES = 8
"""Most lines (combinations of the other axes) drawn in one metric-against-axis chart."""


def shown_metrics(result: SweepResult, extra: list[str] | None = None) -> list[str]:
    """The headline metrics the sweep's runs have, plus any asked for."""
    present = {name for point in result.points for row in result.point_metrics(point) for name in row
               if row.get(name) is not None}
    wanted = list(extra or []) + [name for name in HEADLINE if name not in (extra or [])]
    if result.spec.search is not None:
        wanted = [result.spec.search.minimize or result.spec.search.maximize or ""] + wanted
    return [name for name in dict.fromkeys(wanted) if name in present]


def sweep_table(result: SweepResult, metrics: list[str] | None = None) -> Table:
    metrics = metrics or shown_metrics(result)[:4]
    fronts = result.pareto()
    table = Table(title=f"Sweep {result.spec.name}: mean ± half the {result.spec.confidence:.0%} interval "
                        f"(Student t) over {len(result.seeds)} replications",
                  title_justify="left")
    table.add_column("point", justify="right")
    for axis in result.spec.axes:
        table.add_column(escape(axis.label))
    table.add_column("runs")
    for name in metrics:
        table.add_column(escape(name), justify="right")
    table.add_column("Pareto")
    for point in result.points:
        estimates = result.point_estimates(point)
        ok = len(result.point_metrics(point))
        runs = f"{ok}/{len(result.seeds)}" if not point.error else "error"
        cells = [str(point.index), *[escape(_show(point.values[axis.label])) for axis in result.spec.axes], runs]
        for name in metrics:
            est = estimates.get(name)
            cells.append(metric_plus_minus(name, est.mean, est.low, est.high) if est else "-")
        cells.append(", ".join(metric for metric, indexes in fronts.items() if point.index in indexes))
        table.add_row(*cells)
    return table


def _show(value: object) -> str:
    return f"{value:.4g}" if isinstance(value, float) else (value if isinstance(value, str) else json.dumps(value))


def axis_figures(result: SweepResult, metric: str, bands: bool = False) -> list[go.Figure]:
    """The metric against each axis, one line per combination of the other axes, with its interval
    (as error bars; `bands`: as a shaded band where the axis is numeric)."""
    figures = []
    for axis in result.spec.axes:
        others = [a for a in result.spec.axes if a is not axis]
        lines: dict[str, list[tuple[object, float, float, float]]] = {}
        for point in result.points:
            est = result.point_estimates(point).get(metric)
            if est is None or est.mean is None:
                continue
            key = ", ".join(f"{a.label}={_show(point.values[a.label])}" for a in others) or metric
            low = est.low if est.low is not None else est.mean
            high = est.high if est.high is not None else est.mean
            lines.setdefault(key, []).append((point.values[axis.label], est.mean, low, high))
        figure = go.Figure()
        for key, rows in list(lines.items())[:MAX_LINES]:
            numeric = all(isinstance(x, int | float) for x, *_ in rows)
            rows.sort(key=lambda row: row[0] if numeric else str(row[0]))
            x = [row[0] if numeric else _show(row[0]) for row in rows]
            if bands and numeric:
                _add_band(figure, key, x, rows)
                continue
            figure.add_trace(go.Scatter(x=x, y=[r[1] for r in rows], name=key, mode="lines+markers", error_y={
                "type": "data", "symmetric": False, "array": [r[3] - r[1] for r in rows],
                "arrayminus": [r[1] - r[2] for r in rows]}))
        figure.update_layout(title=f"{metric} against {axis.label} (mean, 95% CI)", xaxis_title=axis.label,
                             yaxis_title=metric)
        figures.append(figure)
    return figures


def _add_band(figure: go.Figure, name: str, x: list[object], rows: list[tuple[object, float, float, float]]) -> None:
    """A line of means with its interval as a shaded band (the band in the line's colour)."""
    color = _COLORS[len(figure.data) // 3 % len(_COLORS)]
    figure.add_trace(go.Scatter(x=x, y=[r[3] for r in rows], line={"width": 0}, showlegend=False, hoverinfo="skip",
                                legendgroup=name))
    figure.add_trace(go.Scatter(x=x, y=[r[2] for r in rows], line={"width": 0}, fill="tonexty", showlegend=False,
                                fillcolor=_rgba(color, 0.2), hoverinfo="skip", legendgroup=name))
    figure.add_trace(go.Scatter(x=x, y=[r[1] for r in rows], name=name, mode="lines+markers", legendgroup=name,
                                line={"color": color}, customdata=[[r[2], r[3]] for r in rows],
                                hovertemplate="%{y} [%{customdata[0]}, %{customdata[1]}]<extra>%{fullData.name}"
                                              "</extra>"))


_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f")


def _rgba(color: str, alpha: float) -> str:
    return f"rgba({int(color[1:3], 16)},{int(color[3:5], 16)},{int(color[5:7], 16)},{alpha})"


def pareto_figures(result: SweepResult, cost: str = "cost_usd") -> list[go.Figure]:
    figures = []
    fronts = result.pareto(cost)
    estimates = {point.index: result.point_estimates(point) for point in result.points}
    for metric, _higher in PARETO:
        pairs = [(i, e[cost].mean, e[metric].mean) for i, e in estimates.items()
                 if cost in e and metric in e and e[cost].mean is not None and e[metric].mean is not None]
        if not pairs:
            continue
        front = [p for i in fronts[metric] for p in pairs if p[0] == i]
        figure = go.Figure()
        figure.add_trace(go.Scatter(x=[p[1] for p in pairs], y=[p[2] for p in pairs], mode="markers",
                                    name="points", text=[f"point {p[0]}" for p in pairs],
                                    marker={"color": "#bbb", "size": 8}))
        figure.add_trace(go.Scatter(x=[p[1] for p in front], y=[p[2] for p in front], mode="lines+markers",
                                    name="Pareto frontier", text=[f"point {p[0]}" for p in front],
                                    line={"shape": "hv"}, marker={"size": 10}))
        figure.update_layout(title=f"Pareto frontier: {cost} against {metric}", xaxis_title=cost, yaxis_title=metric)
        figures.append(figure)
    return figures


_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1200px; color: #222; }
table { border-collapse: collapse; margin: 1rem 0; }
th, td { border-bottom: 1px solid #ddd; padding: 0.3rem 0.8rem; text-align: left; }
.note { color: #666; font-size: 0.9rem; }
"""


def render(result: SweepResult) -> str:
    metrics = shown_metrics(result)
    figures = [figure for metric in metrics for figure in axis_figures(result, metric)] + pareto_figures(result)
    charts = []
    for index, figure in enumerate(figures):
        figure.update_layout(template="plotly_white", height=400, margin={"t": 60, "b": 40})
        charts.append(pio.to_html(figure, full_html=False, include_plotlyjs=index == 0, div_id=f"chart-{index}",
                                  config={"displaylogo": False}))
    head = "".join(f"<th>{html.escape(c)}</th>" for c in
                   ["point", *[a.label for a in result.spec.axes], "runs ok", *metrics])
    body = ""
    for point in result.points:
        est = result.point_estimates(point)
        cells = [str(point.index), *[_show(point.values[a.label]) for a in result.spec.axes],
                 point.error or str(len(result.point_metrics(point))),
                 *[metric_plus_minus(m, est[m].mean, est[m].low, est[m].high) if m in est else "-" for m in metrics]]
        body += "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>"
    title = f"gpufleet sweep: {result.spec.name}"
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>{html.escape(title)}</title><style>{_STYLE}</style></head>
<body>
<h1>{html.escape(title)}</h1>
<p class="note">Base scenario {html.escape(result.base.name)}; {result.spec.design} design, {len(result.points)}
points x {len(result.seeds)} replications (seeds {', '.join(map(str, result.seeds))}). Means with two-sided
{result.spec.confidence:.0%} confidence intervals (Student t over replications): mean ± half the interval.</p>
<table><tr>{head}</tr>{body}</table>
{''.join(charts)}
</body></html>
"""


def write_sweep_report(result: SweepResult, path: str | Path) -> None:
    Path(path).write_text(render(result), encoding="utf-8")
