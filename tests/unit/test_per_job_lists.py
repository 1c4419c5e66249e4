"""The Python engine's per-job lists are made on first read: a native run holds none of them."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np

from gpufleet.sched.progress import JobProgress
from gpufleet.sim import native
from gpufleet.sim.build import build
from gpufleet.sim.load import parse_scenario

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from engine import scenario_yaml  # noqa: E402 - benchmarks/engine.py


def test_progress_lists_are_made_on_first_read_with_the_inputs_values() -> None:
    work, gpus = np.array([3600.0, 0.5, 7200.0]), np.array([8, 1, 4096], dtype=np.int64)
    progress = JobProgress(work, work * 2, gpus, [1800.0] * 3, 60.0)
    assert (progress.column("work_s") == work).all() and progress.column("limit_s").tolist() == [math.inf] * 3
    assert "done_s" not in vars(progress) and "work_s" not in vars(progress)
    assert progress.done_s == [0.0] * 3  # the first read makes every list
    assert progress.work_s == [3600.0, 0.5, 7200.0] and type(progress.work_s[0]) is float
    assert progress.gpus == [8, 1, 4096] and type(progress.gpus[0]) is int
    assert progress.limit_s == [math.inf] * 3 and progress.segment_start[0] != progress.segment_start[0]
    assert progress.column("estimate_s").tolist() == [7200.0, 1.0, 14400.0]


def test_a_run_on_the_native_core_makes_no_per_job_lists() -> None:
    simulation = build(parse_scenario(scenario_yaml(2000, 1024), source="<test>"))
    assert native.unsupported(simulation) is None
    record = native.run_native(simulation)
    assert "_start" not in vars(simulation) and "done_s" not in vars(simulation.progress)
    assert len(record.start_s) == len(simulation.jobs)
    python = build(parse_scenario(scenario_yaml(2000, 1024), source="<test>")).run()
    assert python.end_s.tobytes() == record.end_s.tobytes()
