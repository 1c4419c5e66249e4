"""The fleet at one instant: which racks are live, how many GPUs each has free, who holds what.

`avail[r]` is what placement may use: free GPUs of a live rack, 0 for racks not yet
delivered, draining or retired. Allocation is all-or-nothing per gang; a rack's GPUs are
handed out node by node, filling partly used nodes first, when the state tracks nodes
(what is on a node matters only to failures; without them, holdings are per rack).

FleetState is also the live `CapacityView` that placement reads, from indexes kept up to
date on every change, so that a placement never scans every rack:

- per pool, `level_count[k]`: live racks with exactly k free GPUs, and a bit mask of the
  non-empty levels: the tightest rack for n GPUs is on the first non-empty level >= n;
  per level, a heap of its racks (entries of racks that moved away are dropped when they
  surface) gives the lowest one;
- per pool and NVLink group size g: racks per block by whole groups of g they hold;
- a stamp of changes to one watched set of racks (the blocked head's reserved racks), so
  that what is derived from them is kept until they change.

Changes to a single rack (most jobs) take a scalar path; numpy is used where many racks
change at once.
"""

from __future__ import annotations

import heapq
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from gpufleet.fleet.capacity import histogram_of
from gpufleet.fleet.layout import FleetLayout

FUTURE, ACTIVE, DRAINING, RETIRED = 0, 1, 2, 3
FEW_RACKS = 8  # up to this many racks, scalar steps beat the fixed cost of vector ones
_NO_NODES = np.zeros(0, dtype=np.int64)
_NO_NODES.setflags(write=False)


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
    """A placement made real: GPUs held per rack and per node (no nodes when the state
    does not track them)."""

    pool: int
    racks: np.ndarray
    gpus: np.ndarray
    nodes: np.ndarray
    node_gpus: np.ndarray
    total: int


