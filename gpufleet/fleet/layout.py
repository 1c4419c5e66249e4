"""The fleet's static topology: every rack that will ever exist, where it sits, when it lives.

Racks are numbered pool by pool in delivery order, so a pool's racks are one contiguous
range and a block's racks are one contiguous range inside it. Per-rack numpy arrays keep
placement searches O(racks) in C rather than O(nodes) in Python.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gpufleet.catalog import GpuType
from gpufleet.fleet.flavors import has_providers, split_key

NEVER = float("inf")


@dataclass(frozen=True, slots=True)
class PoolLayout:
    """One pool: its GPU type, shape and the ranges of its racks and blocks."""

    index: int
    name: str
    gpu: GpuType
    provider: str
    region: str
    gpus_per_node: int
    nodes_per_rack: int
    racks_per_block: int
    rack_lo: int
    rack_hi: int
    block_lo: int
    block_hi: int
    spare_nodes: int = 0
    burn_in_billed: bool = True

    @property
    def rack_gpus(self) -> int:
        """GPUs of a rack that jobs may be placed on (hot spare nodes excluded)."""
        return self.gpus_per_node * (self.nodes_per_rack - self.spare_nodes)

    @property
    def installed_rack_gpus(self) -> int:
        """GPUs of a rack, spares included (what is installed and billed)."""
        return self.gpus_per_node * self.nodes_per_rack

    @property
    def racks(self) -> int:
        return self.rack_hi - self.rack_lo


@dataclass(frozen=True, slots=True)
class PoolCapacity:
    """Racks of a pool that arrive (take work) or retire together at one time."""

    time_s: float
    pool: int
    rack_lo: int
    rack_hi: int
    retire: bool


@dataclass(frozen=True, slots=True)
class Delivery:
    """One delivery: planned, handed over after its slip, taking work after its burn-in."""

    pool: int
    racks: int
    planned_s: float
    handover_s: float
    ready_s: float
    label: str = ""

    @property
    def slip_s(self) -> float:
        return self.handover_s - self.planned_s

    @property
    def burn_in_s(self) -> float:
        return self.ready_s - self.handover_s


class FleetLayout:
    """Every rack, node and block of the fleet over its whole life.

    Attributes:
        pools: the pools, in spec order.
        rack_pool, rack_block: per-rack pool index and global block id.
        rack_gpus, rack_installed_gpus: per-rack placeable GPUs, and GPUs with spares.
        rack_delivered_s, rack_retire_s: when each rack takes work and starts to drain.
        deliveries: every delivery per pool, in the order its racks are numbered, with its
            planned date, handover (after any slip) and ready time (after any burn-in).
        rack_node_lo: index of each rack's first node; nodes of rack r are
            rack_node_lo[r] .. rack_node_lo[r + 1].
        block_pool: pool index per block.
        changes: capacity changes sorted by time (deliveries before retirements at a tie).
    """

    def __init__(self, pools: list[PoolLayout], deliveries: list[list[tuple[float, int]]],
                 retirements: list[list[tuple[float, int]]],
                 records: list[list[Delivery]] | None = None) -> None:
        self.pools = pools
        # Without records every delivery is on time and takes work on arrival.
        self.deliveries: list[Delivery] = [
            record for pool_records in records for record in pool_records] if records is not None else [
            Delivery(pool.index, racks, time_s, time_s, time_s)
            for pool, pool_deliveries in zip(pools, deliveries, strict=True) for time_s, racks in pool_deliveries]
        n_racks = pools[-1].rack_hi if pools else 0
        self.rack_pool = np.zeros(n_racks, dtype=np.int32)
        self.rack_block = np.zeros(n_racks, dtype=np.int32)
        self.rack_gpus = np.zeros(n_racks, dtype=np.int64)
        self.rack_installed_gpus = np.zeros(n_racks, dtype=np.int64)
        self.rack_delivered_s = np.full(n_racks, NEVER)
        self.rack_retire_s = np.full(n_racks, NEVER)
        self.block_pool = np.zeros(pools[-1].block_hi if pools else 0, dtype=np.int32)
        changes: list[PoolCapacity] = []
        for pool, pool_deliveries, pool_retirements in zip(pools, deliveries, retirements, strict=True):
            lo, hi = pool.rack_lo, pool.rack_hi
            self.rack_pool[lo:hi] = pool.index
            self.rack_block[lo:hi] = pool.block_lo + np.arange(hi - lo) // pool.racks_per_block
            self.rack_gpus[lo:hi] = pool.rack_gpus
            self.rack_installed_gpus[lo:hi] = pool.installed_rack_gpus
            self.block_pool[pool.block_lo:pool.block_hi] = pool.index
            cursor = lo
            for time_s, racks in pool_deliveries:
                self.rack_delivered_s[cursor:cursor + racks] = time_s
                changes.append(PoolCapacity(time_s, pool.index, cursor, cursor + racks, retire=False))
                cursor += racks
            cursor = lo
            for time_s, racks in pool_retirements:
                self.rack_retire_s[cursor:cursor + racks] = time_s
                changes.append(PoolCapacity(time_s, pool.index, cursor, cursor + racks, retire=True))
                cursor += racks
        self.changes = sorted(changes, key=lambda change: (change.time_s, change.retire, change.pool, change.rack_lo))
        nodes_per_rack = np.array(
            [pool.nodes_per_rack for pool in pools for _ in range(pool.racks)], dtype=np.int64
        )
        self.rack_node_lo = np.concatenate(([0], np.cumsum(nodes_per_rack)))
        self.node_gpus = np.repeat(
            np.array([pool.gpus_per_node for pool in pools], dtype=np.int64),
            [pool.racks * pool.nodes_per_rack for pool in pools],
        )

    @property
    def n_racks(self) -> int:
        return len(self.rack_pool)

    @property
    def has_burn_in(self) -> bool:
        """Whether any delivery spends time installed before it takes work."""
        return any(delivery.ready_s > delivery.handover_s for delivery in self.deliveries)

    def burn_in_log(self) -> list[tuple[float, int, int]]:
        """(time_s, pool, GPUs entering (+) or leaving (-) burn-in) for every delivery in burn-in."""
        log = []
        for delivery in self.deliveries:
            if delivery.ready_s > delivery.handover_s:
                gpus = delivery.racks * self.pools[delivery.pool].installed_rack_gpus
                log += [(delivery.handover_s, delivery.pool, gpus), (delivery.ready_s, delivery.pool, -gpus)]
        return log

    @property
    def n_blocks(self) -> int:
        return len(self.block_pool)

    @property
    def n_nodes(self) -> int:
        return int(self.rack_node_lo[-1])

    def pool_named(self, name: str) -> PoolLayout:
        for pool in self.pools:
            if pool.name == name:
                return pool
        raise KeyError(name)

    def pools_for(self, flavors: tuple[str, ...] | None) -> tuple[int, ...]:
        """Indexes of the pools whose GPU type is one of `flavors` (all pools for None); with
        providers in the key (`fleet.flavors`), only theirs, the preferred provider's first."""
        if flavors is None:
            return tuple(pool.index for pool in self.pools)
        if not has_providers(flavors):
            wanted = {flavor.upper() for flavor in flavors}
            return tuple(pool.index for pool in self.pools if pool.gpu.name.upper() in wanted)
        return tuple(index for tier in self.provider_tiers(flavors) for index in tier)

    def provider_tiers(self, flavors: tuple[str, ...] | None) -> list[tuple[int, ...]]:
        """The pools `flavors` allow, grouped by provider in order of preference (one group
        holding them all when the key names no provider)."""
        types, providers = split_key(flavors)
        wanted = {flavor.upper() for flavor in types} if types else None
        allowed = [pool for pool in self.pools if wanted is None or pool.gpu.name.upper() in wanted]
        if providers is None:
            return [tuple(pool.index for pool in allowed)]
        return [tuple(pool.index for pool in allowed if pool.provider == provider) for provider in providers]

    def active_mask(self, time_s: float) -> np.ndarray:
        """Racks delivered by `time_s` and not yet draining."""
        return (self.rack_delivered_s <= time_s) & (self.rack_retire_s > time_s)

    def installed_gpus(self, time_s: float) -> int:
        """GPUs delivered by `time_s` and not yet retired (draining racks count until empty,
        which the static layout cannot know; this is the planned figure)."""
        return int(self.rack_installed_gpus[self.active_mask(time_s)].sum())

    def blocks_spanned(self, racks: np.ndarray) -> int:
        """How many blocks the ascending `racks` touch (a block's racks are adjacent)."""
        if len(racks) == 1:
            return 1
        blocks = self.rack_block[racks]
        return 1 + int(np.count_nonzero(blocks[1:] != blocks[:-1]))

    def change_times(self) -> list[float]:
        return sorted({change.time_s for change in self.changes})

    def fits_when_empty(self, pool_index: int, gpus: int, group: int, within_block: bool,
                        time_s: float) -> bool:
        """Could the pool hold the gang at `time_s` if every active rack were free?"""
        pool = self.pools[pool_index]
        if group > pool.rack_gpus:
            return False
        active = self.active_mask(time_s)[pool.rack_lo:pool.rack_hi]
        groups_per_rack = pool.rack_gpus // group
        needed = gpus // group
        if within_block:
            blocks = self.rack_block[pool.rack_lo:pool.rack_hi][active] - pool.block_lo
            if len(blocks) == 0:
                return False
            return int(np.bincount(blocks).max()) * groups_per_rack >= needed
        return int(active.sum()) * groups_per_rack >= needed

    def first_fit_time(self, pools: tuple[int, ...], gpus: int, group: int, within_block: bool,
                       after_s: float) -> float | None:
        """Earliest time >= `after_s` at which an empty eligible pool could hold the gang."""
        for time_s in [after_s] + [t for t in self.change_times() if t > after_s]:
            if any(self.fits_when_empty(p, gpus, group, within_block, time_s) for p in pools):
                return time_s
        return None

    def why_never_fits(self, pools: tuple[int, ...], gpus: int, group: int, within_block: bool,
                       after_s: float) -> str | None:
        """Why a gang can never run on the fleet as it will be from `after_s` on (None if it can)."""
        most = self.largest_fit(pools, group, within_block, after_s)
        if most >= gpus:
            return None
        if not pools:
            return "no pool has the GPU types it asks for"
        names = ", ".join(self.pools[p].name for p in pools)
        if all(group > self.pools[p].rack_gpus for p in pools):
            domains = ", ".join(f"{self.pools[p].name} {self.pools[p].rack_gpus}" for p in pools)
            spares = " (hot spare nodes excluded)" if any(self.pools[p].spare_nodes for p in pools) else ""
            return (f"its NVLink groups of {group} GPUs are larger than any eligible pool's NVLink domain "
                    f"(GPUs placeable per rack{spares}: {domains})")
        scope = "one block of " if within_block else ""
        return (f"needs {gpus:,} GPUs in NVLink groups of {group}; the most {scope}any eligible pool ({names}) "
                f"ever offers is {most:,}")

    def largest_fit(self, pools: tuple[int, ...], group: int, within_block: bool,
                    after_s: float) -> int:
        """Most GPUs (in groups of `group`) any eligible pool ever offers at or after `after_s`."""
        best = 0
        times = [after_s] + [t for t in self.change_times() if t > after_s]
        for p in pools:
            pool = self.pools[p]
            if group > pool.rack_gpus:
                continue
            per_rack = (pool.rack_gpus // group) * group
            for time_s in times:
                active = self.active_mask(time_s)[pool.rack_lo:pool.rack_hi]
                if within_block:
                    blocks = self.rack_block[pool.rack_lo:pool.rack_hi][active] - pool.block_lo
                    racks = int(np.bincount(blocks).max()) if len(blocks) else 0
                else:
                    racks = int(active.sum())
                best = max(best, racks * per_rack)
        return best
