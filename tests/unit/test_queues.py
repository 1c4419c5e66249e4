"""Hand-worked schedules for Kueue-style queues: borrowing and reclaim within a cohort,
lending limits, priority preemption, StrictFIFO vs BestEffortFIFO, and DRF shares."""

from __future__ import annotations

import pytest

from gpufleet import api
from gpufleet.testing import scenario, small_fleet

H = 3600.0
# Four racks of 8 GPUs (one 8-GPU node each).
FLEET = small_fleet(racks=4, gpus_per_node=8, nodes_per_rack=1)
COST = {"interval_hours": 1.5, "restart_overhead_minutes": 10}


def job(name: str, team: str, gpus: int, hours: float, at: float = 0.0, **extra: object) -> dict:
    return {"name": name, "team": team, "gpus": gpus, "duration_hours": hours,
            "submit": f"2026-01-01T{int(at):02d}:{int(at % 1 * 60):02d}:00", **extra}


def run(jobs: list[dict], scheduler: dict, fleet: dict = FLEET):  # noqa: ANN201
    spec = scenario(fleet, [{"jobs": {"name": "jobs", "items": jobs}}], end="2026-01-03", scheduler=scheduler,
                    checkpointing=COST)
    return {row["name"]: row for row in api.run(spec).jobs.to_pylist()}


def cohort(reclaim: str = "Never", lending_limit: int | None = None, strategy: str = "BestEffortFIFO") -> dict:
    a = {"name": "A", "tenants": ["a"], "cohort": "org", "nominal": {"H100": 16},
         "preemption": {"reclaim_within_cohort": reclaim}, "queueing_strategy": strategy}
    if lending_limit is not None:
        a["lending_limit"] = {"H100": lending_limit}
    b = {"name": "B", "tenants": ["b"], "cohort": "org", "nominal": {"H100": 16}}
    return {"policy": "fifo", "queues": [a, b]}


B_FILLS_THE_FLEET = [job(f"b{i}", "b", 8, 10) for i in range(1, 5)]


def test_a_queue_borrows_its_cohorts_unused_quota() -> None:
    rows = run(B_FILLS_THE_FLEET, cohort())
    # B's nominal is 16 GPUs, but A lends its unused 16: all four jobs run at once.
    assert [rows[f"b{i}"]["start_s"] for i in range(1, 5)] == [0, 0, 0, 0]


def test_the_lender_reclaims_its_quota_by_preemption() -> None:
    rows = run([*B_FILLS_THE_FLEET, job("a1", "a", 16, 5, at=2)], cohort(reclaim="Any"))
    # At 2 h A wants 16 GPUs, within its nominal; B borrows them. The two most recently
    # started borrowers (b4, b3) are preempted, a1 starts at once.
    assert rows["a1"]["start_s"] == 2 * H
    assert [rows[f"b{i}"]["preemptions"] for i in range(1, 5)] == [0, 0, 1, 1]
    # b3 ran 2 h with checkpoints every 1.5 h: it keeps 1.5 h, loses 0.5 h x 8 GPUs, and
    # pays 10 minutes of restart overhead once a1 ends at 7 h: it ends at 7 h + 10 min + 8.5 h.
    b3 = rows["b3"]
    assert b3["lost_gpu_hours"] == pytest.approx(4.0)
    assert b3["overhead_gpu_hours"] == pytest.approx(8 * 10 / 60)
    assert b3["end_s"] == pytest.approx((7 + 10 / 60 + 8.5) * H)
    assert [entry["reason"] for entry in b3["reasons"]][:2] == \
        ["preempted", "quota: H100 cohort pool of queue B lent out"]


def test_without_reclaim_the_lender_waits() -> None:
    rows = run([*B_FILLS_THE_FLEET, job("a1", "a", 16, 5, at=2)], cohort(reclaim="Never"))
    assert rows["a1"]["start_s"] == 10 * H and rows["a1"]["reasons"][0]["reason"].startswith("quota: H100")


def test_a_lending_limit_keeps_part_of_the_quota_home() -> None:
    rows = run([*B_FILLS_THE_FLEET, job("a1", "a", 8, 5, at=1)], cohort(lending_limit=8))
    # A lends at most 8 of its 16: B runs three jobs and never more, even on a fourth idle
    # rack; A's own job finds its kept 8 GPUs free at 1 h. b4 waits for one of B's own jobs.
    assert [rows[f"b{i}"]["start_s"] for i in range(1, 4)] == [0, 0, 0]
    assert rows["a1"]["start_s"] == 1 * H
    assert rows["b4"]["start_s"] == 10 * H
    assert rows["b4"]["reasons"][0]["reason"] == "quota: H100 cohort pool of queue B lent out"


