"""The HTML report: one self-contained page (plotly.js inlined) with the run's answers.

Charts: installed vs allocated GPUs with the delivery steps, utilisation, queue length
and queued GPU demand, wait-time CDF by job size class, and the commitment burn-down.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
from plotly.subplots import make_subplots

from gpufleet.catalog.size_class import LABELS
from gpufleet.report.format import hours, km_hours, start_by_cell, usd
from gpufleet.report.series import ecdf, resample

if TYPE_CHECKING:
    from gpufleet.results.run_result import RunResult

def capacity_figure(result: RunResult) -> go.Figure:
    series = resample(result)
    figure = go.Figure()
    figure.add_trace(go.Scatter(x=series["time"], y=series["installed_gpus"], name="installed GPUs",
                                line={"shape": "hv", "width": 2}))
    figure.add_trace(go.Scatter(x=series["time"], y=series["allocated_gpus"], name="allocated GPUs",
                                fill="tozeroy", line={"width": 1}))
    for pool in result.summary["capacity"]["pools"]:
        figure.add_trace(go.Scatter(x=series["time"], y=series[f"{pool['name']}.installed_gpus"],
                                    name=f"installed: {pool['name']} ({pool['gpu']})",
                                    line={"shape": "hv", "dash": "dot", "width": 1}, visible="legendonly"))
    deliveries = _capacity_steps(result)
    if deliveries:
        times, levels, texts = zip(*deliveries, strict=True)
        figure.add_trace(go.Scatter(x=list(times), y=list(levels), mode="markers", name="capacity changes",
                                    marker={"symbol": "triangle-up", "size": 8}, text=list(texts),
                                    hovertemplate="%{x}<br>%{text}<extra></extra>"))
    figure.update_layout(title="Installed vs allocated GPUs (deliveries marked)", yaxis_title="GPUs",
                         hovermode="x unified")
    return figure


def _capacity_steps(result: RunResult) -> list[tuple[Any, float, str]]:
    """(time, installed GPUs just after, text) at each dated change of planned capacity."""
    table = result.timeseries
    time, installed = table["time"].to_numpy(), table["installed_gpus"].to_numpy()
    steps = []
    previous = 0.0
    for when, level in zip(time, installed, strict=True):
        if abs(level - previous) >= 1 and level > previous:
            steps.append((when, float(level), f"+{level - previous:,.0f} GPUs -> {level:,.0f}"))
        previous = level
    return steps[:500]


def utilisation_figure(result: RunResult) -> go.Figure:
    series = resample(result)
    figure = go.Figure(go.Scatter(x=series["time"], y=series["startable_utilisation"],
                                  name="startable: allocated / (allocated + free GPUs a waiting job could start on)",
                                  line={"width": 1}))
    figure.add_trace(go.Scatter(x=series["time"], y=series["utilisation"], name="installed: allocated / installed",
                                line={"width": 1, "dash": "dot"}))
    threshold = result.summary["capacity"]["full_threshold"]
    figure.add_hline(y=threshold, line_dash="dash", annotation_text=f"full ({threshold:.0%})")
    figure.update_layout(title="Utilisation, by what the fleet can still start and by installed GPUs",
                         yaxis_tickformat=".0%", yaxis_range=[0, 1.05], legend={"orientation": "h", "y": -0.15})
    return figure


def queue_figure(result: RunResult) -> go.Figure:
    series = resample(result)
    figure = make_subplots(specs=[[{"secondary_y": True}]])
    figure.add_trace(go.Scatter(x=series["time"], y=series["queued_jobs"], name="queued jobs"), secondary_y=False)
    figure.add_trace(go.Scatter(x=series["time"], y=series["queued_gpus"], name="queued GPU demand",
                                line={"dash": "dot"}), secondary_y=True)
    figure.update_layout(title="Queue: jobs waiting and the GPUs they ask for", hovermode="x unified")
    figure.update_yaxes(title_text="jobs", secondary_y=False)
    figure.update_yaxes(title_text="GPUs", secondary_y=True)
    return figure


def wait_cdf_figure(result: RunResult) -> go.Figure:
    jobs = result.jobs
    wait_h = jobs["wait_s"].to_numpy() / 3600.0
    size = jobs["size_class"].to_numpy(zero_copy_only=False)
    figure = go.Figure()
    floor_h = 1 / 60
    for label in LABELS:
        mine = (size == label) & ~np.isnan(wait_h)
        if not mine.any():
            continue
        values, share = ecdf(np.maximum(wait_h[mine], floor_h))
        figure.add_trace(go.Scatter(x=values, y=share, name=f"{label} GPUs ({int(mine.sum()):,} jobs)",
                                    line={"shape": "hv"}))
    figure.update_layout(title="Wait before start, by job size (CDF; waits under a minute shown at 1 min)",
                         xaxis_type="log", xaxis_title="hours", yaxis_title="share of started jobs",
                         yaxis_tickformat=".0%")
    return figure


def commitment_figure(result: RunResult) -> go.Figure:
    ledger = result.ledger
    month = ledger["month"].to_numpy().astype("datetime64[M]").astype(str)  # categories: one month shows as one
    figure = go.Figure()
    money = result.summary["money"]
    if "contract_value_usd" in money:
        figure.add_trace(go.Scatter(x=month, y=ledger["cumulative_committed_usd"].to_numpy(),
                                    name="committed (straight line)", line={"dash": "dash"}))
        figure.add_trace(go.Scatter(x=month, y=ledger["remaining_commitment_usd"].to_numpy(),
                                    name="commitment remaining"))
    figure.add_trace(go.Scatter(x=month, y=ledger["cumulative_billed_usd"].to_numpy(), name="billed (installed)"))
    figure.add_trace(go.Scatter(x=month, y=ledger["cumulative_used_usd"].to_numpy(), name="used (allocated)"))
    figure.add_trace(go.Bar(x=month, y=ledger["billed_usd"].to_numpy(), name="billed per month", opacity=0.4))
    figure.update_layout(title="Commitment burn-down: cumulative dollars by month", yaxis_title="USD",
                         hovermode="x unified", xaxis_type="category")
    return figure


def headline_table(result: RunResult) -> str:
    """The headline questions and their answers, as an HTML table."""
    summary = result.summary
    capacity, jobs, money = summary["capacity"], summary["jobs"], summary["money"]
    rows = [
        ("When is the fleet full?",
         f"by what it can still start (a day's allocated / (allocated + free GPUs a waiting job could start on) "
         f">= {capacity['full_threshold']:.0%}): {_from(capacity['full_from'])}, "
         f"{capacity['share_of_days_full']:.0%} of days; by installed GPUs (allocated / installed >= "
         f"{capacity['full_threshold']:.0%}): {_from(capacity['installed_full_from'])}, "
         f"{capacity['share_of_days_installed_full']:.0%} of days"),
        ("What capacity could no job use?",
         f"{capacity['stranded_gpu_hours']:,.0f} GPU-hours stranded ({capacity['stranded_share_of_installed']:.1%} "
         f"of installed, {usd(capacity['stranded_billed_usd'])} billed): free, in pieces no waiting or running job "
         f"could use; {capacity['spare_gpu_hours']:,.0f} GPU-hours of hot spares "
         f"({capacity['spare_share_of_installed']:.1%})"),
        ("How long do jobs wait?",
         f"started jobs only: mean {hours(jobs['wait']['mean_h'])}, p95 {hours(jobs['wait']['p95_h'])}, "
         f"p99 {hours(jobs['wait']['p99_h'])}; with the {jobs['queued']:,} still queued at the horizon "
         f"(Kaplan-Meier): p50 {km_hours(jobs['wait_km'], 'p50_h')}, p95 {km_hours(jobs['wait_km'], 'p95_h')}, "
         f"mean to the longest wait {hours(jobs['wait_km']['restricted_mean_h'])}; "
         f"{jobs['time_limit']:,} jobs stopped at their time limit"),
        ("What share of billed GPU-hours did work?",
         (f"{money['used_share_of_billed']:.1%} allocated" if money.get("used_share_of_billed") is not None else "-")
         + (f"; {summary['failures']['goodput']:.1%} productive training after failures and preemptions"
            if summary["failures"]["goodput"] is not None and (summary["failures"]["failures"]
                                                               or summary["preemption"]["preemptions"]) else "")
         + (f"; {summary['failures']['goodput_with_serving']:.1%} with serving after warm-up"
            if summary["failures"].get("goodput_with_serving") is not None else "")),
        *([("Does serving meet its SLO, and at what cost?", _serving_headline(summary["serving"]))]
          if "serving" in summary else []),
        ("What do failures cost?",
         f"{summary['failures']['failures']:,} failures, {summary['failures']['interruptions']:,} job interruptions, "
         f"{summary['failures']['lost_gpu_hours']:,.0f} GPU-hours of work lost, "
         f"{summary['failures']['restart_overhead_gpu_hours']:,.0f} restarting, "
         f"{summary['failures']['checkpoint_gpu_hours']:,.0f} checkpointing"),
        *([("What does waiting cost?",
            f"cost of delay {usd(money['cost_of_delay_usd'])}; serving revenue {usd(money['serving_revenue_usd'])}, "
            f"{usd(money['revenue_lost_to_drops_usd'])} lost to dropped requests; cost of waiting "
            f"{usd(money['cost_of_waiting_usd'])}; net value (revenue - billed - cost of delay) "
            f"{usd(money['net_value_usd'])}")] if "cost_of_waiting_usd" in money else []),
        ("Spending vs commitment",
         f"billed {usd(money['billed_usd'])}, used {usd(money['used_usd'])}, committed to date "
         f"{usd(money['committed_to_date_usd'])}"
         + (f"; contract {usd(money['contract_value_usd'])}, projected billed by "
            f"{money['term_end']}: {usd(money['projected_term_billed_usd'])}" if "contract_value_usd" in money
            else "")),
    ]
    notes = result.scenario.assumption_driven
    if notes:  # which of these answers rest on assumptions, as the scenario states them
        rows.append(("Which answers rest on assumptions?",
                     "; ".join(f"{answer}: {driver}" for answer, driver in notes.items())))
    cells = "".join(f"<tr><th>{html.escape(q)}</th><td>{html.escape(a)}</td></tr>" for q, a in rows)
    return f"<table class='headline'>{cells}</table>"


def _from(day: str | None) -> str:
    return f"from {day}" if day else "never"


def _serving_headline(serving: dict) -> str:
    parts = []
    for service in serving["services"]:
        cost = service["usd_per_million_output_tokens"]
        parts.append(f"{service['name']}: {service['slo_attainment']:.2%} of requests within the wait target, "
                     f"{service['output_tokens_dropped']:.3g} output tokens dropped, "
                     f"{usd(cost) if cost is not None else '-'} per million output tokens, "
                     f"{service['training_jobs_preempted']:,} training jobs preempted")
    parts.append(f"serving holds {serving['serving_share_of_allocated']:.1%} of allocated GPU-hours")
    return "; ".join(parts)


def wait_table(result: RunResult) -> str:
    """Waits by job size class (started jobs and Kaplan-Meier), as an HTML table."""
    head = "".join(f"<th>{c}</th>" for c in ("size (GPUs)", "jobs", "started", "queued at end", "never fit",
                                             "stopped at limit", "mean (started)", "p50 (started)", "p95 (started)",
                                             "p99 (started)", "p50 (KM)", "p95 (KM)", "mean to longest (KM)"))
    body = ""
    for label, row in result.summary["wait_by_size_class"].items():
        wait, km = row["wait"], row["wait_km"]
        cells = [label, f"{row['jobs']:,}", f"{row['started']:,}", f"{row['queued_at_end']:,}",
                 f"{row['never_fits']:,}", f"{row['time_limit']:,}", hours(wait["mean_h"]), hours(wait["p50_h"]),
                 hours(wait["p95_h"]), hours(wait["p99_h"]), km_hours(km, "p50_h"), km_hours(km, "p95_h"),
                 hours(km["restricted_mean_h"])]
        body += "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>"
    note = ("<p class='note'>(started): over the jobs that started, leaving out those still waiting at the horizon. "
            "(KM): the Kaplan-Meier estimate with the jobs still waiting as censored; '&gt; x' where too many still "
            "wait for the quantile to be reached.</p>")
    return f"<table><tr>{head}</tr>{body}</table>{note}"


def named_table(result: RunResult) -> str:
    """The named jobs (wait, run, pool, status), as an HTML section; empty without named jobs."""
    named = result.summary["named_jobs"]
    if not named:
        return ""
    deadlines = any("start_by" in row for row in named)
    head = "".join(f"<th>{c}</th>" for c in ("job", "GPUs", "submitted", *(("start by",) if deadlines else ()),
                                             "wait", "ran", "pool", "status"))
    body = ""
    for row in named:
        status = row["status"] + (f" ({row['reason']})" if row["reason"] else "")
        cells = [row["name"], f"{row['gpus']:,}", (row["submitted"] or "never")[:10],
                 *((start_by_cell(row),) if deadlines else ()), hours(row["wait_h"]), hours(row["run_h"]),
                 row["pool"] or "-", status]
        body += "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>"
    return f"<h2>Named jobs</h2><table><tr>{head}</tr>{body}</table>"




_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1200px; color: #222; }
table { border-collapse: collapse; margin: 1rem 0; }
th, td { border-bottom: 1px solid #ddd; padding: 0.3rem 0.8rem; text-align: left; }
table.headline th { width: 22rem; }
.note { color: #666; font-size: 0.9rem; }
"""


