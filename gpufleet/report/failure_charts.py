"""Report charts about failures: what they cost each job size, when they happened and why,
how much hardware was in repair."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import plotly.graph_objects as go

from gpufleet.catalog.size_class import LABELS
from gpufleet.report.series import resample

if TYPE_CHECKING:
    from gpufleet.results.run_result import RunResult

TOP_CAUSES = 8


def ettr_figure(result: RunResult) -> go.Figure:
    """Effective training time ratio by job size: the mean, and the spread as a box."""
    jobs = result.jobs
    ettr = jobs["ettr"].to_numpy()
    size = jobs["size_class"].to_numpy(zero_copy_only=False)
    figure = go.Figure()
    for label in LABELS:
        mine = (size == label) & ~np.isnan(ettr)
        if mine.any():
            figure.add_trace(go.Box(y=ettr[mine], name=f"{label} GPUs", boxmean=True, showlegend=False))
    figure.update_layout(title="Effective training time ratio by job size (productive time / wall time since start)",
                         yaxis_tickformat=".0%", yaxis_title="ETTR")
    return figure


def failures_figure(result: RunResult) -> go.Figure:
    """Failures per day by cause (the most frequent causes; the rest as 'other')."""
    failures = result.failures
    figure = go.Figure()
    if not failures.num_rows:
        figure.update_layout(title="Failures per day by cause (none)")
        return figure
    day = failures["time"].to_numpy().astype("datetime64[D]")
    cause = np.array(failures["cause"].to_pylist(), dtype=object)
    names, counts = np.unique(cause, return_counts=True)
    top = set(names[np.argsort(-counts)][:TOP_CAUSES].tolist())
    cause = np.where(np.isin(cause, list(top)), cause, "other")
    days = np.unique(day)
    for name in sorted(set(cause.tolist()), key=lambda n: (n == "other", n)):
        mine = cause == name
        figure.add_trace(go.Bar(x=days, y=[int((mine & (day == d)).sum()) for d in days], name=name))
    figure.update_layout(title="Failures per day by cause", barmode="stack", yaxis_title="failures")
    return figure


def repair_figure(result: RunResult) -> go.Figure:
    series = resample(result)
    figure = go.Figure(go.Scatter(x=series["time"], y=series["gpus_in_repair"], name="GPUs in repair",
                                  line={"width": 1}))
    figure.update_layout(title="GPUs in repair (failed, not yet back)", yaxis_title="GPUs")
    return figure
