"""Who runs where: gang admission in policy order, with optional EASY backfill.

A scheduling pass starts jobs from the head of the queue while they fit. The first job
that does not fit is the *head*. Without backfill nothing behind it starts (strict
order). With EASY backfill the head gets a reservation: the earliest time its placement
becomes feasible given the expected ends of running jobs and the delivery schedule, and
the racks it would take then. A later job may start now if it fits and either ends
(by its estimate) before that time, or leaves the reserved racks enough GPUs at that
time. The reservation is topology-aware, so backfill never delays the head's start as
long as estimates are not exceeded.

Passes are cheap on a large queue because jobs are indexed by *shape* (GPUs, group,
block rule, flavors): if one job of a shape cannot be placed, none of that shape can,
so a pass touches shapes rather than jobs. An arrival that does not become the head
is tried on its own against the standing reservation instead of rescanning the queue.
"""

from __future__ import annotations

import heapq
import math
from bisect import bisect_right
from dataclasses import dataclass

import numpy as np
from sortedcontainers import SortedList

from gpufleet.fleet.capacity import ArrayCapacity, CapacityView
from gpufleet.fleet.layout import FleetLayout
from gpufleet.fleet.state import ACTIVE, Allocation, FleetState, Placement
from gpufleet.sched import reasons
from gpufleet.sched.placement import PlacementStrategy
from gpufleet.sched.policies import Key, QueuePolicy
from gpufleet.workload.jobs import JobTable

_BIG = np.iinfo(np.int64).max // 4
_STARTED, _FAIL_NOW, _FAIL_LONG = 0, 1, 2
_LAST_KEY = (math.inf,)  # sorts after every job key


@dataclass(slots=True)
class Reservation:
    """The head job's reservation.

    Attributes:
        job: the head job.
        start_s: when its placement becomes feasible (inf: not foreseeable).
        spare: per rack, GPUs that a job still running at `start_s` may take without
            taking what the head needs; None when there is no reservation.
    """

    job: int
    start_s: float
    spare: np.ndarray | None


