"""Assemble a runnable Simulation from a validated scenario."""

from __future__ import annotations

import math
from datetime import datetime

import numpy as np

from gpufleet.failures.defaults import catalog_defaults
from gpufleet.failures.process import FailureProcess, Strike
from gpufleet.failures.rates import interruptions_per_hour, young_daly_interval_h
from gpufleet.fleet.build import build_layout
from gpufleet.fleet.layout import FleetLayout
from gpufleet.fleet.state import FleetState
from gpufleet.results.timeseries import hour_edges
from gpufleet.sched.placement import PLACEMENTS
from gpufleet.sched.policies import POLICIES, PolicyContext
from gpufleet.sched.progress import JobProgress
from gpufleet.sched.quota import QuotaBook
from gpufleet.sched.scheduler import Scheduler
from gpufleet.sched.speeds import job_speeds
from gpufleet.sched.tenants import assign_priorities, assign_queues
from gpufleet.serving.by_type import services_by_type
from gpufleet.sim.service_split import split_services
from gpufleet.sim.serving import ServingFleet
from gpufleet.sim.simulation import Simulation
from gpufleet.spec.failures import Component, FailureProcessSpec
from gpufleet.spec.purchase import PurchaseKind
from gpufleet.spec.scenario import Scenario
from gpufleet.spec.scheduler import PreemptionCost, TimeLimits
from gpufleet.spec.workload import DurationSpec
from gpufleet.workload.build import build_jobs
from gpufleet.workload.jobs import JobTable
from gpufleet.workload.providers import with_queue_providers

HOUR_S = 3600.0


