"""Stable ties: equal policy keys keep the order of the previous pass.

Simulators that keep one list of jobs (waiting and running) and re-sort it with a stable
sort at every event (Tiresias', Gavel's) break ties between equal keys by the list's
previous order, not by submit order: a running job whose remaining time falls to equal a
waiting job's keeps the place its earlier, larger remaining time gave it; a job demoted to
a lower LAS queue keeps its place among the jobs already there.

When keys never change (fifo, fgf, sjf, priority) the previous order among equal keys is
always the arrival order, so stable ties are submit order and nothing is kept. For
policies whose keys move while jobs run (`Policy.keys_move`: srtf, srsf, las) each job
carries a label, and labels increase along the list's order. At every pass the running
jobs (whose values moved) and the jobs that arrived since the last pass are taken out of
the order and put back where a stable sort would put them: after every job of smaller
value, and among equal values by their previous label (an arrival after everyone), each
getting a label between its new neighbours' (exact fractions, so there is always room).
Waiting jobs keep their labels: their values did not move, so neither did their order.
A waiting job's key becomes (policy value, label, job); among preemption victims of equal
rank the latest in the order goes first. Orders are kept per queue. Each pass costs
O((running + arrivals) x log(waiting)).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from fractions import Fraction

from sortedcontainers import SortedList

from gpufleet.sched.policies import Key

Label = int | Fraction


class TieOrder:
    """Per job, its label in the list order (a larger label comes later)."""

    def __init__(self, n_jobs: int) -> None:
        self.label: list[Label] = [0] * n_jobs
        self._arrived: set[int] = set()

    def arrive(self, job: int) -> None:
        """A job joins the list (placed at the next pass, after every job of its value)."""
        self._arrived.add(job)

    def key(self, key: Key) -> Key:
        """A policy key (..., job) with the job's label before the job index."""
        job = int(key[-1])
        return (*key[:-1], self.label[job], job)

    def place(self, movers: Iterable[int], waiting_of: Callable[[int], SortedList],
              value: Callable[[int, bool], tuple[float, ...]], running: set[int]) -> None:
        """Put `movers` (running jobs, and jobs that arrived) where a stable sort puts them
        among the waiting jobs (each queue's sorted keys from `waiting_of(job)`)."""
        entries = []
        for job in movers:
            arrived = job in self._arrived
            self._arrived.discard(job)
            previous: Label | float = float("inf") if arrived else self.label[job]
            entries.append((value(job, job in running), previous, job))
        entries.sort()
        gaps: dict[tuple[int, Label | None, Label | None], list[int]] = {}
        for job_value, previous, job in entries:
            keys = waiting_of(job)
            index = keys.bisect_left((*job_value, previous))
            low = keys[index - 1][-2] if index > 0 else None
            high = keys[index][-2] if index < len(keys) else None
            gaps.setdefault((id(keys), low, high), []).append(job)
        for (_, low, high), jobs in gaps.items():
            for k, job in enumerate(jobs, start=1):
                self.label[job] = _between(low, high, k, len(jobs))


def _between(low: Label | None, high: Label | None, k: int, m: int) -> Label:
    """The k-th of m labels spread strictly between `low` and `high` (None: open)."""
    if low is None and high is None:
        return k
    if high is None:
        return low + k  # type: ignore[operator]
    if low is None:
        return high - (m + 1 - k)
    return low + Fraction(high - low) * k / (m + 1)
