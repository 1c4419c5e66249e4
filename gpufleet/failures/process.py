"""Failure processes at run time: when the next failure of each process happens, and what it hits.

Exponential processes run by thinning: candidate failures come at rate r x (units
installed), each strikes a unit drawn uniformly among the installed ones, and a
candidate that finds its unit down (in repair, on a down rack, retired since) is no
failure. That is exactly rate r for every unit up, however many are down, so failures
and repairs re-draw nothing: only a delivery or a retirement (a new set of installed
units) does. Weibull processes keep one clock per unit, drawn when the unit is
installed or repaired (its age restarts), in a heap.
"""

from __future__ import annotations

import heapq
import math
from bisect import bisect_right
from dataclasses import dataclass

import numpy as np

from gpufleet.fleet.layout import FleetLayout
from gpufleet.fleet.state import ACTIVE, DRAINING, FleetState
from gpufleet.rng import cumulative, pick, stream
from gpufleet.spec.failures import Component, FailureDist, FailureProcessSpec
from gpufleet.workload.synthetic import draw_durations_s

HOUR_S = 3600.0
_REPAIRS_AHEAD = 256


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
        # Exponential: the installed units when last re-armed (see `rearm`), pool by pool.
        self._racks: list[list[int]] = []  # installed racks (block processes: the first rack of each block)
        self._units_per_rack: list[int] = []  # units per entry of _racks
        self._units_end: list[int] = []  # running total of units over the pools
        self._candidate_rate_per_s = 0.0
        self._repairs: list[float] = []  # repair times drawn ahead, in draw order

    # -- timing -----------------------------------------------------------------------

    def rearm(self, now: float, state: FleetState) -> float | None:
        """Take the installed units as they are now and draw the next candidate failure
        (see `next_candidate`)."""
        if self.weibull:
            return self.next_candidate(now)
        self._racks, self._units_per_rack, self._units_end = [], [], []
        total = 0
        for p in self.pools:
            pool = self.layout.pools[p]
            installed = np.flatnonzero(np.isin(state.rack_state[pool.rack_lo:pool.rack_hi], (ACTIVE, DRAINING)))
            if self.spec.component is Component.block:
                installed = np.unique(installed // pool.racks_per_block) * pool.racks_per_block
            per_rack = {Component.gpu: pool.installed_rack_gpus, Component.node: pool.nodes_per_rack}.get(
                self.spec.component, 1)
            self._racks.append((installed + pool.rack_lo).tolist())
            self._units_per_rack.append(per_rack)
            total += len(installed) * per_rack
            self._units_end.append(total)
        self._candidate_rate_per_s = self.rate_per_s * total
        return self.next_candidate(now)

    def next_candidate(self, now: float) -> float | None:
        """When the next candidate failure comes (None: nothing installed). Weibull: the
        earliest clock."""
        if self.weibull:
            return self.clocks[0][0] if self.clocks else None
        if not self._candidate_rate_per_s:
            return None
        return now + float(self.rng.exponential(1.0 / self._candidate_rate_per_s))

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
        """The unit this failure hits (None: the candidate found its unit down, or nothing is up)."""
        if self.weibull:
            return self._strike_clock(now, state)
        if not self._candidate_rate_per_s:
            return None
        unit = int(self.rng.integers(self._units_end[-1]))  # uniform over every installed unit
        local = bisect_right(self._units_end, unit)
        p = self.pools[local]
        pool = self.layout.pools[p]
        unit -= self._units_end[local - 1] if local else 0
        per_rack = self._units_per_rack[local]
        rack = self._racks[local][unit // per_rack]
        component = self.spec.component
        if component is Component.block:
            racks = self._racks_up(state, rack, min(rack + pool.racks_per_block, pool.rack_hi))
            return Strike(Component.block, p, racks) if racks else None
        if state.rack_state[rack] not in (ACTIVE, DRAINING) or state.rack_down[rack]:
            return None  # retired since, or down
        if component is Component.rack:
            return Strike(Component.rack, p, (rack,))
        if component is Component.node:
            node = int(self.layout.rack_node_lo[rack]) + unit % per_rack
            return Strike(Component.node, p, (), node) if state.node_failed[node] == 0 else None
        node, index = divmod(unit % per_rack, pool.gpus_per_node)
        node += int(self.layout.rack_node_lo[rack])
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
        """Seconds until the struck hardware is back (drawn ahead in batches: the same sequence)."""
        if not self._repairs:
            self._repairs = draw_durations_s(self.spec.repair, _REPAIRS_AHEAD, self.repair_rng).tolist()[::-1]
        return self._repairs.pop()

    def cause(self) -> str:
        return self.causes[pick(self.cause_rng, self.cause_cdf)]