class Scheduler:
    """Pending queue, running allocations and the scheduling pass."""

    def __init__(self, jobs: JobTable, layout: FleetLayout, state: FleetState,
                 placement: PlacementStrategy, policy: QueuePolicy, backfill: bool = True,
                 max_job_test: int = 500) -> None:
        self.layout = layout
        self.state = state
        self.placement = placement
        self.policy = policy
        self.backfill = backfill
        self.max_job_test = max_job_test
        self._gpus: list[int] = jobs.gpus.tolist()
        self._shape: list[int] = jobs.shape.tolist()
        self._estimate: list[float] = jobs.estimate_s.tolist()
        self._shape_gpus = [shape[0] for shape in jobs.shapes]
        self._shape_group = [shape[1] for shape in jobs.shapes]
        self._shape_within = [shape[2] for shape in jobs.shapes]
        self._shape_pools = [layout.pools_for(shape[3]) for shape in jobs.shapes]
        self._change_times = [change.time_s for change in layout.changes]

        self.pending: SortedList = SortedList()
        self._by_shape: list[SortedList] = [SortedList() for _ in jobs.shapes]
        self._by_estimate: list[SortedList] = [SortedList() for _ in jobs.shapes]  # (estimate, key)
        self._key: dict[int, Key] = {}
        self.pending_gpus = 0
        self.allocations: dict[int, Allocation] = {}
        self._expected_end: dict[int, float] = {}
        self._ends: SortedList = SortedList()  # (expected end, job) of running jobs
        self.reason: list[str] = [""] * len(jobs)
        self.reserved_s = np.full(len(jobs), np.nan)
        self._reservation: Reservation | None = None
        self._full_pass = True
        self._new: list[int] = []
        self._head_key: Key | None = None

    # -- events from the simulation ---------------------------------------------------

    def submit(self, job: int) -> None:
        """Hand a job to the scheduler (the caller has checked that it can ever fit).

        It is queued at the next pass, unless that pass starts it at once.
        """
        self.pending_gpus += self._gpus[job]
        self._new.append(job)

    def _enqueue(self, job: int) -> Key:
        key = self.policy.key(job)
        self._key[job] = key
        self.pending.add(key)
        self._by_shape[self._shape[job]].add(key)
        self._by_estimate[self._shape[job]].add((self._estimate[job], key))
        return key

    def has_waiting(self) -> bool:
        """Whether any job waits (queued, or handed over since the last pass)."""
        return bool(self.pending) or bool(self._new)

    def capacity_added(self) -> None:
        self._full_pass = True

    def capacity_lost(self) -> None:
        self._full_pass = True
        self._reservation = None

    def end(self, job: int, now: float) -> Allocation:
        """A running job stops at `now`: free its GPUs."""
        allocation = self.allocations.pop(job)
        self.state.release(allocation, now)
        expected = self._expected_end.pop(job)
        self._ends.remove((expected, job))
        self._full_pass = True
        if now < expected:
            self._reservation = None  # the plan assumed these GPUs busy for longer
        return allocation

    # -- the pass ---------------------------------------------------------------------

    def schedule(self, now: float) -> list[tuple[int, Allocation]]:
        """Start what can start at `now`; return the started jobs and their allocations."""
        started: list[tuple[int, Allocation]] = []
        new, self._new = self._new, []
        if new and not self.pending:
            # Empty queue: arrivals start in policy order while they fit, never queued.
            if len(new) > 1:
                new.sort(key=self.policy.key)
            while new:
                placement = self._place_now(new[0])
                if placement is None:
                    break
                self._launch(new.pop(0), placement, now, started)
            if new:
                self._full_pass = True
        fresh = [self._enqueue(job) for job in new]
        head_changed = bool(self.pending) and self.pending[0] != self._head_key
        if self._full_pass or head_changed:
            self._full_pass = False
            self._start_heads(now, started)
            if self.pending and self.backfill:
                self._backfill_queue(now, started)
        elif fresh:
            fresh.sort()
            if self.backfill:
                reservation = self._reservation_for(self.pending[0][-1], now)
                for key in fresh:
                    self._try_backfill(key[-1], reservation, reservation.start_s - now, now, started)
            else:
                for key in fresh:
                    self.reason[key[-1]] = reasons.STRICT_ORDER
        self._head_key = self.pending[0] if self.pending else None
        return started

    def _start_heads(self, now: float, started: list[tuple[int, Allocation]]) -> None:
        while self.pending:
            job = self.pending[0][-1]
            placement = self._place_now(job)
            if placement is None:
                return
            self._start(job, placement, now, started)

    def _backfill_queue(self, now: float, started: list[tuple[int, Allocation]]) -> None:
        """Try queued jobs in policy order, shape by shape, within the depth budget.

        Once a shape's long jobs are known not to fit beside the reservation, only its
        jobs that end before the reservation are still candidates; the per-shape index
        by estimate finds them without walking the rest.
        """
        head_key = self.pending[0]
        reservation = self._reservation_for(head_key[-1], now)
        window = reservation.start_s - now
        heap: list[tuple[Key, int]] = []
        for shape, keys in enumerate(self._by_shape):
            if not keys or self._shape_gpus[shape] > self._free_max(self._shape_pools[shape]):
                continue
            first = self._next_key(keys, None, head_key)
            if first is not None:
                heap.append((first, shape))
        heapq.heapify(heap)
        short_only: dict[int, list[Key]] = {}  # shape -> its remaining short jobs, last first
        budget = self.max_job_test
        while heap and budget > 0:
            key, shape = heapq.heappop(heap)
            budget -= 1
            outcome = self._try_backfill(key[-1], reservation, window, now, started)
            if outcome == _FAIL_NOW:
                continue  # no job of this shape fits now: drop the shape for this pass
            if outcome == _FAIL_LONG and shape not in short_only:
                short = [k for _, k in self._by_estimate[shape].irange(maximum=(window, _LAST_KEY))
                         if k > key and k != head_key]
                short_only[shape] = sorted(short, reverse=True)
            if shape in short_only:
                following = short_only[shape].pop() if short_only[shape] else None
            else:
                following = self._next_key(self._by_shape[shape], key, head_key)
            if following is not None:
                heapq.heappush(heap, (following, shape))

    @staticmethod
    def _next_key(keys: SortedList, after: Key | None, skip: Key) -> Key | None:
        index = 0 if after is None else keys.bisect_right(after)
        if index < len(keys) and keys[index] == skip:
            index += 1
        return keys[index] if index < len(keys) else None

    def _try_backfill(self, job: int, reservation: Reservation, window: float, now: float,
                      started: list[tuple[int, Allocation]]) -> int:
        """Start `job` if it fits now without delaying the reservation.

        Returns _STARTED, _FAIL_NOW (it does not fit at all now) or _FAIL_LONG (it fits,
        but would still hold GPUs the head needs when the reservation begins).
        """
        placement = self._place_now(job)
        if placement is None:
            return _FAIL_NOW
        if self._estimate[job] > window and reservation.spare is not None:
            # It would still run when the reservation begins: it may only take GPUs the
            # head does not need then. Most placements already respect that; otherwise
            # place again on free capacity capped by what the reservation leaves.
            if np.any(placement.gpus > reservation.spare[placement.racks]):
                capped = ArrayCapacity(np.minimum(self.state.avail, reservation.spare), self.layout)
                placement = self._place(job, capped)
                if placement is None:
                    self.reason[job] = reasons.BEHIND_RESERVATION
                    return _FAIL_LONG
            reservation.spare[placement.racks] -= placement.gpus
        self._start(job, placement, now, started)
        return _STARTED

    def _start(self, job: int, placement: Placement, now: float,
               started: list[tuple[int, Allocation]]) -> None:
        """Start a queued job."""
        key = self._key.pop(job)
        self.pending.remove(key)
        self._by_shape[self._shape[job]].remove(key)
        self._by_estimate[self._shape[job]].remove((self._estimate[job], key))
        self._launch(job, placement, now, started)

    def _launch(self, job: int, placement: Placement, now: float,
                started: list[tuple[int, Allocation]]) -> None:
        allocation = self.state.allocate(placement)
        self.pending_gpus -= self._gpus[job]
        self.allocations[job] = allocation
        expected = now + self._estimate[job]
        self._expected_end[job] = expected
        self._ends.add((expected, job))
        self.reason[job] = ""
        if self._reservation is not None and self._reservation.job == job:
            self._reservation = None
        started.append((job, allocation))

    # -- placement and reservations -----------------------------------------------------

    def _free_max(self, pools: tuple[int, ...]) -> int:
        avail = self.state.avail_gpus
        return max((int(avail[p]) for p in pools), default=0)

    def _place_now(self, job: int) -> Placement | None:
        """Place on the current free capacity, recording why not on failure.

        Cheap counts reject most misfits before the placement search: free GPUs, then
        free whole NVLink groups (GPUs left in racks as remnants smaller than a group
        cannot host one).
        """
        shape = self._shape[job]
        gpus, pools = self._gpus[job], self._shape_pools[shape]
        group = self._shape_group[shape]
        avail = self.state.avail_gpus
        if all(int(avail[p]) < gpus for p in pools):
            self.reason[job] = reasons.INSUFFICIENT_GPUS
            return None
        if all(self.state.groups_free(p, group) < gpus // group for p in pools):
            self.reason[job] = reasons.NO_TOPOLOGY_FIT
            return None
        placement = self._place(job, self.state)
        if placement is None:
            self.reason[job] = reasons.NO_TOPOLOGY_FIT
        return placement

    def _place(self, job: int, capacity: CapacityView) -> Placement | None:
        """Place on the live fleet or on a capped or projected copy of its free GPUs."""
        shape = self._shape[job]
        return self.placement.place(capacity, self._shape_pools[shape], self._gpus[job],
                                    self._shape_group[shape], self._shape_within[shape])

    def _reservation_for(self, head: int, now: float) -> Reservation:
        if self._reservation is None or self._reservation.job != head:
            self._reservation = self._plan_reservation(head, now)
            if math.isnan(self.reserved_s[head]):
                self.reserved_s[head] = self._reservation.start_s
        return self._reservation

    def _plan_reservation(self, job: int, now: float) -> Reservation:
        """Replay expected job ends and scheduled capacity changes until the head fits."""
        layout, state = self.layout, self.state
        pools = self._shape_pools[self._shape[job]]
        gpus = self._gpus[job]
        projected = state.avail.copy()
        alive = state.rack_state == ACTIVE
        pool_free = state.avail_gpus.copy()
        changes, change_times = layout.changes, self._change_times
        next_change = bisect_right(change_times, now)
        ends = iter(self._ends)
        next_end = next(ends, None)
        while True:
            time_s = min(next_end[0] if next_end is not None else math.inf,
                         change_times[next_change] if next_change < len(changes) else math.inf)
            if time_s == math.inf:
                return Reservation(job, math.inf, None)
            while next_end is not None and next_end[0] == time_s:
                allocation = self.allocations[next_end[1]]
                live = alive[allocation.racks]
                freed = allocation.gpus if live.all() else allocation.gpus * live
                projected[allocation.racks] += freed
                pool_free[allocation.pool] += int(freed.sum())
                next_end = next(ends, None)
            while next_change < len(changes) and change_times[next_change] == time_s:
                change = changes[next_change]
                lo, hi = change.rack_lo, change.rack_hi
                if change.retire:
                    pool_free[change.pool] -= int(projected[lo:hi][alive[lo:hi]].sum())
                    projected[lo:hi] = 0
                    alive[lo:hi] = False
                else:
                    projected[lo:hi] = layout.rack_gpus[lo:hi]
                    alive[lo:hi] = True
                    pool_free[change.pool] += int(layout.rack_gpus[lo:hi].sum())
                next_change += 1
            if max(int(pool_free[p]) for p in pools) < gpus:
                continue
            placement = self._place(job, ArrayCapacity(projected, self.layout))
            if placement is not None:
                spare = np.full(len(projected), _BIG, dtype=np.int64)
                spare[placement.racks] = projected[placement.racks] - placement.gpus
                return Reservation(job, time_s, spare)

    # -- end of run -------------------------------------------------------------------

    def explain_waiting(self) -> None:
        """Give every still-pending job a reason, for the jobs never examined lately."""
        for key in self.pending:
            job = key[-1]
            if self.reason[job]:
                continue
            if not self.backfill and key != self.pending[0]:
                self.reason[job] = reasons.STRICT_ORDER
            elif self._gpus[job] > self._free_max(self._shape_pools[self._shape[job]]):
                self.reason[job] = reasons.INSUFFICIENT_GPUS
            else:
                self.reason[job] = reasons.NOT_EXAMINED
