"""The shaped arrival process, and fitting the generator to a trace: parameters recovered from a
trace of known parameters, and the round trip (fit, regenerate, compare) within stated KS bounds."""

from __future__ import annotations

import hashlib
import math
from datetime import datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

from gpufleet.spec.workload import SyntheticSpec
from gpufleet.traces.generic import read_jobs
from gpufleet.traces.ks import critical_value, ks_discrete, ks_two_sample
from gpufleet.traces.openb import read_pods
from gpufleet.workload.fit import FitOptions, fit
from gpufleet.workload.synthetic import generate

PLAIN = {"name": "w", "arrivals": {"rate_per_day": 40, "monthly_growth": 0.05},
         "sizes": [{"gpus": 1, "weight": 0.7, "duration": {"dist": "lognormal", "median_hours": 1, "sigma": 1}},
                   {"gpus": 8, "weight": 0.3, "duration": {"dist": "exponential", "mean_hours": 3}}]}


def test_unshaped_arrivals_draw_as_before() -> None:
    """Without shapes the generator takes its old path: the same draws, bit for bit (digest taken
    with the generator as it was before shapes were added)."""
    jobs = generate(SyntheticSpec.model_validate(PLAIN), datetime(2026, 1, 15), datetime(2026, 6, 1), 7)
    digest = hashlib.sha256()
    for name in ("submit_s", "gpus", "group", "duration_s"):
        digest.update(np.ascontiguousarray(getattr(jobs, name)).tobytes())
    assert len(jobs) == 6235
    assert digest.hexdigest() == "1e2e7dfd73f3919b98b6099e11ba619c3c187bd403e95e19bdb71cfb7d205908"


HOURS = [0.0] * 6 + [1.0] * 6 + [4.0] * 6 + [2.0] * 6
DAYS = [1.0, 1.0, 1.0, 1.0, 1.0, 0.5, 0.25]


def shaped_spec(rate: float = 200.0, growth: float = 0.0) -> SyntheticSpec:
    return SyntheticSpec.model_validate({**PLAIN, "arrivals": {"rate_per_day": rate, "monthly_growth": growth,
                                                               "hour_of_day": HOURS, "day_of_week": DAYS}})


