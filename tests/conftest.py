"""Shared fixtures: paths to ../shared, and a run that records every allocation."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import settings

from gpufleet.fleet.state import Allocation
from gpufleet.results.run_result import RunResult
from gpufleet.sim.build import build
from gpufleet.sim.simulation import Simulation
from gpufleet.spec.scenario import Scenario

SHARED = Path(__file__).resolve().parents[2] / "shared"

# The suite draws the same examples on every run, so a result never depends on luck (CI
# included); `pytest --hypothesis-profile=explore` draws new ones to hunt for bugs.
settings.register_profile("repeatable", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile("repeatable")


def run_recording(scenario: Scenario, seed: int | None = None
                  ) -> tuple[RunResult, list[tuple[float, int, Allocation]], Simulation]:
    """Run `scenario`; return its result, every (start time, job, allocation), and the simulation."""
    simulation = build(scenario, seed=seed)
    scheduler = simulation.scheduler
    log: list[tuple[float, int, Allocation]] = []
    original_start, original_restart = scheduler._start, scheduler.restart_in_place

    def snapshot(job: int) -> Allocation:
        held = scheduler.allocations[job]
        return replace(held, racks=held.racks.copy(), gpus=held.gpus.copy(), nodes=held.nodes.copy(),
                       node_gpus=held.node_gpus.copy())

    def recording(job, placement, now, result):  # noqa: ANN001, ANN202
        original_start(job, placement, now, result)
        log.append((now, job, snapshot(job)))

    def restarting(job, now, failed_node, spare, cause):  # noqa: ANN001, ANN202
        run_s = original_restart(job, now, failed_node, spare, cause)
        if run_s is not None:  # the job goes on, on the spare: a new segment with new nodes
            log.append((now, job, snapshot(job)))
        return run_s

    scheduler._start = recording  # type: ignore[method-assign]
    scheduler.restart_in_place = restarting  # type: ignore[method-assign]
    record = simulation.run()
    result = RunResult.from_record(scenario, scenario.seed if seed is None else seed, simulation.layout,
                                   simulation.jobs, record)
    return result, log, simulation


@pytest.fixture(scope="session")
def shared() -> Path:
    """../shared beside the checkout (the team's traces and design), or skip."""
    if not SHARED.is_dir():
        pytest.skip("../shared is not next to this checkout")
    return SHARED