def report_figures(result: RunResult) -> dict[str, list[go.Figure]]:
    """The report's charts by section, in page order: `main` (capacity, utilisation, queue,
    wait CDF, commitment), `failures` (when the run has them), `serving` (with services) and
    `contracts` (with a portfolio of contracts)."""
    sections = {"main": [capacity_figure(result), utilisation_figure(result), queue_figure(result),
                         wait_cdf_figure(result), commitment_figure(result)]}
    if result.scenario.failures is not None or result.failures.num_rows > 0:
        from gpufleet.report import failure_charts

        sections["failures"] = [failure_charts.ettr_figure(result), failure_charts.failures_figure(result),
                                failure_charts.repair_figure(result)]
    if result.serving is not None:
        from gpufleet.report import serving_charts

        sections["serving"] = [serving_charts.busiest_day_figure(result), serving_charts.horizon_figure(result),
                               serving_charts.gpu_split_figure(result), serving_charts.slo_cost_figure(result)]
    if result.contracts is not None:
        from gpufleet.report import portfolio_charts

        sections["contracts"] = [portfolio_charts.burn_down_figure(result)]
    return sections


def render(result: RunResult) -> str:
    """The report as one HTML string (plotly.js inlined once)."""
    sections = report_figures(result)
    figures = (sections["main"] + sections.get("failures", []) + sections.get("serving", [])
               + sections.get("contracts", []))
    failures = "failures" in sections
    serving = "serving" in sections
    contracts = "contracts" in sections
    first_serving = len(sections["main"]) + len(sections.get("failures", []))
    first_contract = first_serving + len(sections.get("serving", []))
    charts = []
    for index, figure in enumerate(figures):
        figure.update_layout(template="plotly_white", height=440, margin={"t": 60, "b": 40})
        charts.append(pio.to_html(figure, full_html=False, include_plotlyjs=index == 0,
                                  div_id=f"chart-{index}", config={"displaylogo": False}))
    failure_section = f"<h2>Failures</h2>{''.join(charts[5:8])}" if failures else ""
    serving_section = ""
    if serving:
        from gpufleet.report.serving_charts import service_table

        serving_section = f"<h2>Serving</h2>{service_table(result)}{''.join(charts[first_serving:first_serving + 4])}"
    contract_section = ""
    if contracts:
        from gpufleet.report.portfolio_charts import contracts_html_table

        contract_section = f"<h2>Contracts</h2>{contracts_html_table(result)}{charts[first_contract]}"
    summary = result.summary
    title = f"gpufleet: {summary['scenario']}"
    description = html.escape(result.scenario.description)
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>{html.escape(title)}</title><style>{_STYLE}</style></head>
<body>
<h1>{html.escape(title)}</h1>
<p>{description}</p>
<p class="note">Seed {summary['seed']}; simulated {summary['start'][:10]} to {summary['horizon'][:10]};
{summary['jobs']['total']:,} jobs; {result.events:,} events.</p>
{headline_table(result)}
{charts[0]}
{charts[1]}
{charts[2]}
<h2>Waiting by job size</h2>
{wait_table(result)}
{charts[3]}
{charts[4]}
{contract_section}{serving_section}
{failure_section}
{named_table(result)}
</body></html>
"""


def write_report(result: RunResult, path: str | Path) -> None:
    Path(path).write_text(render(result), encoding="utf-8")
