"""Assemble a runnable Simulation from a validated scenario."""

from __future__ import annotations

from datetime import datetime

import numpy as np

from gpufleet.failures.process import FailureProcess
from gpufleet.failures.scenario import (
    checkpoint_intervals_s,
    failure_processes,
    injected_failures,
    interruption_rates_per_h,
    spot_reclaims,
)
from gpufleet.fleet.build import build_layout
from gpufleet.fleet.state import FleetState
from gpufleet.sched.placement import PLACEMENTS
from gpufleet.sched.policies import POLICIES, PolicyContext
from gpufleet.sched.progress import JobProgress
from gpufleet.sched.quota import QuotaBook
from gpufleet.sched.scheduler import Scheduler
from gpufleet.sched.speeds import job_speeds
from gpufleet.sched.tenants import assign_priorities, assign_queues
from gpufleet.serving.by_type import services_by_type
from gpufleet.sim.sampling import hour_edges
from gpufleet.sim.service_split import split_services
from gpufleet.sim.serving import ServingFleet
from gpufleet.sim.simulation import Simulation
from gpufleet.spec.scenario import Scenario
from gpufleet.spec.scheduler import PreemptionCost, TimeLimits
from gpufleet.workload.build import build_jobs
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
    progress = JobProgress(work_s, jobs.estimate_s, jobs.gpus,
                           checkpoint_intervals_s(scenario, layout, jobs, processes, work_s, rates),
                           checkpointing.restart_overhead_minutes * 60.0, checkpointing.write_minutes * 60.0,
                           free_preemption=spec.preemption_cost is PreemptionCost.none,
                           limit_s=jobs.time_limit_s if wall_clock else None,
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
