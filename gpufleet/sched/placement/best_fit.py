"""best_fit (the default): fewest racks, then fewest blocks, then least left over.

Packing keeps big holes big for big jobs (Ray's PACK, Kueue TAS's preferred placement):

1. If the gang fits in one rack, take the rack with the least free capacity that holds it.
2. Else, if one block can hold it, take the block needing the fewest racks (then the
   tightest block); inside it, the racks with the most free groups, with the last rack
   chosen as the tightest one that covers the remainder.
3. Else (unless the job must stay within a block) take whole blocks largest first and
   finish in the tightest block that covers the remainder.

Pools are tried in the job's order of eligible pools; a pool whose placement reaches the
fewest racks possible within one block ends the search.
"""

from __future__ import annotations

import numpy as np

from gpufleet.fleet.capacity import CapacityView
from gpufleet.fleet.layout import PoolLayout
from gpufleet.fleet.state import Placement
from gpufleet.sched.placement.base import PLACEMENTS


@PLACEMENTS.register("best_fit", aliases=("pack", "topo_pack"))
class BestFitPlacement:
    """Fewest racks, then fewest blocks, then least left over (see module docstring)."""

    def __init__(self, seed: int = 0) -> None:
        del seed  # Unused: deterministic.

    def place(self, capacity: CapacityView, pools: tuple[int, ...], gpus: int, group: int,
              within_block: bool) -> Placement | None:
        layout = capacity.layout
        single: tuple[int, int] | None = None  # (free GPUs, pool) of the tightest single rack
        for index in pools:
            pool = layout.pools[index]
            if gpus <= pool.rack_gpus:
                # Groups divide the gang, so a rack holds it whole iff it has `gpus` free.
                level = capacity.tightest_level(index, gpus)
                if level is not None and (single is None or level < single[0]):
                    single = (level, index)
        if single is not None:  # one rack beats any spread
            rack = capacity.first_rack_at(single[1], single[0])
            return Placement(single[1], np.array([rack], dtype=np.int64), np.array([gpus], dtype=np.int64))
        usable = [layout.pools[index] for index in pools if group <= layout.pools[index].rack_gpus]
        if len(usable) == 1:  # nothing to compare with
            pool = usable[0]
            if capacity.groups_free(pool.index, group) < gpus // group:
                return None
            found = _across_racks(capacity, pool, gpus, group, within_block)
            return None if found is None else Placement(pool.index, *found)
        best: Placement | None = None
        best_key: tuple[int, int, int] | None = None
        # No placement uses fewer racks than this: once one reaches it in one block, stop looking.
        bound = min((-(-gpus // ((pool.rack_gpus // group) * group)) for pool in usable), default=0)
        for pool in usable:
            index = pool.index
            if best_key is not None and best_key[:2] == (bound, 1):
                break
            if capacity.groups_free(index, group) < gpus // group:
                continue
            found = _across_racks(capacity, pool, gpus, group, within_block)
            if found is None:
                continue
            racks, taken = found
            key = (len(racks), layout.blocks_spanned(racks), int(capacity.avail[racks].sum()) - gpus)
            if best_key is None or key < best_key:
                best_key = key
                best = Placement(index, racks, taken)
        return best


def _across_racks(capacity: CapacityView, pool: PoolLayout, gpus: int, group: int,
                  within_block: bool) -> tuple[np.ndarray, np.ndarray] | None:
    """Best fit over several racks of one pool: (racks, GPUs per rack), racks ascending."""
    histogram = capacity.group_histogram(pool.index, group)
    if pool.rack_gpus // group == 1:
        return _one_group_racks(capacity, pool, histogram[:, 1], gpus // group, group, within_block)
    return _any_groups_racks(capacity, pool, histogram, gpus, group, within_block)


def _any_groups_racks(capacity: CapacityView, pool: PoolLayout, histogram: np.ndarray, gpus: int, group: int,
                      within_block: bool) -> tuple[np.ndarray, np.ndarray] | None:
    """`_across_racks` for any number of groups per rack."""
    needed = gpus // group
    most = pool.rack_gpus // group
    block_groups = histogram @ np.arange(most + 1)  # same bits on every CPU: integers, no BLAS
    per_block = pool.racks_per_block
    block = _best_block(histogram, block_groups, needed, most)
    if block is not None:
        lo = pool.rack_lo + block * per_block
        groups = capacity.avail[lo:min(lo + per_block, pool.rack_hi)] // group
        local, local_counts = _racks_in_block(groups, needed, most)
        return _as_gpus([lo + rack for rack in local], local_counts, group)
    if within_block or int(block_groups.sum()) < needed:
        return None
    whole, last, remainder = _span_blocks(block_groups, needed)
    racks: list[int] = []
    counts: list[int] = []
    for block in whole.tolist():
        lo = pool.rack_lo + block * per_block
        groups = capacity.avail[lo:min(lo + per_block, pool.rack_hi)] // group
        used = groups.nonzero()[0]
        racks += (used + lo).tolist()
        counts += groups[used].tolist()
    lo = pool.rack_lo + last * per_block
    local, last_counts = _racks_in_block(capacity.avail[lo:min(lo + per_block, pool.rack_hi)] // group, remainder,
                                         most)
    return _as_gpus(racks + [lo + rack for rack in local], counts + last_counts, group)


def _one_group_racks(capacity: CapacityView, pool: PoolLayout, block_groups: np.ndarray, needed: int, group: int,
                     within_block: bool) -> tuple[np.ndarray, np.ndarray] | None:
    """`_across_racks` when a rack holds at most one group: the same choice in fewer steps.

    Each rack with a group free is a whole option, so the rules above reduce to: the
    tightest block that holds the gang (the first among equals), its lowest racks with a
    group; else whole blocks largest first and the lowest racks of the tightest block
    that covers the rest.
    """
    lo, hi, per_block = pool.rack_lo, pool.rack_hi, pool.racks_per_block
    has = capacity.avail[lo:hi] >= group
    feasible = (block_groups >= needed).nonzero()[0]
    if len(feasible):
        block = int(feasible[block_groups[feasible].argmin()])
        start = block * per_block
        racks = has[start:start + per_block].nonzero()[0][:needed] + (lo + start)
        return racks, np.full(needed, group, dtype=np.int64)
    if within_block or int(block_groups.sum()) < needed:
        return None
    whole, last, remainder = _span_blocks(block_groups, needed)
    whole_block = np.zeros(len(block_groups), dtype=bool)
    whole_block[whole] = True
    chosen = has & np.repeat(whole_block, per_block)[:hi - lo]
    start = last * per_block
    chosen[has[start:start + per_block].nonzero()[0][:remainder] + start] = True
    return chosen.nonzero()[0] + lo, np.full(needed, group, dtype=np.int64)


def _span_blocks(block_groups: np.ndarray, needed: int) -> tuple[np.ndarray, int, int]:
    """Blocks for a gang no block holds: (blocks taken whole, largest first; the tightest
    block that covers the rest; groups taken from it)."""
    order = (-block_groups).argsort(kind="stable")
    cumulative = block_groups[order].cumsum()
    n_full = int(np.searchsorted(cumulative, needed))  # blocks taken whole before the last one
    remainder = needed - (int(cumulative[n_full - 1]) if n_full else 0)
    rest = order[n_full:]
    covering = rest[block_groups[rest] >= remainder]
    return order[:n_full], int(covering[block_groups[covering].argmin()]), remainder


def _best_block(histogram: np.ndarray, block_groups: np.ndarray, needed: int, most: int) -> int | None:
    """Among blocks that can hold the gang: fewest racks needed, then tightest, then first
    (None if no block can).

    Racks needed per block come from its histogram of groups per rack: take racks
    richest first until `needed` groups are reached (a plain loop: docs/performance.md).
    """
    best: tuple[int, int, int] | None = None
    fewest = -(-needed // most)  # no block needs fewer racks
    rows = histogram.tolist()
    for block, total in enumerate(block_groups.tolist()):
        if total < needed or (best is not None and best[0] == fewest and total >= best[1]):
            continue  # cannot hold it, or cannot beat the best
        if most == 1:  # every usable rack holds one group: racks needed == groups needed
            key = (needed, total, block)
        else:
            row, racks, rest = rows[block], 0, needed
            for level in range(most, 0, -1):
                if row[level] * level >= rest:
                    racks += -(-rest // level)
                    break
                rest -= row[level] * level
                racks += row[level]
            key = (racks, total, block)
        if best is None or key < best:
            best = key
    return None if best is None else best[2]


def _racks_in_block(groups: np.ndarray, needed: int, most: int) -> tuple[list[int], list[int]]:
    """Fewest racks of one block holding `needed` groups, richest (then lowest) racks first;
    the last rack is the tightest (then lowest) that covers the rest. Returns (racks within
    the block, groups taken from each)."""
    whole = -(-needed // most) - 1  # racks taken whole, if enough racks are full
    full = (groups == most).nonzero()[0]
    if len(full) > whole:  # the full racks alone hold the gang (one more covers the rest)
        chosen = full[:whole]
        taken = [most] * whole
        remainder = needed - whole * most
    else:
        order = (-groups).argsort(kind="stable")
        cumulative = groups[order].cumsum()
        count = int(np.searchsorted(cumulative, needed))
        chosen = order[:count]
        taken = groups[chosen].tolist()
        remainder = needed - (int(cumulative[count - 1]) if count else 0)
    covering = np.where(groups >= remainder, groups, most + 1)  # most + 1: does not cover
    covering[chosen] = most + 1
    return chosen.tolist() + [int(covering.argmin())], taken + [remainder]


def _as_gpus(racks: list[int], groups: list[int], group: int) -> tuple[np.ndarray, np.ndarray]:
    """(racks ascending, GPUs taken from each) from racks and the groups taken from each."""
    by_rack = sorted(zip(racks, groups, strict=True))  # racks are distinct
    return (np.array([rack for rack, _ in by_rack], dtype=np.int64),
            np.array([taken * group for _, taken in by_rack], dtype=np.int64))
