"""Hand-worked time limits: wall-clock from the first start (the default, as Slurm's TimeLimit and
Kueue's maximum execution time) against limits on work (`scheduler.time_limits: work`)."""

from __future__ import annotations

import pytest

from gpufleet import api
from gpufleet.testing import jobs_workload, scenario, small_fleet

H = 3600.0


def run(items: list[dict], time_limits: str, checkpointing: dict, *, fleet: dict | None = None,
        failures: dict | None = None, policy: str = "fifo") -> tuple[dict[str, dict], dict]:
    spec = scenario(fleet or small_fleet(racks=1), [jobs_workload(items)], end="2026-01-03",
                    scheduler={"policy": policy, "estimate": "exact", "time_limits": time_limits},
                    checkpointing=checkpointing, **({"failures": failures} if failures is not None else {}))
    result = api.run(spec)
    return {row["name"]: row for row in result.jobs.to_pylist()}, result.summary


NO_WRITES = {"interval_hours": 3, "write_minutes": 0, "restart_overhead_minutes": 0}


def test_a_wall_clock_limit_stops_the_run_and_keeps_its_checkpoints() -> None:
    # 10 h of work, an 8 h limit, a checkpoint every 3 h: stopped at 8 h with two
    # checkpoints (6 h kept) and the 2 h since the last one lost.
    rows, summary = run([{"name": "over", "gpus": 8, "duration_hours": 10, "time_limit_hours": 8}],
                        "wall_clock", NO_WRITES)
    row = rows["over"]
    assert row["status"] == "time_limit" and row["end_s"] == 8 * H and row["reason"] == "time_limit"
    assert row["productive_gpu_hours"] == pytest.approx(6 * 8)
    assert row["lost_gpu_hours"] == pytest.approx(2 * 8) and row["limit_lost_gpu_hours"] == pytest.approx(2 * 8)
    assert summary["jobs"]["time_limit"] == 1 and summary["wait_by_size_class"]["1-8"]["time_limit"] == 1
    assert summary["preemption"]["lost_gpu_hours"] == 0  # a limit is not a preemption
    # Limits on work: the run's 8 h of work all count.
    rows, _ = run([{"name": "over", "gpus": 8, "duration_hours": 10, "time_limit_hours": 8}], "work", NO_WRITES)
    assert rows["over"]["status"] == "time_limit" and rows["over"]["end_s"] == 8 * H
    assert rows["over"]["productive_gpu_hours"] == pytest.approx(8 * 8)


def test_a_wall_clock_limit_counts_the_time_before_a_failure() -> None:
    # Racks of three 4-GPU nodes, one a hot spare. 10 h of work, a checkpoint every 2 h
    # taking 6 min, 15 min restart; a node failure at 5 h: 4 h kept, 0.8 h lost, restart in
    # place. Then checkpoints at 5.25 + 2.1 = 7.35 h (6 h kept) and 9.45 h (8 h kept).
    # With an 11 h wall-clock limit it stops at 11 h, 1.55 h of work after its last checkpoint.
    fleet = {"pools": [{"name": "p", "gpu": "H100", "gpus_per_node": 4, "nodes_per_rack": 3,
                        "deliveries": [{"date": "2026-01-01", "racks": 1}]}]}
    failures = {"spares": {"nodes_per_rack": 1}, "injected": [
        {"date": "2026-01-01T05:00:00", "pool": "p", "rack": 0, "node": 0, "component": "node", "repair_hours": 2}]}
    checkpointing = {"interval_hours": 2, "write_minutes": 6, "restart_overhead_minutes": 15}
    job = {"name": "run", "gpus": 8, "group_size": 4, "duration_hours": 10, "time_limit_hours": 11}
    rows, _ = run([job], "wall_clock", checkpointing, fleet=fleet, failures=failures)
    row = rows["run"]
    assert row["interruptions"] == 1 and row["status"] == "time_limit"
    assert row["end_s"] == pytest.approx(11 * H) and row["run_s"] == pytest.approx(11 * H)
    assert row["productive_gpu_hours"] == pytest.approx(8 * 8)
    assert row["lost_gpu_hours"] == pytest.approx((0.8 + 1.55) * 8)
    assert row["limit_lost_gpu_hours"] == pytest.approx(1.55 * 8)
    assert row["checkpoint_gpu_hours"] == pytest.approx(0.4 * 8) and row["overhead_gpu_hours"] == pytest.approx(2)
    # Limits on work: the failure's cost comes on top, and the job runs past its limit to 11.45 h.
    rows, _ = run([job], "work", checkpointing, fleet=fleet, failures=failures)
    assert rows["run"]["status"] == "completed" and rows["run"]["end_s"] == pytest.approx(11.45 * H)


def test_a_wall_clock_limit_counts_the_time_before_a_preemption() -> None:
    # One rack of 8. "a" (10 h, 9 h limit) runs from 0; at 3 h "b" (2 h) preempts it under
    # SRTF. "a" kept 3 h (hourly checkpoints), restarts at 5 h with 6 h of its limit left
    # (Kueue counts the time before a preemption): 10 min restart, 5 h 50 min of work,
    # five checkpoints; stopped at 11 h with 8 h kept and 50 min lost.
    items = [{"name": "a", "gpus": 8, "duration_hours": 10, "time_limit_hours": 9},
             {"name": "b", "gpus": 8, "duration_hours": 2, "submit": "2026-01-01T03:00:00"}]
    checkpointing = {"interval_hours": 1, "write_minutes": 0, "restart_overhead_minutes": 10}
    rows, _ = run(items, "wall_clock", checkpointing, policy="srtf")
    a = rows["a"]
    assert a["preemptions"] == 1 and rows["b"]["start_s"] == 3 * H
    assert a["status"] == "time_limit" and a["end_s"] == pytest.approx(11 * H) and a["run_s"] == pytest.approx(9 * H)
    assert a["productive_gpu_hours"] == pytest.approx(8 * 8)
    assert a["limit_lost_gpu_hours"] == pytest.approx(50 / 60 * 8)
    # Limits on work: its 9 h of work end at 5 h + 10 min + 6 h.
    rows, _ = run(items, "work", checkpointing, policy="srtf")
    assert rows["a"]["status"] == "time_limit" and rows["a"]["end_s"] == pytest.approx((11 + 10 / 60) * H)
