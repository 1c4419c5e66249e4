"""Hourly time series, integrated exactly from job starts and ends and capacity changes.

Every quantity is a step function of time (GPUs allocated, GPUs installed, jobs queued,
jobs running). Its mean over each interval is the exact integral divided by the
interval, so GPU-hours add up to the same total at any resolution.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np


def integrate_steps(times: np.ndarray, deltas: np.ndarray, edges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Integrals over each [edges[i], edges[i+1]) of the step function that jumps by `deltas`
    at `times`, and its value at each edge (right-continuous; 0 before the first jump)."""
    return StepTimes(times, edges).integrate(deltas)


class StepTimes:
    """Jump times sorted once (stably: equal times keep their order), for every step function
    that jumps at them (`integrate`: as `integrate_steps`, same operations in the same order)."""

    def __init__(self, times: np.ndarray, edges: np.ndarray) -> None:
        self.edges = edges
        self.empty = len(times) == 0
        self.order = np.argsort(times, kind="stable")
        self.t = np.asarray(times, dtype=np.float64)[self.order]
        self.gaps = np.diff(self.t)
        index = np.searchsorted(self.t, edges, side="right") - 1
        self.seen = index >= 0
        self.safe = np.maximum(index, 0)
        self.since = edges - self.t[self.safe] if not self.empty else edges

    def integrate(self, deltas: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Integrals over each interval of the step function jumping by `deltas` at the times,
        and its value at each edge."""
        if self.empty:
            return np.zeros(len(self.edges) - 1), np.zeros(len(self.edges))
        level = np.cumsum(np.asarray(deltas, dtype=np.float64)[self.order])
        area = np.concatenate(([0.0], np.cumsum(self.gaps * level[:-1])))
        safe = self.safe
        cumulative = np.where(self.seen, area[safe] + level[safe] * self.since, 0.0)
        return np.diff(cumulative), np.where(self.seen, level[safe], 0.0)


def interval_starts(start: datetime, edges: np.ndarray) -> list[datetime]:
    return [start + timedelta(seconds=float(s)) for s in edges[:-1]]
