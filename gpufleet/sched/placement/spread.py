"""spread: the opposite of packing, as Ray's SPREAD: use as many racks as possible.

A gang that fits in one rack takes the rack with the most free GPUs. A larger gang puts
one NVLink group on each of the racks with the most free groups in turn, round after
round, until it has them all (in its roomiest block if it must stay in one block).
"""

from __future__ import annotations

import numpy as np

from gpufleet.fleet.capacity import CapacityView
from gpufleet.fleet.state import Placement
from gpufleet.sched.placement.base import PLACEMENTS


@PLACEMENTS.register("spread")
class SpreadPlacement:
    """Worst fit for one rack; round-robin groups over the roomiest racks otherwise."""

    def __init__(self, seed: int = 0) -> None:
        del seed  # Unused: deterministic.

    def place(self, capacity: CapacityView, pools: tuple[int, ...], gpus: int, group: int,
              within_block: bool) -> Placement | None:
        best: tuple[tuple[int, int], Placement] | None = None
        for index in pools:
            pool = capacity.layout.pools[index]
            if group > pool.rack_gpus:
                continue
            avail = capacity.avail[pool.rack_lo:pool.rack_hi]
            if gpus <= pool.rack_gpus and len(avail) and avail.max() >= gpus:
                rack = int(np.argmax(avail))
                key = (0, -int(avail[rack]))
                placement = Placement(index, np.array([pool.rack_lo + rack], dtype=np.int64),
                                      np.array([gpus], dtype=np.int64))
            else:
                found = _round_robin(avail // group, gpus // group, pool.racks_per_block, within_block)
                if found is None:
                    continue
                racks, counts = found
                key = (1, -len(racks))
                placement = Placement(index, racks + pool.rack_lo, counts * group)
            if best is None or key < best[0]:
                best = (key, placement)
        return None if best is None else best[1]


def _round_robin(groups: np.ndarray, needed: int, per_block: int, within_block: bool
                 ) -> tuple[np.ndarray, np.ndarray] | None:
    """Groups per rack taken one per rack per round, roomiest racks first (racks ascending)."""
    offset = 0
    if within_block:
        blocks = np.add.reduceat(groups, np.arange(0, len(groups), per_block)) if len(groups) else groups
        if not len(blocks) or blocks.max() < needed:
            return None
        block = int(np.argmax(blocks))
        offset = block * per_block
        groups = groups[offset:offset + per_block]
    if groups.sum() < needed:
        return None
    # Water-filling: the smallest round t with sum(min(groups, t)) >= needed.
    rounds = 1
    while np.minimum(groups, rounds).sum() < needed:
        rounds += 1
    take = np.minimum(groups, rounds - 1)
    short = needed - int(take.sum())
    last_round = np.flatnonzero(groups >= rounds)
    order = last_round[np.argsort(-groups[last_round], kind="stable")]
    take[order[:short]] += 1
    racks = np.flatnonzero(take)
    return racks + offset, take[racks]
