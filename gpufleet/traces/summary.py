"""Published cluster summaries: one row per cluster of job counts, run and queue times, GPUs per job.

The AcmeTrace `cluster_summary.csv` (Seren, Kalos, Philly, Helios, PAI) and the Helios
`helios_cluster_summary.csv` (Venus, Earth, Saturn, Uranus, total) share this layout:
an `id` column and numeric columns such as `gpu_job_num`, `med_run_time_gpu` (seconds),
`avg_gpu_num`, `complete_rate_gpu`. They are validation targets, not simulator input.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from gpufleet.errors import InputError, Problem
from gpufleet.traces.csvread import blank_rows, read_header, resolve_columns, stream_csv
from gpufleet.traces.parse import numbers
from gpufleet.traces.report import ReadReport
from gpufleet.traces.rows import RowFlags

HEADLINE = (
    ("gpu_num", "GPUs in the cluster"),
    ("job_num", "jobs"),
    ("gpu_job_num", "GPU jobs"),
    ("cpu_job_num", "CPU jobs"),
    ("avg_run_time_gpu", "mean GPU-job run time (s)"),
    ("med_run_time_gpu", "median GPU-job run time (s)"),
    ("max_run_time_gpu", "longest GPU-job run time (s)"),
    ("avg_que_time_gpu", "mean GPU-job queueing delay (s)"),
    ("med_que_time_gpu", "median GPU-job queueing delay (s)"),
    ("avg_gpu_num", "mean GPUs per GPU job"),
    ("med_gpu_num", "median GPUs per GPU job"),
    ("max_gpu", "largest GPU job (GPUs)"),
    ("complete_rate_gpu", "GPU jobs completed (share)"),
    ("cancel_rate_gpu", "GPU jobs cancelled (share)"),
    ("fail_rate_gpu", "GPU jobs failed (share)"),
    ("complete_rate_gpu_time", "GPU time of completed jobs (share)"),
    ("cancel_rate_gpu_time", "GPU time of cancelled jobs (share)"),
    ("fail_rate_gpu_time", "GPU time of failed jobs (share)"),
)
"""Columns shown by `trace stats`, with their meaning (units as published)."""


@dataclass
class ClusterSummary:
    """Rows of a published summary: cluster id -> column -> value (None where empty)."""

    report: ReadReport
    columns: list[str]
    rows: dict[str, dict[str, float | None]]

    def row(self, cluster: str) -> dict[str, float | None]:
        """The row of `cluster` (case-insensitive), or InputError listing the ids."""
        for name, values in self.rows.items():
            if name.lower() == cluster.lower():
                return values
        raise InputError([Problem(f"no row {cluster!r}; the summary has: {', '.join(self.rows)}",
                                  file=self.report.path)])


def read_summary(path: str | Path) -> ClusterSummary:
    """Read a cluster summary CSV (an `id` column, then numeric columns)."""
    path = Path(path)
    report = ReadReport(str(path), "cluster-summary")
    header = read_header(path)
    resolve_columns(path, header, {"id": "id"}, set())
    numeric = [name for name in header if name != "id"]
    rows: dict[str, dict[str, float | None]] = {}
    for batch in stream_csv(path, {name: name for name in header}, report, header):
        blank = blank_rows(batch)
        flags = RowFlags(batch, skip=blank)
        ids = batch.columns["id"]
        flags.flag(ids.is_null().to_numpy(zero_copy_only=False), "id: missing value")
        parsed = {}
        for name in numeric:
            values, bad = numbers(batch.columns[name])
            flags.flag_value(bad, name, batch.columns[name], "is not a number")
            parsed[name] = values
        good = flags.commit(report)
        report.leave_out("blank line", int(blank.sum()))
        for index in np.flatnonzero(good).tolist():
            cluster = ids[index].as_py()
            if cluster in rows:
                report.add_bad(int(batch.lines(np.array([index]))[0]), f"id: {cluster!r} appears twice")
                continue
            rows[cluster] = {name: None if np.isnan(parsed[name][index]) else float(parsed[name][index])
                             for name in numeric}
    return ClusterSummary(report, numeric, rows)


def summary_stats(summary: ClusterSummary) -> dict[str, Any]:
    """The published figures, per cluster, for the headline columns the file has."""
    shown = [(name, meaning) for name, meaning in HEADLINE if name in summary.columns]
    return {
        "kind": "summary",
        "read": summary.report.to_dict(),
        "clusters": list(summary.rows),
        "figures": [{"column": name, "meaning": meaning,
                     "values": {cluster: values.get(name) for cluster, values in summary.rows.items()}}
                    for name, meaning in shown],
    }


def compare_with_published(stats: dict[str, Any], published: dict[str, float | None]) -> list[dict[str, Any]]:
    """A job trace's own statistics beside a published summary row, figure by figure.

    Only figures both sides have are listed; `ratio` is trace / published.
    """
    pairs = [
        ("median GPU-job run time (s)", "med_run_time_gpu", ("gpu_duration_s", "median"), ("duration_s", "median")),
        ("mean GPU-job run time (s)", "avg_run_time_gpu", ("gpu_duration_s", "mean"), ("duration_s", "mean")),
        ("longest GPU-job run time (s)", "max_run_time_gpu", ("gpu_duration_s", "max"), ("duration_s", "max")),
        ("median queueing delay (s)", "med_que_time_gpu", ("gpu_wait_s", "median"), ("wait_s", "median")),
        ("mean queueing delay (s)", "avg_que_time_gpu", ("gpu_wait_s", "mean"), ("wait_s", "mean")),
        ("mean GPUs per GPU job", "avg_gpu_num", ("gpus_per_job", "gpu_jobs_mean"), None),
        ("median GPUs per GPU job", "med_gpu_num", ("gpus_per_job", "gpu_jobs_median"), None),
        ("GPU jobs", "gpu_job_num", ("gpu_jobs",), ("jobs",)),
    ]
    rows = []
    for label, column, primary, fallback in pairs:
        value, note = _dig(stats, primary), ""
        if value is None and fallback is not None:
            value, note = _dig(stats, fallback), "trace: all jobs, it has no GPU counts"
        reference = published.get(column)
        if value is None or reference is None:
            continue
        rows.append({"figure": label, "column": column, "trace": float(value), "published": reference,
                     "ratio": float(value) / reference if reference else None, "note": note})
    return rows


def _dig(stats: dict[str, Any], keys: tuple[str, ...]) -> float | None:
    node: Any = stats
    for key in keys:
        if not isinstance(node, dict) or node.get(key) is None:
            return None
        node = node[key]
    return node if isinstance(node, int | float) else None
