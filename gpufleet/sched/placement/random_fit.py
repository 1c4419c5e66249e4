"""random: a feasible placement chosen at random (a baseline for the others).

A gang that fits in one rack takes a random rack that holds it; a larger gang takes
random racks in turn, as many groups from each as it can, until it has them all. Draws
come from the stream `placement/random` of the scenario seed, so runs repeat.
"""

from __future__ import annotations

import numpy as np

from gpufleet.fleet.capacity import CapacityView
from gpufleet.fleet.state import Placement
from gpufleet.rng import stream
from gpufleet.sched.placement.base import PLACEMENTS


@PLACEMENTS.register("random")
class RandomPlacement:
    """Uniformly random among feasible racks (and pools)."""

    def __init__(self, seed: int = 0) -> None:
        self.rng = stream(seed, "placement/random")

    def place(self, capacity: CapacityView, pools: tuple[int, ...], gpus: int, group: int,
              within_block: bool) -> Placement | None:
        options: list[Placement] = []
        for index in pools:
            pool = capacity.layout.pools[index]
            if group > pool.rack_gpus:
                continue
            avail = capacity.avail[pool.rack_lo:pool.rack_hi]
            holding = np.flatnonzero(avail >= gpus) if gpus <= pool.rack_gpus else np.zeros(0, dtype=np.int64)
            if len(holding):
                rack = int(self.rng.choice(holding))
                options.append(Placement(index, np.array([pool.rack_lo + rack], dtype=np.int64),
                                         np.array([gpus], dtype=np.int64)))
                continue
            groups = avail // group
            needed = gpus // group
            lo, hi = 0, len(groups)
            if within_block:
                starts = np.arange(0, len(groups), pool.racks_per_block)
                blocks = np.flatnonzero(np.add.reduceat(groups, starts) >= needed) if len(groups) else starts
                if not len(blocks):
                    continue
                lo = int(self.rng.choice(blocks)) * pool.racks_per_block
                hi = min(lo + pool.racks_per_block, len(groups))
            if groups[lo:hi].sum() < needed:
                continue
            candidates = np.flatnonzero(groups[lo:hi]) + lo
            order = self.rng.permutation(candidates)
            taken = np.minimum(groups[order], np.maximum(needed - (np.cumsum(groups[order]) - groups[order]), 0))
            used = taken > 0
            racks, counts = order[used], taken[used]
            sort = np.argsort(racks)
            options.append(Placement(index, racks[sort] + pool.rack_lo, counts[sort] * group))
        if not options:
            return None
        return options[int(self.rng.integers(len(options)))]
