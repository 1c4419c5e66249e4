"""The placement interface and its registry: a strategy is one registered class.

A placement strategy is a pure function of a free-capacity view (`fleet.capacity`): the
live fleet's indexes, or any array of free GPUs per rack. It returns where a gang would
go, or None; it changes nothing. Every strategy keeps each NVLink group inside one rack
and puts the whole gang in one pool.
"""

from __future__ import annotations

from typing import Protocol

from gpufleet.fleet.capacity import CapacityView
from gpufleet.fleet.state import Placement
from gpufleet.registry import Registry


class PlacementStrategy(Protocol):
    """Chooses racks for a gang from a view of free capacity."""

    def __init__(self, seed: int = 0) -> None:
        """`seed`: the run's seed, for strategies that draw (random_fit)."""

    def place(self, capacity: CapacityView, pools: tuple[int, ...], gpus: int, group: int,
              within_block: bool) -> Placement | None:
        """Where `gpus` GPUs in groups of `group` would go, or None if they do not fit now.

        Args:
            capacity: free capacity (the live fleet, or a snapshot array); not modified.
            pools: pools the job may use; the whole gang goes to one of them.
            gpus: GPUs in the gang (a multiple of `group`).
            group: GPUs that must share one rack (NVLink domain).
            within_block: the whole gang must sit in one block.
        """
        ...


PLACEMENTS: Registry[type[PlacementStrategy]] = Registry("placement")
