"""When is the fleet full: by what it can still start (the headline) and by installed GPUs,
worked by hand on NVL72 racks with spare trays; stranded and spare GPU-hours."""

from __future__ import annotations

import pytest

from gpufleet import api
from gpufleet.testing import jobs_workload, scenario, small_fleet

H = 3600.0
NVL72 = {"pools": [{"name": "gb200", "gpu": "GB200", "deliveries": [{"date": "2026-01-01", "racks": 4}]}]}


def big_jobs(count: int) -> list[dict]:
    return [{"name": f"j{i}", "gpus": 64, "group_size": 64, "duration_hours": 100} for i in range(count)]


def test_64_gpu_groups_on_racks_with_one_spare_tray_fill_the_fleet() -> None:
    # Four GB200 NVL72 racks (18 trays of 4 GPUs), one spare tray each: 68 GPUs a rack for
    # jobs. Four 64-GPU jobs (one NVLink group each) take a rack each; a fifth waits.
    # Allocated / installed = 256 / 288 = 88.9%: never "full" that way. But the 4 GPUs left
    # in each rack fit no 64-GPU group, so nothing waiting can start: startable 0, the
    # fleet is full from the first day. Those 16 GPUs are stranded (no waiting or running
    # shape can use them) and the 16 spare GPUs are held idle by design: 16 x 48 = 768
    # GPU-hours each over the two days.
    result = api.run(scenario(NVL72, [jobs_workload(big_jobs(5))], end="2026-01-03",
                              failures={"spares": {"nodes_per_rack": 1}}))
    capacity = result.summary["capacity"]
    assert capacity["utilisation"] == pytest.approx(256 / 288)
    assert capacity["installed_full_from"] is None and capacity["share_of_days_installed_full"] == 0
    assert capacity["startable_utilisation"] == 1.0 and capacity["share_of_hours_nothing_startable"] == 1.0
    assert capacity["full_from"] == "2026-01-01" and capacity["share_of_days_full"] == 1.0
    assert capacity["stranded_gpu_hours"] == pytest.approx(16 * 48)
    assert capacity["spare_gpu_hours"] == pytest.approx(16 * 48)
    assert capacity["stranded_billed_usd"] == pytest.approx(16 * 48 * 10.58)  # catalog list price
    series = result.timeseries
    assert set(series["startable_gpus"].to_pylist()) == {0} and set(series["stranded_gpus"].to_pylist()) == {16}
    # Two spare trays: 64 GPUs a rack, one group exactly; nothing is stranded.
    result = api.run(scenario(NVL72, [jobs_workload(big_jobs(5))], end="2026-01-03",
                              failures={"spares": {"nodes_per_rack": 2}}))
    capacity = result.summary["capacity"]
    assert capacity["stranded_gpu_hours"] == 0 and capacity["spare_gpu_hours"] == pytest.approx(32 * 48)
    assert capacity["full_from"] == "2026-01-01"


def test_with_room_for_the_waiting_work_the_fleet_is_not_full() -> None:
    # Three 64-GPU jobs on four racks and nothing waiting: every free GPU is headroom.
    # Free: 4 + 4 + 4 + 68 = 80, so 192 / (192 + 80) = 70.6%. A present shape (groups of
    # 64) could use 64 of the empty rack: the other 16 are stranded.
    result = api.run(scenario(NVL72, [jobs_workload(big_jobs(3))], end="2026-01-03",
                              failures={"spares": {"nodes_per_rack": 1}}))
    capacity = result.summary["capacity"]
    assert capacity["startable_utilisation"] == pytest.approx(192 / 272)
    assert capacity["full_from"] is None
    assert capacity["stranded_gpu_hours"] == pytest.approx(16 * 48)


def test_gpus_kept_for_the_head_reservation_are_not_startable() -> None:
    # Two racks of 8. "a" holds rack 0 for 10 h; "b" needs both racks and is reserved from
    # 10 h; "c" (limit 20 h) would fit on rack 1 but would delay "b", so it waits. Rack 1 is
    # free yet kept for "b": nothing waiting can start, so the fleet is full at 50%
    # allocated / installed. Without backfill's reservation (strict order) "c" is held back
    # by policy, not by room: rack 1 counts as startable, 8 / (8 + 8) = 50%.
    items = [{"name": "a", "gpus": 8, "duration_hours": 10, "time_limit_hours": 10},
             {"name": "b", "gpus": 16, "duration_hours": 5, "time_limit_hours": 5},
             {"name": "c", "gpus": 8, "duration_hours": 5, "time_limit_hours": 20}]
    for backfill, startable in ((True, 1.0), (False, 0.5)):
        result = api.run(scenario(small_fleet(racks=2), [jobs_workload(items)], end="2026-01-01T09:00:00",
                                  backfill=backfill))
        assert result.timeseries["utilisation"].to_pylist() == [0.5] * 9
        assert result.timeseries["startable_utilisation"].to_pylist() == [startable] * 9
