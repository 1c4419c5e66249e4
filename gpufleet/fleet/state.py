"""The fleet at one instant: which racks are live, how many GPUs each has free, who holds what.

`avail[r]` is what placement may use: free GPUs of a live rack, 0 for racks not yet
delivered, draining or retired. Allocation is all-or-nothing per gang; a rack's GPUs are
handed out node by node, filling partly used nodes first.

Besides the per-rack arrays, each pool keeps `level_count`: how many live racks have
exactly k free GPUs, for k = 0..rack size. The tightest single rack for n GPUs is then the
first non-empty level >= n, found without scanning racks. Changes to a single rack (most
jobs) take a scalar path; numpy is used where many racks change at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gpufleet.fleet.layout import FleetLayout

FUTURE, ACTIVE, DRAINING, RETIRED = 0, 1, 2, 3


@dataclass(frozen=True, slots=True)
class Placement:
    """Where a gang would go: a pool and GPUs per rack (racks ascending)."""

    pool: int
    racks: np.ndarray
    gpus: np.ndarray

    @property
    def n_racks(self) -> int:
        return len(self.racks)


@dataclass(frozen=True, slots=True)
class Allocation:
    """A placement made real: GPUs held per rack and per node."""

    pool: int
    racks: np.ndarray
    gpus: np.ndarray
    nodes: np.ndarray
    node_gpus: np.ndarray


class FleetState:
    """Mutable capacity state; every change keeps allocated <= installed per rack.

    Attributes:
        avail, used: free (placeable) and held GPUs per rack.
        rack_state: FUTURE, ACTIVE, DRAINING or RETIRED per rack.
        node_free: free GPUs per node.
        installed_gpus, allocated_gpus, avail_gpus: per-pool totals.
        level_count: per pool, live racks per number of free GPUs (index 0..rack size).
        version: per pool, bumped on every change of its free capacity.
        capacity_log: (time_s, pool, GPUs added or removed) per change of installed capacity.
    """

    def __init__(self, layout: FleetLayout) -> None:
        self.layout = layout
        n_racks, n_pools = layout.n_racks, len(layout.pools)
        self.avail = np.zeros(n_racks, dtype=np.int64)
        self.used = np.zeros(n_racks, dtype=np.int64)
        self.rack_state = np.zeros(n_racks, dtype=np.int8)
        self.node_free = layout.node_gpus.copy()
        self.installed_gpus = [0] * n_pools
        self.allocated_gpus = [0] * n_pools
        self.avail_gpus = [0] * n_pools
        self.level_count = [np.zeros(pool.rack_gpus + 1, dtype=np.int64) for pool in layout.pools]
        self.version = [0] * n_pools
        self.capacity_log: list[tuple[float, int, int]] = []
        self._node_lo: list[int] = layout.rack_node_lo.tolist()

    def deliver(self, pool: int, lo: int, hi: int, now: float) -> None:
        """Racks lo..hi arrive empty and become placeable."""
        self.rack_state[lo:hi] = ACTIVE
        gpus = self.layout.rack_gpus[lo:hi]
        self.avail[lo:hi] = gpus
        added = int(gpus.sum())
        self.installed_gpus[pool] += added
        self.avail_gpus[pool] += added
        self.level_count[pool] += np.bincount(gpus, minlength=len(self.level_count[pool]))
        self.version[pool] += 1
        self.capacity_log.append((now, pool, added))

    def retire(self, pool: int, lo: int, hi: int, now: float) -> None:
        """Racks lo..hi stop taking work; each leaves the fleet once its last job ends."""
        live = np.flatnonzero(self.rack_state[lo:hi] == ACTIVE) + lo
        free = self.avail[live]
        self.level_count[pool] -= np.bincount(free, minlength=len(self.level_count[pool]))
        self.avail_gpus[pool] -= int(free.sum())
        self.avail[live] = 0
        self.rack_state[live] = DRAINING
        self.version[pool] += 1
        self._remove_empty_draining(pool, live, now)

    def allocate(self, placement: Placement) -> Allocation:
        """Take the placement's GPUs (the caller guarantees they are free)."""
        pool, racks, gpus = placement.pool, placement.racks, placement.gpus
        total = int(gpus.sum())
        self.allocated_gpus[pool] += total
        self.avail_gpus[pool] -= total
        self.version[pool] += 1
        if len(racks) == 1:
            rack, want = int(racks[0]), int(gpus[0])
            free = int(self.avail[rack])
            self._set_free(pool, rack, free, free - want)
            self.used[rack] += want
            nodes, counts = self._take_from_rack(rack, want)
            return Allocation(pool, racks, gpus, np.array(nodes, dtype=np.int64), np.array(counts, dtype=np.int64))
        before = self.avail[racks]
        self._relevel(pool, before, before - gpus)
        self.avail[racks] = before - gpus
        self.used[racks] += gpus
        nodes, counts = self._take_from_racks(racks, gpus)
        return Allocation(pool, racks, gpus, nodes, counts)

    def release(self, allocation: Allocation, now: float) -> None:
        """Give back an allocation; draining racks that become empty retire."""
        pool, racks, gpus = allocation.pool, allocation.racks, allocation.gpus
        self.node_free[allocation.nodes] += allocation.node_gpus
        self.allocated_gpus[pool] -= int(gpus.sum())
        self.version[pool] += 1
        if len(racks) == 1:
            rack, back = int(racks[0]), int(gpus[0])
            self.used[rack] -= back
            if self.rack_state[rack] == ACTIVE:
                free = int(self.avail[rack])
                self._set_free(pool, rack, free, free + back)
                self.avail_gpus[pool] += back
            else:
                self._remove_empty_draining(pool, racks, now)
            return
        self.used[racks] -= gpus
        active = self.rack_state[racks] == ACTIVE
        live, back = racks[active], gpus[active]
        before = self.avail[live]
        self._relevel(pool, before, before + back)
        self.avail[live] = before + back
        self.avail_gpus[pool] += int(back.sum())
        if not active.all():
            self._remove_empty_draining(pool, racks[~active], now)

    # -- helpers ----------------------------------------------------------------------

    def _set_free(self, pool: int, rack: int, old: int, new: int) -> None:
        counts = self.level_count[pool]
        counts[old] -= 1
        counts[new] += 1
        self.avail[rack] = new

    def _relevel(self, pool: int, old: np.ndarray, new: np.ndarray) -> None:
        counts = self.level_count[pool]
        counts -= np.bincount(old, minlength=len(counts))
        counts += np.bincount(new, minlength=len(counts))

    def _take_from_racks(self, racks: np.ndarray, gpus: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """GPUs from several racks of one pool in one vector step (same rule as one rack)."""
        per_rack = int(self.layout.rack_node_lo[racks[0] + 1] - self.layout.rack_node_lo[racks[0]])
        node_ids = self.layout.rack_node_lo[racks][:, None] + np.arange(per_rack)
        free = self.node_free[node_ids]
        order = np.argsort(free, axis=1, kind="stable")
        node_ids = np.take_along_axis(node_ids, order, axis=1)
        free = np.take_along_axis(free, order, axis=1)
        before = np.cumsum(free, axis=1) - free
        take = np.clip(gpus[:, None] - before, 0, free)
        self.node_free[node_ids] = free - take
        held = take > 0
        return node_ids[held], take[held]

    def _take_from_rack(self, rack: int, want: int) -> tuple[list[int], list[int]]:
        """`want` GPUs of one rack, fullest partly-used nodes first, so whole nodes stay whole."""
        lo, hi = self._node_lo[rack], self._node_lo[rack + 1]
        if hi - lo == 1:
            self.node_free[lo] -= want
            return [lo], [want]
        node_free = self.node_free
        free = node_free[lo:hi].tolist()
        nodes, counts = [], []
        for local in sorted(range(hi - lo), key=free.__getitem__):
            have = free[local]
            if have == 0:
                continue
            take = min(have, want)
            node_free[lo + local] = have - take
            nodes.append(lo + local)
            counts.append(take)
            want -= take
            if want == 0:
                break
        return nodes, counts

    def _remove_empty_draining(self, pool: int, racks: np.ndarray, now: float) -> None:
        done = racks[(self.rack_state[racks] == DRAINING) & (self.used[racks] == 0)]
        if len(done):
            self.rack_state[done] = RETIRED
            removed = int(self.layout.rack_gpus[done].sum())
            self.installed_gpus[pool] -= removed
            self.capacity_log.append((now, pool, -removed))
