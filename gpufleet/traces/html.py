"""A self-contained HTML page of a trace's statistics: key figures and plotly charts (plotly.js inlined)."""

from __future__ import annotations

import html
import json
from typing import Any

import plotly.graph_objects as go
import plotly.io as pio

from gpufleet.traces.render import number

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1100px; color: #222; }
table { border-collapse: collapse; margin: 1rem 0; }
th, td { border-bottom: 1px solid #ddd; padding: 0.3rem 0.8rem; text-align: left; }
.note { color: #666; font-size: 0.9rem; }
"""


def _bar(x: list[Any], y: list[Any], title: str, x_title: str, y_title: str, log_y: bool = False) -> go.Figure:
    figure = go.Figure(go.Bar(x=x, y=y))
    figure.update_layout(title=title, xaxis_title=x_title, yaxis_title=y_title)
    if log_y:
        figure.update_yaxes(type="log")
    return figure


def _cdf(series: list[tuple[str, dict[str, list[float]] | None]], title: str, x_title: str,
         log_x: bool = True) -> go.Figure | None:
    figure = go.Figure()
    for name, dist in series:
        if dist is None:
            continue
        values = dist["value"]
        if log_x:
            # A log axis cannot show zeros: plot them at the smallest positive value's tenth.
            positive = [v for v in values if v > 0]
            floor = min(positive) / 10 if positive else 1.0
            values = [v if v > 0 else floor for v in values]
        figure.add_trace(go.Scatter(x=values, y=dist["p"], mode="lines", name=name, line={"shape": "hv"}))
    if not figure.data:
        return None
    figure.update_layout(title=title, xaxis_title=x_title, yaxis_title="share at or below")
    if log_x:
        figure.update_xaxes(type="log")
    return figure


def _arrival_figures(arrivals: dict[str, Any] | None, unit: str) -> list[go.Figure]:
    if not arrivals or not arrivals.get("by_hour"):
        return []
    hours, days = arrivals["by_hour"], arrivals["by_weekday"]
    return [_bar(hours["hour"], hours["rate_per_hour"], f"Arrival rate by hour of day ({unit} per hour)",
                 "hour of day", f"{unit} per hour"),
            _bar(days["day"], days["rate_per_day"], f"Arrival rate by weekday ({unit} per day)", "day",
                 f"{unit} per day")]


def figures(stats: dict[str, Any]) -> list[go.Figure]:
    """The charts for a statistics dict of any kind."""
    kind = stats["kind"]
    out: list[go.Figure | None] = []
    if kind == "jobs":
        out += _arrival_figures(stats.get("arrivals"), "jobs")
        if "gpus_per_job" in stats:
            per = stats["gpus_per_job"]
            out.append(_bar([str(v) for v in per["values"]], per["jobs"], "GPUs per job", "GPUs", "jobs",
                            log_y=True))
        dists = stats.get("distributions", {})
        out.append(_cdf([("all jobs", dists.get("duration_s")), ("GPU jobs", dists.get("gpu_duration_s"))],
                        "Run time (CDF)", "seconds"))
        out.append(_cdf([("all jobs", dists.get("wait_s"))], "Wait: submit to start (CDF)", "seconds"))
        if stats.get("gpu_time_by_size_class"):
            rows = stats["gpu_time_by_size_class"]
            out.append(_bar([row["size_class"] for row in rows], [row["gpu_time_share"] for row in rows],
                            "Share of GPU time by job size class", "GPUs per job", "share of GPU time"))
        if stats.get("outcomes"):
            rows = stats["outcomes"]
            labels = [row["value"] for row in rows]
            figure = go.Figure([go.Bar(name="share of jobs", x=labels, y=[row["share"] for row in rows])])
            if "gpu_time_share" in rows[0]:
                figure.add_trace(go.Bar(name="share of GPU time", x=labels, y=[row["gpu_time_share"] for row in rows]))
            figure.update_layout(title="Outcomes", barmode="group", yaxis_title="share")
            out.append(figure)
    elif kind == "requests":
        out += _arrival_figures(stats.get("arrivals"), "requests")
        dists = stats["distributions"]
        out.append(_cdf([("input", dists.get("input_tokens")), ("output", dists.get("output_tokens"))],
                        "Tokens per request (CDF)", "tokens"))
        out.append(_cdf([("inter-arrival", dists.get("interarrival_s"))], "Time between arrivals (CDF)", "seconds"))
    elif kind == "summary":
        for column in ("med_run_time_gpu", "avg_run_time_gpu", "avg_gpu_num", "med_que_time_gpu"):
            figure = next((f for f in stats["figures"] if f["column"] == column), None)
            if figure:
                values = figure["values"]
                out.append(_bar(list(values), list(values.values()), f"{figure['meaning']} [{column}]", "cluster",
                                figure["meaning"]))
    elif kind == "nodes":
        rows = stats["by_model"]
        out.append(_bar([r["model"] for r in rows], [r["gpus"] for r in rows], "GPUs by model", "model", "GPUs"))
    elif kind == "faults":
        out.append(_bar(list(stats["by_class"]), list(stats["by_class"].values()), "Faults by class", "class",
                        "faults"))
    elif kind == "node_series" and stats["samples"]:
        out.append(_bar(list(range(24)), stats["share_in_use_by_hour"], "Share of servers in use by hour of day",
                        "hour of day (UTC)", "share in use"))
    return [figure for figure in out if figure is not None]


def _key_figures(stats: dict[str, Any]) -> str:
    skip = {"kind", "read", "arrivals", "distributions", "figures", "by_model", "by_shape", "by_level", "by_class"}
    rows = []
    for key, value in stats.items():
        if key in skip:
            continue
        if isinstance(value, dict | list):
            text = json.dumps(value, default=str)
            if len(text) > 400:
                text = text[:400] + " ..."
        else:
            text = number(value)
        rows.append(f"<tr><th>{html.escape(key)}</th><td>{html.escape(text)}</td></tr>")
    return "<table>" + "".join(rows) + "</table>"


def render(stats: dict[str, Any], title: str) -> str:
    """The page as one HTML string."""
    charts = []
    for index, figure in enumerate(figures(stats)):
        figure.update_layout(template="plotly_white", height=400, margin={"t": 60, "b": 40})
        charts.append(pio.to_html(figure, full_html=False, include_plotlyjs=index == 0, div_id=f"chart-{index}",
                                  config={"displaylogo": False}))
    read = stats["read"]
    bad = "".join(f"<li>line {row['line']}: {html.escape(row['message'])}</li>" for row in read["bad_examples"][:50])
    left = "".join(f"<li>{html.escape(reason)}: {count:,}</li>" for reason, count in read["left_out"].items())
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>{html.escape(title)}</title><style>{_STYLE}</style></head>
<body>
<h1>{html.escape(title)}</h1>
<p class="note">{html.escape(read['path'])} ({html.escape(read['format'])}): {read['rows']:,} rows, {read['kept']:,}
kept, {read['bad_rows']:,} bad.</p>
{f"<h2>Bad rows</h2><ul>{bad}</ul>" if bad else ""}
{f"<h2>Left out</h2><ul>{left}</ul>" if left else ""}
<h2>Key figures</h2>
{_key_figures(stats)}
{''.join(charts)}
</body></html>
"""