def test_higher_priority_preempts_within_a_queue() -> None:
    scheduler = {"policy": "priority",
                 "priority_classes": [{"name": "prod", "value": 100, "teams": ["prod"]},
                                      {"name": "batch", "value": 0, "default": True}],
                 "queues": [{"name": "all", "tenants": ["*"], "nominal": {"H100": 16},
                             "preemption": {"within_cluster_queue": "LowerPriority"}}]}
    fleet = small_fleet(racks=2, gpus_per_node=8, nodes_per_rack=1)
    rows = run([job("l1", "batch", 8, 10), job("l2", "batch", 8, 10), job("h1", "prod", 8, 3, at=1)],
               scheduler, fleet)
    assert rows["h1"]["start_s"] == 1 * H and rows["l2"]["preemptions"] == 1 and rows["l1"]["preemptions"] == 0
    # l2 ran 1 h, short of its first checkpoint: it loses it all and restarts when h1 ends at 4 h.
    assert rows["l2"]["lost_gpu_hours"] == pytest.approx(8.0)
    assert rows["l2"]["end_s"] == pytest.approx((4 + 10 / 60 + 10) * H)


@pytest.mark.parametrize(("strategy", "x3_start"), [("StrictFIFO", 11), ("BestEffortFIFO", 0)])
def test_strict_fifo_blocks_behind_a_quota_blocked_head(strategy: str, x3_start: float) -> None:
    queue = {"name": "A", "tenants": ["*"], "nominal": {"H100": 16}, "queueing_strategy": strategy}
    rows = run([job("x1", "a", 8, 10), job("x2", "a", 16, 1), job("x3", "a", 8, 1)],
               {"policy": "fifo", "queues": [queue]})
    # x2 does not fit the 16-GPU quota beside x1 until x1 ends at 10 h. StrictFIFO holds x3
    # behind it (x3 runs after x2, at 11 h); BestEffortFIFO lets x3 use the spare 8 at once.
    assert rows["x2"]["start_s"] == 10 * H
    assert rows["x3"]["start_s"] == x3_start * H


def drf_run(weight_a: float, policy: str = "drf") -> dict:
    fleet = {"pools": [
        {"name": "h", "gpu": "H100", "gpus_per_node": 8, "nodes_per_rack": 1,
         "deliveries": [{"date": "2026-01-01", "racks": 2}]},
        {"name": "b", "gpu": "B200", "gpus_per_node": 8, "nodes_per_rack": 1,
         "deliveries": [{"date": "2026-01-01", "racks": 2}]}]}
    quota = {"H100": 16, "B200": 16}
    scheduler = {"policy": policy, "queues": [
        {"name": "A", "tenants": ["a"], "nominal": quota, "fair_share": {"weight": weight_a}},
        {"name": "B", "tenants": ["b"], "nominal": quota}]}
    jobs = [job(f"a{i}", "a", 8, 10) for i in range(4)] + [job(f"b{i}", "b", 8, 10) for i in range(4)]
    return run(jobs, scheduler, fleet)


def racks_at_start(rows: dict, team: str) -> int:
    return sum(1 for row in rows.values() if row["team"] == team and row["start_s"] == 0)


def test_fifo_gives_the_first_queue_everything_drf_splits_by_dominant_share() -> None:
    assert racks_at_start(drf_run(1.0, policy="fifo"), "a") == 4
    equal = drf_run(1.0)
    # Each 8-GPU job is half of one flavor's 16 GPUs: A (H100), B (H100), A (B200; dominant
    # share still 0.5, total share 1), then B (B200; its total share is lower): two each.
    assert racks_at_start(equal, "a") == 2 and racks_at_start(equal, "b") == 2


def test_weighted_drf() -> None:
    rows = drf_run(3.0)
    # A's shares count a third: A (0 -> 1/6), B (0 -> 1/2), A (1/6), A (1/3 < 1/2): 3 to 1.
    assert racks_at_start(rows, "a") == 3 and racks_at_start(rows, "b") == 1
