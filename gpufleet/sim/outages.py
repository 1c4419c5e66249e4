"""Failures and repairs during a run: when hardware breaks, whose jobs it stops, when it is back.

A GPU failure stops the job holding that GPU; a node failure every job on the node; a
rack or block failure every job on it. If the rack has a healthy hot spare, a node (or
one of its GPUs) that fails under running jobs is swapped for the spare and those jobs
restart in place; otherwise they go back to the queue. Either way they lose the work
since their last checkpoint and pay the restart overhead. Failed hardware is out of
service until its repair time has passed.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from gpufleet.failures.process import FailureProcess, Strike
from gpufleet.fleet.layout import PoolCapacity
from gpufleet.fleet.state import ACTIVE, DRAINING
from gpufleet.sim.events import PHASE, Event, Host
from gpufleet.spec.failures import Component, FailureDist

Holder = int | tuple[int, int]
"""A training job, or a serving replica as (service, replica)."""

FAILURE, REPAIR = int(PHASE[Event.FAILURE]), int(PHASE[Event.REPAIR])


@dataclass
class FailureRecord:
    """One failure, as logged in failures.parquet."""

    time_s: float
    process: str
    cause: str
    component: str
    pool: int
    rack: int
    node: int
    gpus_down: int
    jobs_hit: int
    spare_used: bool
    nodes: list[tuple[int, int]]  # (node, GPUs) taken out of service
    repaired_s: float = float("nan")
    replicas_hit: int = 0  # serving replicas lost


class Outages:
    """The failure processes of a run and the repairs they set off."""

    def __init__(self, simulation: Host, processes: list[FailureProcess],
                 injected: list[tuple[float, Strike, float, str]] | None = None) -> None:
        self.simulation = simulation
        self.processes = processes
        self.injected = injected or []
        self.log: list[FailureRecord] = []
        # Per rack down as a whole: (node, GPUs) of it repaired on their own meanwhile,
        # held back until the rack is (a repaired GPU in a dead rack is still unusable).
        self._held_back: dict[int, list[tuple[int, int]]] = {}

    def start(self) -> None:
        for when, strike, repair_s, cause in self.injected:
            if when <= self.simulation.until_s:
                self.simulation.engine.at(when, FAILURE, self._on_injected, (strike, repair_s, cause))
        self.arm()

    def arm(self) -> None:
        """Re-arm every process from the units installed now (at the start and at each
        delivery or retirement; failures and repairs change nothing: see `failures.process`)."""
        for process in self.processes:
            self._schedule(process, process.rearm(self.simulation.engine.now, self.simulation.state))

    def _schedule(self, process: FailureProcess, when: float | None) -> None:
        """Make `when` the process's next event (an earlier one becomes stale)."""
        engine = self.simulation.engine
        process.version += 1
        if when is not None and when <= self.simulation.until_s:
            engine.at(max(when, engine.now), FAILURE, self._on_failure, (process.index, process.version))

    def on_capacity(self, change: PoolCapacity) -> None:
        """Racks arrived or started to drain: Weibull clocks start for new units; the
        installed units change."""
        if not change.retire:
            for process in self.processes:
                if process.spec.distribution is FailureDist.weibull and change.pool in process.pools:
                    process.install(process.units_of_racks(self.simulation.state, change.rack_lo, change.rack_hi),
                                    self.simulation.engine.now)
        self.arm()

    # -- events -----------------------------------------------------------------------

    def _on_failure(self, payload: tuple[int, int]) -> None:
        index, version = payload
        process = self.processes[index]
        if version != process.version:
            return
        strike = process.strike(self.simulation.engine.now, self.simulation.state)
        requeued = False
        if strike is not None:
            requeued = self._apply(strike, process.spec.name, process.cause(), process.repair_s(), process)
        self._schedule(process, process.next_candidate(self.simulation.engine.now))
        if requeued:  # lost capacity starts nothing; only jobs back in the queue need a pass
            self.simulation.request_pass()

    def _on_injected(self, payload: tuple[Strike, float, str]) -> None:
        strike, repair_s, cause = payload
        state = self.simulation.state
        if strike.racks:
            # A block failure strikes the block's racks that are in service (the checks
            # refuse a rack or node failure before its rack is delivered).
            live = tuple(rack for rack in strike.racks if state.rack_state[rack] in (ACTIVE, DRAINING))
            if not live or any(state.rack_down[rack] for rack in live):
                return
            strike = replace(strike, racks=live)
        if strike.node >= 0 and state.node_failed[strike.node] >= state.layout.node_gpus[strike.node]:
            return  # already down
        if self._apply(strike, "injected", cause, repair_s, None):
            self.simulation.request_pass()

    def _apply(self, strike: Strike, name: str, cause: str, repair_s: float, process: FailureProcess | None) -> bool:
        """Take the struck hardware down; stop or move the jobs and replicas on it. Returns
        whether a job went back to the queue or a replica gave back GPUs (a pass is due)."""
        simulation = self.simulation
        state, scheduler, now = simulation.state, simulation.scheduler, simulation.engine.now
        serving = simulation.serving
        repairs: list[tuple[int, int]] = []  # (node, GPUs)
        hit: list[int] = []
        replicas_hit = 0
        spare_used = False
        if strike.component in (Component.gpu, Component.node):
            node = strike.node
            rack = state.rack_of_node(node)
            on_node = scheduler.jobs_on_node(node)
            holders: list[tuple[Holder, int]] = [*on_node, *(serving.on_node(node) if serving else [])]
            working = int(state.layout.node_gpus[node] - state.node_failed[node])
            if strike.component is Component.gpu:
                struck = _holder(holders, strike.gpu_index - int(state.node_free[node]))
                down = 1
            else:
                struck = [holder for holder, _ in holders]
                down = working
            for replica in (holder for holder in struck if isinstance(holder, tuple)):
                serving.lose(replica, cause)  # type: ignore[union-attr]
                replicas_hit += 1
            victims = [holder for holder in struck if isinstance(holder, int)]
            spare = state.healthy_spare(rack) if victims and state.rack_state[rack] == ACTIVE else None
            if spare is not None:  # the whole node is swapped out; its jobs restart on the spare
                spare_used = True
                for replica, _ in serving.on_node(node) if serving else []:  # replicas move, as on any loss
                    serving.lose(replica, cause)  # type: ignore[union-attr]
                    replicas_hit += 1
                hit = [job for job, _ in on_node]
                state.swap_in_spare(node, spare)
                for job in hit:
                    simulation.restart_in_place(job, node, spare, cause)
                down = working
            else:
                hit = victims
                for job in hit:
                    simulation.interrupt(job, cause)
            state.fail_gpus(node, down, now)
            repairs.append((node, down))
            first_rack = rack
        else:
            first_rack = strike.racks[0]
            node = -1
            down = 0
            for rack in strike.racks:
                state.set_rack_down(rack, True)
                for replica in serving.on_rack(rack) if serving else []:
                    serving.lose(replica, cause)  # type: ignore[union-attr]
                    replicas_hit += 1
                for job in scheduler.jobs_on_rack(rack):
                    if job not in hit:
                        hit.append(job)
                        simulation.interrupt(job, cause)
                for rack_node in range(int(state.layout.rack_node_lo[rack]), int(state.layout.rack_node_lo[rack + 1])):
                    lost = int(state.layout.node_gpus[rack_node] - state.node_failed[rack_node])
                    if lost:
                        state.fail_gpus(rack_node, lost, now)
                        repairs.append((rack_node, lost))
                        down += lost
                self._held_back[rack] = []
        record = FailureRecord(now, name, cause, strike.component.value, strike.pool, first_rack, node,
                               down, len(hit), spare_used, repairs, replicas_hit=replicas_hit)
        self.log.append(record)
        simulation.engine.at(now + repair_s, REPAIR, self._on_repair, (process, strike, repairs, record))
        return (bool(hit) and not spare_used) or replicas_hit > 0

    def _on_repair(self, payload: tuple[FailureProcess | None, Strike, list[tuple[int, int]], FailureRecord]) -> None:
        process, strike, repairs, record = payload
        simulation = self.simulation
        state, now = simulation.state, simulation.engine.now
        for node, gpus in repairs:
            rack = state.rack_of_node(node)
            if rack in self._held_back and rack not in strike.racks:
                self._held_back[rack].append((node, gpus))  # its rack is down: back with it
                continue
            state.repair_gpus(node, gpus, now)
        for rack in strike.racks:
            state.set_rack_down(rack, False)
            for node, gpus in self._held_back.pop(rack, []):
                state.repair_gpus(node, gpus, now)
        record.repaired_s = now
        if process is not None and process.spec.distribution is FailureDist.weibull:
            unit = {Component.gpu: strike.node * 64 + strike.gpu_index, Component.node: strike.node,
                    Component.rack: strike.racks[0] if strike.racks else -1,
                    Component.block: int(state.layout.rack_block[strike.racks[0]]) if strike.racks else -1}
            process.install(np.array([unit[strike.component]]), now)
            self._schedule(process, process.next_candidate(now))  # its clocks changed
        simulation.scheduler.capacity_added()
        if simulation.scheduler.has_waiting():
            simulation.request_pass()


def _holder(on_node: list[tuple[Holder, int]], held_index: int) -> list[Holder]:
    """The job or replica holding the `held_index`-th held GPU of a node (none if the GPU was free)."""
    if held_index < 0:
        return []
    for holder, gpus in on_node:
        if held_index < gpus:
            return [holder]
        held_index -= gpus
    return []
