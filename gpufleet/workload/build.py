"""Build the job table of a scenario from all its workloads."""

from __future__ import annotations

from gpufleet.fleet.layout import FleetLayout
from gpufleet.spec.scenario import Scenario
from gpufleet.workload import explicit, synthetic, trace
from gpufleet.workload.jobs import JobColumns, JobTable


def build_jobs(scenario: Scenario, layout: FleetLayout, seed: int | None = None) -> JobTable:
    """Every job of every workload, sorted by submit time."""
    seed = scenario.seed if seed is None else seed
    parts: list[JobColumns] = []
    for entry in scenario.workloads:
        if entry.synthetic is not None:
            parts.append(synthetic.generate(entry.synthetic, scenario.start, scenario.end, seed,
                                            scenario.scheduler.estimate))
        elif entry.jobs is not None:
            parts.extend(explicit.explicit_jobs(entry.jobs, scenario, layout))
        elif entry.trace is not None:
            parts.extend(trace.trace_jobs(entry.trace, scenario).parts)
    return JobTable.concat(parts)