class FleetState:
    """Mutable capacity state; every change keeps allocated <= installed per rack.

    Attributes:
        avail, used: free (placeable) and held GPUs per rack.
        rack_state: FUTURE, ACTIVE, DRAINING or RETIRED per rack.
        node_free: free GPUs per node (kept only if `track_nodes`).
        installed_gpus, allocated_gpus, avail_gpus: per-pool totals.
        level_count: per pool, live racks per number of free GPUs (index 1..rack size;
            index 0 is not kept: deliveries and retirements pass through it and no
            placement asks for a rack with nothing free).
        levels: per pool, bit k set iff level_count[k] > 0 (k >= 1).
        version: per pool, bumped on every change of its free capacity.
        watched, watched_changes: the racks of one `watch` call, and a stamp bumped by
            `watch` and by every change of a watched rack's free capacity.
        capacity_log: (time_s, pool, GPUs added or removed) per change of installed capacity.
    """

    def __init__(self, layout: FleetLayout, groups: Iterable[int] = (), track_nodes: bool = True) -> None:
        self.layout = layout
        self.track_nodes = track_nodes
        n_racks, n_pools = layout.n_racks, len(layout.pools)
        self.avail = np.zeros(n_racks, dtype=np.int64)
        self.used = np.zeros(n_racks, dtype=np.int64)
        self.rack_state = np.zeros(n_racks, dtype=np.int8)
        self.node_free = layout.node_gpus.copy()
        self.node_spare = np.zeros(len(self.node_free), dtype=bool)
        self.node_failed = np.zeros(len(self.node_free), dtype=np.int64)  # failed GPUs per node
        self.rack_down = np.zeros(n_racks, dtype=bool)  # the whole rack is down (switch, power)
        self.failed_gpus = [0] * n_pools
        self.failed_nodes = [0] * n_pools  # nodes with at least one failed GPU
        self.down_racks = [0] * n_pools
        self.failed_log: list[tuple[float, int, int]] = []
        """(time_s, pool, GPUs failed (+) or repaired (-)) for every change of hardware in repair."""
        self.delivered_hi = [pool.rack_lo for pool in layout.pools]
        self.installed_gpus = [0] * n_pools
        self.allocated_gpus = [0] * n_pools
        self.avail_gpus = [0] * n_pools
        self.level_count = [[0] * (pool.rack_gpus + 1) for pool in layout.pools]
        self.levels = [0] * n_pools
        # Per pool and level >= 1: a heap of racks that had that many free GPUs when pushed.
        self._racks_at: list[list[list[int]]] = [[[] for _ in range(pool.rack_gpus + 1)] for pool in layout.pools]
        self._heap_limit = [2 * (pool.rack_hi - pool.rack_lo) + 16 for pool in layout.pools]
        self.version = [0] * n_pools
        self.watched: np.ndarray | None = None
        self.watched_changes = 0
        self._is_watched = [False] * n_racks
        self.capacity_log: list[tuple[float, int, int]] = []
        self._node_lo: list[int] = layout.rack_node_lo.tolist()
        first_block = np.array([pool.block_lo for pool in layout.pools], dtype=np.int64)
        self._block_of_array = layout.rack_block - first_block[layout.rack_pool]  # block within its pool
        self._block_of: list[int] = self._block_of_array.tolist()
        # Per pool: (group, [histogram of racks per block by groups held, total groups]).
        self._tracked: list[dict[int, list[Any]]] = [{} for _ in layout.pools]
        self._untracked: dict[tuple[int, int], tuple[int, np.ndarray]] = {}
        for pool in layout.pools:
            for group in sorted(set(groups)):
                if group <= pool.rack_gpus:
                    histogram = np.zeros((pool.block_hi - pool.block_lo, pool.rack_gpus // group + 1), dtype=np.int64)
                    histogram[:, 0] = np.bincount(self._block_of_array[pool.rack_lo:pool.rack_hi],
                                                  minlength=len(histogram))
                    self._tracked[pool.index][group] = [histogram, 0]

    # -- CapacityView -----------------------------------------------------------------

    def tightest_level(self, pool: int, gpus: int) -> int | None:
        above = self.levels[pool] >> gpus
        return gpus + (above & -above).bit_length() - 1 if above else None

    def first_rack_at(self, pool: int, free: int) -> int:
        heap, avail = self._racks_at[pool][free], self.avail
        while avail[heap[0]] != free:
            heapq.heappop(heap)  # that rack has moved to another level since
        return heap[0]

    def group_histogram(self, pool: int, group: int) -> np.ndarray:
        tracked = self._tracked[pool].get(group)
        if tracked is not None:
            histogram: np.ndarray = tracked[0]
            return histogram
        cached = self._untracked.get((pool, group))
        if cached is None or cached[0] != self.version[pool]:
            layout_pool = self.layout.pools[pool]
            cached = (self.version[pool], histogram_of(self.avail[layout_pool.rack_lo:layout_pool.rack_hi],
                                                        layout_pool.racks_per_block, group,
                                                        layout_pool.rack_gpus // group))
            self._untracked[(pool, group)] = cached
        return cached[1]

    def groups_free(self, pool: int, group: int) -> int:
        if group == 1:
            return self.avail_gpus[pool]
        tracked = self._tracked[pool].get(group)
        if tracked is not None:
            groups: int = tracked[1]
            return groups
        histogram = self.group_histogram(pool, group)
        return int((histogram * np.arange(histogram.shape[1])).sum())

    def watch(self, racks: np.ndarray) -> None:
        """Stamp changes of these racks' free capacity in `watched_changes` (instead of
        the racks watched so far), so that what is computed from them can be kept until then."""
        if self.watched is not None:
            for rack in self.watched.tolist():
                self._is_watched[rack] = False
        for rack in racks.tolist():
            self._is_watched[rack] = True
        self.watched = racks
        self.watched_changes += 1

    # -- changes ----------------------------------------------------------------------

    def deliver(self, pool: int, lo: int, hi: int, now: float) -> None:
        """Racks lo..hi arrive empty and become placeable."""
        self.rack_state[lo:hi] = ACTIVE
        self._change(pool, np.arange(lo, hi), np.zeros(hi - lo, dtype=np.int64), self.layout.rack_gpus[lo:hi])
        spares = self.layout.pools[pool].spare_nodes
        if spares:  # the last nodes of each rack are hot spares: not placeable
            for rack in range(lo, hi):
                spare = np.arange(self._node_lo[rack + 1] - spares, self._node_lo[rack + 1])
                self.node_spare[spare] = True
                self.node_free[spare] = 0
        added = int(self.layout.rack_installed_gpus[lo:hi].sum())
        self.delivered_hi[pool] = max(self.delivered_hi[pool], hi)
        self.installed_gpus[pool] += added
        self.avail_gpus[pool] += added
        self.capacity_log.append((now, pool, added))

    def retire(self, pool: int, lo: int, hi: int, now: float) -> None:
        """Racks lo..hi stop taking work; each leaves the fleet once its last job ends."""
        live = (self.rack_state[lo:hi] == ACTIVE).nonzero()[0] + lo
        free = self.avail[live]
        self._change(pool, live, free, np.zeros_like(free))
        self.avail_gpus[pool] -= int(free.sum())
        self.rack_state[live] = DRAINING
        self._remove_empty_draining(pool, live, now)

    def allocate(self, placement: Placement) -> Allocation:
        """Take the placement's GPUs (the caller guarantees they are free)."""
        pool, racks, gpus = placement.pool, placement.racks, placement.gpus
        # Sums over a gang's racks are list sums: numpy's fixed cost is larger at these sizes.
        total = int(gpus[0]) if len(racks) == 1 else sum(gpus.tolist())
        self.allocated_gpus[pool] += total
        self.avail_gpus[pool] -= total
        if len(racks) == 1:
            rack = int(racks[0])
            free = int(self.avail[rack])
            self._change_one(pool, rack, free, free - total)
            self.used[rack] += total
        elif len(racks) <= FEW_RACKS:
            self.used[racks] += gpus
            for rack, want in zip(racks.tolist(), gpus.tolist(), strict=True):
                free = int(self.avail[rack])
                self._change_one(pool, rack, free, free - want)
        else:
            self.used[racks] += gpus
            before = self.avail[racks]
            self._change(pool, racks, before, before - gpus)
        if not self.track_nodes:
            return Allocation(pool, racks, gpus, _NO_NODES, _NO_NODES, total)
        nodes, counts = self._take_nodes(racks, gpus)
        return Allocation(pool, racks, gpus, nodes, counts, total)

    def release(self, allocation: Allocation, now: float) -> None:
        """Give back an allocation; draining racks that become empty retire."""
        pool, racks, gpus = allocation.pool, allocation.racks, allocation.gpus
        if self.track_nodes:
            self.node_free[allocation.nodes] += allocation.node_gpus
        self.allocated_gpus[pool] -= allocation.total
        if len(racks) == 1:
            rack, back = int(racks[0]), int(gpus[0])
            self.used[rack] -= back
            if self.rack_state[rack] == ACTIVE:
                free = int(self.avail[rack])
                self._change_one(pool, rack, free, free + back)
                self.avail_gpus[pool] += back
            else:
                self._remove_empty_draining(pool, racks, now)
            return
        if len(racks) <= FEW_RACKS:
            returned, draining = 0, []
            for rack, back in zip(racks.tolist(), gpus.tolist(), strict=True):
                self.used[rack] -= back
                if self.rack_state[rack] == ACTIVE:
                    free = int(self.avail[rack])
                    self._change_one(pool, rack, free, free + back)
                    returned += back
                else:
                    draining.append(rack)
            self.avail_gpus[pool] += returned
            if draining:
                self._remove_empty_draining(pool, np.array(draining, dtype=np.int64), now)
            return
        self.used[racks] -= gpus
        active = self.rack_state[racks] == ACTIVE
        live, back = racks[active], gpus[active]
        if len(live) <= FEW_RACKS:
            for rack, returned in zip(live.tolist(), back.tolist(), strict=True):
                free = int(self.avail[rack])
                self._change_one(pool, rack, free, free + returned)
        else:
            before = self.avail[live]
            self._change(pool, live, before, before + back)
        self.avail_gpus[pool] += sum(back.tolist())
        if not active.all():
            self._remove_empty_draining(pool, racks[~active], now)

    # -- failures and repairs ---------------------------------------------------------

    def fail_gpus(self, node: int, count: int, now: float) -> None:
        """`count` free GPUs of `node` break (jobs holding them were stopped first)."""
        rack = self.rack_of_node(node)
        pool = int(self.layout.rack_pool[rack])
        if self.node_failed[node] == 0:
            self.failed_nodes[pool] += 1
        self.node_failed[node] += count
        self.failed_gpus[pool] += count
        self.failed_log.append((now, pool, count))
        if self.node_spare[node]:
            return  # an idle spare: nothing placeable is lost
        self.node_free[node] -= count
        if self.rack_state[rack] == ACTIVE:
            free = int(self.avail[rack])
            self._change_one(pool, rack, free, free - count)
            self.avail_gpus[pool] -= count

    def repair_gpus(self, node: int, count: int, now: float) -> None:
        """`count` failed GPUs of `node` are back."""
        rack = self.rack_of_node(node)
        pool = int(self.layout.rack_pool[rack])
        self.node_failed[node] -= count
        if self.node_failed[node] == 0:
            self.failed_nodes[pool] -= 1
        self.failed_gpus[pool] -= count
        self.failed_log.append((now, pool, -count))
        if self.node_spare[node] or self.rack_state[rack] == RETIRED:
            return
        self.node_free[node] += count
        if self.rack_state[rack] == ACTIVE:
            free = int(self.avail[rack])
            self._change_one(pool, rack, free, free + count)
            self.avail_gpus[pool] += count

    def set_rack_down(self, rack: int, down: bool) -> None:
        """A whole rack (or block member) goes down or comes back."""
        if self.rack_down[rack] != down:
            self.rack_down[rack] = down
            self.down_racks[int(self.layout.rack_pool[rack])] += 1 if down else -1

    def healthy_spare(self, rack: int) -> int | None:
        """An idle, healthy spare node of the rack, or None."""
        spare, failed = self.node_spare, self.node_failed
        for node in range(self._node_lo[rack], self._node_lo[rack + 1]):  # a few nodes: no array set-up
            if spare[node] and not failed[node]:
                return node
        return None

    def swap_in_spare(self, node: int, spare: int) -> None:
        """The healthy spare takes the failed node's place (its jobs and free GPUs); the
        failed node becomes the rack's spare once repaired. The spare's GPUs all work, so
        GPUs of the failed node already in repair come back into placeable capacity."""
        in_repair = int(self.node_failed[node])
        self.node_spare[spare] = False
        self.node_free[spare] = self.node_free[node] + in_repair
        self.node_spare[node] = True
        self.node_free[node] = 0
        rack = self.rack_of_node(node)
        if in_repair and self.rack_state[rack] == ACTIVE:
            pool = int(self.layout.rack_pool[rack])
            free = int(self.avail[rack])
            self._change_one(pool, rack, free, free + in_repair)
            self.avail_gpus[pool] += in_repair

    def rack_of_node(self, node: int) -> int:
        """The rack that holds `node`."""
        return bisect_right(self._node_lo, node) - 1

    # -- index upkeep -----------------------------------------------------------------

    def _change_one(self, pool: int, rack: int, old: int, new: int) -> None:
        """Rack `rack` goes from `old` to `new` free GPUs (scalar path)."""
        self.avail[rack] = new
        self.version[pool] += 1
        if self._is_watched[rack]:
            self.watched_changes += 1
        counts = self.level_count[pool]
        counts[old] -= 1
        counts[new] += 1
        if not counts[old]:
            self.levels[pool] &= ~(1 << old)
        self.levels[pool] |= 1 << new
        if new:
            heap = self._racks_at[pool][new]
            heapq.heappush(heap, rack)
            if len(heap) > self._heap_limit[pool]:
                self._compact(pool, new)
        block = self._block_of[rack]
        for group, entry in self._tracked[pool].items():
            if old // group != new // group:
                histogram = entry[0]
                histogram[block, old // group] -= 1
                histogram[block, new // group] += 1
                entry[1] += new // group - old // group

    def _change(self, pool: int, racks: np.ndarray, old: np.ndarray, new: np.ndarray) -> None:
        """Racks go from `old` to `new` free GPUs (vector path)."""
        self.avail[racks] = new
        self.version[pool] += 1
        counts = self.level_count[pool]
        delta = np.bincount(new, minlength=len(counts)) - np.bincount(old, minlength=len(counts))
        levels = self.levels[pool]
        changed = delta.nonzero()[0]
        for level, change in zip(changed.tolist(), delta[changed].tolist(), strict=True):
            counts[level] += change
            levels = levels | (1 << level) if counts[level] else levels & ~(1 << level)
        self.levels[pool] = levels
        heaps, is_watched = self._racks_at[pool], self._is_watched
        for rack, level in zip(racks.tolist(), new.tolist(), strict=True):
            if is_watched[rack]:
                self.watched_changes += 1
            if level:
                heapq.heappush(heaps[level], rack)
        for level in set(new.tolist()):
            if level and len(heaps[level]) > self._heap_limit[pool]:
                self._compact(pool, level)
        blocks = self._block_of_array[racks]
        for group, entry in self._tracked[pool].items():
            histogram = entry[0]
            width = histogram.shape[1]
            flat = histogram.reshape(-1)
            old_groups, new_groups = old // group, new // group
            flat -= np.bincount(blocks * width + old_groups, minlength=flat.size)
            flat += np.bincount(blocks * width + new_groups, minlength=flat.size)
            entry[1] += sum((new_groups - old_groups).tolist())

    def _compact(self, pool: int, level: int) -> None:
        """Rebuild a level's heap from the racks on it now (drops the entries of racks gone)."""
        layout_pool = self.layout.pools[pool]
        lo, hi = layout_pool.rack_lo, layout_pool.rack_hi
        self._racks_at[pool][level] = ((self.avail[lo:hi] == level).nonzero()[0] + lo).tolist()

    # -- nodes ------------------------------------------------------------------------

    def _take_nodes(self, racks: np.ndarray, gpus: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The nodes that hand out `gpus[i]` GPUs of each rack `racks[i]`, and how many each."""
        if len(racks) == 1:
            nodes, counts = self._take_from_rack(int(racks[0]), int(gpus[0]))
        elif len(racks) <= FEW_RACKS:
            nodes, counts = [], []
            for rack, want in zip(racks.tolist(), gpus.tolist(), strict=True):
                rack_nodes, rack_counts = self._take_from_rack(rack, want)
                nodes += rack_nodes
                counts += rack_counts
        else:
            return self._take_from_racks(racks, gpus)
        return np.array(nodes, dtype=np.int64), np.array(counts, dtype=np.int64)

    def _take_from_racks(self, racks: np.ndarray, gpus: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """GPUs from several racks of one pool in one vector step (same rule as one rack)."""
        per_rack = int(self.layout.rack_node_lo[racks[0] + 1] - self.layout.rack_node_lo[racks[0]])
        node_ids = self.layout.rack_node_lo[racks][:, None] + np.arange(per_rack)
        free = self.node_free[node_ids]
        if free.min() != free.max():  # some nodes partly used: fullest first, per rack
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
        free = self.node_free[lo:hi].tolist()
        nodes, counts = [], []
        for local in sorted(range(hi - lo), key=free.__getitem__):  # stable: fullest, then lowest first
            have = free[local]
            if not have:
                continue
            nodes.append(lo + local)
            if have >= want:
                free[local] = have - want
                counts.append(want)
                break
            free[local] = 0
            counts.append(have)
            want -= have
        self.node_free[lo:hi] = free
        return nodes, counts

    def _remove_empty_draining(self, pool: int, racks: np.ndarray, now: float) -> None:
        done = racks[(self.rack_state[racks] == DRAINING) & (self.used[racks] == 0)]
        if len(done):
            self.rack_state[done] = RETIRED
            removed = int(self.layout.rack_installed_gpus[done].sum())
            self.installed_gpus[pool] -= removed
            self.capacity_log.append((now, pool, -removed))
