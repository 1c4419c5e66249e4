"""Statistics on hand-worked traces: exposure by hour and weekday, rates, quantiles, GPU-time shares."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gpufleet.traces.generic import read_jobs
from gpufleet.traces.stats import DAY_S, HOUR_S, THURSDAY, bin_exposure, job_stats


def test_exposure_of_a_span_by_hour_and_weekday() -> None:
    # 2024-01-01 (a Monday) 22:30 to 2024-01-03 01:15 UTC, in epoch seconds.
    monday = 19723 * DAY_S
    first, last = monday + 22.5 * HOUR_S, monday + 2 * DAY_S + 1.25 * HOUR_S
    hours = bin_exposure(first, last, HOUR_S, 24) / HOUR_S
    expected = np.ones(24)
    expected[22] = 1.5  # Monday 22:30-23:00 and Tuesday 22:00-23:00
    expected[23] = 2.0
    expected[0] = 2.0
    expected[1] = 1.25  # Tuesday 01:00-02:00 and Wednesday 01:00-01:15
    assert hours == pytest.approx(expected)
    days = bin_exposure(first, last, DAY_S, 7, THURSDAY) / HOUR_S
    assert days == pytest.approx([1.5, 24.0, 1.25, 0, 0, 0, 0])  # Monday, Tuesday, Wednesday


@given(first=st.floats(-1e7, 1e7), length=st.floats(0, 3e6))
def test_exposure_adds_up_to_the_span(first: float, length: float) -> None:
    for width, bins in ((HOUR_S, 24), (DAY_S, 7)):
        assert bin_exposure(first, first + length, width, bins).sum() == pytest.approx(length, abs=1e-6)


TRACE = """submit,gpus,duration,status
0,1,100,completed
3600,8,200,failed
3700,16,50,completed
7300,0,1000,completed
86400,64,10,cancelled
"""


def test_a_hand_worked_job_trace(tmp_path: Path) -> None:
    path = tmp_path / "jobs.csv"
    path.write_text(TRACE)
    stats = job_stats(read_jobs(path))
    assert stats["jobs"] == 5 and stats["gpu_jobs"] == 4 and stats["cpu_jobs"] == 1
    assert stats["span"]["days"] == 1.0 and stats["rate_per_day"] == 5.0
    by_hour = stats["arrivals"]["by_hour"]
    assert by_hour["arrivals"][:3] == [2, 2, 1] and sum(by_hour["arrivals"]) == 5
    # One day observed: one hour of each hour of day (hour 0 twice: the span ends at 24:00 exactly).
    assert by_hour["observed_hours"] == [1.0] * 24
    assert by_hour["rate_per_hour"][1] == 2.0
    assert stats["arrivals"]["by_weekday"]["day"][0] == "day 0"
    assert stats["arrivals"]["by_weekday"]["observed_days"] == [1.0, 0, 0, 0, 0, 0, 0]
    per = stats["gpus_per_job"]
    assert per["values"] == [0, 1, 8, 16, 64] and per["gpu_jobs_mean"] == 22.25 and per["gpu_jobs_median"] == 12.0
    assert stats["duration_s"]["median"] == 100.0 and stats["duration_s"]["mean"] == 272.0
    assert stats["gpu_duration_s"]["median"] == 75.0
    # GPU-hours: 1x100 + 8x200 = 1,700 GPU-s in 1-8; 16x50 + 64x10 = 1,440 in 9-72.
    shares = {row["size_class"]: row["gpu_time_share"] for row in stats["gpu_time_by_size_class"]}
    assert shares == pytest.approx({"1-8": 1700 / 3140, "9-72": 1440 / 3140})
    outcomes = {row["value"]: (row["count"], row["gpu_time_share"]) for row in stats["outcomes"]}
    assert outcomes == {"completed": (3, pytest.approx(900 / 3140)), "failed": (1, pytest.approx(1600 / 3140)),
                        "cancelled": (1, pytest.approx(640 / 3140))}
    assert "wait_s" not in stats  # no start times: no waits to report
