"""Failure processes at run time: when the next failure of each process happens, and what it hits.

Exponential processes are superposed: the next failure of a process whose units each
fail at rate r comes after an exponential time of rate r x (units up now), and strikes
a unit chosen uniformly among those up (rejection sampling over the installed range, so
no per-unit state). Being memoryless, the draw is simply redone whenever the number of
units up changes. Weibull processes keep one clock per unit, drawn when the unit is
installed or repaired (its age restarts), in a heap.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass

import numpy as np

from gpufleet.fleet.layout import FleetLayout
from gpufleet.fleet.state import ACTIVE, DRAINING, FleetState
from gpufleet.sim.rng import cumulative, pick, stream
from gpufleet.spec.failures import Component, FailureDist, FailureProcessSpec

HOUR_S = 3600.0
_MAX_TRIES = 10_000


@dataclass(frozen=True, slots=True)
class Strike:
    """What one failure takes down: whole nodes, or one GPU of a node, or racks."""

    component: Component
    pool: int
    racks: tuple[int, ...]  # racks down as a whole (rack and block failures)
    node: int = -1  # the node (node and GPU failures)
    gpu_index: int = -1  # for GPU failures: which of the node's working GPUs (0 = first)


class FailureProcess:
    """One configured process over the pools it strikes."""

    def __init__(self, index: int, spec: FailureProcessSpec, layout: FleetLayout, pools: tuple[int, ...],
                 seed: int) -> None:
        self.index = index
        self.spec = spec
        self.layout = layout
        self.pools = pools
        self.rng = stream(seed, f"failures/{spec.name}")
        self.repair_rng = stream(seed, f"failures/{spec.name}/repair")
        self.cause_rng = stream(seed, f"failures/{spec.name}/cause")
        self.causes = list(spec.causes) or [spec.name]
        self.cause_cdf = cumulative(list(spec.causes.values()) or [1.0])
        self.rate_per_s = 1.0 / (spec.mean_hours * HOUR_S)
        self.weibull = spec.distribution is FailureDist.weibull
        self.weibull_scale_s = spec.mean_hours * HOUR_S / math.gamma(1.0 + 1.0 / spec.shape)
        self.clocks: list[tuple[float, int]] = []  # Weibull: (failure time, unit)
        self.version = 0

    # -- units up ---------------------------------------------------------------------

    def units_up(self, state: FleetState) -> list[int]:
        """Units of each eligible pool that can fail now."""
        counts = []
        layout = self.layout
        for p in self.pools:
            pool = layout.pools[p]
            installed_racks = state.installed_gpus[p] // pool.installed_rack_gpus
            if self.spec.component is Component.gpu:
                counts.append(state.installed_gpus[p] - state.failed_gpus[p])
            elif self.spec.component is Component.node:
                counts.append(installed_racks * pool.nodes_per_rack - state.failed_nodes[p])
            elif self.spec.component is Component.rack:
                counts.append(installed_racks - state.down_racks[p])
            else:
                counts.append(len(self._blocks_up(state, p)))
        return counts

    def _blocks_up(self, state: FleetState, p: int) -> list[int]:
        """Blocks of the pool (local index) with a rack installed and up."""
        pool = self.layout.pools[p]
        states = state.rack_state[pool.rack_lo:state.delivered_hi[p]]
        up = ((states == ACTIVE) | (states == DRAINING)) & ~state.rack_down[pool.rack_lo:state.delivered_hi[p]]
        return sorted(set((np.flatnonzero(up) // pool.racks_per_block).tolist()))

    # -- timing -----------------------------------------------------------------------

    def next_failure(self, now: float, state: FleetState) -> float | None:
        """When this process next strikes (None: nothing can fail)."""
        if self.weibull:
            return self.clocks[0][0] if self.clocks else None
        up = sum(self.units_up(state))
        if up <= 0:
            return None
        return now + float(self.rng.exponential(1.0 / (self.rate_per_s * up)))

    def install(self, units: np.ndarray, now: float) -> None:
        """Start Weibull clocks for new (or repaired) units."""
        if not self.weibull or not len(units):
            return
        times = now + self.weibull_scale_s * self.rng.weibull(self.spec.shape, size=len(units))
        for when, unit in zip(times.tolist(), units.tolist(), strict=True):
            heapq.heappush(self.clocks, (when, unit))

    def units_of_racks(self, state: FleetState, lo: int, hi: int) -> np.ndarray:
        """Unit ids of racks lo..hi for this component (GPU ids are node * 64 + index)."""
        layout = self.layout
        if self.spec.component is Component.rack:
            return np.arange(lo, hi)
        if self.spec.component is Component.block:
            return np.unique(layout.rack_block[lo:hi])
        nodes = np.arange(layout.rack_node_lo[lo], layout.rack_node_lo[hi])
        if self.spec.component is Component.node:
            return nodes
        gpus = layout.node_gpus[nodes]
        return np.repeat(nodes * 64, gpus) + np.concatenate([np.arange(g) for g in gpus.tolist()])

    # -- what it hits -----------------------------------------------------------------

    def strike(self, now: float, state: FleetState) -> Strike | None:
        """The unit this failure hits (None if nothing is up)."""
        if self.weibull:
            return self._strike_clock(now, state)
        up = self.units_up(state)
        total = sum(up)
        if total <= 0:
            return None
        p = self.pools[pick(self.rng, cumulative([float(units) for units in up]))]
        pool, layout = self.layout.pools[p], self.layout
        if self.spec.component is Component.block:
            local = self._blocks_up(state, p)
            block_lo = pool.rack_lo + local[int(self.rng.integers(len(local)))] * pool.racks_per_block
            return Strike(Component.block, p, self._racks_up(state, block_lo,
                                                             min(block_lo + pool.racks_per_block, pool.rack_hi)))
        for _ in range(_MAX_TRIES):  # uniform over installed racks, nodes, GPUs; retry what is down
            rack = int(self.rng.integers(pool.rack_lo, state.delivered_hi[p]))
            if state.rack_state[rack] not in (ACTIVE, DRAINING) or state.rack_down[rack]:
                continue
            if self.spec.component is Component.rack:
                return Strike(Component.rack, p, (rack,))
            node = int(self.rng.integers(layout.rack_node_lo[rack], layout.rack_node_lo[rack + 1]))
            if self.spec.component is Component.node:
                if state.node_failed[node] == 0:
                    return Strike(Component.node, p, (), node)
                continue
            index = int(self.rng.integers(pool.gpus_per_node))
            if index < pool.gpus_per_node - int(state.node_failed[node]):  # failed GPUs cannot fail again
                return Strike(Component.gpu, p, (), node, index)
        return None

    @staticmethod
    def _racks_up(state: FleetState, lo: int, hi: int) -> tuple[int, ...]:
        return tuple(r for r in range(lo, hi) if state.rack_state[r] in (ACTIVE, DRAINING) and not state.rack_down[r])

    def _strike_clock(self, now: float, state: FleetState) -> Strike | None:
        layout = self.layout
        while self.clocks and self.clocks[0][0] <= now:
            _, unit = heapq.heappop(self.clocks)
            if self.spec.component is Component.gpu:
                node, index = divmod(unit, 64)
                rack = int(np.searchsorted(layout.rack_node_lo, node, side="right")) - 1
                if state.rack_state[rack] in (ACTIVE, DRAINING) and index >= state.node_failed[node]:
                    return Strike(Component.gpu, int(layout.rack_pool[rack]), (), node,
                                  index - int(state.node_failed[node]))
            elif self.spec.component is Component.node:
                rack = int(np.searchsorted(layout.rack_node_lo, unit, side="right")) - 1
                if state.rack_state[rack] in (ACTIVE, DRAINING) and state.node_failed[unit] == 0:
                    return Strike(Component.node, int(layout.rack_pool[rack]), (), unit)
            elif self.spec.component is Component.rack:
                if state.rack_state[unit] in (ACTIVE, DRAINING) and not state.rack_down[unit]:
                    return Strike(Component.rack, int(layout.rack_pool[unit]), (unit,))
            else:
                members = np.flatnonzero(layout.rack_block == unit)
                racks = self._racks_up(state, int(members[0]), int(members[-1]) + 1)
                if racks:
                    return Strike(Component.block, int(layout.rack_pool[racks[0]]), racks)
        return None

    def repair_s(self) -> float:
        """Seconds until the struck hardware is back."""
        from gpufleet.workload.synthetic import draw_durations_s

        return float(draw_durations_s(self.spec.repair, 1, self.repair_rng)[0])

    def cause(self) -> str:
        return self.causes[pick(self.cause_rng, self.cause_cdf)]
