"""Topology-aware gang placement: all GPUs of a job at once, NVLink groups never split.

A placement strategy is a pure function of a free-capacity snapshot: it reads `avail`
(free GPUs per rack) and the layout, and returns where the gang would go, or None.

Best fit (the default) minimises racks, then blocks, then the GPUs left over in the
racks it touches, so that big holes stay big for big jobs:

1. If the gang fits in one rack, take the rack with the least free capacity that holds it.
2. Else, if one block can hold it, take the block needing the fewest racks (then the
   tightest block); inside it, the racks with the most free groups, with the last rack
   chosen as the tightest one that covers the remainder.
3. Else (unless the job must stay within a block) take whole blocks largest first and
   finish in the tightest block that covers the remainder.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Protocol

import numpy as np

from gpufleet.fleet.layout import FleetLayout, PoolLayout
from gpufleet.fleet.state import Placement
from gpufleet.registry import Registry

_BIG = np.iinfo(np.int64).max


class PlacementStrategy(Protocol):
    """Chooses racks for a gang from a snapshot of free GPUs per rack."""

    def place(self, avail: np.ndarray, layout: FleetLayout, pools: tuple[int, ...], gpus: int,
              group: int, within_block: bool, level_count: list[np.ndarray] | None = None) -> Placement | None:
        """Where `gpus` GPUs in groups of `group` would go, or None if they do not fit.

        Args:
            avail: free GPUs per rack (global rack index); not modified.
            layout: the fleet topology.
            pools: pools the job may use; the whole gang goes to one of them.
            gpus: GPUs in the gang (a multiple of `group`).
            group: GPUs that must share one rack (NVLink domain).
            within_block: the whole gang must sit in one block.
            level_count: optional per-pool count of racks by free GPUs in `avail`, as
                FleetState keeps it; it finds the tightest single rack without a scan.
        """
        ...


PLACEMENTS: Registry[type[PlacementStrategy]] = Registry("placement")


@PLACEMENTS.register("best_fit", aliases=("pack", "topo_pack"))
class BestFitPlacement:
    """Fewest racks, then fewest blocks, then least left over (see module docstring)."""

    def place(self, avail: np.ndarray, layout: FleetLayout, pools: tuple[int, ...], gpus: int,
              group: int, within_block: bool, level_count: list[np.ndarray] | None = None) -> Placement | None:
        if level_count is not None:
            single = _best_single_rack(avail, level_count, layout, pools, gpus)
            if single is not None:
                return single
        best: Placement | None = None
        best_key: tuple[int, int, int] | None = None
        for index in pools:
            pool = layout.pools[index]
            if group > pool.rack_gpus or pool.racks == 0:
                continue
            view = avail[pool.rack_lo:pool.rack_hi]
            found = _place_in_pool(view, pool, gpus, group, within_block, try_single=level_count is None)
            if found is None:
                continue
            racks, taken = found
            blocks = len(np.unique(racks // pool.racks_per_block)) if len(racks) > 1 else 1
            key = (len(racks), blocks, int(view[racks].sum()) - gpus)
            if best_key is None or key < best_key:
                best_key = key
                best = Placement(index, racks + pool.rack_lo, taken)
        return best


def _best_single_rack(avail: np.ndarray, level_count: list[np.ndarray], layout: FleetLayout,
                      pools: tuple[int, ...], gpus: int) -> Placement | None:
    """The tightest rack holding all `gpus` across the pools, found from the level counts."""
    best: tuple[int, int] | None = None  # (free GPUs, pool)
    for index in pools:
        counts = level_count[index]
        if gpus >= len(counts):
            continue
        levels = np.flatnonzero(counts[gpus:])
        if len(levels) and (best is None or gpus + int(levels[0]) < best[0]):
            best = (gpus + int(levels[0]), index)
    if best is None:
        return None
    pool = layout.pools[best[1]]
    rack = pool.rack_lo + int(np.argmax(avail[pool.rack_lo:pool.rack_hi] == best[0]))
    return Placement(best[1], np.array([rack], dtype=np.int64), np.array([gpus], dtype=np.int64))


def _place_in_pool(avail: np.ndarray, pool: PoolLayout, gpus: int, group: int, within_block: bool,
                   try_single: bool = True) -> tuple[np.ndarray, np.ndarray] | None:
    """Best fit inside one pool; rack indexes are local to the pool."""
    if try_single and gpus <= pool.rack_gpus:
        # Groups divide the gang, so a rack holds it whole iff it has `gpus` free.
        masked = np.where(avail >= gpus, avail, _BIG)
        rack = int(masked.argmin())
        if masked[rack] != _BIG:
            return np.array([rack]), np.array([gpus], dtype=np.int64)
    needed = gpus // group
    groups = avail // group
    per_block = pool.racks_per_block
    starts = _block_starts(len(groups), per_block)
    block_groups = np.add.reduceat(groups, starts)
    feasible = np.flatnonzero(block_groups >= needed)
    if len(feasible):
        block = int(feasible[0]) if len(feasible) == 1 else _best_block(groups, block_groups, feasible, needed,
                                                                        pool.rack_gpus // group, per_block)
        lo = block * per_block
        local, counts = _racks_in_block(groups[lo:lo + per_block], needed)
        return _as_gpus(local + lo, counts, group)
    if within_block or int(block_groups.sum()) < needed:
        return None
    order = np.argsort(-block_groups, kind="stable")
    cumulative = np.cumsum(block_groups[order])
    n_full = int(np.searchsorted(cumulative, needed))  # blocks taken whole before the last one
    remainder = needed - (int(cumulative[n_full - 1]) if n_full else 0)
    rest = order[n_full:]
    covering = rest[block_groups[rest] >= remainder]
    last = int(covering[np.argmin(block_groups[covering])])  # tightest block for the rest
    racks: list[np.ndarray] = []
    counts: list[np.ndarray] = []
    for block in order[:n_full].tolist():
        row = groups[block * per_block:(block + 1) * per_block]
        used = np.flatnonzero(row)
        racks.append(used + block * per_block)
        counts.append(row[used])
    local, last_counts = _racks_in_block(groups[last * per_block:(last + 1) * per_block], remainder)
    racks.append(local + last * per_block)
    counts.append(last_counts)
    return _as_gpus(np.concatenate(racks), np.concatenate(counts), group)


@lru_cache(maxsize=256)
def _block_starts(n_racks: int, per_block: int) -> np.ndarray:
    return np.arange(0, n_racks, per_block)


@lru_cache(maxsize=256)
def _block_of(n_racks: int, per_block: int) -> np.ndarray:
    return np.arange(n_racks) // per_block


def _best_block(groups: np.ndarray, block_groups: np.ndarray, feasible: np.ndarray, needed: int,
                most: int, per_block: int) -> int:
    """Among blocks that can hold the gang: fewest racks needed, then tightest, then first.

    Racks needed per block come from a histogram of groups-per-rack (at most `most`, the
    groups a whole rack holds): take racks richest first until `needed` is reached.
    """
    if most == 1:  # every usable rack holds one group: racks needed == groups needed
        return int(feasible[np.argmin(block_groups[feasible])])
    width = most + 1
    hist = np.bincount(_block_of(len(groups), per_block) * width + groups,
                       minlength=len(block_groups) * width).reshape(-1, width)[feasible, :0:-1]
    values = np.arange(most, 0, -1)
    reached = np.cumsum(hist * values, axis=1)
    racks = np.cumsum(hist, axis=1)
    level = np.argmax(reached >= needed, axis=1)
    rows = np.arange(len(feasible))
    short = needed - (reached[rows, level] - hist[rows, level] * values[level])
    racks_needed = racks[rows, level] - hist[rows, level] + -(-short // values[level])
    return int(feasible[np.lexsort((feasible, block_groups[feasible], racks_needed))[0]])


def _racks_in_block(groups: np.ndarray, needed: int) -> tuple[np.ndarray, np.ndarray]:
    """Fewest racks of one block holding `needed` groups; the last rack is the tightest fit."""
    order = np.argsort(-groups, kind="stable")
    cumulative = np.cumsum(groups[order])
    k = int(np.searchsorted(cumulative, needed))  # racks taken whole before the last one
    chosen = order[:k]
    remainder = needed - (int(cumulative[k - 1]) if k else 0)
    rest = order[k:]
    covering = rest[groups[rest] >= remainder]
    last = covering[np.argmin(groups[covering])]
    return np.concatenate((chosen, [last])), np.concatenate((groups[chosen], [remainder]))


def _as_gpus(racks: np.ndarray, groups: np.ndarray, group: int) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(racks)
    return racks[order].astype(np.int64), groups[order].astype(np.int64) * group
