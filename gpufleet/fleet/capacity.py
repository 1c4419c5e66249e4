"""Free capacity as placement reads it, for a live fleet or for a snapshot array.

Placement asks four questions, per pool: free GPUs per rack (`avail`); the tightest rack
with at least n GPUs free; how many whole NVLink groups of g GPUs each block can hold;
and how the racks of each block split by groups they hold (a histogram). `FleetState`
answers from indexes it keeps up to date on every change; `ArrayCapacity` answers from
any array of free GPUs (a projection, a capped copy, a test) by scanning it.
"""

from __future__ import annotations

import functools
from typing import Protocol

import numpy as np

from gpufleet.fleet.layout import FleetLayout


class CapacityView(Protocol):
    """What placement needs to know about free capacity."""

    avail: np.ndarray
    layout: FleetLayout

    def tightest_level(self, pool: int, gpus: int) -> int | None:
        """The fewest free GPUs >= `gpus` that any live rack of the pool has, or None."""
        ...

    def first_rack_at(self, pool: int, free: int) -> int:
        """The lowest rack of the pool with exactly `free` free GPUs (one must exist)."""
        ...

    def group_histogram(self, pool: int, group: int) -> np.ndarray:
        """Racks per block by whole groups they hold: shape (blocks, rack GPUs // group + 1)."""
        ...

    def groups_free(self, pool: int, group: int) -> int:
        """Whole groups of `group` GPUs the pool's racks hold in all."""
        ...


def histogram_of(avail: np.ndarray, per_block: int, group: int, most: int) -> np.ndarray:
    """Racks per block by groups held, from free GPUs per rack of one pool."""
    n_blocks = -(-len(avail) // per_block)
    block = _block_index(len(avail), per_block)
    counts = np.bincount(block * (most + 1) + avail // group, minlength=n_blocks * (most + 1))
    return counts.reshape(n_blocks, most + 1)


@functools.cache
def _block_index(n_racks: int, per_block: int) -> np.ndarray:
    """Block of each of `n_racks` racks, `per_block` to a block (shared: do not change it)."""
    index = np.arange(n_racks) // per_block
    index.setflags(write=False)
    return index


class ArrayCapacity:
    """A CapacityView over a plain array of free GPUs per rack (computed on demand).

    `groups_known` may give whole groups per (pool, group size) where the caller has
    counted them already."""

    def __init__(self, avail: np.ndarray, layout: FleetLayout,
                 groups_known: dict[tuple[int, int], int] | None = None) -> None:
        self.avail = avail
        self.layout = layout
        self._groups_known = groups_known or {}

    def tightest_level(self, pool: int, gpus: int) -> int | None:
        layout_pool = self.layout.pools[pool]
        view = self.avail[layout_pool.rack_lo:layout_pool.rack_hi]
        fitting = view[view >= gpus]
        return int(fitting.min()) if len(fitting) else None

    def first_rack_at(self, pool: int, free: int) -> int:
        layout_pool = self.layout.pools[pool]
        return layout_pool.rack_lo + int(np.argmax(self.avail[layout_pool.rack_lo:layout_pool.rack_hi] == free))

    def group_histogram(self, pool: int, group: int) -> np.ndarray:
        layout_pool = self.layout.pools[pool]
        return histogram_of(self.avail[layout_pool.rack_lo:layout_pool.rack_hi], layout_pool.racks_per_block,
                            group, layout_pool.rack_gpus // group)

    def groups_free(self, pool: int, group: int) -> int:
        known = self._groups_known.get((pool, group))
        if known is not None:
            return known
        layout_pool = self.layout.pools[pool]
        return int((self.avail[layout_pool.rack_lo:layout_pool.rack_hi] // group).sum())
