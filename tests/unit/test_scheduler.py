"""Hand-worked schedules: strict FIFO, EASY backfill, reservations across deliveries, drains,
planning on time limits against exact run times, and wall-clock against work limits."""

from __future__ import annotations

import pytest

from gpufleet import api
from gpufleet.testing import jobs_workload, scenario, small_fleet

H = 3600.0


def starts(result) -> dict[str, float]:  # noqa: ANN001
    """Start hour of each job by name (NaN if it never started)."""
    table = result.jobs.to_pydict()
    return {name: start / H for name, start in zip(table["name"], table["start_s"], strict=True)}


def job(name: str, gpus: int, hours: float, submit: str = "2026-01-01", group: int | None = None) -> dict:
    return {"name": name, "gpus": gpus, "duration_hours": hours, "submit": submit,
            **({"group_size": group} if group else {})}


# Two racks of 8 GPUs. J2 needs both racks; J3 is short, J4 long.
QUEUE = [job("J1", 8, 10), job("J2", 16, 5), job("J3", 8, 2), job("J4", 8, 20)]
EXACT = {"policy": "fifo", "backfill": True, "estimate": "exact"}
"""Backfill that knows every run time: the mechanics of EASY, apart from what it plans with."""


def test_strict_fifo_blocks_behind_the_head() -> None:
    result = api.run(scenario(small_fleet(racks=2), [jobs_workload(QUEUE)], backfill=False))
    # J1 at 0; J2 waits for J1 (10 h); J3 and J4 wait behind J2 until it ends at 15 h.
    assert starts(result) == {"J1": 0, "J2": 10, "J3": 15, "J4": 15}


def test_easy_backfill_starts_only_what_ends_before_the_reservation() -> None:
    result = api.run(scenario(small_fleet(racks=2), [jobs_workload(QUEUE)], scheduler=EXACT))
    # J2 is reserved from 10 h (when J1 ends). J3 (2 h) ends before that and starts at once;
    # J4 (20 h) would hold a rack J2 needs, so it waits until J2 ends at 15 h.
    assert starts(result) == {"J1": 0, "J2": 10, "J3": 0, "J4": 15}
    reserved = dict(zip(result.jobs["name"].to_pylist(), result.jobs["reserved_s"].to_pylist(), strict=True))
    assert reserved["J2"] == 10 * H


def why(result, name: str) -> list[tuple[float, str]]:  # noqa: ANN001
    """(hour, reason) of each change in why the job waited."""
    row = next(row for row in result.jobs.to_pylist() if row["name"] == name)
    return [(entry["t_s"] / H, entry["reason"]) for entry in row["reasons"]]


def test_a_long_job_waits_behind_the_reservation_only_while_it_would_delay_the_head() -> None:
    result = api.run(scenario(small_fleet(racks=2), [jobs_workload(QUEUE)], scheduler=EXACT))
    # J4 has no room until J3 ends at 2 h; then a rack is free, but J2 needs it at 10 h and
    # J4 would hold it until 22 h; from 10 h J2 holds both racks.
    assert why(result, "J4") == [(0, "insufficient_free_gpus"), (2, "behind_head_reservation"),
                                 (10, "insufficient_free_gpus")]


def test_a_long_job_starts_on_racks_the_head_will_not_need() -> None:
    queue = [job("J1", 16, 10), job("J2", 16, 5), job("J3", 8, 20), job("J4", 8, 20)]
    result = api.run(scenario(small_fleet(racks=3), [jobs_workload(queue)], scheduler=EXACT))
    # Three racks of 8. J2 is reserved J1's two racks at 10 h; the third is spare then, so
    # J3 (20 h, past the reservation) starts on it at once; J4 finds nothing until J2 ends.
    assert starts(result) == {"J1": 0, "J2": 10, "J3": 0, "J4": 15}
    assert why(result, "J3") == []


def test_a_reservation_counts_on_a_future_delivery() -> None:
    fleet = small_fleet(racks=2)
    fleet["pools"][0]["deliveries"].append({"date": "2026-01-02", "racks": 1})
    queue = [job("J1", 24, 10), job("J2", 8, 30), job("J3", 8, 20)]
    result = api.run(scenario(fleet, [jobs_workload(queue)], scheduler=EXACT))
    # J1 needs all three racks: reserved from the delivery at 24 h. J3 ends at 20 h, before
    # it, and runs at once; J2 would still hold a rack at 24 h, so it waits for J1's end.
    assert starts(result) == {"J1": 24, "J2": 34, "J3": 0}


def test_a_retired_rack_drains_then_leaves() -> None:
    fleet = small_fleet(racks=2)
    fleet["pools"][0]["retirements"] = [{"date": "2026-01-01T05:00:00", "racks": 1}]
    queue = [job("J1", 8, 10), job("J2", 8, 10), job("J3", 8, 1, submit="2026-01-01T06:00:00")]
    result = api.run(scenario(fleet, [jobs_workload(queue)], end="2026-01-02"))
    # Rack 0 (J1's) drains from 5 h and leaves when J1 ends at 10 h; J3 gets rack 1 at 10 h.
    assert starts(result) == {"J1": 0, "J2": 0, "J3": 10}
    installed = result.timeseries["installed_gpus"].to_pylist()
    assert installed[9] == 16 and installed[10] == 8


