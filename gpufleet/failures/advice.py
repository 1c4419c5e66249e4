"""Checkpoint advice: for each job size, the interruption rate, the Young/Daly interval and
the effective training time ratio to expect, from a scenario's failure processes.

The ETTR is the exact renewal formula of `gpufleet.failures.ettr`, the one the scheduler
plans with and the simulator's checkpoint semantics imply, so advice and a run agree
within the noise of the run (tests/validation/test_ettr.py)."""

from __future__ import annotations

from typing import Any

from gpufleet.failures.ettr import ettr, optimal_interval
from gpufleet.failures.rates import interruptions_per_hour, young_daly_interval_h
from gpufleet.failures.scenario import failure_processes
from gpufleet.fleet.build import build_layout
from gpufleet.spec.scenario import Scenario


def job_sizes(scenario: Scenario, largest: int) -> list[int]:
    """Powers of two from one node to the largest job or pool, plus the scenario's explicit sizes."""
    sizes = {2**k for k in range(3, 20) if 2**k <= largest}
    for entry in scenario.workloads:
        if entry.jobs is not None:
            sizes.update(job.gpus for job in entry.jobs.items)
        if entry.synthetic is not None:
            sizes.update(size.gpus for size in entry.synthetic.sizes)
    return sorted(size for size in sizes if size <= largest)


def checkpoint_advice(scenario: Scenario, pool_name: str | None = None) -> list[dict[str, Any]]:
    """One row per job size on the pool (default: the largest): rates, intervals, ETTR.

    `young_daly_interval_h` is the interval a run with `interval_hours: young_daly` uses;
    `optimal_interval_h` the one that maximises the exact ETTR. Every ETTR is exact.
    """
    layout = build_layout(scenario)
    pool = layout.pool_named(pool_name) if pool_name else max(layout.pools, key=lambda p: p.racks * p.rack_gpus)
    processes = [process for process, pools in failure_processes(scenario, layout) if pool.index in pools]
    checkpointing = scenario.checkpointing
    write_h = checkpointing.write_minutes / 60.0
    restart_h = checkpointing.restart_overhead_minutes / 60.0
    configured = checkpointing.interval_hours
    rows = []
    for gpus in job_sizes(scenario, pool.racks * pool.rack_gpus):
        rate = interruptions_per_hour(gpus, pool, processes)
        mtbi_h = 1.0 / rate if rate > 0 else float("inf")
        young_daly_h = young_daly_interval_h(write_h, mtbi_h) if rate > 0 else float("inf")
        best_h = optimal_interval(write_h, rate)
        row = {"gpus": gpus, "interruptions_per_day": rate * 24.0, "mtbi_h": mtbi_h,
               "young_daly_interval_h": young_daly_h,
               "ettr_at_young_daly": ettr(young_daly_h, write_h, restart_h, rate) if rate > 0 else 1.0,
               "optimal_interval_h": best_h,
               "ettr_at_optimal": ettr(best_h, write_h, restart_h, rate) if rate > 0 else 1.0}
        if configured != "young_daly":
            row["ettr_at_configured"] = ettr(configured, write_h, restart_h, rate)
        rows.append(row)
    return rows
