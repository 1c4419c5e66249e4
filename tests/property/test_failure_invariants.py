"""Invariants with failures on (hypothesis), on random small fleets, failure rates and spares:

- failed hardware is never allocated until repaired: on every node, at every instant,
  GPUs held by jobs plus GPUs in repair never exceed the node's GPUs; no job runs on a
  rack while the rack is down (not even on GPUs repaired meanwhile);
- a job's productive GPU-hours never exceed its GPUs times its wall time;
- productive + lost + restart overhead + checkpoint writes add up to the time it held GPUs;
- a job ends no earlier than its work allows;
- a wall-clock time limit holds however often a job is stopped: it never holds its GPUs
  longer than its limit, and it is stopped with status time_limit exactly when it reaches it.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

import numpy as np
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from gpufleet.errors import InputError
from gpufleet.testing import scenario
from tests.conftest import run_recording

START = datetime(2026, 1, 1)


def at(hours: float) -> str:
    return (START + timedelta(hours=hours)).isoformat()


@st.composite
def failing_runs(draw: st.DrawFn):  # noqa: ANN201
    nodes_per_rack = draw(st.integers(1, 3))
    spares = draw(st.integers(0, nodes_per_rack - 1))
    fleet = {"pools": [{"name": "p", "gpu": "H100", "gpus_per_node": 4, "nodes_per_rack": nodes_per_rack,
                        "racks_per_block": 2, "deliveries": [{"date": at(0), "racks": draw(st.integers(2, 6))}]}]}
    usable = 4 * (nodes_per_rack - spares)
    processes = []
    for index, component in enumerate(draw(st.lists(st.sampled_from(["gpu", "node", "rack"]), min_size=1,
                                                     max_size=3))):
        processes.append({"name": f"f{index}", "component": component,
                          "mttf_hours": draw(st.sampled_from([5.0, 20.0, 80.0])) * (4 if component == "gpu" else 1),
                          "distribution": draw(st.sampled_from(["exponential", "weibull"])),
                          "shape": draw(st.sampled_from([0.7, 1.0, 1.5])),
                          "repair": {"dist": "fixed", "hours": draw(st.sampled_from([0.5, 3.0]))}})
    jobs = []
    for index in range(draw(st.integers(1, 8))):
        group = draw(st.sampled_from([g for g in (1, 2, 4) if g <= usable]))
        jobs.append({"name": f"j{index}", "gpus": group * draw(st.integers(1, 3)), "group_size": group,
                     "duration_hours": draw(st.floats(0.5, 15, allow_nan=False)),
                     "submit": at(draw(st.integers(0, 10)))})
        if draw(st.booleans()):
            jobs[-1]["time_limit_hours"] = draw(st.floats(0.5, 20, allow_nan=False))
    checkpointing = {"interval_hours": draw(st.sampled_from([0.5, 2.0])),
                     "write_minutes": draw(st.sampled_from([0.0, 3.0])),
                     "restart_overhead_minutes": draw(st.sampled_from([0.0, 10.0])),
                     "max_restarts": draw(st.sampled_from([None, 2]))}
    failures = {"processes": processes, "spares": {"nodes_per_rack": spares}}
    return fleet, jobs, failures, checkpointing, draw(st.integers(0, 5))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(failing_runs())
def test_failure_invariants_hold(problem) -> None:  # noqa: ANN001
    fleet, jobs, failures, checkpointing, seed = problem
    try:
        spec = scenario(fleet, [{"jobs": {"name": "jobs", "items": jobs}}], end="2026-01-03", seed=seed,
                        failures=failures, checkpointing=checkpointing)
    except InputError:
        assume(False)
        return
    result, log, simulation = run_recording(spec)
    layout = simulation.layout
    segments = simulation._segments
    per_node: dict[int, list[tuple[float, int]]] = defaultdict(list)
    for start, job, allocation in log:
        end = next(e for j, _, s, e in segments if j == job and s == start and e >= s)
        for node, gpus in zip(allocation.nodes.tolist(), allocation.node_gpus.tolist(), strict=True):
            per_node[node] += [(start, gpus), (end, -gpus)]
    for failure in result.failures.to_pylist():
        repaired = failure["repaired_s"] if not np.isnan(failure["repaired_s"]) else np.inf
        for node, gpus in next(f.nodes for f in simulation.outages.log if f.time_s == failure["t_s"]):
            per_node[node] += [(failure["t_s"], gpus), (repaired, -gpus)]
    racks_down = [(record.rack, record.time_s, record.repaired_s if not np.isnan(record.repaired_s) else np.inf)
                  for record in simulation.outages.log if record.component == "rack"]
    for start, job, allocation in log:
        end = next(e for j, _, s, e in segments if j == job and s == start and e >= s)
        for rack, down, back in racks_down:
            if rack in allocation.racks.tolist():
                assert end <= down or start >= back, (job, rack)
    for node, changes in per_node.items():
        level = np.cumsum([delta for _, delta in sorted(changes, key=lambda c: (c[0], c[1]))])
        assert level.max() <= layout.node_gpus[node], node
    for row in result.jobs.to_pylist():
        if np.isnan(row["start_s"]):
            continue
        gpus = row["gpus"]
        held = row["run_s"] / 3600 * gpus
        parts = (row["productive_gpu_hours"] + row["lost_gpu_hours"] + row["overhead_gpu_hours"]
                 + row["checkpoint_gpu_hours"])
        if row["status"] != "running":
            assert parts == np.float64(held) or abs(parts - held) < 1e-6 * max(held, 1)
        wall = ((row["end_s"] if not np.isnan(row["end_s"]) else simulation.until_s) - row["start_s"]) / 3600
        assert row["productive_gpu_hours"] <= gpus * wall + 1e-6
        if row["status"] == "completed":
            assert row["end_s"] - row["start_s"] >= min(row["duration_s"], row["time_limit_s"]) - 1e-6
            assert row["end_s"] - row["start_s"] >= row["duration_s"] - 1e-6  # limits cap time, not work
        assert row["run_s"] <= row["time_limit_s"] + 1e-6
        if row["status"] == "time_limit":
            assert row["run_s"] == np.float64(row["time_limit_s"]) or abs(row["run_s"] - row["time_limit_s"]) < 1e-6
