"""The running jobs, indexed every way the scheduler and its callers look them up.

Where each runs and since when; when it is expected to end (ordered, for backfill
reservations); how many jobs of each shape run (for the hourly sample); per rack, its
running jobs (kept when failures or serving replicas need them) and a count of changes
to them; per pool, the running jobs cheapest to preempt first (kept when replicas may
preempt). The index only books: freeing GPUs and quota is the scheduler's.
"""

from __future__ import annotations

import numpy as np
from sortedcontainers import SortedList

from gpufleet.fleet.layout import FleetLayout
from gpufleet.fleet.state import Allocation


class RunningIndex:
    """The running jobs of one scheduler."""

    def __init__(self, layout: FleetLayout, job_gpus: list[int], job_shape: list[int], priority: list[int],
                 track_racks: bool, rank_victims: bool) -> None:
        self._gpus = job_gpus
        self._shape = job_shape
        self._priority = priority
        self.track_racks = track_racks
        self.rank_victims = rank_victims
        self.allocations: dict[int, Allocation] = {}
        self.started_at: dict[int, float] = {}
        self.expected_end: dict[int, float] = {}
        self.ends: SortedList = SortedList()
        """(expected end, job) of the running jobs."""
        self.shapes: dict[int, int] = {}
        """Shape -> how many of its jobs run."""
        self._rack_jobs: list[set[int]] = [set() for _ in range(layout.n_racks)] if track_racks else []
        self.rack_changes = np.zeros(layout.n_racks if rank_victims else 0, dtype=np.int64)
        """Per rack, a count of changes to its running jobs (a start, a stop, a restart in
        place), so the serving victim search keeps its per-rack answers until it moves."""
        self.cheapest_first: list[SortedList] = [SortedList() for _ in layout.pools]
        """Per pool, (priority, GPUs, -start, job) of its running jobs (with `rank_victims`)."""

    def add(self, job: int, allocation: Allocation, now: float, expected_end: float) -> None:
        """`job` started at `now` on `allocation`, expected to end at `expected_end`."""
        shape = self._shape[job]
        self.shapes[shape] = self.shapes.get(shape, 0) + 1
        self.allocations[job] = allocation
        if self.track_racks:
            for rack in allocation.racks.tolist():
                self._rack_jobs[rack].add(job)
            if self.rank_victims:
                self.racks_changed(allocation.racks)
        self.started_at[job] = now
        if self.rank_victims:
            self.cheapest_first[allocation.pool].add((self._priority[job], self._gpus[job], -now, job))
        self.expected_end[job] = expected_end
        self.ends.add((expected_end, job))

    def remove(self, job: int) -> Allocation:
        """`job` stopped: its allocation (to be freed by the caller)."""
        allocation = self.allocations.pop(job)
        if self.track_racks:
            for rack in allocation.racks.tolist():
                self._rack_jobs[rack].discard(job)
            if self.rank_victims:
                self.racks_changed(allocation.racks)
        self.ends.remove((self.expected_end.pop(job), job))
        shape = self._shape[job]
        self.shapes[shape] -= 1
        if not self.shapes[shape]:
            del self.shapes[shape]
        started = self.started_at.pop(job)
        if self.rank_victims:
            self.cheapest_first[allocation.pool].remove((self._priority[job], self._gpus[job], -started, job))
        return allocation

    def restarted(self, job: int, now: float, expected_end: float) -> float:
        """`job` restarted in place at `now`, now expected to end at `expected_end`; returns
        the end it was expected at before."""
        planned_end = self.expected_end[job]
        self.ends.remove((planned_end, job))
        self.expected_end[job] = expected_end
        self.ends.add((expected_end, job))
        allocation = self.allocations[job]
        if self.rank_victims:
            ranked = self.cheapest_first[allocation.pool]
            ranked.remove((self._priority[job], self._gpus[job], -self.started_at[job], job))
            ranked.add((self._priority[job], self._gpus[job], -now, job))
        self.started_at[job] = now
        if self.rank_victims:
            self.racks_changed(allocation.racks)  # its start time, which ranks it as a victim, moved
        return planned_end

    def rack_jobs(self, rack: int) -> set[int]:
        """The running jobs on `rack`, unordered (do not change the set; empty unless tracked)."""
        return self._rack_jobs[rack] if self.track_racks else set()

    def racks_changed(self, racks: np.ndarray) -> None:
        """The running jobs of `racks` changed (see `rack_changes`)."""
        if len(racks) == 1:
            self.rack_changes[racks.item(0)] += 1
        else:
            self.rack_changes[racks] += 1  # racks are distinct
