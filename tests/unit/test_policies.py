"""Hand-worked cases for the research policies: LAS demotion and starvation guard, SRTF,
SJF, and the placement strategies."""

from __future__ import annotations

import pytest

from gpufleet import api
from gpufleet.testing import scenario, small_fleet

H = 3600.0
ONE_RACK = small_fleet(racks=1, gpus_per_node=8, nodes_per_rack=1)
COST = {"interval_hours": 1.5, "restart_overhead_minutes": 10}


def job(name: str, gpus: int, hours: float, at: float = 0.0) -> dict:
    minutes = round(at * 60)
    return {"name": name, "gpus": gpus, "duration_hours": hours,
            "submit": f"2026-01-01T{minutes // 60:02d}:{minutes % 60:02d}:00"}


def run(jobs: list[dict], scheduler: dict, fleet: dict = ONE_RACK) -> dict:
    spec = scenario(fleet, [{"jobs": {"name": "jobs", "items": jobs}}], end="2026-01-03", scheduler=scheduler,
                    checkpointing=COST)
    return {row["name"]: row for row in api.run(spec).jobs.to_pylist()}


def events(row: dict) -> list[tuple[float, str]]:
    return [(round(entry["t_s"] / H, 4), entry["reason"]) for entry in row["reasons"]]


LAS = {"policy": {"name": "las", "thresholds_gpu_hours": [8], "starvation_factor": 2}}


def test_las_demotes_a_long_job_and_lets_a_new_one_preempt_it() -> None:
    rows = run([job("long", 8, 10), job("short", 8, 0.5, at=0.5)], LAS)
    # At 0.5 h both are in the first queue (long has 4 of 8 GPU-h): short waits. At 1 h long
    # crosses 8 GPU-h, drops to the second queue, and short preempts it.
    assert rows["short"]["start_s"] == 1 * H and rows["short"]["end_s"] == 1.5 * H
    assert events(rows["long"])[0] == (1.0, "preempted")
    # long lost its hour (no checkpoint yet) and restarts at 1.5 h with 10 min of overhead.
    assert rows["long"]["lost_gpu_hours"] == pytest.approx(8.0)
    assert rows["long"]["end_s"] == pytest.approx((1.5 + 10 / 60 + 10) * H)


def test_las_starvation_guard_promotes_a_waiting_job() -> None:
    rows = run([job("long", 8, 10), job("s1", 8, 0.5, at=0.5), job("s2", 8, 2.5, at=1.4)], LAS)
    # long is preempted at 1 h by s1 after running 1 h; s2 (first queue) runs from 1.5 h and
    # drops to the second queue at 2.5 h. At 1 h + 2 x 1 h = 3 h long has starved: it is
    # promoted to the first queue and preempts s2.
    assert rows["s2"]["start_s"] == 1.5 * H
    assert (3.0, "preempted") in events(rows["s2"])
    assert rows["long"]["preemptions"] >= 1


def test_srtf_preempts_the_job_with_more_time_left() -> None:
    scheduler = {"policy": "srtf", "estimate": "exact"}  # it knows each job's run time
    rows = run([job("long", 8, 10), job("short", 8, 1, at=2)], scheduler)
    # At 2 h long has 8 h left, short 1 h: short preempts at once.
    assert rows["short"]["start_s"] == 2 * H
    assert rows["long"]["preemptions"] == 1
    # long kept 1.5 h (one checkpoint), lost 0.5 h, restarts at 3 h: 10 min + 8.5 h.
    assert rows["long"]["lost_gpu_hours"] == pytest.approx(4.0)
    assert rows["long"]["end_s"] == pytest.approx((3 + 10 / 60 + 8.5) * H)


def test_sjf_orders_by_run_time_without_preempting() -> None:
    rows = run([job("running", 8, 2), job("c", 8, 3, at=0.5), job("a", 8, 1, at=0.5), job("b", 8, 2, at=0.5)],
               {"policy": "sjf", "estimate": "exact"})
    assert [rows[name]["start_s"] / H for name in ("running", "a", "b", "c")] == [0, 2, 3, 5]
    assert rows["running"]["preemptions"] == 0


def test_sjf_with_predicted_run_times_learns_from_history() -> None:
    # Team history: "x" jobs of 8 GPUs have run 3 h, "y" jobs 1 h. The waiting x2 (really
    # short) is predicted at 3 h and goes after y2 (predicted 1 h).
    jobs = [
        {**job("x1", 8, 3), "team": "x"}, {**job("y1", 8, 1, at=3), "team": "y"},
        {**job("blocker", 8, 1, at=4), "team": "z"},
        {**job("x2", 8, 0.1, at=4.5), "team": "x"}, {**job("y2", 8, 1, at=4.5), "team": "y"},
    ]
    rows = run(jobs, {"policy": {"name": "sjf", "estimates": "predicted"}})
    assert rows["y2"]["start_s"] < rows["x2"]["start_s"]
    exact = run(jobs, {"policy": "sjf", "estimate": "exact"})
    assert exact["x2"]["start_s"] < exact["y2"]["start_s"]


def placed(placement: str, gpus: int, group: int, busy: list[int], seed: int = 0) -> list[int]:
    """Racks a job of `gpus` GPUs takes on four racks of 8 after fillers hold `busy` GPUs of each."""
    fleet = small_fleet(racks=4, gpus_per_node=8, nodes_per_rack=1)
    fillers = [{"name": f"f{rack}", "gpus": held, "group_size": 1, "duration_hours": 5}
               for rack, held in enumerate(busy) if held]
    probe = {"name": "probe", "gpus": gpus, "group_size": group, "duration_hours": 1, "submit": "2026-01-01T01:00:00"}
    spec = scenario(fleet, [{"jobs": {"name": "jobs", "items": [*fillers, probe]}}], end="2026-01-02",
                    scheduler={"policy": "fifo", "placement": placement}, seed=seed)
    rows = {row["name"]: row for row in api.run(spec).jobs.to_pylist()}
    return rows["probe"]["racks"]


def test_spread_and_best_fit_choose_differently() -> None:
    # Fillers start in order and best-fit packs them: 6 GPUs, then 2 in the same rack, ...
    assert placed("best_fit", 2, 1, [6, 4, 0, 0]) == 1
    assert placed("spread", 16, 4, [0, 0, 0, 0]) == 4  # four groups of 4, one per rack
    assert placed("best_fit", 16, 4, [0, 0, 0, 0]) == 2
    assert placed("random", 16, 4, [0, 0, 0, 0], seed=3) in (2, 3, 4)
