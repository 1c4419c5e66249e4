"""Explicit named jobs, such as frontier training runs."""

from __future__ import annotations

import numpy as np

from gpufleet.fleet.flavors import with_providers
from gpufleet.fleet.layout import FleetLayout
from gpufleet.spec.scenario import Scenario
from gpufleet.spec.workload import ExplicitJob, JobsSpec
from gpufleet.workload.estimates import planned_run_s
from gpufleet.workload.jobs import JobColumns

HOUR_S = 3600.0


def default_group(job: ExplicitJob) -> int:
    return job.group_size or min(job.gpus, 8)


def job_key(job: ExplicitJob) -> tuple[str, ...] | None:
    """Where the job may go: its GPU types and providers (`fleet.flavors`)."""
    return with_providers(job.flavors, job.providers)


def submit_time_s(job: ExplicitJob, scenario: Scenario, layout: FleetLayout) -> float:
    """Seconds from scenario start at which the job is submitted (inf: never within reach)."""
    if job.submit is None:
        return 0.0
    if job.submit == "when_capacity":
        pools = layout.pools_for(job_key(job))
        fit = layout.first_fit_time(pools, job.gpus, default_group(job), job.within_block, 0.0)
        return float("inf") if fit is None else max(fit, 0.0)
    return scenario.seconds(job.submit)


def explicit_jobs(spec: JobsSpec, scenario: Scenario, layout: FleetLayout) -> list[JobColumns]:
    """One JobColumns per distinct flavor list (jobs of a workload may name different flavors)."""
    by_flavors: dict[tuple[str, ...] | None, list[ExplicitJob]] = {}
    for job in spec.items:
        by_flavors.setdefault(job_key(job), []).append(job)
    parts = []
    for flavors, jobs in by_flavors.items():
        duration = np.array([job.duration_h * HOUR_S for job in jobs])
        limit = np.array([job.time_limit_h * HOUR_S if job.time_limit_h else np.inf for job in jobs])
        parts.append(
            JobColumns(
                workload=spec.name,
                submit_s=np.array([submit_time_s(job, scenario, layout) for job in jobs]),
                gpus=np.array([job.gpus for job in jobs], dtype=np.int64),
                group=np.array([default_group(job) for job in jobs], dtype=np.int64),
                within_block=np.array([job.within_block for job in jobs], dtype=bool),
                duration_s=duration,
                time_limit_s=limit,
                estimate_s=planned_run_s(duration, limit, spec.estimate or scenario.scheduler.estimate),
                team=[job.team or spec.team or spec.name for job in jobs],
                names=[job.name for job in jobs],
                flavors=flavors,
                kind="explicit",
            )
        )
    return parts
