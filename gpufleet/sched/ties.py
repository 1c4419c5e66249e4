"""Stable ties: equal policy keys keep the order of the previous pass.

Simulators that keep one list of jobs and re-sort it with a stable sort at every event
(Tiresias', Gavel's) break ties between equal keys by the list's previous order, not by
submit order: two jobs whose remaining times become equal stay in the order their
earlier, different remaining times put them in. `TieOrder` keeps that order as a stamp
per job. At every pass the waiting and running jobs are sorted by the policy's value now
(`Policy.sort_value`), equals by their previous stamp, and numbered afresh; a job that
arrives is numbered after everyone. A waiting job's key becomes (policy value, stamp,
job), and among preemption victims of equal rank the latest in the order goes first.

The re-sort costs O(n log n) in the jobs present at every pass: meant for research-scale
traces (thousands of jobs), not for the hyperscale default scenario.
"""

from __future__ import annotations

from collections.abc import Callable

from gpufleet.sched.policies import Key


class TieOrder:
    """Per job, its place in the last order (a larger stamp comes later)."""

    def __init__(self, n_jobs: int) -> None:
        self.stamp = [0] * n_jobs
        self._next = 0

    def arrive(self, job: int) -> None:
        """A job joins at the end of the order."""
        self.stamp[job] = self._next
        self._next += 1

    def resort(self, waiting: list[int], running: list[int],
               value: Callable[[int, bool], tuple[float, ...]]) -> None:
        """Number the jobs afresh in order of (value now, previous stamp)."""
        entries = [(value(job, False), self.stamp[job], job) for job in waiting]
        entries += [(value(job, True), self.stamp[job], job) for job in running]
        entries.sort()
        for offset, (_, _, job) in enumerate(entries):
            self.stamp[job] = self._next + offset
        self._next += len(entries)

    def key(self, key: Key) -> Key:
        """A policy key (..., job) with the job's stamp before the job index."""
        job = key[-1]
        return (*key[:-1], self.stamp[int(job)], job)
