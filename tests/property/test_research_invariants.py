"""Invariants of the research semantics on random small fleets (hypothesis): preemption
scope `any` with free preemption, under every preemptive policy and stable or submit-order
ties.

- no rack ever holds more GPUs than it has (checked at every allocation);
- a job's work done never shrinks, so its remaining work never grows (checked at every stop);
- with free preemption nothing is lost and no restart is paid: the work done of a finished
  job equals its duration exactly, and the time it held its GPUs equals its duration but for
  rounding.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from gpufleet.errors import InputError
from gpufleet.results.run_result import RunResult
from gpufleet.sim.build import build
from gpufleet.testing import scenario
from tests.property.test_invariants import small_runs


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_runs(), st.sampled_from(["srtf", "srsf", "las", "fgf_preemptive"]), st.sampled_from(["submit_order",
                                                                                                  "stable"]),
       st.sampled_from(["easy", "greedy", "none"]))
def test_any_scope_and_free_preemption(problem, policy, ties, backfill) -> None:  # noqa: ANN001
    fleet, jobs, _, estimate = problem
    policy_spec = {"name": "las", "thresholds_gpu_seconds": [3600, 36000], "starvation_factor": None} \
        if policy == "las" else policy
    try:
        spec = scenario(fleet, [{"jobs": {"name": "jobs", "items": jobs}}], end="2026-01-20",
                        scheduler={"policy": policy_spec, "backfill": backfill, "preemption_scope": "any",
                                   "preemption_cost": "none", "ties": ties, "estimate": estimate},
                        checkpointing={"interval_hours": 1.5, "restart_overhead_minutes": 10})
    except InputError:
        assume(False)
        return
    simulation = build(spec)
    state, progress = simulation.state, simulation.progress
    rack_gpus = simulation.layout.rack_gpus
    allocate, stop = state.allocate, progress.stop

    def checked_allocate(placement):  # noqa: ANN001, ANN202
        allocation = allocate(placement)
        assert (state.avail >= 0).all() and (state.avail <= rack_gpus).all()
        return allocation

    def checked_stop(job, now, finished, failure=False):  # noqa: ANN001, ANN202
        before = progress.done_s[job]
        stop(job, now, finished, failure)
        assert before <= progress.done_s[job] <= progress.work_s[job]

    state.allocate = checked_allocate
    progress.stop = checked_stop
    record = simulation.run()
    result = RunResult.from_record(spec, spec.seed, simulation.layout, simulation.jobs, record)
    for row in result.jobs.to_pylist():
        # Free preemption loses nothing; only a stop at the wall-clock limit loses work since a checkpoint.
        assert row["lost_gpu_hours"] == row["limit_lost_gpu_hours"] and row["overhead_gpu_hours"] == 0
        if row["status"] == "completed":
            work = min(row["duration_s"], row["time_limit_s"])
            assert record.productive_gpu_s[row["job_id"]] == work * row["gpus"]  # work done: exactly the duration
            mine = record.segments["job"] == row["job_id"]
            held = math.fsum((record.segments["end_s"][mine] - record.segments["start_s"][mine]).tolist())
            assert abs(held - work) <= 1e-9 * max(row["end_s"], 1.0) * int(mine.sum())
    assert np.isfinite(result.jobs["submit_s"].to_numpy()).all()