def build(scenario: Scenario, seed: int | None = None, until: datetime | None = None,
          policy: str | None = None, placement: str | None = None) -> Simulation:
    """Fleet, jobs and scheduler of `scenario`, ready to run to `until` (default: its end).

    `policy` and `placement` override the scenario's choices (for comparisons).
    """
    seed = scenario.seed if seed is None else seed
    layout = build_layout(scenario, slip_seed=seed)
    # Jobs submitted `when_capacity` follow the plan: a slipped delivery makes them wait.
    plan = build_layout(scenario) if _slips(scenario) else layout
    jobs = build_jobs(scenario, plan, seed)
    spec = scenario.scheduler
    # Keep per-block group counts for the group sizes of gangs that can span racks.
    smallest_rack = min((pool.rack_gpus for pool in layout.pools), default=0)
    gangs = [(gpus, group) for gpus, group, _, _ in jobs.shapes]
    gangs += [(service.replica.gpus, service.replica.group) for service in scenario.services]
    # Which node holds what matters only to failures: without them, holdings are per rack.
    state = FleetState(layout, groups={group for gpus, group in gangs if gpus > smallest_rack},
                       track_nodes=scenario.failures is not None or bool(spot_reclaims(scenario, layout)))
    flavors = list(dict.fromkeys(pool.gpu.name for pool in layout.pools))
    quotas = QuotaBook(spec.queues, spec.cohorts, flavors)
    teams = jobs.team.tolist()
    queue_of = assign_queues(teams, spec.queues)
    jobs = with_queue_providers(jobs, queue_of, [queue.providers for queue in spec.queues])
    priority = assign_priorities(teams, spec.priority_classes)
    checkpointing = scenario.checkpointing
    processes = failure_processes(scenario, layout)
    wall_clock = spec.time_limits is TimeLimits.wall_clock
    work_s = jobs.duration_s if wall_clock else jobs.run_s
    rates = interruption_rates_per_h(layout, jobs, processes)
    progress = JobProgress(work_s.tolist(), jobs.estimate_s.tolist(), jobs.gpus.tolist(),
                           checkpoint_intervals_s(scenario, layout, jobs, processes, work_s, rates),
                           checkpointing.restart_overhead_minutes * 60.0, checkpointing.write_minutes * 60.0,
                           free_preemption=spec.preemption_cost is PreemptionCost.none,
                           limit_s=jobs.time_limit_s.tolist() if wall_clock else None,
                           rate_per_s=[rate / HOUR_S for rate in rates] if spec.plan_for_failures and any(rates)
                           else None)
    if scenario.throughput is not None:
        speeds = job_speeds(scenario.throughput, layout, jobs)
        progress.set_speeds(speeds.class_of, speeds.pool_speed, speeds.names)
    flavor_of_pool = [flavors.index(pool.gpu.name) for pool in layout.pools]

    def capacity_by_flavor() -> list[float]:
        totals = [0.0] * len(flavors)
        for pool, installed in enumerate(state.installed_gpus):
            totals[flavor_of_pool[pool]] += installed
        return totals

    half_life = spec.fair_share.half_life_hours
    queue_specs = quotas.specs
    context = PolicyContext(
        jobs=jobs, progress=progress, priority=priority, queue=queue_of,
        queue_weights=[queue.fair_share.weight for queue in queue_specs], flavor_of_pool=flavor_of_pool,
        capacity_by_flavor=capacity_by_flavor, half_life_s=half_life * HOUR_S if half_life else None,
        n_flavors=len(flavors), options=spec.options_for(policy),
    )
    scheduler = Scheduler(
        jobs, layout, state,
        placement=PLACEMENTS.get(placement or spec.placement)(seed=seed),
        policy=POLICIES.get(policy or spec.policy.name)(context),
        quotas=quotas, progress=progress, queue_of=queue_of, priority=priority, queue_specs=queue_specs,
        backfill=spec.backfill, max_job_test=spec.max_job_test, max_restarts=checkpointing.max_restarts,
        track_racks=bool(processes) or bool(scenario.failures and scenario.failures.injected)
        or bool(scenario.services),  # replicas preempt by rack
        rank_victims=bool(scenario.services),
        preemption_scope=spec.preemption_scope, tie_order=spec.ties,
    )
    until_s = scenario.seconds(min(until, scenario.end) if until is not None else scenario.end)
    samples = hour_edges(scenario.start, until_s)[1:]
    runtime_processes = [FailureProcess(index, process, layout, pools, seed)
                         for index, (process, pools) in enumerate(processes)]
    simulation = Simulation(layout, jobs, state, scheduler, until_s, sample_times=np.asarray(samples),
                            failure_processes=runtime_processes,
                            injected_failures=injected_failures(scenario, layout))
    if scenario.services:
        services = split_services(scenario, plan, services_by_type(scenario.services, scenario.throughput))
        simulation.serving = ServingFleet(simulation, services, scenario.start, scenario.end)
        simulation.standing_shapes = [(service.replica.gpus, service.replica.group, False,
                                       layout.pools_for(tuple(service.flavors) if service.flavors else None))
                                      for service in services]
    return simulation


def _slips(scenario: Scenario) -> bool:
    """Whether any delivery may slip (its drawn layout then differs from the plan)."""
    return any((pool.delivery_risk is not None and pool.delivery_risk.slip is not None)
               or any(change.slip is not None for change in pool.deliveries) for pool in scenario.fleet.pools)


