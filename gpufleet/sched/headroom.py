"""What the free GPUs can still do, at one instant: start waiting work, or nothing at all.

Two measures of the free (placeable) GPUs, both net of hot spares and GPUs in repair
(`FleetState.avail` holds neither) and of NVLink group granularity:

- *startable*: the free GPUs some waiting job could start on now. A waiting shape (GPUs,
  NVLink group, block rule, eligible pools) counts only if its whole gang fits now in
  whole groups, and then it can use, on each rack of its pools, the free GPUs that make
  whole groups of its size. GPUs the backfill reservation keeps for the blocked head are
  not free for anyone else (`extra` caps each reserved rack). With nothing waiting, every
  free GPU is headroom.
- *stranded*: the free GPUs no shape present in the fleet (waiting, running, or a
  serving replica) could use where they are: remnants of racks smaller than every such
  shape's NVLink group, and racks of pools no such shape may use. With no shape present
  nothing is judged stranded.

The fleet is full at an instant when the allocated GPUs are (nearly) all the capacity the
waiting work could use: allocated / (allocated + startable), which is 1 when jobs wait
and none of them fits anywhere.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from gpufleet.fleet.layout import FleetLayout

ShapeInPools = tuple[int, int, bool, tuple[int, ...]]
"""(GPUs, NVLink group, within one block, eligible pools)."""


@dataclass(frozen=True, slots=True)
class Headroom:
    """Free GPUs at one instant: all of them, those waiting work could start on, those no
    present shape could use; and GPUs allocated (jobs and replicas)."""

    free: int
    startable: int
    stranded: int
    allocated: int

    @property
    def startable_utilisation(self) -> float:
        """allocated / (allocated + startable); 0 when both are 0."""
        total = self.allocated + self.startable
        return self.allocated / total if total > 0 else 0.0


def usable_gpus(avail: np.ndarray, layout: FleetLayout, groups: Iterable[tuple[int, int]]) -> np.ndarray:
    """Per rack, the most free GPUs any of `groups` ((pool, NVLink group)) can use as whole groups."""
    best = np.zeros_like(avail)
    for pool, group in groups:
        lo, hi = layout.pools[pool].rack_lo, layout.pools[pool].rack_hi
        np.maximum(best[lo:hi], avail[lo:hi] // group * group, out=best[lo:hi])
    return best


def _fits(capacity: np.ndarray, layout: FleetLayout, shape: ShapeInPools,
          whole_groups: dict[tuple[int, int], int]) -> bool:
    """Whether the gang fits in whole groups on `capacity` now (in one block if it must);
    `whole_groups` caches the free whole groups per (pool, group)."""
    gpus, group, within_block, pools = shape
    needed = gpus // group
    for p in pools:
        pool = layout.pools[p]
        if within_block:
            whole = capacity[pool.rack_lo:pool.rack_hi] // group
            blocks = layout.rack_block[pool.rack_lo:pool.rack_hi] - pool.block_lo
            if len(whole) and int(np.bincount(blocks, weights=whole).max()) >= needed:
                return True
            continue
        if (p, group) not in whole_groups:
            whole_groups[(p, group)] = int((capacity[pool.rack_lo:pool.rack_hi] // group).sum())
        if whole_groups[(p, group)] >= needed:
            return True
    return False


def headroom(avail: np.ndarray, allocated: int, layout: FleetLayout, waiting: list[ShapeInPools],
             present: list[ShapeInPools], extra: np.ndarray | None = None) -> Headroom:
    """Startable and stranded GPUs (see the module docstring) of the free GPUs `avail`.

    `waiting`: the shapes of the jobs waiting; `present`: every shape waiting or running
    (replicas included); `extra`: per rack, what the blocked head leaves others of its
    reserved racks (None: no reservation).
    """
    free = int(avail.sum())
    if waiting:
        capacity = avail if extra is None else np.minimum(avail, extra)
        whole_groups: dict[tuple[int, int], int] = {}
        groups = {(p, shape[1]) for shape in waiting if _fits(capacity, layout, shape, whole_groups)
                  for p in shape[3]}
        startable = int(usable_gpus(capacity, layout, groups).sum())
    else:
        startable = free
    if present:
        groups = {(p, shape[1]) for shape in present for p in shape[3]}
        stranded = free - int(usable_gpus(avail, layout, groups).sum())
    else:
        stranded = 0
    return Headroom(free, startable, stranded, allocated)
