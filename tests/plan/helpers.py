"""Small scenarios and run functions for the store, executor, sweep and planner tests.

Run functions live here (not in a test file) so that spawned worker processes and Ray
workers can import them by name.
"""

from __future__ import annotations

import os
import signal
import time
from typing import Any

from gpufleet import api
from gpufleet.results.run_result import RunResult
from gpufleet.spec.scenario import Scenario
from gpufleet.testing import scenario, small_fleet

FAILING_SEED = 13
KILLING_SEED = 17


def lab(end: str = "2026-01-20", racks: int = 4) -> Scenario:
    """Four racks of 2 x 4 GPUs, a mixed stream of 1- to 8-GPU jobs: a fraction of a second per run."""
    workload = {"synthetic": {"name": "exp", "arrivals": {"rate_per_day": 60},
                              "sizes": [{"gpus": 1, "weight": 0.5, "duration": {"dist": "exponential",
                                                                                 "mean_hours": 2}},
                                        {"gpus": 8, "weight": 0.5, "duration": {"dist": "lognormal",
                                                                                 "median_hours": 3, "sigma": 1}}]}}
    return scenario(small_fleet(racks=racks), [workload], end=end)


def failing_run(scenario: Scenario, **options: Any) -> RunResult:  # noqa: ANN401
    """api.run, except that seed FAILING_SEED raises."""
    if options.get("seed") == FAILING_SEED:
        raise RuntimeError("boom: a run that fails")
    return api.run(scenario, **options)


def killing_run(scenario: Scenario, **options: Any) -> RunResult:  # noqa: ANN401
    """api.run, except that seed KILLING_SEED kills its own worker process (as the OOM killer would)."""
    if options.get("seed") == KILLING_SEED:
        os.kill(os.getpid(), signal.SIGKILL)
    return api.run(scenario, **options)


def slow_write_run(scenario: Scenario, **options: Any) -> RunResult:  # noqa: ANN401
    """api.run whose result writes its first table, then stalls (to be killed mid-write)."""
    result = api.run(scenario, **options)
    original = result.write_tables

    def stalled(folder):  # noqa: ANN001, ANN202
        (folder / "jobs.parquet").write_bytes(b"partial")
        time.sleep(60)
        original(folder)

    result.write_tables = stalled  # type: ignore[method-assign]
    return result
