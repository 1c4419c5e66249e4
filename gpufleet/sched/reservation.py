"""EASY-backfill reservations: when and where the first blocked job will fit.

The plan replays the expected ends of running jobs and the scheduled deliveries and
retirements, in time order, on a copy of the free-GPU array, until the job's placement
becomes feasible. The reservation is that time and the racks the job would take then;
`extra` (per rack: EASY backfill's "extra nodes") says how many GPUs of each reserved
rack a job still running at that time may hold without taking what the head needs.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np

from gpufleet.fleet.capacity import ArrayCapacity
from gpufleet.fleet.state import ACTIVE, DRAINING, FEW_RACKS, Allocation, FleetState, Placement

UNCONSTRAINED = np.iinfo(np.int64).max // 4


@dataclass(slots=True)
class Reservation:
    """The head job's reservation.

    Attributes:
        job: the head job.
        start_s: when its placement becomes feasible (inf: not foreseeable).
        extra: per rack, GPUs that a job still running at `start_s` may take without
            taking what the head needs; None when there is no reservation.
        pool, racks: where the head would go (the racks whose `extra` is constrained).
        reserved_groups: per group size, (stamp, free groups on `racks` the head needs),
            kept by the scheduler while the free capacity of `racks` stays the same
            (`FleetState.watch`).
    """

    job: int
    start_s: float
    extra: np.ndarray | None
    pool: int = -1
    racks: np.ndarray | None = None
    reserved_groups: dict[int, tuple[int, int]] = field(default_factory=dict)


def plan(job: int, now: float, state: FleetState, ends: Iterable[tuple[float, int]],
         allocations: dict[int, Allocation], pools: tuple[int, ...], gpus: int, group: int,
         place: Callable[[ArrayCapacity], Placement | None]) -> Reservation:
    """Reserve for `job` (needing `gpus` GPUs in NVLink groups of `group` in one of
    `pools`), replaying `ends` (sorted).

    A count of whole free groups per pool, kept as the replay frees racks, skips the
    placement search while too few groups are free (a condition every placement needs).
    """
    layout = state.layout
    projected = state.avail.copy()
    alive = state.rack_state == ACTIVE
    draining = bool((state.rack_state == DRAINING).any())  # racks whose GPUs will not come back
    pool_free = list(state.avail_gpus)
    groups = {p: state.groups_free(p, group) for p in pools}
    needed = gpus // group
    changes = layout.changes
    change_times = [change.time_s for change in changes]
    next_change = bisect_right(change_times, now)
    ends_iter = iter(ends)
    next_end = next(ends_iter, None)
    while True:
        time_s = min(next_end[0] if next_end is not None else math.inf,
                     change_times[next_change] if next_change < len(changes) else math.inf)
        if time_s == math.inf:
            return Reservation(job, math.inf, None)
        while next_end is not None and next_end[0] == time_s:
            allocation = allocations[next_end[1]]
            racks = allocation.racks
            if len(racks) == 1 and not draining:  # most ends: one rack, every rack live (inlined for speed)
                rack, held, pool = racks.item(0), allocation.total, allocation.pool
                before = int(projected[rack])
                projected[rack] = before + held
                pool_free[pool] += held
                if pool in groups:
                    groups[pool] += (before + held) // group - before // group
            else:
                _replay_end(allocation, projected, alive if draining else None, pool_free, groups, group)
            next_end = next(ends_iter, None)
        while next_change < len(changes) and change_times[next_change] == time_s:
            change = changes[next_change]
            lo, hi = change.rack_lo, change.rack_hi
            if change.retire:
                draining = True
                pool_free[change.pool] -= int(projected[lo:hi][alive[lo:hi]].sum())
                if change.pool in groups:
                    groups[change.pool] -= int((projected[lo:hi][alive[lo:hi]] // group).sum())
                projected[lo:hi] = 0
                alive[lo:hi] = False
            else:
                projected[lo:hi] = layout.rack_gpus[lo:hi]
                alive[lo:hi] = True
                pool_free[change.pool] += int(layout.rack_gpus[lo:hi].sum())
                if change.pool in groups:
                    groups[change.pool] += int((layout.rack_gpus[lo:hi] // group).sum())
            next_change += 1
        for p in pools:
            if pool_free[p] >= gpus and groups[p] >= needed:
                break
        else:
            continue  # too few GPUs or whole groups free in every pool: no placement yet
        placement = place(ArrayCapacity(projected, layout, {(p, group): groups[p] for p in pools}))
        if placement is not None:
            extra = np.full(len(projected), UNCONSTRAINED, dtype=np.int64)
            extra[placement.racks] = projected[placement.racks] - placement.gpus
            return Reservation(job, time_s, extra, placement.pool, placement.racks)


def _replay_end(allocation: Allocation, projected: np.ndarray, alive: np.ndarray | None, pool_free: list[int],
                groups: dict[int, int], group: int) -> None:
    """A running job's expected end gives its GPUs back to the projection (only on racks
    `alive` says are live; None: all are)."""
    racks, pool = allocation.racks, allocation.pool
    counted = pool in groups
    if len(racks) <= FEW_RACKS:  # most jobs: scalar steps
        for rack, held in zip(racks.tolist(), allocation.gpus.tolist(), strict=True):
            if alive is not None and not alive[rack]:
                continue
            before = int(projected[rack])
            projected[rack] = before + held
            pool_free[pool] += held
            if counted:
                groups[pool] += (before + held) // group - before // group
        return
    freed = allocation.gpus if alive is None else allocation.gpus * alive[racks]
    before = projected[racks]
    after = before + freed
    projected[racks] = after
    pool_free[pool] += allocation.total if alive is None else int(freed.sum())
    if counted:
        groups[pool] += int((after // group - before // group).sum())
