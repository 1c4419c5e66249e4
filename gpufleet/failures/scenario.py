"""A scenario's failures on its laid-out fleet: the processes with the pools each strikes
(catalog defaults per pool, spot reclaims), the injected failures, each job's expected
interruptions per hour and its checkpoint interval (fixed, or Young/Daly for its size)."""

from __future__ import annotations

import math

import numpy as np

from gpufleet.failures.defaults import catalog_defaults
from gpufleet.failures.process import Strike
from gpufleet.failures.rates import interruptions_per_hour, young_daly_interval_h
from gpufleet.fleet.layout import FleetLayout
from gpufleet.spec.failures import Component, FailureProcessSpec
from gpufleet.spec.purchase import PurchaseKind
from gpufleet.spec.scenario import Scenario
from gpufleet.spec.workload import DurationSpec
from gpufleet.workload.jobs import JobTable

HOUR_S = 3600.0


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