def injected_failures(scenario: Scenario, layout: FleetLayout) -> list[tuple[float, Strike, float, str]]:
    """(time, what it hits, repair seconds, cause) of the scenario's injected failures."""
    if scenario.failures is None:
        return []
    injected = []
    for failure in scenario.failures.injected:
        pool = layout.pool_named(failure.pool)
        rack = pool.rack_lo + failure.rack
        if failure.component in (Component.rack, Component.block):
            lo = rack if failure.component is Component.rack else \
                pool.rack_lo + (failure.rack // pool.racks_per_block) * pool.racks_per_block
            hi = rack + 1 if failure.component is Component.rack else min(lo + pool.racks_per_block, pool.rack_hi)
            strike = Strike(failure.component, pool.index, tuple(range(lo, hi)))
        else:
            node = int(layout.rack_node_lo[rack]) + failure.node
            strike = Strike(failure.component, pool.index, (), node, 0)
        injected.append((scenario.seconds(failure.date), strike, failure.repair_hours * HOUR_S, failure.cause))
    return injected


def failure_processes(scenario: Scenario, layout: FleetLayout) -> list[tuple[FailureProcessSpec, tuple[int, ...]]]:
    """The scenario's failure processes with the pools each strikes (catalog defaults per pool if asked)."""
    failures = scenario.failures
    if failures is None:
        return spot_reclaims(scenario, layout)
    by_name = {pool.name: pool.index for pool in layout.pools}
    processes = [(process, tuple(by_name[name] for name in process.pools) if process.pools
                  else tuple(range(len(layout.pools)))) for process in failures.processes]
    if failures.uses_catalog:
        for pool in layout.pools:
            for process in catalog_defaults(pool.gpu.name, pool.gpus_per_node, failures.catalog_options,
                                            pool.installed_rack_gpus, pool.nodes_per_rack):
                processes.append((process.model_copy(update={"name": f"{process.name}:{pool.name}"}), (pool.index,)))
    return processes + spot_reclaims(scenario, layout)


def spot_reclaims(scenario: Scenario, layout: FleetLayout) -> list[tuple[FailureProcessSpec, tuple[int, ...]]]:
    """The provider taking back spot racks: one rack-level process per spot pool (none otherwise)."""
    by_name = {pool.name: pool.index for pool in layout.pools}
    processes = []
    for pool in scenario.fleet.pools:
        purchase = pool.purchase
        if purchase is None or purchase.kind is not PurchaseKind.spot or not purchase.interruptions_per_rack_day:
            continue
        processes.append((FailureProcessSpec(
            name=f"spot-reclaim:{pool.name}", component=Component.rack,
            rate_per_unit_hour=purchase.interruptions_per_rack_day / 24.0,
            repair=DurationSpec(dist="fixed", hours=purchase.reclaim_hours),
            causes={"spot reclaim": 1.0}, source=purchase.source), (by_name[pool.name],)))
    return processes


def interruption_rates_per_h(layout: FleetLayout, jobs: JobTable,
                             processes: list[tuple[FailureProcessSpec, tuple[int, ...]]]) -> list[float]:
    """Each job's expected interruptions per hour of running: its gang packed on the
    first pool its flavors allow (`failures.rates.interruptions_per_hour`)."""
    by_shape: dict[int, float] = {}
    for shape, (gpus, _, _, flavors) in enumerate(jobs.shapes):
        allowed = layout.pools_for(flavors)
        if not allowed:  # no pool of its GPU types at its providers: it never fits
            by_shape[shape] = 0.0
            continue
        pool = layout.pools[allowed[0]]
        relevant = [process for process, pools in processes if pool.index in pools]
        by_shape[shape] = interruptions_per_hour(gpus, pool, relevant)
    return [by_shape[shape] for shape in jobs.shape.tolist()]


def checkpoint_intervals_s(scenario: Scenario, layout: FleetLayout, jobs: JobTable,
                           processes: list[tuple[FailureProcessSpec, tuple[int, ...]]],
                           work_s: np.ndarray | None = None, rates_per_h: list[float] | None = None) -> list[float]:
    """Each job's checkpoint interval: fixed, or the Young/Daly optimum for its size
    (capped at its work, `work_s`: default its duration cut at its limit)."""
    interval = scenario.checkpointing.interval_hours
    if interval != "young_daly":
        return [interval * HOUR_S] * len(jobs)
    write_h = scenario.checkpointing.write_minutes / 60.0
    rates = rates_per_h if rates_per_h is not None else interruption_rates_per_h(layout, jobs, processes)
    intervals = []
    by_shape: dict[int, float] = {}
    work = (jobs.run_s if work_s is None else work_s).tolist()
    for job, shape in enumerate(jobs.shape.tolist()):
        if shape not in by_shape:
            rate = rates[job]
            by_shape[shape] = young_daly_interval_h(write_h, 1.0 / rate) * HOUR_S if rate > 0 \
                else math.inf
        intervals.append(min(by_shape[shape], work[job] or HOUR_S))
    return intervals
