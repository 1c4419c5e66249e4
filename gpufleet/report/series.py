"""Series the charts share: the time series thinned for a page, an empirical CDF."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from gpufleet.results.run_result import RunResult

MAX_POINTS = 2000
"""Longer hourly series are shown as daily means to keep the page light."""


def resample(result: RunResult) -> dict[str, np.ndarray]:
    """Time series as hourly points, or daily means when the run is long."""
    table = result.timeseries
    columns = {name: table[name].to_numpy() for name in table.column_names if name != "time"}
    time = table["time"].to_numpy()
    if len(time) <= MAX_POINTS:
        return {"time": time, **columns}
    weights = columns["interval_s"]
    day = time.astype("datetime64[D]")
    days, index = np.unique(day, return_inverse=True)
    total = np.bincount(index, weights=weights)
    out: dict[str, np.ndarray] = {"time": days.astype("datetime64[us]")}
    for name, values in columns.items():
        if name in ("t_s", "interval_s"):
            continue
        out[name] = np.bincount(index, weights=values * weights) / total
    return out


def ecdf(values: np.ndarray, points: int = 500) -> tuple[np.ndarray, np.ndarray]:
    """The empirical CDF as at most `points` steps, rising from 0 at the smallest value."""
    values = np.sort(values)
    share = np.arange(1, len(values) + 1) / len(values)
    values, share = np.concatenate(([values[0]], values)), np.concatenate(([0.0], share))
    if len(values) > points:  # keep the curve's shape, not every job
        keep = np.unique(np.linspace(0, len(values) - 1, points).astype(int))
        values, share = values[keep], share[keep]
    return values, share