def test_shaped_arrivals_follow_the_weights() -> None:
    """A non-homogeneous Poisson process: arrivals per hour of day and weekday in proportion to the
    weights (no arrival at all in zero-weight hours), the weekly mean rate as given."""
    start, end = datetime(2026, 1, 5), datetime(2026, 3, 30)  # a Monday; 12 whole weeks
    jobs = generate(shaped_spec(), start, end, seed=3)
    epoch = (start - datetime(1970, 1, 1)).total_seconds() + jobs.submit_s
    hour = (epoch // 3600 % 24).astype(int)
    weekday = ((epoch // 86400).astype(int) + 3) % 7
    hours = np.bincount(hour, minlength=24)
    assert hours[:6].sum() == 0
    n = len(jobs)
    assert ks_discrete(hours, np.array(HOURS)) < critical_value(n, alpha=0.001)
    assert ks_discrete(np.bincount(weekday, minlength=7), np.array(DAYS)) < critical_value(n, alpha=0.001)
    expected = 200.0 * 84  # the weights average to 1 over a week
    assert abs(n - expected) < 4 * math.sqrt(expected)
    # Growth still compounds by calendar month.
    grown = generate(shaped_spec(growth=1.0), start, end, seed=3)
    months = np.searchsorted([0, 27 * 86400.0, 58 * 86400.0], grown.submit_s, side="right")
    per_day = np.bincount(months)[1:] / np.array([27, 31, 26])
    assert per_day[1] / per_day[0] == pytest.approx(2.0, rel=0.08)


def write_trace(path: Path, spec: SyntheticSpec, start: datetime, end: datetime, seed: int) -> None:
    """A generic job CSV drawn from `spec`, with ISO date-times (the trace of known parameters)."""
    jobs = generate(spec, start, end, seed)
    stamps = np.datetime64(start, "us") + (jobs.submit_s * 1e6).astype("timedelta64[us]")
    pacsv.write_csv(pa.table({"submitted": pa.array(stamps.astype(str)), "gpus": jobs.gpus,
                              "runtime": jobs.duration_s}), path)


KNOWN = {"name": "known", "arrivals": {"rate_per_day": 300.0, "monthly_growth": 0.2, "hour_of_day": HOURS[::-1],
                                       "day_of_week": DAYS},
         "sizes": [{"gpus": 1, "weight": 0.6, "duration": {"dist": "lognormal", "median_hours": 0.5, "sigma": 1.2}},
                   {"gpus": 8, "weight": 0.3, "duration": {"dist": "lognormal", "median_hours": 4.0, "sigma": 0.8}},
                   {"gpus": 64, "weight": 0.1, "duration": {"dist": "lognormal", "median_hours": 12.0, "sigma": 0.5}}]}


def test_fit_recovers_known_parameters_and_round_trips(tmp_path: Path) -> None:
    truth = SyntheticSpec.model_validate(KNOWN)
    path = tmp_path / "known.csv"
    write_trace(path, truth, datetime(2025, 3, 1), datetime(2025, 5, 1), seed=11)
    from gpufleet.spec.workload import TraceColumns

    trace = read_jobs(path, TraceColumns(submit="submitted", duration="runtime"), time_unit="iso")
    result = fit(trace, FitOptions(name="known", seed=5))
    arrivals = result.spec.arrivals
    assert arrivals.monthly_growth == pytest.approx(0.2, abs=0.05)
    assert arrivals.rate_per_day == pytest.approx(300.0, rel=0.05)
    # Each shape weight rests on 800 or more arrivals: 15% is over four standard deviations.
    hours = np.array(HOURS[::-1])
    assert np.array(arrivals.hour_of_day) == pytest.approx(hours / hours.mean(), rel=0.15)
    assert np.array(arrivals.day_of_week) == pytest.approx(np.array(DAYS) / np.mean(DAYS), rel=0.15)
    fitted = {size.gpus: size for size in result.spec.sizes}
    for size in truth.sizes:
        got = fitted[size.gpus]
        assert got.weight == pytest.approx(size.weight, abs=0.015)
        assert got.duration.median_hours == pytest.approx(size.duration.median_hours, rel=0.06)
        assert got.duration.sigma == pytest.approx(size.duration.sigma, rel=0.05)
    # The model fits its own kind of trace: every distance within sampling noise (p = 0.001).
    n = result.jobs
    noise = critical_value(n, alpha=0.001)
    for name in ("hour_of_day", "day_of_week", "gpus", "duration", "arrival_time"):
        assert result.goodness[name] < noise, name
    trip = result.round_trip
    assert trip["count_ratio"] == pytest.approx(1.0, abs=4 / math.sqrt(n))
    two_sample = critical_value(n, trip["jobs_generated"], alpha=0.001)
    for name, distance in trip["ks"].items():
        assert distance < two_sample, name


def test_openb_round_trip(traces: Path) -> None:
    """Fit openb's busy weeks (trace days 110 on: before them the trace holds 19 pods in 110 days) and
    regenerate: the bounds below are the ones docs/traces.md states."""
    trace = read_pods(traces / "alibaba-gpu-v2023-openb" / "openb_pod_list_default.csv")
    result = fit(trace, FitOptions(window_days=(110.0, None), seed=0))
    assert result.jobs == 6186
    assert result.left_out == {"submitted outside the window": 19, "CPU-only job": 1086,
                               "never ran (no run time)": 861}
    trip = result.round_trip
    assert abs(trip["count_ratio"] - 1.0) < 0.05
    bounds = {"gpus": 0.01, "hour_of_day": 0.02, "day_of_week": 0.03, "duration": 0.06, "arrival_time": 0.12,
              "interarrival": 0.2}
    for name, bound in bounds.items():
        assert trip["ks"][name] < bound, (name, trip["ks"][name])
    # Sizes are exact (one component per GPU count); run times are one lognormal per size.
    assert [size.gpus for size in result.spec.sizes] == [1, 2, 4, 8]
    assert result.goodness["gpus"] < 1e-5 and result.goodness["duration"] < 0.05


def test_ks_distances_on_hand_worked_samples() -> None:
    assert ks_two_sample(np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 3.0])) == 0.0
    assert ks_two_sample(np.array([1.0, 2.0]), np.array([3.0, 4.0])) == 1.0
    # F_a(1) = 1/2, F_b(1) = 0: the gap is 1/2.
    assert ks_two_sample(np.array([1.0, 3.0]), np.array([2.0, 4.0])) == 0.5
    assert ks_discrete(np.array([1, 1]), np.array([1, 3])) == pytest.approx(0.25)
