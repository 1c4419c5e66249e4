"""Waits with the jobs still waiting: the Kaplan-Meier estimate against a textbook example,
and a run in which leaving the waiting jobs out changes the answer."""

from __future__ import annotations

import numpy as np
import pytest

from gpufleet import api
from gpufleet.results.waits import censored_waits_h, kaplan_meier, quantile, restricted_mean
from gpufleet.testing import jobs_workload, scenario, small_fleet

# Freireich et al. (1963), the 6-MP arm of the leukaemia remission trial: weeks in remission,
# + marks a censored time. The product-limit table as in Kleinbaum & Klein, Survival
# Analysis: A Self-Learning Text (3rd ed., 2012), ch. 2: S = 0.8571, 0.8067, 0.7529,
# 0.6902, 0.6275, 0.5378, 0.4482 after 6, 7, 10, 13, 16, 22, 23 weeks; median 23 weeks.
WEEKS = [6, 6, 6, 6, 7, 9, 10, 10, 11, 13, 16, 17, 19, 20, 22, 23, 25, 32, 32, 34, 35]
RELAPSED = [1, 1, 1, 0, 1, 0, 1, 0, 0, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0]


def test_kaplan_meier_reproduces_the_textbook_table() -> None:
    times, survival = kaplan_meier(np.array(WEEKS, float), np.array(RELAPSED, bool))
    assert times.tolist() == [6, 7, 10, 13, 16, 22, 23]
    assert survival == pytest.approx([0.8571, 0.8067, 0.7529, 0.6902, 0.6275, 0.5378, 0.4482], abs=5e-5)
    assert quantile(times, survival, 0.5) == 23
    assert quantile(times, survival, 0.95) is None  # S never falls to 0.05: too many censored
    # Area under S to 35 weeks, step by step: 6 + 0.8571 + 3 x 0.8067 + 3 x 0.7529 + 3 x 0.6902
    # + 6 x 0.6275 + 0.5378 + 12 x 0.4482.
    assert restricted_mean(times, survival, 35) == pytest.approx(23.2874, abs=1e-3)
    # Without censoring the estimate is the empirical distribution.
    times, survival = kaplan_meier(np.array([1.0, 2, 2, 4]), np.ones(4, bool))
    assert survival.tolist() == [0.75, 0.25, 0.0]
    assert restricted_mean(times, survival, 4.0) == pytest.approx(np.mean([1, 2, 2, 4]))


def test_the_jobs_still_waiting_change_the_wait() -> None:
    # One rack of 8 GPUs, every job takes it all. j0-j3 (1 h each, at 0) run one after the
    # other: waits 0, 1, 2, 3 h; "blocker" (at 0.5 h) starts at 4 h and runs past the 48 h
    # horizon; w0-w3 (at 5 h) are still waiting at the horizon, 43 h each so far.
    items = [{"name": f"j{i}", "gpus": 8, "duration_hours": 1} for i in range(4)]
    items.append({"name": "blocker", "gpus": 8, "duration_hours": 100, "submit": "2026-01-01T00:30:00"})
    items += [{"name": f"w{i}", "gpus": 8, "duration_hours": 1, "submit": "2026-01-01T05:00:00"} for i in range(4)]
    summary = api.run(scenario(small_fleet(racks=1), [jobs_workload(items)], end="2026-01-03")).summary
    jobs = summary["jobs"]
    # Started jobs only: (0 + 1 + 2 + 3 + 3.5) / 5 = 1.9 h, median 2 h.
    assert jobs["wait"]["mean_h"] == pytest.approx(1.9) and jobs["wait"]["p50_h"] == pytest.approx(2.0)
    # Kaplan-Meier: S = 8/9, 7/9, 6/9, 5/9, 4/9 after 0, 1, 2, 3, 3.5 h; the median is 3.5 h,
    # the p95 is beyond the longest wait seen (43 h), and the mean up to 43 h is
    # 8/9 + 7/9 + 6/9 + 0.5 x 5/9 + 39.5 x 4/9 = 20.17 h: ten times the started-only mean.
    km = jobs["wait_km"]
    assert km["still_waiting"] == 4 and km["jobs"] == 9
    assert km["p50_h"] == pytest.approx(3.5) and km["p95_h"] is None and km["restricted_to_h"] == pytest.approx(43)
    assert km["restricted_mean_h"] == pytest.approx(8 / 9 + 7 / 9 + 6 / 9 + 0.5 * 5 / 9 + 39.5 * 4 / 9)
    assert summary["wait_by_size_class"]["1-8"]["wait_km"] == km


def test_with_nothing_waiting_the_estimate_is_the_plain_one() -> None:
    waits = np.array([0.0, 3600.0, 7200.0, 36000.0])
    km = censored_waits_h(waits, np.ones(4, bool))
    assert km["p50_h"] == 1.0 and km["restricted_mean_h"] == pytest.approx(waits.mean() / 3600)
    assert censored_waits_h(np.zeros(0), np.zeros(0, bool))["p50_h"] is None