def test_a_job_that_can_never_fit_says_why() -> None:
    generator = {"synthetic": {
        "name": "too-big", "arrivals": {"rate_per_day": 2},
        "sizes": [{"gpus": 32, "weight": 1, "duration": {"dist": "fixed", "hours": 1}}],
    }}
    result = api.run(scenario(small_fleet(racks=2), [generator], end="2026-01-05"))
    rows = result.jobs.to_pylist()
    assert rows and all(row["status"] == "never_fits" for row in rows)
    assert ("needs 32 GPUs in NVLink groups of 8; the most any eligible pool (pool) ever offers is 16"
            in rows[0]["reason"])
    generator["synthetic"]["sizes"][0].update(gpus=64, group_size=64)
    result = api.run(scenario(small_fleet(racks=40), [generator], end="2026-01-05"))
    rows = result.jobs.to_pylist()
    assert rows and all(row["status"] == "never_fits" for row in rows)
    assert rows[0]["reason"] == ("never_fits: its NVLink groups of 64 GPUs are larger than any eligible pool's "
                                 "NVLink domain (GPUs placeable per rack: pool 8)")


def test_a_job_still_waiting_at_the_horizon_says_why() -> None:
    queue = [job("long", 16, 100), job("blocked", 16, 1, submit="2026-01-01T01:00:00")]
    result = api.run(scenario(small_fleet(racks=2), [jobs_workload(queue)], end="2026-01-02"))
    rows = {row["name"]: row for row in result.jobs.to_pylist()}
    assert rows["long"]["status"] == "running"
    assert rows["blocked"]["status"] == "queued" and rows["blocked"]["reason"] == "insufficient_free_gpus"


def test_a_job_stops_at_its_time_limit() -> None:
    queue = [{"name": "over", "gpus": 8, "duration_hours": 10, "time_limit_hours": 4}]
    result = api.run(scenario(small_fleet(racks=1), [jobs_workload(queue)], end="2026-01-02"))
    row = result.jobs.to_pylist()[0]
    assert row["status"] == "time_limit" and row["run_s"] == pytest.approx(4 * H)


def limited(name: str, gpus: int, hours: float, limit: float) -> dict:
    return {**job(name, gpus, hours), "time_limit_hours": limit}


# Two racks of 8 GPUs; every job states a time limit above its run time.
LIMITED = [limited("J1", 8, 10, 12), limited("J2", 16, 5, 6), limited("J3", 8, 2, 15), limited("J4", 8, 1, 3)]


def test_backfill_plans_on_time_limits_by_default() -> None:
    # As Slurm: J1 is planned to end at its 12 h limit, so J2 is reserved from 12 h. J3
    # (limit 15 h) would still hold a rack then, so it waits; J4 (limit 3 h) starts at once.
    # J1 really ends at 10 h: J2 starts then, before its reservation; J3 starts when J2 ends.
    result = api.run(scenario(small_fleet(racks=2), [jobs_workload(LIMITED)], backfill=True))
    assert starts(result) == {"J1": 0, "J2": 10, "J3": 15, "J4": 0}
    reserved = dict(zip(result.jobs["name"].to_pylist(), result.jobs["reserved_s"].to_pylist(), strict=True))
    assert reserved["J2"] == 12 * H
    assert why(result, "J3") == [(0, "behind_head_reservation"), (10, "insufficient_free_gpus")]
    # Knowing every run time (estimate: exact) flatters the small jobs: J2 is reserved from
    # 10 h, J3 (2 h) fits before it at 0 and J4 follows it at 2 h; the mean wait falls from
    # (10 + 15) / 4 = 6.25 h to (10 + 2) / 4 = 3 h.
    exact = api.run(scenario(small_fleet(racks=2), [jobs_workload(LIMITED)], scheduler=EXACT))
    assert starts(exact) == {"J1": 0, "J2": 10, "J3": 0, "J4": 2}
    assert result.summary["jobs"]["wait"]["mean_h"] == pytest.approx(6.25)
    assert exact.summary["jobs"]["wait"]["mean_h"] == pytest.approx(3.0)


def test_a_job_without_a_limit_is_planned_to_run_a_year() -> None:
    # Slurm's backfill plans an unlimited job to run 365 days: nothing that would still run
    # by then may take the head's racks, and the head's reservation is a year out.
    queue = [job("J1", 8, 10), job("J2", 16, 5), limited("J3", 8, 2, 400 * 24)]
    result = api.run(scenario(small_fleet(racks=2), [jobs_workload(queue)], backfill=True))
    reserved = dict(zip(result.jobs["name"].to_pylist(), result.jobs["reserved_s"].to_pylist(), strict=True))
    assert reserved["J2"] == 365 * 24 * H
    assert starts(result) == {"J1": 0, "J2": 10, "J3": 15}
