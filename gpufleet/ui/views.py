"""What each page shows, built from the store and the outputs (the routes only ask and
render): a run with the report's own sections, a job and why it waited, runs compared, a
sweep, a plan. Rendered charts are kept per run version, so a page under load is a template
filled from memory."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from gpufleet.report.compare import by_group, over_time, wait_cdf
from gpufleet.report.html import headline_table, named_table, report_figures, wait_table
from gpufleet.report.metric_format import metric_plus_minus, metric_value
from gpufleet.report.portfolio_charts import contracts_html_table
from gpufleet.report.serving_charts import service_table
from gpufleet.report.sweep import axis_figures, pareto_figures, shown_metrics
from gpufleet.results.compare import Comparison, Variant
from gpufleet.results.metrics import HEADLINE, HIGHER_IS_BETTER
from gpufleet.results.run_result import RunResult
from gpufleet.sched import reasons
from gpufleet.store.store import RunRecord
from gpufleet.ui import charts
from gpufleet.ui.cache import Cache
from gpufleet.ui.outputs import Output, plan_yaml, plans_table, sweep_result
from gpufleet.ui.runs import RunLoader, StoredRun, version
from gpufleet.ui.tables import context_series, job_row, wait_breakdown

MAX_COMPARED = 8
REASONS = {
    reasons.INSUFFICIENT_GPUS: "fewer free GPUs in every eligible pool than it asks for",
    reasons.NO_TOPOLOGY_FIT: "enough free GPUs, but not in racks and blocks that hold its NVLink groups",
    reasons.BEHIND_RESERVATION: "it would fit, but would delay the reservation of the first blocked job",
    reasons.STRICT_ORDER: "strict order (no backfill): a job ahead of it is blocked",
    reasons.NOT_EXAMINED: "beyond the backfill depth when the queue was last scanned",
    reasons.NEVER_FITS: "no eligible pool ever holds it",
    reasons.TIME_LIMIT: "it ran until its time limit and was stopped",
    reasons.PREEMPTED: "it was preempted and waits to run again",
    reasons.NOT_CHOSEN_THIS_ROUND: "its share did not win it GPUs in this round",
}
"""Why a job waited, in words (the codes are gpufleet.sched.reasons')."""


def describe_reason(code: str) -> str:
    if code in REASONS:
        return REASONS[code]
    if code.startswith(reasons.QUOTA):
        return f"its queue's quota: {code.removeprefix(reasons.QUOTA).strip(':_ ') or 'no room'}"
    return code.replace("_", " ")


@dataclass(frozen=True)
class RunPage:
    """A run as the report shows it: HTML sections and chart divs."""

    record: RunRecord
    files: tuple[str, ...]
    summary: dict[str, Any] | None
    description: str
    headline: str = ""
    waits: str = ""
    named: str = ""
    services: str = ""
    contracts: str = ""
    charts: dict[str, list[str]] = field(default_factory=dict)


def build_run_page(stored: StoredRun) -> RunPage:
    result = stored.result
    if result is None:
        return RunPage(stored.record, stored.files, None, "")
    sections = report_figures(result)
    rendered = {name: [charts.chart_html(figure, f"{name}-{index}") for index, figure in enumerate(figures)]
                for name, figures in sections.items()}
    return RunPage(stored.record, stored.files, result.summary, result.scenario.description,
                   headline_table(result), wait_table(result), named_table(result),
                   service_table(result) if result.serving is not None else "",
                   contracts_html_table(result) if result.contracts is not None else "", rendered)


class Views:
    """The pages' contents, with the rendered runs kept in memory."""

    def __init__(self, loader: RunLoader) -> None:
        self.loader = loader
        self._pages: Cache[tuple[str, int], RunPage] = Cache(32)
        self._jobs: Cache[tuple[str, int, int], dict[str, Any] | None] = Cache(256)

    def run_page(self, key: str) -> RunPage:
        return self._pages.get((key, version(self.loader.store, key)),
                               lambda: build_run_page(self.loader.get(key)))

    def horizon_s(self, page: RunPage) -> float:
        if page.summary is None:
            return 0.0
        start = datetime.fromisoformat(page.summary["start"])
        return (datetime.fromisoformat(page.summary["horizon"]) - start).total_seconds()

    def job(self, key: str, job_id: int) -> dict[str, Any] | None:
        """One job's row, why it waited, and its timeline chart (kept per run version)."""
        return self._jobs.get((key, version(self.loader.store, key), job_id), lambda: self._job(key, job_id))

    def _job(self, key: str, job_id: int) -> dict[str, Any] | None:
        page = self.run_page(key)
        if page.summary is None:
            return None
        row = job_row(self.loader.path(key, "jobs"), job_id)
        if row is None:
            return None
        horizon = self.horizon_s(page)
        start = datetime.fromisoformat(page.summary["start"])
        first = row.get("submit_s") or 0.0
        last = row.get("end_s") if _finite(row.get("end_s")) else horizon
        margin = max((last - first) * 0.1, 3600.0)
        context = context_series(self.loader.path(key, "timeseries"), max(0.0, first - margin),
                                 min(horizon, last + margin))
        breakdown = [(code, describe_reason(code), seconds) for code, seconds in wait_breakdown(row, horizon)]
        figure = charts.job_timeline(row, start, horizon, context, {code: describe_reason(code) for code in REASONS})
        return {"row": row, "waits": breakdown, "chart": charts.chart_html(figure, "job-timeline", 560),
                "start": start, "horizon_s": horizon}

    def compare(self, keys: list[str]) -> dict[str, Any]:
        """Runs side by side: every metric, wait CDFs, waits by size, capacity, utilisation, money."""
        stored = {key: self.loader.get(key) for key in keys}
        names = {key: f"{s.record.scenario} s{s.record.seed} {key[:6]}" for key, s in stored.items()}
        results: dict[str, RunResult] = {names[key]: s.result for key, s in stored.items() if s.result is not None}
        metrics = _metric_rows([s.record for s in stored.values()])
        rendered: list[str] = []
        if results:
            first = next(iter(results.values()))
            comparison = Comparison(first.scenario, [Variant(name, "", "", result) for name, result in results.items()])
            figures = [wait_cdf(comparison),
                       by_group(comparison, "size_class", "wait", "p95_h", "95th percentile wait by size (GPUs)"),
                       charts.capacity_compare(results),
                       over_time(comparison, "utilisation", "Utilisation", percent=True),
                       over_time(comparison, "queued_jobs", "Jobs waiting"),
                       charts.money_compare(results)]
            rendered = [charts.chart_html(figure, f"compare-{index}", 420) for index, figure in enumerate(figures)]
        return {"runs": [stored[key].record for key in keys], "names": names, "metrics": metrics, "charts": rendered}

    def sweep(self, output: Output, metric: str | None) -> dict[str, Any]:
        result = sweep_result(output, self.loader.store)
        metrics = shown_metrics(result)
        chosen = metric if metric in metrics else (metrics[0] if metrics else None)
        figures = (axis_figures(result, chosen, bands=True) if chosen else []) + pareto_figures(result)
        fronts = result.pareto()
        rows = []
        for point in result.points:
            estimates = result.point_estimates(point)
            rows.append({"point": point.index, "values": point.values, "keys": point.keys, "error": point.error,
                         "ok": len(result.point_metrics(point)), "runs": len(point.keys),
                         "cells": {m: metric_plus_minus(m, e.mean, e.low, e.high) for m, e in estimates.items()},
                         "pareto": [m for m, indexes in fronts.items() if point.index in indexes]})
        return {"result": result, "metrics": metrics, "metric": chosen, "rows": rows,
                "axes": [axis.label for axis in result.spec.axes],
                "charts": [charts.chart_html(f, f"sweep-{i}", 420) for i, f in enumerate(figures)]}

    def plan(self, output: Output, sort: str = "total_usd", descending: bool = False) -> dict[str, Any]:
        data = output.data
        plans = plans_table(output, sort, descending)
        answer = (data.get("plan") or {}).get("plan")
        for row in plans:
            row["role"] = "answer" if answer is not None and row.get("plan") == answer else row.get("status")
        rendered = [charts.chart_html(charts.plan_figure(plans, target, _metric_of(target)), f"plan-{index}", 420)
                    for index, target in enumerate(data.get("targets", []))]
        return {"data": data, "plans": plans, "yaml": plan_yaml(output), "charts": rendered,
                "targets": data.get("targets", [])}


def _finite(value: Any) -> bool:  # noqa: ANN401 - a cell of any type
    return isinstance(value, int | float) and math.isfinite(value)


def _metric_of(target: str) -> str:
    return target.split("<=")[0].split(">=")[0].strip()


def _metric_rows(records: list[RunRecord]) -> list[dict[str, Any]]:
    """One row per metric any of the runs has: its value in each, and which run does best."""
    names = [name for name in HEADLINE if any(r.metrics.get(name) is not None for r in records)]
    names += sorted({name for r in records for name, v in r.metrics.items() if v is not None} - set(names))
    rows = []
    for name in names:
        values = [r.metrics.get(name) for r in records]
        present = [v for v in values if v is not None and math.isfinite(v)]
        best = None
        if len(present) > 1 and len(set(present)) > 1:
            best = max(present) if name.split("[")[0] in HIGHER_IS_BETTER else min(present)
        rows.append({"metric": name, "cells": [metric_value(name, v) for v in values],
                     "best": [v is not None and v == best for v in values]})
    return rows
