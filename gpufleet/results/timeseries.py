"""Hourly time series, integrated exactly from job starts and ends and capacity changes.

Every quantity is a step function of time (GPUs allocated, GPUs installed, jobs queued,
jobs running). Its mean over each interval is the exact integral divided by the
interval, so GPU-hours add up to the same total at any resolution.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np


def integrate_steps(times: np.ndarray, deltas: np.ndarray, edges: np.ndarray,
                    order: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Integrals over each [edges[i], edges[i+1]) of the step function that jumps by `deltas`
    at `times`, and its value at each edge (right-continuous; 0 before the first jump).

    `order`: `time_order(times)`, when several step functions share the same times (one sort)."""
    if len(times) == 0:
        return np.zeros(len(edges) - 1), np.zeros(len(edges))
    if order is None:
        order = time_order(times)
    t = np.asarray(times, dtype=np.float64)[order]
    level = np.cumsum(np.asarray(deltas, dtype=np.float64)[order])
    area = np.concatenate(([0.0], np.cumsum(np.diff(t) * level[:-1])))
    index = np.searchsorted(t, edges, side="right") - 1
    seen = index >= 0
    safe = np.maximum(index, 0)
    cumulative = np.where(seen, area[safe] + level[safe] * (edges - t[safe]), 0.0)
    return np.diff(cumulative), np.where(seen, level[safe], 0.0)


def time_order(times: np.ndarray) -> np.ndarray:
    """The order `integrate_steps` sorts `times` in (stable: equal times keep their order)."""
    return np.argsort(times, kind="stable")


def interval_starts(start: datetime, edges: np.ndarray) -> list[datetime]:
    return [start + timedelta(seconds=float(s)) for s in edges[:-1]]
