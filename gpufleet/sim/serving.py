"""Inference services inside a run: autoscaler decisions, replicas placed as gangs on the
shared fleet, preemption of training, losses to failures, and what each interval had.

Every `autoscaler_interval_seconds` a service decides (SkyPilot's rules, in
`serving.autoscaler`) from the demand of the interval just past, stops surplus replicas
(their GPUs go back to training at once) and places pending ones with the fleet's
topology-aware placement. A replica that finds no room may preempt training jobs
(`sharing: preempt`: any job; `sharing: quota`: only as its ClusterQueue's Kueue rules
allow, after being admitted against that queue's quota). A placed replica warms up,
then serves. A failure on its GPUs or its rack retiring loses it; the next decision asks
for a replacement. Training never preempts a replica.

The slots of each interval are those of the replicas ready at its decision; at the end
of the run the interval queueing model (`serving.queueing`) turns them and the demand
into waits, tokens served and dropped (`ServiceRecord.metrics`); `results.serving`
tabulates them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from gpufleet.fleet.flavors import with_providers
from gpufleet.fleet.state import Allocation, Placement
from gpufleet.sched import preemption
from gpufleet.serving.autoscaler import Autoscaler, Replica, ReplicaSet
from gpufleet.serving.demand import DemandIntervals, build_demand, grid
from gpufleet.serving.queueing import IntervalMetrics, interval_metrics
from gpufleet.serving.throughput import effective_slots, slots_per_replica
from gpufleet.sim.events import PHASE, Event, Host
from gpufleet.spec.serving import ServiceSpec, SharingMode

DECIDE = int(PHASE[Event.DECIDE])
PREEMPTED_BY = "preempted by serving replica of {}"


@dataclass
class Service:
    """One service during a run: its demand, autoscaler, replicas and what each interval had."""

    spec: ServiceSpec
    index: int
    intervals: DemandIntervals
    autoscaler: Autoscaler
    replicas: ReplicaSet
    flavor_pools: list[tuple[str, tuple[int, ...]]]  # preferred first
    slots_of: dict[str, int]
    queue: int | None  # ClusterQueue charged (sharing: quota)
    allocations: dict[int, Allocation] = field(default_factory=dict)
    placed: dict[int, Replica] = field(default_factory=dict)  # the replicas holding `allocations`
    warmup_gpu_s: float = 0.0  # GPU-seconds of warm-up of the replicas released so far
    target: list[int] = field(default_factory=list)
    ready: list[int] = field(default_factory=list)
    slots: list[int] = field(default_factory=list)
    pending: list[int] = field(default_factory=list)
    held_log: list[tuple[float, int, int]] = field(default_factory=list)  # (time, pool, GPU delta)
    placements: int = 0
    jobs_preempted: int = 0
    lost: dict[str, int] = field(default_factory=dict)  # replicas lost, by cause
    ready_slots: int = 0  # slots of the ready replicas
    _slots_of_ready: dict[int, int] = field(default_factory=dict)  # replica -> its slots, while ready
    # With prefill: slots of one replica per flavor and interval (they move with the token
    # mix), and the ready replicas per flavor.
    interval_slots: dict[str, list[int]] | None = None
    ready_by_flavor: dict[str, int] = field(default_factory=dict)
    _flavor_of_ready: dict[int, str] = field(default_factory=dict)
    rates: list[float] = field(default_factory=list)  # requests/s per interval, as floats
    decide_at: list[float] = field(default_factory=list)  # decision times (the interval edges)
    gpus: int = field(init=False)  # per replica
    group: int = field(init=False)  # NVLink group of a replica
    preempted_reason: str = field(init=False)  # the reason its victims are given

    def __post_init__(self) -> None:
        self.gpus, self.group = self.spec.replica.gpus, self.spec.replica.group
        self.preempted_reason = PREEMPTED_BY.format(self.spec.name)

    def promote(self, now: float) -> None:
        """Replicas whose warm-up is over start serving."""
        starting = self.replicas.starting
        if not starting or starting[0].ready_s > now:  # type: ignore[operator]
            return  # most decisions: nobody's warm-up ends
        before = len(self.replicas.ready)
        self.replicas.promote(now)
        for replica in self.replicas.ready[before:]:
            slots = self.slots_of[replica.flavor]  # type: ignore[index]
            self._slots_of_ready[replica.id] = slots
            self.ready_slots += slots
            flavor: str = replica.flavor  # type: ignore[assignment]
            self._flavor_of_ready[replica.id] = flavor
            self.ready_by_flavor[flavor] = self.ready_by_flavor.get(flavor, 0) + 1

    def gone(self, replica_id: int) -> None:
        """A replica stopped or was lost."""
        self.ready_slots -= self._slots_of_ready.pop(replica_id, 0)
        flavor = self._flavor_of_ready.pop(replica_id, None)
        if flavor is not None:
            self.ready_by_flavor[flavor] -= 1

    def slots_at(self, k: int) -> int:
        """Slots of the ready replicas in interval k (at that interval's token mix with prefill)."""
        if self.interval_slots is None:
            return self.ready_slots
        return sum(count * self.interval_slots[flavor][k] for flavor, count in self.ready_by_flavor.items())


@dataclass
class ServiceRecord:
    """What one service had in each decision interval, for the results."""

    spec: ServiceSpec
    intervals: DemandIntervals
    target_replicas: np.ndarray
    ready_replicas: np.ndarray
    pending_replicas: np.ndarray
    slots: np.ndarray
    held_log: np.ndarray  # rows (time, pool, GPU delta)
    placements: int
    jobs_preempted: int
    lost: dict[str, int]
    warmup_gpu_s: float  # GPU-seconds replicas held while warming up (placed, not yet serving)
    metrics: IntervalMetrics  # each interval's demand served by its slots (`serving.queueing`)


class ServingFleet:
    """The services of a run, driven by the simulation's engine."""

    def __init__(self, simulation: Host, specs: list[ServiceSpec], origin: datetime, end: datetime) -> None:
        self.simulation = simulation
        scheduler = simulation.scheduler
        layout = simulation.layout
        self.services: list[Service] = []
        self._on_rack: dict[int, set[tuple[int, int]]] = {}  # rack -> (service, replica)
        for spec in specs:
            start_s = max(((spec.start or origin) - origin).total_seconds(), 0.0)
            end_s = min(((spec.end or end) - origin).total_seconds(), simulation.until_s)
            if end_s <= start_s:
                continue  # its window lies outside this run
            index = len(self.services)
            edges = grid(start_s, end_s, spec.autoscaler_interval_seconds)
            flavor_pools = [(flavor, layout.pools_for((flavor,))) for flavor in spec.flavors] \
                if spec.providers is None or not spec.providers.among else \
                [(flavor, layout.pools_for(with_providers((flavor,), (provider,))))
                 for provider in spec.providers.among for flavor in spec.flavors]  # a provider's flavors together
            queue = None
            if spec.sharing.mode is SharingMode.quota:
                assert spec.sharing.queue is not None  # the spec requires a queue with quota
                queue = scheduler.quotas.names.index(spec.sharing.queue)
            intervals = build_demand(spec, origin, end).intervals(edges)
            interval_slots = None
            if spec.replica.prefill:
                interval_slots = {flavor: effective_slots(spec, flavor, intervals.output_tokens_per_request,
                                                          intervals.input_tokens_per_request).tolist()
                                  for flavor, _ in flavor_pools}
            self.services.append(Service(
                spec=spec, index=index, intervals=intervals,
                rates=intervals.requests_per_s.tolist(), decide_at=edges.tolist(),
                autoscaler=Autoscaler.from_spec(spec.replica_policy, spec.autoscaler_interval_seconds),
                replicas=ReplicaSet(warmup_s=spec.replica.warmup_minutes * 60.0),
                flavor_pools=[(flavor, pools) for flavor, pools in flavor_pools if pools],
                slots_of={flavor: slots_per_replica(spec, flavor) for flavor, _ in flavor_pools},
                queue=queue, interval_slots=interval_slots))

    def start(self) -> None:
        for service in self.services:
            if len(service.intervals):
                self.simulation.engine.at(service.decide_at[0], DECIDE, self._on_decision, (service.index, 0))

    # -- decisions --------------------------------------------------------------------

    def _on_decision(self, payload: tuple[int, int]) -> None:
        index, k = payload
        service = self.services[index]
        simulation = self.simulation
        now = simulation.engine.now
        replicas, rate = service.replicas, service.rates
        warm = k == 0 and service.spec.warm_start
        if k == 0:
            goal = service.autoscaler.start(rate[0]) if warm else service.autoscaler.target
        else:
            goal = service.autoscaler.decide(rate[k - 1])
        released = False
        if goal != len(replicas):
            for replica in replicas.reconcile(goal, now).stop:
                if replica.id in service.allocations:
                    self._release(service, replica.id, now)
                    released = True
        preempted = service.jobs_preempted
        while replicas.pending and self._place_one(service, now):
            if warm:  # the service was already running: its first replicas serve at once
                replicas.starting[-1].ready_s = now
        service.promote(now)
        service.target.append(goal)
        service.ready.append(len(replicas.ready))
        service.slots.append(service.slots_at(k))
        service.pending.append(len(replicas.pending))
        if k + 1 < len(rate):
            simulation.engine.at(service.decide_at[k + 1], DECIDE, self._on_decision, (index, k + 1))
        elif service.decide_at[-1] < simulation.until_s:
            simulation.engine.at(service.decide_at[-1], DECIDE, self._on_end, index)
        if released:
            simulation.scheduler.capacity_returned()
        if released or service.jobs_preempted > preempted:
            simulation.request_pass()

    def _on_end(self, index: int) -> None:
        """The service's window is over: every replica gives its GPUs back."""
        service = self.services[index]
        now = self.simulation.engine.now
        for replica in service.replicas.reconcile(0, now).stop:
            if replica.id in service.allocations:
                self._release(service, replica.id, now)
        self.simulation.scheduler.capacity_returned()
        self.simulation.request_pass()

    def _place_one(self, service: Service, now: float) -> bool:
        """Place the oldest pending replica: on free GPUs of the preferred flavor first,
        then by preemption where the sharing mode allows. Returns whether it was placed."""
        scheduler = self.simulation.scheduler
        state = scheduler.state
        gpus, group = service.gpus, service.group
        for flavor, pools in service.flavor_pools:
            # Cheap counts first: free GPUs, then free whole NVLink groups.
            allowed = tuple(p for p in self._quota_pools(service, pools) if state.avail_gpus[p] >= gpus
                            and state.groups_free(p, group) * group >= gpus)
            placement = scheduler.placement.place(state, allowed, gpus, group, False) if allowed else None
            if placement is not None:
                self._take(service, placement, flavor, now)
                return True
        for flavor, pools in service.flavor_pools:
            for pool in pools:
                may_preempt = None if service.queue is None else (
                    lambda job: self._may_preempt(service, job))
                victims = preemption.gang_victims(scheduler, pool, gpus, group, may_preempt)
                if victims is None:
                    continue
                if service.queue is not None:
                    extra = self._quota_victims(service, pool, victims)
                    if extra is None:
                        continue
                    victims += extra
                self._preempt(service, victims)
                placement = scheduler.placement.place(state, (pool,), gpus, group, False)
                if placement is not None:
                    self._take(service, placement, flavor, now)
                    return True
        return False

    def _preempt(self, service: Service, jobs: list[int]) -> None:
        for job in jobs:
            self.simulation.preempt(job, service.preempted_reason)
        service.jobs_preempted += len(jobs)

    def _quota_pools(self, service: Service, pools: tuple[int, ...]) -> tuple[int, ...]:
        if service.queue is None:
            return pools
        quotas, scheduler = self.simulation.scheduler.quotas, self.simulation.scheduler
        return tuple(p for p in pools if quotas.fits(service.queue, scheduler.flavor_of_pool[p], service.gpus))

    def _quota_fits_without(self, service: Service, pool: int, victims: list[int]) -> bool:
        """Whether the replica's quota would fit with `victims` stopped (nothing changes)."""
        if service.queue is None:
            return True
        scheduler = self.simulation.scheduler
        with scheduler.quotas.without(preemption.held_quota(scheduler, victims)) as quotas:
            return quotas.fits(service.queue, scheduler.flavor_of_pool[pool], service.gpus)

    def _quota_victims(self, service: Service, pool: int, taken: list[int]) -> list[int] | None:
        """Quota mode: further jobs of the replica's flavor whose preemption the queue's
        Kueue rules allow (its own lower-priority jobs, borrowers of its nominal quota,
        lower-priority cohort members when it borrows), lowest priority and most recently
        started first, until its quota admits it beside `taken`; None if they cannot."""
        scheduler = self.simulation.scheduler
        flavor = scheduler.flavor_of_pool[pool]
        extra: list[int] = []
        if self._quota_fits_without(service, pool, taken):
            return extra
        candidates = [job for job, allocation in scheduler.allocations.items()
                      if scheduler.flavor_of_pool[allocation.pool] == flavor and job not in taken
                      and self._may_preempt(service, job)]
        candidates.sort(key=lambda job: (scheduler.priority[job], -scheduler.started_at[job], job))
        for job in candidates:
            extra.append(job)
            if self._quota_fits_without(service, pool, taken + extra):
                return extra
        return None

    def _may_preempt(self, service: Service, job: int) -> bool:
        if service.queue is None:
            return True
        scheduler = self.simulation.scheduler
        return preemption.queue_rules_allow(scheduler, service.queue, math.inf, service.gpus, job)

    # -- holding GPUs -----------------------------------------------------------------

    def _take(self, service: Service, placement: Placement, flavor: str, now: float) -> None:
        scheduler = self.simulation.scheduler
        allocation = scheduler.state.allocate(placement)
        replica = service.replicas.place(now, flavor)
        service.allocations[replica.id] = allocation
        service.placed[replica.id] = replica
        service.placements += 1
        service.held_log.append((now, allocation.pool, allocation.total))
        for rack in allocation.racks.tolist():
            self._on_rack.setdefault(rack, set()).add((service.index, replica.id))
        if service.queue is not None:
            scheduler.quotas.add(service.queue, scheduler.flavor_of_pool[allocation.pool], allocation.total)
        scheduler.capacity_taken(allocation.racks)

    def _release(self, service: Service, replica_id: int, now: float) -> None:
        scheduler = self.simulation.scheduler
        allocation = service.allocations.pop(replica_id)
        service.warmup_gpu_s += _warmup_gpu_s(service.placed.pop(replica_id), allocation, now)
        service.gone(replica_id)
        scheduler.state.release(allocation, now)
        service.held_log.append((now, allocation.pool, -allocation.total))
        for rack in allocation.racks.tolist():
            self._on_rack[rack].discard((service.index, replica_id))
        if service.queue is not None:
            scheduler.quotas.remove(service.queue, scheduler.flavor_of_pool[allocation.pool], allocation.total)

    # -- losses (failures, retirements) -------------------------------------------------

    def on_node(self, node: int) -> list[tuple[tuple[int, int], int]]:
        """((service, replica), GPUs held on `node`) for the replicas on it."""
        state = self.simulation.state
        found = []
        for key in sorted(self._on_rack.get(state.rack_of_node(node), ())):
            allocation = self.services[key[0]].allocations[key[1]]
            held = allocation.node_gpus[allocation.nodes == node]
            if len(held):
                found.append((key, int(held.sum())))
        return found

    def on_rack(self, rack: int) -> list[tuple[int, int]]:
        return sorted(self._on_rack.get(rack, ()))

    def lose(self, key: tuple[int, int], cause: str) -> None:
        """A replica's hardware failed (or its rack is leaving): free its GPUs; the next
        decision asks for a replacement."""
        service = self.services[key[0]]
        now = self.simulation.engine.now
        self._release(service, key[1], now)
        service.replicas.lose(key[1])
        service.lost[cause] = service.lost.get(cause, 0) + 1
        self.simulation.scheduler.capacity_returned()

    def evict(self, lo: int, hi: int) -> None:
        """Racks lo..hi start to drain: their replicas move at the next decision."""
        for rack in range(lo, hi):
            for key in self.on_rack(rack):
                self.lose(key, "rack retired")

    def records(self) -> list[ServiceRecord]:
        out = []
        until = self.simulation.until_s
        for service in self.services:
            warmup = service.warmup_gpu_s + sum(_warmup_gpu_s(service.placed[replica_id], allocation, until)
                                                for replica_id, allocation in service.allocations.items())
            out.append(service_record(
                service.spec, service.intervals, target=np.array(service.target, dtype=np.int64),
                ready=np.array(service.ready, dtype=np.int64), pending=np.array(service.pending, dtype=np.int64),
                slots=np.array(service.slots, dtype=np.int64),
                held_log=np.array(service.held_log, dtype=np.float64).reshape(-1, 3),
                placements=service.placements, jobs_preempted=service.jobs_preempted, lost=dict(service.lost),
                warmup_gpu_s=warmup))
        return out


def service_record(spec: ServiceSpec, intervals: DemandIntervals, *, target: np.ndarray, ready: np.ndarray,
                   pending: np.ndarray, slots: np.ndarray, held_log: np.ndarray, placements: int,
                   jobs_preempted: int, lost: dict[str, int], warmup_gpu_s: float) -> ServiceRecord:
    """The record of a service from what each decision had (int64 arrays, one entry per
    decision made before the horizon) and its totals: its intervals cut to those decisions,
    and the interval queueing model run on its slots. Whichever engine ran the service."""
    intervals = _head(intervals, len(target))
    slo = spec.slo
    return ServiceRecord(
        spec=spec, intervals=intervals, target_replicas=target, ready_replicas=ready, pending_replicas=pending,
        slots=slots, held_log=held_log, placements=placements, jobs_preempted=jobs_preempted, lost=lost,
        warmup_gpu_s=warmup_gpu_s,
        metrics=interval_metrics(intervals, slots, tokens_per_s_per_request=slo.output_tokens_per_s_per_request,
                                 wait_target_s=slo.wait_seconds, abandon_after_s=spec.abandon_after_seconds))


def _warmup_gpu_s(replica: Replica, allocation: Allocation, until: float) -> float:
    """GPU-seconds `replica` held before it served (warm-up, cut short if it left by `until`)."""
    assert replica.started_s is not None and replica.ready_s is not None
    return allocation.total * (min(replica.ready_s, until) - replica.started_s)


def _head(intervals: DemandIntervals, n: int) -> DemandIntervals:
    return DemandIntervals(intervals.start_s[:n], intervals.end_s[:n], intervals.requests_per_s[:n],
                           intervals.output_tokens_per_request[:n], intervals.input_tokens_per_request[:n])

