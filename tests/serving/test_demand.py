"""Synthetic demand: shapes, growth, launches and the active window, worked by hand."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pytest

from gpufleet.serving.demand import Demand, grid
from gpufleet.spec.serving import DemandSpec

ORIGIN = datetime(2026, 1, 1)  # a Thursday
HOUR, DAY = 3600.0, 86400.0
HOURS = [1.0] * 12 + [3.0] * 12  # afternoon (UTC) three times the morning -> normalised 0.5 / 1.5
DAYS = [2.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0]  # Monday double, Sunday nothing -> x 7/7


def demand(**fields: object) -> Demand:
    spec = {"requests_per_s": 100.0, "output_tokens_per_request": 500.0, "input_tokens_per_request": 50.0}
    spec.update(fields)
    return Demand(DemandSpec.model_validate(spec), ORIGIN)


def test_week_mean_is_the_base_rate() -> None:
    d = demand(hour_of_day=HOURS, day_of_week=DAYS)
    week = d.intervals(grid(0.0, 7 * DAY, 300.0))
    assert week.requests.sum() / (7 * DAY) == pytest.approx(100.0, rel=1e-12)
    assert np.all(week.output_tokens_per_request == 500.0) and np.all(week.input_tokens_per_request == 50.0)
    assert week.output_tokens_per_s.mean() == pytest.approx(50_000.0)


def test_hour_and_weekday_by_hand() -> None:
    d = demand(hour_of_day=HOURS, day_of_week=DAYS)
    # Thursday 2026-01-01 10:00-11:00: morning 0.5 x weekday 1.0; Monday 2026-01-05 13:00: 1.5 x 2.0.
    # Sunday 2026-01-04: nothing. Thursday 11:30-12:30 straddles the shape's step: (0.5 + 1.5) / 2.
    edges = [(10 * HOUR, 11 * HOUR), (4 * DAY + 13 * HOUR, 4 * DAY + 14 * HOUR), (3 * DAY, 4 * DAY),
             (11.5 * HOUR, 12.5 * HOUR)]
    rates = [d.intervals(np.array(pair)).requests_per_s[0] for pair in edges]
    assert rates == pytest.approx([50.0, 300.0, 0.0, 100.0])


def test_monthly_growth_counts_calendar_months_from_the_start() -> None:
    d = Demand(DemandSpec(requests_per_s=10.0, output_tokens_per_request=1.0, monthly_growth=0.5), ORIGIN,
               start=datetime(2026, 1, 15))
    # Jan 15 - Jan 31 is month 0; February month 1; March month 2. Before the start: nothing.
    jan_10, jan_20 = 9 * DAY, 19 * DAY
    feb_10, mar_10 = (31 + 9) * DAY, (31 + 28 + 9) * DAY
    rates = d.intervals(np.array([jan_10, jan_10 + HOUR])).requests_per_s.tolist()
    for day in (jan_20, feb_10, mar_10):
        rates += d.intervals(np.array([day, day + HOUR])).requests_per_s.tolist()
    assert rates == pytest.approx([0.0, 10.0, 15.0, 22.5])
    # A day straddling the 1 February boundary at its middle: half month 0, half month 1.
    boundary = 31 * DAY
    assert d.intervals(np.array([boundary - 12 * HOUR, boundary + 12 * HOUR])).requests_per_s[0] == \
        pytest.approx(12.5)


def test_launches_compound_and_the_window_ends() -> None:
    spec = DemandSpec(requests_per_s=10.0, output_tokens_per_request=1.0, launches=[
        {"date": "2026-01-03", "factor": 2.0}, {"date": "2026-01-02T12:00:00", "factor": 1.5}])
    d = Demand(spec, ORIGIN, end=datetime(2026, 1, 5))
    rates = d.intervals(np.array([0.0, DAY, 2 * DAY, 3 * DAY, 4 * DAY, 5 * DAY])).requests_per_s
    # Day 0: 10; day 1: half 10, half 15; day 2 on: 30; day 4: after the end.
    assert list(rates) == pytest.approx([10.0, 12.5, 30.0, 30.0, 0.0])


def test_output_tokens_per_s_base() -> None:
    spec = DemandSpec(output_tokens_per_s=3.0e7, output_tokens_per_request=1000.0)
    assert spec.base_requests_per_s == 30_000.0
    rate = Demand(spec, ORIGIN).intervals(np.array([0.0, 300.0]))
    assert rate.requests_per_s[0] == 30_000.0 and rate.output_tokens_per_s[0] == pytest.approx(3.0e7)


def test_edges_must_increase() -> None:
    with pytest.raises(ValueError):
        demand().intervals(np.array([0.0, 0.0]))


def test_launch_surge_and_share_by_hand() -> None:
    # 10 req/s; a launch on day 2 multiplies by 1.2 and surges 1.5x more for 36 hours; a
    # quarter of the demand is placed here.
    spec = DemandSpec(requests_per_s=10.0, output_tokens_per_request=1.0, share=0.25, launches=[
        {"date": "2026-01-03", "factor": 1.2, "name": "new model", "surge": {"factor": 1.5, "days": 1.5}}])
    d = Demand(spec, ORIGIN)
    day2, surge_end = 2 * DAY, 2 * DAY + 36 * HOUR
    pairs = [(0.0, HOUR), (day2, day2 + HOUR), (surge_end - HOUR, surge_end), (surge_end, surge_end + HOUR),
             (surge_end - HOUR, surge_end + HOUR)]
    rates = [d.intervals(np.array(pair)).requests_per_s[0] for pair in pairs]
    assert rates == pytest.approx([2.5, 2.5 * 1.8, 2.5 * 1.8, 2.5 * 1.2, 2.5 * 1.5])
