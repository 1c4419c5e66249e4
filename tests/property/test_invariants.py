"""Invariants of any run, on random small fleets and job mixes (hypothesis).

- never more GPUs held than a rack has, and only on racks live when the job started;
- gangs all-or-nothing, NVLink groups inside one rack, `within_block` inside one block;
- no job starts before it is submitted;
- backfill never delays the head job past its reservation, planning on exact run times or
  on time limits (wall-clock limits make a planned end a bound: a job never runs past it);
- capacity changes only at the planned delivery and retirement dates.
"""

from __future__ import annotations

import io
from collections import defaultdict
from datetime import datetime, timedelta

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from gpufleet.errors import InputError
from gpufleet.testing import scenario
from tests.conftest import run_recording

START = datetime(2026, 1, 1)


def at(hours: float) -> str:
    return (START + timedelta(hours=hours)).isoformat()


@st.composite
def small_runs(draw: st.DrawFn):  # noqa: ANN201
    pools = []
    for index in range(draw(st.integers(1, 2))):
        gpus_per_node = draw(st.sampled_from([2, 4, 8]))
        nodes_per_rack = draw(st.integers(1, 2))
        offsets = sorted(draw(st.lists(st.integers(0, 48), min_size=1, max_size=3)))
        deliveries = [{"date": at(h), "racks": draw(st.integers(1, 4))} for h in offsets]
        pool = {"name": f"p{index}", "gpu": ["H100", "B200"][index], "gpus_per_node": gpus_per_node,
                "nodes_per_rack": nodes_per_rack, "racks_per_block": draw(st.integers(1, 3)),
                "deliveries": deliveries}
        if draw(st.booleans()):
            pool["retirements"] = [{"date": at(offsets[0] + draw(st.integers(1, 60))), "racks": 1}]
        pools.append(pool)
    smallest_rack = min(p["gpus_per_node"] * p["nodes_per_rack"] for p in pools)
    jobs = []
    for index in range(draw(st.integers(1, 14))):
        group = draw(st.sampled_from([g for g in (1, 2, 4, 8) if g <= smallest_rack]))
        jobs.append({"name": f"j{index}", "gpus": group * draw(st.integers(1, 6)), "group_size": group,
                     "within_block": draw(st.booleans()),
                     "duration_hours": draw(st.floats(0.5, 30, allow_nan=False)),
                     "submit": at(draw(st.integers(0, 72)))})
        if draw(st.booleans()):
            jobs[-1]["time_limit_hours"] = draw(st.floats(0.5, 40, allow_nan=False))
    return {"pools": pools}, jobs, draw(st.booleans()), draw(st.sampled_from(["time_limit", "exact"]))


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_runs())
def test_invariants_hold(problem) -> None:  # noqa: ANN001
    fleet, jobs, backfill, estimate = problem
    try:
        spec = scenario(fleet, [{"jobs": {"name": "jobs", "items": jobs}}], end="2026-01-12",
                        scheduler={"policy": "fifo", "backfill": backfill, "estimate": estimate})
    except InputError:
        assume(False)  # a job that can never fit is refused up front (tested elsewhere)
        return
    result, log, simulation = run_recording(spec)
    layout = simulation.layout
    rows = result.jobs.to_pylist()
    by_name = {row["name"]: row for row in rows}
    spec_jobs = {job["name"]: job for job in jobs}
    per_rack: dict[int, list[tuple[float, int]]] = defaultdict(list)
    for start, job, allocation in log:
        row = rows[job]
        wanted = spec_jobs[row["name"]]
        assert start >= row["submit_s"]
        assert int(allocation.gpus.sum()) == row["gpus"]  # the whole gang, at one instant
        assert all(int(g) % wanted["group_size"] == 0 for g in allocation.gpus)
        if wanted["within_block"]:
            assert len(set(layout.rack_block[allocation.racks].tolist())) == 1
        assert np.all(layout.rack_delivered_s[allocation.racks] <= start)
        assert np.all(layout.rack_retire_s[allocation.racks] > start)
        if simulation.state.track_nodes:
            assert int(allocation.node_gpus.sum()) == row["gpus"]
            assert np.all(allocation.node_gpus <= layout.node_gpus[allocation.nodes])
        else:  # no failures: holdings are per rack only
            assert len(allocation.nodes) == len(allocation.node_gpus) == 0
        end = row["end_s"] if row["end_s"] is not None and not np.isnan(row["end_s"]) else np.inf
        for rack, gpus in zip(allocation.racks.tolist(), allocation.gpus.tolist(), strict=True):
            per_rack[rack] += [(start, gpus), (end, -gpus)]
    for rack, changes in per_rack.items():
        held = np.cumsum([delta for _, delta in sorted(changes, key=lambda c: (c[0], c[1]))])
        assert held.max() <= layout.rack_gpus[rack]
    if backfill:
        for row in by_name.values():
            reserved, started = row["reserved_s"], row["start_s"]
            if not np.isnan(reserved) and not np.isnan(started):
                assert started <= reserved + 1e-6, row["name"]
    planned = sorted((change.time_s, change.pool) for change in layout.changes if not change.retire)
    delivered = sorted((t, pool) for t, pool, gpus in simulation.state.capacity_log if gpus > 0)
    assert delivered == [(max(t, 0.0), pool) for t, pool in planned]
    for t, pool, gpus in simulation.state.capacity_log:
        if gpus < 0:  # a rack leaves only at or after its retirement date
            assert any(c.retire and c.pool == pool and c.time_s <= t for c in layout.changes)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_runs())
def test_holdings_per_node_change_no_schedule(problem) -> None:  # noqa: ANN001
    """Runs without failures keep holdings per rack only (`FleetState.track_nodes`); an
    empty failure model keeps them per node too. The jobs table must be the same."""
    fleet, jobs, backfill, _ = problem
    workloads = [{"jobs": {"name": "jobs", "items": jobs}}]
    try:
        per_rack = scenario(fleet, workloads, end="2026-01-12", backfill=backfill)
    except InputError:
        assume(False)
        return
    per_node = scenario(fleet, workloads, end="2026-01-12", backfill=backfill, failures={})
    (without, _, untracked), (with_nodes, _, tracked) = run_recording(per_rack), run_recording(per_node)
    assert not untracked.state.track_nodes and tracked.state.track_nodes
    assert parquet_bytes(without.jobs) == parquet_bytes(with_nodes.jobs)  # NaN included


def parquet_bytes(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()
