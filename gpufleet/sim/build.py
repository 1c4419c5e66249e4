"""Assemble a runnable Simulation from a validated scenario."""

from __future__ import annotations

from datetime import datetime

from gpufleet.fleet.build import build_layout
from gpufleet.fleet.state import FleetState
from gpufleet.sched.placement import PLACEMENTS
from gpufleet.sched.policies import POLICIES
from gpufleet.sched.scheduler import Scheduler
from gpufleet.sim.simulation import Simulation
from gpufleet.spec.scenario import Scenario
from gpufleet.workload.build import build_jobs


def build(scenario: Scenario, seed: int | None = None, until: datetime | None = None) -> Simulation:
    """Fleet, jobs and scheduler of `scenario`, ready to run to `until` (default: its end)."""
    layout = build_layout(scenario)
    jobs = build_jobs(scenario, layout, seed)
    # Keep per-block group counts for the group sizes of gangs that can span racks.
    smallest_rack = min((pool.rack_gpus for pool in layout.pools), default=0)
    state = FleetState(layout, groups={group for gpus, group, _, _ in jobs.shapes if gpus > smallest_rack})
    spec = scenario.scheduler
    scheduler = Scheduler(
        jobs,
        layout,
        state,
        placement=PLACEMENTS.get(spec.placement)(),
        policy=POLICIES.get(spec.policy)(jobs),
        backfill=spec.backfill,
        max_job_test=spec.max_job_test,
    )
    until_s = scenario.seconds(min(until, scenario.end) if until is not None else scenario.end)
    return Simulation(layout, jobs, state, scheduler, until_s)
